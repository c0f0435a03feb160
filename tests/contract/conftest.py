"""Contract fixtures: one stub server for the session, and a fixture per row of the table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aichat_adapters.stub import StubServer

from .rows import REFUSED, WORKING, Row


@pytest.fixture(scope="session")
def contract_stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def stub(contract_stub: StubServer) -> StubServer:
    """The shared stub server, with an empty script and no records."""
    contract_stub.reset()
    return contract_stub


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
