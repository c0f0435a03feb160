"""The client kinds: test cookies, a fast retry policy, options for a stub, one call per kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from aichat_adapters import AichatClient, AsyncAichatClient, Reply, RetryPolicy
from aichat_adapters.stub import StubServer

from .waits import Waits

COOKIES = {"cf_clearance": "s3cr3t-clearance", "session": "s3cr3t-session"}
FAST = RetryPolicy(initial_wait=0.01, max_wait=0.05)
"""Real backoff shape with short waits, so retry tests stay quick."""

Complete = Callable[..., Reply]
"""The ``complete`` fixture: ``complete(messages, client={...options}, **params)``."""

KINDS = ("sync", "asyncio", "trio")
"""The sync client, and the async client on asyncio and on trio."""


def options_for(stub: StubServer, **options: Any) -> dict[str, Any]:
    """Client options pointing at ``stub``, with test cookies and fast retries by default."""
    defaults: dict[str, Any] = {"base_url": stub.url, "cookies": COOKIES, "retry_policy": FAST}
    return {**defaults, **options}


def call(
    kind: str, options: dict[str, Any], messages: Any, waits: Waits | None = None, **params: Any
) -> Reply:
    """One ``complete()`` through a fresh client of ``kind``, closed afterwards.

    With ``waits``, the client records its waits there instead of sleeping.
    """
    if kind == "sync":
        with AichatClient(**options) as sync_client:
            if waits is not None:
                waits.attach(sync_client)
            return sync_client.complete(messages, **params)

    async def main() -> Reply:
        async with AsyncAichatClient(**options) as async_client:
            if waits is not None:
                waits.attach(async_client)
            return await async_client.complete(messages, **params)

    return anyio.run(main, backend=kind)
