"""What ``transport=`` accepts, what it refuses, and what a missing extra says.

- an httpx transport (``httpx.MockTransport(handler)``) is wrapped and answers;
- every conflicting combination fails in the constructor, before any I/O;
- a transport whose library is not installed names the exact install command,
  and importing the package never imports curl_cffi or aiohttp.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from aichat_adapters import (
    AichatClient,
    AiohttpTransport,
    AsyncAichatClient,
    AsyncCurlTransport,
    AsyncHttpxTransport,
    CurlTransport,
    HttpxTransport,
    InvalidRequestError,
    ResponseFormatError,
)
from aichat_adapters._extras import install_hint
from aichat_adapters.testing import AsyncFakeTransport, FakeTransport
from aichat_core import HttpRequest
from tests.support import COOKIES

BASE_URL = "http://127.0.0.1:9"  # the discard port: nothing may be sent there
ANSWER = {"response": True, "message": "mocked"}
REQUEST = HttpRequest(method="POST", url=f"{BASE_URL}/api/text", headers=(), body=b"{}")


def _check(request: httpx.Request, seen: list[httpx.Request]) -> httpx.Response:
    seen.append(request)
    return httpx.Response(200, json=ANSWER)


def test_sync_client_takes_an_httpx_mock_transport() -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: _check(request, seen))

    with AichatClient(transport=transport, cookies=COOKIES, base_url=BASE_URL) as client:
        assert client.ask("Hi") == "mocked"

    [request] = seen
    assert str(request.url) == f"{BASE_URL}/api/text"
    assert request.headers["cookie"] == "cf_clearance=s3cr3t-clearance; session=s3cr3t-session"
    assert json.loads(request.content)["message"] == "Hi"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_client_takes_an_httpx_mock_transport_with_an_async_handler(backend: str) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0)
        return _check(request, seen)

    client = AsyncAichatClient(
        transport=httpx.MockTransport(handler), cookies=COOKIES, base_url=BASE_URL
    )

    async def ask() -> str:
        return await client.ask("Hi")

    # Twice, each under its own event loop: the handler answers both times.
    assert anyio.run(ask, backend=backend) == "mocked"
    assert anyio.run(ask, backend=backend) == "mocked"
    anyio.run(client.aclose, backend=backend)

    assert [json.loads(request.content)["message"] for request in seen] == ["Hi", "Hi"]


class Endless(httpx.AsyncByteStream):
    """A body that never ends, from no socket."""

    def __aiter__(self) -> Endless:
        return self

    async def __anext__(self) -> bytes:
        await anyio.sleep(0)
        return b"x" * 65536


def test_an_endless_body_from_a_wrapped_httpx_transport_is_refused() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Endless())

    transport = AsyncHttpxTransport.from_httpx(httpx.MockTransport(handler))

    async def send() -> None:
        with anyio.fail_after(10):  # a transport that kept reading would hang here
            try:
                await transport.send(REQUEST, timeout=5)
            finally:
                await transport.aclose()

    with pytest.raises(ResponseFormatError, match="larger than"):
        anyio.run(send)  # asyncio: on trio, httpx's own generator is left suspended


class SendOnly:
    def send(self, request: object, *, timeout: float) -> object:
        raise AssertionError("never called")


class AsyncSend:
    async def send(self, request: object, *, timeout: float) -> object:
        raise AssertionError("never called")

    async def aclose(self) -> None:
        pass


class SyncSend:
    def send(self, request: object, *, timeout: float) -> object:
        raise AssertionError("never called")

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


SYNC_CONFLICTS = [
    pytest.param(
        lambda: {"transport": FakeTransport(), "http_client": httpx.Client()},
        id="transport+client",
    ),
    pytest.param(
        lambda: {"transport": FakeTransport(), "proxy": "http://127.0.0.1:1"},
        id="transport+proxy",
    ),
    pytest.param(lambda: {"transport": FakeTransport(), "verify": False}, id="transport+verify"),
    pytest.param(
        lambda: {"transport": httpx.HTTPTransport(), "verify": __file__},
        id="httpx-transport+verify-path",
    ),
    pytest.param(
        lambda: {"http_client": httpx.Client(), "proxy": "http://127.0.0.1:1"},
        id="client+proxy",
    ),
    pytest.param(lambda: {"http_client": httpx.Client(), "verify": False}, id="client+verify"),
    pytest.param(lambda: {"transport": httpx.AsyncHTTPTransport()}, id="async-httpx-transport"),
    pytest.param(lambda: {"transport": AsyncFakeTransport()}, id="async-port"),
    pytest.param(lambda: {"transport": object()}, id="object"),
    pytest.param(lambda: {"transport": SendOnly()}, id="no-close"),
    pytest.param(lambda: {"transport": AsyncSend()}, id="async-send"),
    pytest.param(lambda: {"http_client": httpx.AsyncClient()}, id="async-httpx-client"),
]
ASYNC_CONFLICTS = [
    pytest.param(
        lambda: {"transport": AsyncFakeTransport(), "http_client": httpx.AsyncClient()},
        id="transport+client",
    ),
    pytest.param(
        lambda: {"transport": AsyncFakeTransport(), "proxy": "http://127.0.0.1:1"},
        id="transport+proxy",
    ),
    pytest.param(
        lambda: {"transport": AsyncFakeTransport(), "verify": False}, id="transport+verify"
    ),
    pytest.param(
        lambda: {"transport": httpx.AsyncHTTPTransport(), "verify": __file__},
        id="httpx-transport+verify-path",
    ),
    pytest.param(
        lambda: {"http_client": httpx.AsyncClient(), "proxy": "http://127.0.0.1:1"},
        id="client+proxy",
    ),
    pytest.param(lambda: {"http_client": httpx.AsyncClient(), "verify": False}, id="client+verify"),
    pytest.param(lambda: {"transport": httpx.HTTPTransport()}, id="sync-httpx-transport"),
    pytest.param(lambda: {"transport": FakeTransport()}, id="sync-port"),
    pytest.param(lambda: {"transport": object()}, id="object"),
    pytest.param(lambda: {"transport": SyncSend()}, id="sync-send"),
    pytest.param(lambda: {"http_client": httpx.Client()}, id="sync-httpx-client"),
]


@pytest.mark.parametrize("options", SYNC_CONFLICTS)
def test_sync_client_refuses_conflicting_options_in_the_constructor(
    options: Callable[[], dict[str, Any]],
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        AichatClient(cookies=COOKIES, base_url=BASE_URL, **options())

    assert caught.value.attempts == 0
    assert len(str(caught.value)) > 30  # a sentence that says what to do, not a bare name


@pytest.mark.parametrize("options", ASYNC_CONFLICTS)
def test_async_client_refuses_conflicting_options_in_the_constructor(
    options: Callable[[], dict[str, Any]],
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        AsyncAichatClient(cookies=COOKIES, base_url=BASE_URL, **options())

    assert caught.value.attempts == 0
    assert len(str(caught.value)) > 30


@pytest.mark.parametrize(
    ("build", "module", "extra"),
    [
        pytest.param(CurlTransport, "curl_cffi", "impersonate", id="curl"),
        pytest.param(AsyncCurlTransport, "curl_cffi", "impersonate", id="curl-async"),
        pytest.param(AiohttpTransport, "aiohttp", "aiohttp", id="aiohttp"),
    ],
)
def test_a_missing_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, build: Any, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # "import curl_cffi" now fails

    with pytest.raises(InvalidRequestError) as caught:
        build()

    assert install_hint(extra) in str(caught.value)
    assert module in str(caught.value)


SOCKS = "socks5://127.0.0.1:1"  # nobody listens: the refusal must come before any connect
SOCKS_HINT = re.escape(install_hint("socks"))


def test_sync_client_with_a_socks_proxy_without_socksio_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)
    client = AichatClient(cookies=COOKIES, base_url=BASE_URL, proxy=SOCKS)

    with client, pytest.raises(InvalidRequestError, match=SOCKS_HINT):
        client.ask("Hi")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_client_with_a_socks_proxy_without_socksio_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)

    async def ask() -> None:
        async with AsyncAichatClient(cookies=COOKIES, base_url=BASE_URL, proxy=SOCKS) as client:
            await client.ask("Hi")

    with pytest.raises(InvalidRequestError, match=SOCKS_HINT):
        anyio.run(ask, backend=backend)


def test_a_socks_proxy_without_socksio_is_refused_by_the_httpx_transports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)

    with pytest.raises(InvalidRequestError, match=SOCKS_HINT):
        HttpxTransport(proxy=SOCKS)

    async def build_async() -> None:
        transport = AsyncHttpxTransport(proxy=SOCKS)
        try:
            await transport.send(REQUEST, timeout=1)
        finally:
            await transport.aclose()

    with pytest.raises(InvalidRequestError, match=SOCKS_HINT):
        anyio.run(build_async)


IMPORTS = """
import sys
import aichat_adapters
import aichat_adapters.transports
from aichat_adapters import AichatClient, AsyncAichatClient, CurlTransport, AiohttpTransport
from aichat_adapters import AsyncCurlTransport
AichatClient(cookies="a=b")
AsyncAichatClient(cookies="a=b")
print(sorted(name for name in ("curl_cffi", "aiohttp") if name in sys.modules))
"""


def test_importing_the_package_imports_no_optional_transport_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
