"""The transport table: one row per transport and event loop; every contract test runs on each.

A new transport is one more line in [`ROWS`][]. A row builds its transport
with the test's options, puts it behind the sync or async client, and runs
calls on its backend (``"sync"``, or anyio's ``"asyncio"`` / ``"trio"``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import anyio
import attrs

from aichat_adapters import (
    AichatClient,
    AichatError,
    AiohttpTransport,
    AsyncAichatClient,
    AsyncCurlTransport,
    AsyncHttpxTransport,
    CurlTransport,
    HttpxTransport,
    Reply,
)
from aichat_adapters.stub import StubServer
from tests import support
from tests.support import Waits

__all__ = ["REFUSED", "ROWS", "WORKING", "Call", "Row", "options_for"]

Backend = Literal["sync", "asyncio", "trio"]


def options_for(stub: StubServer, **options: Any) -> dict[str, Any]:
    """Client options for ``stub``: test cookies, fast retries, none unless asked, 5 s attempts."""
    return support.options_for(stub, **{"max_retries": 0, "timeout": 5.0, **options})


@attrs.frozen
class Row:
    """One transport on one backend.

    Attributes:
        name: The test id, ``"{transport}-{backend}"``.
        backend: ``"sync"`` (the blocking client) or the async client's anyio backend.
        transport: Builds the transport from keyword options (``max_body_size``...).
        browser: Shakes hands and sends headers as a browser (GREASE, its own User-Agent).
        socks: Takes a ``socks5://`` proxy.
        refused: The backend cannot run it: every call raises ``InvalidRequestError``.
    """

    name: str
    backend: Backend
    transport: Callable[..., Any]
    browser: bool = False
    socks: bool = True
    refused: bool = False

    def calls(
        self,
        options: dict[str, Any],
        prompts: Sequence[str],
        transport_options: dict[str, Any] | None = None,
        waits: Waits | None = None,
        **params: Any,
    ) -> list[Call]:
        """Ask each prompt in turn through one client, then close it; one result per prompt.

        With ``waits``, the client records its waits there instead of sleeping.
        """
        transport = self.transport(**(transport_options or {}))
        if self.backend == "sync":
            with AichatClient(transport=transport, **options) as client:
                if waits is not None:
                    waits.attach(client)
                return [_timed(client.complete, prompt, params) for prompt in prompts]

        async def main() -> list[Call]:
            async with AsyncAichatClient(transport=transport, **options) as client:
                if waits is not None:
                    waits.attach(client)
                return [await _timed_async(client.complete, prompt, params) for prompt in prompts]

        return anyio.run(main, backend=self.backend)

    def call(
        self,
        options: dict[str, Any],
        prompt: str = "Hi",
        transport_options: dict[str, Any] | None = None,
        waits: Waits | None = None,
        **params: Any,
    ) -> Reply:
        """One call through a fresh client: its reply, or the error it raised, raised here."""
        return self.timed(options, prompt, transport_options, waits, **params).reply()

    def timed(
        self,
        options: dict[str, Any],
        prompt: str = "Hi",
        transport_options: dict[str, Any] | None = None,
        waits: Waits | None = None,
        **params: Any,
    ) -> Call:
        """One call through a fresh client, and how long ``complete()`` took."""
        [result] = self.calls(options, [prompt], transport_options, waits, **params)
        return result


@attrs.frozen
class Call:
    """One call's outcome (its reply or its typed error) and its duration in seconds."""

    outcome: Reply | AichatError
    seconds: float

    def reply(self) -> Reply:
        """The reply; the error is raised."""
        if isinstance(self.outcome, AichatError):
            raise self.outcome
        return self.outcome


def _timed(complete: Callable[..., Reply], prompt: str, params: dict[str, Any]) -> Call:
    started = time.monotonic()
    try:
        outcome: Reply | AichatError = complete(prompt, **params)
    except AichatError as error:
        outcome = error
    return Call(outcome, time.monotonic() - started)


async def _timed_async(
    complete: Callable[..., Awaitable[Reply]], prompt: str, params: dict[str, Any]
) -> Call:
    started = time.monotonic()
    try:
        outcome: Reply | AichatError = await complete(prompt, **params)
    except AichatError as error:
        outcome = error
    return Call(outcome, time.monotonic() - started)


ROWS = (
    Row("httpx-sync", "sync", HttpxTransport),
    Row("httpx-asyncio", "asyncio", AsyncHttpxTransport),
    Row("httpx-trio", "trio", AsyncHttpxTransport),
    Row("aiohttp-asyncio", "asyncio", AiohttpTransport, socks=False),
    Row("aiohttp-trio", "trio", AiohttpTransport, socks=False, refused=True),
    Row("curl-sync", "sync", CurlTransport, browser=True),
    Row("curl-asyncio", "asyncio", AsyncCurlTransport, browser=True),
    Row("curl-trio", "trio", AsyncCurlTransport, browser=True, refused=True),
)
"""Every transport on every backend it may be used on."""

WORKING = tuple(row for row in ROWS if not row.refused)
"""The rows that run the whole contract."""
REFUSED = tuple(row for row in ROWS if row.refused)
"""asyncio-only transports under trio: refused with a typed error."""
