"""SOCKS5 end to end: every transport that takes a ``socks5://`` proxy reaches the stub through it.

The proxy is the test suite's own (``tests/support/socks5.py``): no authentication,
CONNECT to this machine only, and a count of the CONNECTs it relayed.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from aichat_adapters import AichatClient, AsyncAichatClient, InvalidRequestError
from aichat_adapters.stub import StubServer
from tests.support import Socks5Server

from .rows import WORKING, Row, options_for


@pytest.fixture
def socks() -> Iterator[Socks5Server]:
    with Socks5Server() as proxy:
        yield proxy


@pytest.mark.parametrize("row", [row for row in WORKING if row.socks], ids=lambda row: row.name)
def test_a_transport_reaches_the_stub_through_a_socks5_proxy(
    row: Row, stub: StubServer, socks: Socks5Server
) -> None:
    reply = row.call(options_for(stub), "through the proxy", {"proxy": socks.url})

    assert reply.text == "Echo: through the proxy"
    assert socks.connects == 1
    assert socks.targets == [("127.0.0.1", int(stub.url.rsplit(":", 1)[1]))]
    assert len(stub.requests) == 1


@pytest.mark.parametrize("row", [row for row in WORKING if not row.socks], ids=lambda row: row.name)
def test_a_transport_without_socks_support_says_so(row: Row, socks: Socks5Server) -> None:
    with pytest.raises(InvalidRequestError, match="http:// proxies only"):
        row.transport(proxy=socks.url)

    assert socks.targets == []


@pytest.mark.parametrize("kind", ["sync", "asyncio", "trio"])
def test_the_clients_proxy_option_takes_a_socks5_url(
    kind: str, stub: StubServer, socks: Socks5Server
) -> None:
    options = options_for(stub, proxy=socks.url)
    if kind == "sync":
        with AichatClient(**options) as client:
            text = client.ask("via socks")
    else:

        async def ask() -> str:
            async with AsyncAichatClient(**options) as client:
                return await client.ask("via socks")

        text = anyio.run(ask, backend=kind)

    assert text == "Echo: via socks"
    assert socks.connects == 1
    assert len(stub.requests) == 1
