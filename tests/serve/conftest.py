"""Fixtures of the serve tests: one stub server over loopback, reset for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aichat_adapters.stub import StubServer


@pytest.fixture(scope="module")
def stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def stub(stub_server: StubServer) -> StubServer:
    """The module's stub server, with an empty script and no records."""
    stub_server.reset()
    return stub_server
