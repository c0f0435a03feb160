"""What the end-to-end tests share: cookies, a fast retry policy, and one call per client kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from aichat_adapters import AichatClient, AsyncAichatClient, Reply, RetryPolicy
from aichat_adapters.stub import StubServer

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


def call(kind: str, options: dict[str, Any], messages: Any, **params: Any) -> Reply:
    """One ``complete()`` through a fresh client of ``kind``, closed afterwards."""
    if kind == "sync":
        with AichatClient(**options) as sync_client:
            return sync_client.complete(messages, **params)

    async def main() -> Reply:
        async with AsyncAichatClient(**options) as async_client:
            return await async_client.complete(messages, **params)

    return anyio.run(main, backend=kind)
