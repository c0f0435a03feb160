"""The clearance tests run a real Chromium: each runs in a scratch folder of its own and
leaves no browser process or profile behind (``scratch``, in ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def in_scratch(scratch: Path) -> Path:
    """Every clearance test runs in its own scratch folder."""
    return scratch
