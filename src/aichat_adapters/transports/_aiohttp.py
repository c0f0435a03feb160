"""The aiohttp transport: throughput under high concurrency (extra ``aiohttp``), asyncio only.

httpx's async pool degrades as concurrency grows; aiohttp's does not. The body
is read raw and decoded by [`BodyReader`][aichat_adapters.transports._body.BodyReader],
so the size cap holds on decoded bytes.
"""

from __future__ import annotations

import contextvars
import functools
import re
from typing import Any

from aichat_adapters._extras import import_extra
from aichat_adapters.transports._body import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_BODY_SIZE,
    BodyReader,
    check_max_body_size,
)
from aichat_adapters.transports._common import (
    PerLoop,
    asyncio_only,
    check_proxy,
    loop_token,
    ssl_context,
)
from aichat_adapters.transports._reasons import (
    closed_error,
    error_from_chain,
    proxy_refused,
    timeout_error,
)
from aichat_core import (
    AichatError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
)

__all__ = ["AiohttpTransport"]

_ENCODING = (("accept-encoding", ACCEPT_ENCODING),)
_COUNTED = re.compile(r"received \d+ of \d+ bytes")  # aiohttp's ContentLengthError says so
_CONNECTING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aichat_aiohttp_connecting", default=False
)
"""Set while the current task waits for a connection: a timeout then struck in connecting."""


@functools.cache
def _connector_class(aiohttp: Any) -> Any:
    """aiohttp's ``TCPConnector``, telling [`_CONNECTING`][] when a request waits for a connection.

    The whole attempt has one timeout (``total``), so aiohttp's ``TimeoutError``
    does not say which phase ran out; this does, for the price of a context
    variable set twice per request.
    """

    class _Connector(aiohttp.TCPConnector):  # type: ignore[misc]
        async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
            _CONNECTING.set(True)
            connection = await super().connect(req, traces, timeout)
            _CONNECTING.set(False)
            return connection

    return _Connector


class AiohttpTransport:
    """Sends requests with one aiohttp ``ClientSession``; asyncio only.

    Needs the ``aiohttp`` extra. The session is created inside the running
    loop on first use (a new loop gets a new session), with at most ``limit``
    connections. ``proxy`` is an ``http://`` proxy (the environment's proxy
    variables are not read); ``verify`` is ``True``,
    ``False`` or the path of a CA bundle. Under trio it raises
    ``InvalidRequestError``. Redirects are never followed.
    """

    def __init__(
        self,
        *,
        proxy: str | None = None,
        verify: bool | str = True,
        limit: int = 100,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self._aiohttp: Any = import_extra("aiohttp", "aiohttp", "AiohttpTransport")
        self._proxy = check_proxy(proxy)
        if self._proxy is not None and not self._proxy.lower().startswith("http://"):
            raise InvalidRequestError(
                "AiohttpTransport supports http:// proxies only; use HttpxTransport "
                "for https:// and socks5:// proxies"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRequestError(f"limit must be a positive int, got {limit!r}")
        self._limit = limit
        self._ssl = ssl_context(verify)
        self._max_body_size = check_max_body_size(max_body_size)
        self._sessions: PerLoop[Any] = PerLoop(self._new_session, _close_session)
        self._last_timeout: Any = None

    def __repr__(self) -> str:
        return f"AiohttpTransport(limit={self._limit})"

    def _new_session(self) -> Any:
        aiohttp = self._aiohttp
        return aiohttp.ClientSession(
            connector=_connector_class(aiohttp)(limit=self._limit, ssl=self._ssl),
            cookie_jar=aiohttp.DummyCookieJar(),  # the client keeps the cookies
            auto_decompress=False,  # decoded by BodyReader, under the cap
            trust_env=False,  # no .netrc read in a thread at each request: proxy= only
        )

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer, within ``timeout`` seconds in all."""
        import asyncio  # running already: this transport is asyncio only

        loop = asyncio_only("AiohttpTransport")
        session = self._sessions.current(loop) or await self._sessions.get(loop)
        aiohttp = self._aiohttp
        url = request.url
        _CONNECTING.set(False)
        try:
            async with session.request(
                request.method,
                url,
                data=request.body,
                headers=_ENCODING + request.headers,
                timeout=self._timeout(timeout),
                allow_redirects=False,
                proxy=self._proxy,
            ) as response:
                headers, set_cookies = _headers(response.headers)
                body = BodyReader(headers, url, self._max_body_size)
                if "content-length" in headers and "content-encoding" not in headers:
                    # Its size is checked already, and aiohttp reads no byte past it.
                    body.feed(await response.read())
                else:
                    async for chunk in response.content.iter_any():
                        body.feed(chunk)
                return HttpResponse(
                    status_code=response.status,
                    headers=headers,
                    body=body.finish(),
                    set_cookies=set_cookies,
                )
        except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise _error(aiohttp, exc, url, self._proxy, timeout) from exc

    def _timeout(self, seconds: float) -> Any:
        """aiohttp's ``ClientTimeout(total=seconds)``, the last one kept (calls share theirs)."""
        timeout = self._last_timeout
        if timeout is None or timeout.total != seconds:
            timeout = self._last_timeout = self._aiohttp.ClientTimeout(total=seconds)
        return timeout

    async def aclose(self) -> None:
        """Close the session of the running loop (another loop's closes as that loop ends)."""
        await self._sessions.aclose(loop_token())


def _headers(received: Any) -> tuple[dict[str, str], tuple[str, ...]]:
    """The answer's headers in one pass: a dict (names lower-cased, the first of repeats
    kept), and each ``Set-Cookie`` on its own."""
    headers: dict[str, str] = {}
    set_cookies: list[str] = []
    for name, value in received.items():
        key = name.lower()
        if key == "set-cookie":
            set_cookies.append(value)
        headers.setdefault(key, value)
    return headers, tuple(set_cookies)


async def _close_session(session: Any) -> None:
    await session.close()


def _error(
    aiohttp: Any, exc: BaseException, url: str, proxy: str | None, timeout: float
) -> AichatError:
    """The core error for an aiohttp exception (the adapter edge), its cause in words."""
    if isinstance(exc, getattr(aiohttp, "ConnectionTimeoutError", ())):  # aiohttp 3.10+
        return timeout_error(url, "connect", timeout, proxy=proxy)
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":  # asyncio's, 3.10
        connecting = _CONNECTING.get()
        return timeout_error(
            url, "connect" if connecting else "read", timeout, proxy=proxy if connecting else None
        )
    if isinstance(exc, aiohttp.ClientHttpProxyError):  # the proxy answered CONNECT with an error
        return proxy_refused(url, proxy, f"{exc.status} {exc.message}")
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return error_from_chain(exc, url, phase="connect", proxy=proxy, timeout=timeout)
    if isinstance(exc, aiohttp.ClientConnectorError):  # its os_error (or certificate_error)
        return error_from_chain(exc, url, phase="connect", timeout=timeout)
    if isinstance(exc, aiohttp.InvalidURL):
        return InvalidRequestError(f"cannot send to {url}; check base_url")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return closed_error(url, "disconnected")
    if isinstance(exc, aiohttp.ClientPayloadError):
        counted = _COUNTED.search(str(exc))
        return closed_error(url, counted.group() if counted else "the body was cut short")
    if isinstance(exc, aiohttp.ClientError):
        return error_from_chain(exc, url, timeout=timeout)
    return InvalidRequestError(f"cannot send to {url}: {exc}")  # a ValueError
