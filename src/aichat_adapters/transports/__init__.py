"""Transports: where requests become bytes on the wire, one module per HTTP library.

- [`HttpxTransport`][aichat_adapters.HttpxTransport] /
  [`AsyncHttpxTransport`][aichat_adapters.AsyncHttpxTransport]: the default,
  sync and async (asyncio and trio).
- [`CurlTransport`][aichat_adapters.CurlTransport] /
  [`AsyncCurlTransport`][aichat_adapters.AsyncCurlTransport]: a browser's TLS
  fingerprint (extra ``impersonate``); the async one on asyncio only.
- [`AiohttpTransport`][aichat_adapters.AiohttpTransport]: throughput under
  high concurrency (extra ``aiohttp``); asyncio only.

Each optional library is imported when its transport is built, never before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aichat_adapters.transports._aiohttp import AiohttpTransport
    from aichat_adapters.transports._body import DEFAULT_MAX_BODY_SIZE
    from aichat_adapters.transports._curl import (
        DEFAULT_IMPERSONATE,
        AsyncCurlTransport,
        CurlTransport,
    )
    from aichat_adapters.transports._httpx import AsyncHttpxTransport, HttpxTransport

__all__ = [
    "DEFAULT_IMPERSONATE",
    "DEFAULT_MAX_BODY_SIZE",
    "AiohttpTransport",
    "AsyncCurlTransport",
    "AsyncHttpxTransport",
    "CurlTransport",
    "HttpxTransport",
]

_WHERE = {
    "AiohttpTransport": "_aiohttp",
    "DEFAULT_MAX_BODY_SIZE": "_body",
    "DEFAULT_IMPERSONATE": "_curl",
    "AsyncCurlTransport": "_curl",
    "CurlTransport": "_curl",
    "AsyncHttpxTransport": "_httpx",
    "HttpxTransport": "_httpx",
}


def __getattr__(name: str) -> Any:
    """Load a transport's module when it is first asked for (one module each)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
