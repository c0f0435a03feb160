"""``python -m aichat_adapters``: the ``aichat`` command."""

from aichat_adapters.cli import main

main()
