"""Tests against real g4f 8.x (the ``g4f`` nox session installs it); not in the main session."""
