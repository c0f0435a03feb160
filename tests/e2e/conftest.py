"""End-to-end fixtures: one stub server over loopback, and a caller for every client kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aichat_adapters import Reply
from aichat_adapters.stub import StubServer
from tests.socks5 import Socks5Server

from .helpers import KINDS, call, options_for

Complete = Callable[..., Reply]


@pytest.fixture(scope="session")
def stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def stub(stub_server: StubServer) -> StubServer:
    """The shared stub server, with an empty script and no records."""
    stub_server.reset()
    return stub_server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Which client runs the test."""
    return str(request.param)


@pytest.fixture
def complete(kind: str, stub: StubServer) -> Complete:
    """``complete(messages, client={...options}, **params)`` through a fresh client of ``kind``."""

    def run(messages: Any, *, client: dict[str, Any] | None = None, **params: Any) -> Reply:
        return call(kind, options_for(stub, **(client or {})), messages, **params)

    return run


@pytest.fixture
def socks_proxy() -> Iterator[Socks5Server]:
    """A SOCKS5 proxy on loopback (no auth; CONNECT to this machine only).

    ``.url`` is ``socks5://127.0.0.1:PORT``; ``.connects`` counts the relayed CONNECTs.
    """
    with Socks5Server() as proxy:
        yield proxy
