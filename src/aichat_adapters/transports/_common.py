"""What the transports have in common: option checks (proxy, TLS), the event loop in use."""

from __future__ import annotations

import contextvars
import os
import ssl
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio

from aichat_core import InvalidRequestError

ATTEMPT_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "aichat_attempt_deadline", default=None
)
"""The ``time.monotonic()`` by which the current attempt must be done, while one runs."""

__all__ = [
    "ATTEMPT_DEADLINE",
    "PerLoop",
    "asyncio_only",
    "check_proxy",
    "ssl_context",
    "loop_token",
]

_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def ssl_context(verify: bool | str | os.PathLike[str]) -> ssl.SSLContext | bool:
    """``verify`` as given (a bool), or a CA file or folder turned into one context."""
    if isinstance(verify, bool):
        return verify
    if not isinstance(verify, (str, os.PathLike)):
        raise InvalidRequestError(
            f"verify must be True, False or the path of a CA bundle, not {type(verify).__name__}"
        )
    path = os.fspath(verify)
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise InvalidRequestError(
            f"verify={path!r} is not a readable CA bundle ({type(exc).__name__}); "
            "give the path of a PEM file of CA certificates"
        ) from None


def check_proxy(proxy: object) -> str | None:
    """A proxy URL with a scheme the transports know, or ``None``."""
    if proxy is None:
        return None
    if not isinstance(proxy, str) or "://" not in proxy:
        raise InvalidRequestError(
            f"proxy must be a URL such as 'http://127.0.0.1:8080', not {proxy!r}"
        )
    scheme = proxy.split("://", 1)[0].lower()
    if scheme not in _PROXY_SCHEMES:
        raise InvalidRequestError(
            f"proxy scheme {scheme!r} is not supported; use one of {', '.join(_PROXY_SCHEMES)}"
        )
    if any(ch in proxy for ch in "\r\n\t ") or not proxy.isprintable():
        raise InvalidRequestError("proxy must not contain spaces or control characters")
    return proxy


def loop_token() -> object:
    """An object that identifies the running event loop: asyncio's loop, or trio's run."""
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: trio (anyio's other backend)
        trio = sys.modules.get("trio")
        if trio is None:
            raise InvalidRequestError("the async client must run inside an event loop") from None
        return trio.lowlevel.current_trio_token()


def asyncio_only(name: str) -> asyncio.AbstractEventLoop:
    """The running asyncio loop; ``InvalidRequestError`` on trio or anything else."""
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise InvalidRequestError(
            f"{name} works on asyncio only; under trio use AsyncHttpxTransport (the default)"
        ) from None


T = TypeVar("T")


class PerLoop(Generic[T]):
    """One resource (a connection pool) per event loop, closed as that loop ends.

    Used under a second ``asyncio.run`` or ``trio.run``, a transport gets a new
    pool there. The old pool's sockets belong to the old loop, which alone can
    close them, so each pool is held open by a started async generator:
    ``asyncio.run`` and ``trio.run`` finalize those before they return, and
    that closes the pool while its loop still runs (no unclosed sockets, no
    ``ResourceWarning``).
    """

    def __init__(self, build: Callable[[], T], close: Callable[[T], Awaitable[object]]) -> None:
        self._build = build
        self._close = close
        self._loop: object = None
        self._value: T | None = None
        self._keeper: AsyncGenerator[None, None] | None = None
        self.closed = False

    def current(self, loop: object) -> T | None:
        """The resource of ``loop`` if it has one already (no await: the usual case)."""
        if self.closed or loop is not self._loop:
            return None
        return self._value

    async def get(self, loop: object) -> T:
        """The resource of ``loop`` (the running one), built there on first use."""
        if self.closed:
            raise InvalidRequestError("this transport is closed")
        value = self._value
        if value is None or loop is not self._loop:
            value = self._build()
            keeper = _close_at_loop_end(self._close, value)
            self._value, self._loop, self._keeper = value, loop, keeper
            await keeper.asend(None)
        return value

    async def aclose(self, loop: object) -> None:
        """Close the resource now if it belongs to ``loop``; else its own loop closes it."""
        keeper, self._keeper, self._value, self.closed = self._keeper, None, None, True
        if keeper is not None and loop is self._loop:
            await keeper.aclose()


async def _close_at_loop_end(
    close: Callable[[T], Awaitable[object]], value: T
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await close(value)
