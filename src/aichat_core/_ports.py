"""The ports: what the core needs from the outside, as structural Protocols.

Nothing to subclass: any object with the right methods fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aichat_core._credentials import Credentials
from aichat_core._http import HttpRequest, HttpResponse

__all__ = [
    "AsyncCookieSource",
    "AsyncRefreshableCookieSource",
    "AsyncTransport",
    "CookieSource",
    "CredentialsSource",
    "RefreshableCookieSource",
    "Transport",
    "WriteBackCookieSource",
]


class CookieSource(Protocol):
    """Gives the site's cookies, or raises ``CookiesNotFoundError`` saying why not.

    `get_cookies()` is the one required method. The clients look up these
    optional members with `getattr`, so a source offers only what it can:

    - `refresh_cookies() -> Mapping[str, str]`: bypass every cache and fetch
      anew; called once when the site rejects the cookies (401, 403, an
      anti-bot challenge). Without it, `get_cookies()` is called again. See
      [`RefreshableCookieSource`][aichat_core.RefreshableCookieSource].
    - `save_cookies(cookies: Mapping[str, str]) -> None`: called after the
      site rotated cookies with `Set-Cookie`, with the whole new set; it must
      not raise (log a warning on failure). See
      [`WriteBackCookieSource`][aichat_core.WriteBackCookieSource].
    - `describe() -> str`: a label for messages, logs and `aichat cookies`;
      it never holds a cookie value. Without it, the type's name is used.
    - `blocking: bool`: true when the source reads files or databases (or
      the network); the async client then calls it in a worker thread.
    - `domain: str`: the host whose cookies the source selects (file and
      browser sources). A client refuses a source whose `domain` is not its
      `base_url`'s host. Sources of cookies given explicitly have none.
    """

    def get_cookies(self) -> Mapping[str, str]: ...


class AsyncCookieSource(Protocol):
    """The awaitable twin of [`CookieSource`][aichat_core.CookieSource], for the async client."""

    async def get_cookies(self) -> Mapping[str, str]: ...


class RefreshableCookieSource(CookieSource, Protocol):
    """A source that can bypass its caches and fetch the cookies anew."""

    def refresh_cookies(self) -> Mapping[str, str]: ...


class AsyncRefreshableCookieSource(AsyncCookieSource, Protocol):
    """The awaitable twin of [`RefreshableCookieSource`][aichat_core.RefreshableCookieSource]."""

    async def refresh_cookies(self) -> Mapping[str, str]: ...


class WriteBackCookieSource(CookieSource, Protocol):
    """A source that keeps the cookies the site rotated (e.g. in its file).

    `save_cookies` receives every cookie of the site as the client now holds
    them (new values, new names, deleted names left out). It never raises: a
    failure is logged as a warning and the call goes on.
    """

    def save_cookies(self, cookies: Mapping[str, str]) -> None: ...


class CredentialsSource(Protocol):
    """Gives [`Credentials`][aichat_core.Credentials]: cookies with the User-Agent and
    headers they are bound to (a browser that earns a clearance, a bundle file).

    `get_credentials()` is the one required method; a source may have it
    instead of `get_cookies()`. The optional members are those of
    [`CookieSource`][aichat_core.CookieSource], with `refresh_credentials()`
    in place of `refresh_cookies()`, and:

    - `refresh_margin: float`: seconds before the earliest expiry in
      `Credentials.expires` at which the client renews the credentials
      (`refresh_credentials()`) before it sends, so the site never sees an
      expired clearance.
    """

    def get_credentials(self) -> Credentials: ...


class Transport(Protocol):
    """Sends one request and returns the complete response.

    Raises only core ``TransportError``s (and ``ResponseFormatError`` for an
    answer too large to read), never its HTTP library's own exceptions.
    """

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse: ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """The awaitable twin of [`Transport`][aichat_core.Transport]."""

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse: ...

    async def aclose(self) -> None: ...
