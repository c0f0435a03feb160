"""Contract fixtures: a fixture per row of the table (the stub server is the root conftest's)."""

from __future__ import annotations

import pytest

from .rows import REFUSED, WORKING, Row


@pytest.fixture(params=WORKING, ids=lambda row: row.name)
def row(request: pytest.FixtureRequest) -> Row:
    """A transport on a backend where it works."""
    value: Row = request.param
    return value


@pytest.fixture(params=REFUSED, ids=lambda row: row.name)
def refused_row(request: pytest.FixtureRequest) -> Row:
    """An asyncio-only transport under trio."""
    value: Row = request.param
    return value
