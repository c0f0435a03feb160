"""The ports: what the core needs from the outside, as structural Protocols.

Nothing to subclass: any object with the right methods fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from aichat_core._http import HttpRequest, HttpResponse

__all__ = ["AsyncCookieSource", "AsyncTransport", "CookieSource", "Transport"]


@runtime_checkable
class CookieSource(Protocol):
    """Gives the site's cookies, or raises ``CookiesNotFoundError`` saying why not."""

    def get_cookies(self) -> Mapping[str, str]: ...


@runtime_checkable
class AsyncCookieSource(Protocol):
    """The awaitable twin of :class:`CookieSource`."""

    async def get_cookies(self) -> Mapping[str, str]: ...


class Transport(Protocol):
    """Sends one request and returns the complete response.

    Raises only core ``TransportError``s (and ``ResponseFormatError`` for an
    answer too large to read), never its HTTP library's own exceptions.
    """

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse: ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """The awaitable twin of :class:`Transport`."""

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse: ...

    async def aclose(self) -> None: ...
