"""The httpx transports (the default): bytes sent, httpx errors mapped to core errors.

``timeout`` bounds a whole attempt, not each read: every socket operation of
a transport built here gets only the time the attempt has left (see
``_deadline``), so a server that trickles its answer one byte at a time is
cut off when the attempt's time is up.
"""

from __future__ import annotations

import re
import time
import typing
from contextlib import aclosing
from typing import Any

import httpx

from aichat_adapters._extras import missing_extra
from aichat_adapters.transports._body import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_BODY_SIZE,
    BodyReader,
    check_max_body_size,
)
from aichat_adapters.transports._common import (
    ATTEMPT_DEADLINE,
    PerLoop,
    check_proxy,
    loop_token,
    ssl_context,
)
from aichat_adapters.transports._reasons import (
    closed_error,
    error_from_chain,
    mask,
    proxy_refused,
    timeout_error,
)
from aichat_core import (
    AichatError,
    ConnectError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    RequestTimeoutError,
    ResponseFormatError,
    TransportError,
)

__all__ = ["AsyncHttpxTransport", "HttpxTransport", "map_httpx_error"]

_ENCODING = (("accept-encoding", ACCEPT_ENCODING),)
_TIMEOUTS = ("connect", "read", "write", "pool")  # the request extension's keys
_DRAIN = 1 << 20  # bytes read past a refusal, at most, to let httpx's generators end
_COUNTED = re.compile(r"received (\d+) bytes, expected (\d+)")  # h11's words for a short body


def map_httpx_error(
    exc: Exception, url: str, *, proxy: str | None = None, timeout: float | None = None
) -> AichatError:
    """The core error for an httpx exception (the adapter edge), its cause in words.

    Args:
        exc: What httpx raised.
        url: Where the request went.
        proxy: The proxy this transport connects through, if any: a failure to
            connect is then a failure to reach the proxy.
        timeout: The attempt's timeout, named in a timeout's message.
    """
    if isinstance(exc, httpx.ConnectTimeout):
        return timeout_error(url, "connect", timeout, proxy=proxy)
    if isinstance(exc, httpx.TimeoutException):  # read, write, or waiting for the pool
        return timeout_error(url, "read", timeout)
    if isinstance(exc, httpx.ProxyError):  # the proxy answered, and said no
        detail = str(exc).removeprefix("Proxy Server could not connect: ")
        return proxy_refused(url, proxy, detail[:1].lower() + detail[1:])
    if isinstance(exc, httpx.ConnectError):
        return error_from_chain(exc, url, phase="connect", proxy=proxy, timeout=timeout)
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "closed" in text or "disconnected" in text:  # h11 has no type for these
            counted = _COUNTED.search(text)
            received = f"received {counted[1]} of {counted[2]} bytes" if counted else ""
            return closed_error(url, received or "no answer at all")
        return ConnectError(f"the answer from {mask(url)} broke the HTTP protocol: {text}")
    if isinstance(exc, httpx.NetworkError):  # a read or write failed on an open connection
        error = error_from_chain(exc, url, timeout=timeout)
        if type(error) is TransportError:  # nothing more precise: it broke all the same
            return closed_error(url, f"{type(exc).__name__} with no reason given")
        return error
    if isinstance(exc, httpx.DecodingError):
        return ResponseFormatError(f"the answer from {mask(url)} could not be decoded: {exc}")
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return InvalidRequestError(f"cannot send to {mask(url)}: {exc}; check base_url and proxy")
    return error_from_chain(exc, url, timeout=timeout)


def _client_options(proxy: str | None, verify: object) -> dict[str, Any]:
    return {"proxy": check_proxy(proxy), "verify": ssl_context(verify)}  # type: ignore[arg-type]


def _build(kind: type[typing.Any], options: dict[str, Any]) -> Any:
    try:
        client = kind(**options)
    except ImportError:  # a socks5:// proxy without socksio
        raise InvalidRequestError(missing_extra("socksio", "socks", "a SOCKS proxy")) from None
    from aichat_adapters.transports._deadline import bound_every_socket  # imports httpcore

    bound_every_socket(client)
    return client


def _check_http_client(http_client: object, kind: type[Any], proxy: object, verify: object) -> None:
    if http_client is None:
        return
    if not isinstance(http_client, kind):
        raise InvalidRequestError(
            f"http_client must be an {kind.__module__}.{kind.__qualname__}, "
            f"not {type(http_client).__name__}"
        )
    if proxy is not None or verify is not True:
        raise InvalidRequestError(
            "proxy and verify configure the client aichat builds; with http_client=..., "
            "set them on your own httpx client instead"
        )


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A request body in one piece, iterated without a generator.

    httpx's own byte stream is an async generator; a transfer cancelled on
    trio would leave it unfinalized (a ResourceWarning). This one has nothing
    to finalize.
    """

    def __init__(self, data: bytes) -> None:
        self._chunks = (data,)

    def __iter__(self) -> typing.Iterator[bytes]:
        return iter(self._chunks)

    def __aiter__(self) -> typing.AsyncIterator[bytes]:
        return _Chunks(self._chunks)


class _Chunks:
    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self._chunks = iter(chunks)

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


def _request(request: HttpRequest, timeout: float) -> httpx.Request:
    """``request`` as httpx's transports take it, for a client this module built.

    Such a client has nothing to merge in (no default headers, cookies or
    auth of a user's), so the request goes straight to its connection pool
    (see ``_pool_send``).
    """
    built = httpx.Request(
        request.method,
        request.url,
        headers=_ENCODING + request.headers,
        content=request.body,  # sets Host and Content-Length; the stream is replaced below
        extensions={"timeout": dict.fromkeys(_TIMEOUTS, timeout)},
    )
    built.stream = _Body(request.body)
    return built


def _user_request(
    client: httpx.Client | httpx.AsyncClient, request: HttpRequest, timeout: float
) -> httpx.Request:
    """``request`` through a user's own client: its default headers and cookies apply."""
    built = client.build_request(
        request.method,
        request.url,
        content=request.body,
        headers=_ENCODING + request.headers,
        timeout=timeout,
    )
    built.stream = _Body(request.body)
    return built


def _headers(response: httpx.Response) -> tuple[dict[str, str], tuple[str, ...]]:
    """The answer's headers, read once: a dict (repeats joined with ``, ``), and each
    ``Set-Cookie`` on its own."""
    headers: dict[str, str] = {}
    set_cookies: list[str] = []
    for name, value in response.headers.multi_items():
        if name == "set-cookie":
            set_cookies.append(value)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers, tuple(set_cookies)


class HttpxTransport:
    """Sends requests with one pooled ``httpx.Client`` (the default transport).

    Give ``http_client`` to use your own client (it is not closed by
    [`close`][aichat_adapters.transports.HttpxTransport.close], and its reads
    are bounded per read, as httpx does); otherwise one is built with ``proxy`` and
    ``verify`` (``True``, ``False``, or the path of a CA bundle). Redirects
    are never followed; answers larger than ``max_body_size`` after decoding
    are refused.
    """

    def __init__(
        self,
        http_client: httpx.Client | None = None,
        *,
        proxy: str | None = None,
        verify: bool | str = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        _check_http_client(http_client, httpx.Client, proxy, verify)
        self._max_body_size = check_max_body_size(max_body_size)
        self._owns_client = http_client is None
        options = _client_options(proxy, verify) if http_client is None else {}
        self._proxy: str | None = options.get("proxy")
        self._client: httpx.Client = http_client or _build(httpx.Client, options)

    @classmethod
    def from_httpx(cls, transport: httpx.BaseTransport) -> HttpxTransport:
        """Wrap an httpx transport (``httpx.MockTransport(handler)``, a mounted one...)."""
        wrapped = cls(httpx.Client(transport=transport))
        wrapped._owns_client = True
        return wrapped

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer, within ``timeout`` seconds in all."""
        url = request.url
        if self._client.is_closed:
            raise InvalidRequestError("this transport is closed")
        deadline = time.monotonic() + timeout
        token = ATTEMPT_DEADLINE.set(deadline)
        try:
            response = self._open(request, timeout)
            try:
                headers, set_cookies = _headers(response)
                body = BodyReader(headers, url, self._max_body_size)
                for chunk in typing.cast("httpx.SyncByteStream", response.stream):  # raw bytes
                    body.feed(chunk)
                    if time.monotonic() > deadline:
                        raise _timed_out(url, timeout)
                return HttpResponse(
                    status_code=response.status_code,
                    headers=headers,
                    body=body.finish(),
                    set_cookies=set_cookies,
                )
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, url, proxy=self._proxy, timeout=timeout) from exc
        finally:
            ATTEMPT_DEADLINE.reset(token)

    def _open(self, request: HttpRequest, timeout: float) -> httpx.Response:
        """The answer's head; its body is left to read.

        A client built here has its request handed straight to the transport
        for the URL (its pool, or a proxy's): what ``Client.send`` adds is
        auth, redirects, event hooks and a cookie jar, none of which this SDK
        uses (it keeps its own jar), and it costs about a quarter of a call's
        CPU time. A user's own client goes through ``send``, all of it.
        """
        client = self._client
        if self._owns_client:
            built = _request(request, timeout)
            return client._transport_for_url(built.url).handle_request(built)
        built = _user_request(client, request, timeout)
        return client.send(built, stream=True, follow_redirects=False)

    def close(self) -> None:
        """Release the connection pool (only if this transport built the client)."""
        if self._owns_client:
            self._client.close()


class AsyncHttpxTransport:
    """The async twin of [`HttpxTransport`][aichat_adapters.HttpxTransport], on asyncio or trio.

    A client this transport builds belongs to one event loop; used under a
    new loop (a second ``asyncio.run``), it builds a fresh pool there, and the
    old one is closed as its own loop ends.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient | None = None,
        *,
        proxy: str | None = None,
        verify: bool | str = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        _check_http_client(http_client, httpx.AsyncClient, proxy, verify)
        self._max_body_size = check_max_body_size(max_body_size)
        self._owns_client = http_client is None
        self._options = _client_options(proxy, verify) if http_client is None else {}
        self._proxy: str | None = self._options.get("proxy")
        self._client: httpx.AsyncClient | None = http_client
        self._pools: PerLoop[httpx.AsyncClient] = PerLoop(
            lambda: _build(httpx.AsyncClient, self._options), _close_client
        )
        self._closed = False

    @classmethod
    def from_httpx(cls, transport: httpx.AsyncBaseTransport) -> AsyncHttpxTransport:
        """Wrap an httpx async transport (``httpx.MockTransport(handler)``, ...)."""
        wrapped = cls()
        wrapped._options = {"transport": transport}  # each loop's client sends through it
        return wrapped

    async def _client_here(self) -> httpx.AsyncClient:
        if not self._owns_client:
            if self._closed:
                raise InvalidRequestError("this transport is closed")
            assert self._client is not None
            return self._client
        loop = loop_token()
        return self._pools.current(loop) or await self._pools.get(loop)

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer, within ``timeout`` seconds in all."""
        url = request.url
        client = await self._client_here()
        deadline = time.monotonic() + timeout
        token = ATTEMPT_DEADLINE.set(deadline)
        try:
            response = await self._open(client, request, timeout)
            try:
                headers, set_cookies = _headers(response)
                body = BodyReader(headers, url, self._max_body_size)
                if response.is_stream_consumed:  # built in memory (httpx.MockTransport)
                    async for chunk in response.stream:  # type: ignore[union-attr]
                        body.feed(chunk)
                else:
                    await self._read_raw(response, body, url, deadline, timeout)
                return HttpResponse(
                    status_code=response.status_code,
                    headers=headers,
                    body=body.finish(),
                    set_cookies=set_cookies,
                )
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, url, proxy=self._proxy, timeout=timeout) from exc
        finally:
            ATTEMPT_DEADLINE.reset(token)

    async def _open(
        self, client: httpx.AsyncClient, request: HttpRequest, timeout: float
    ) -> httpx.Response:
        """The answer's head, as [`HttpxTransport._open`][] gets it."""
        if self._owns_client:
            built = _request(request, timeout)
            return await client._transport_for_url(built.url).handle_async_request(built)
        built = _user_request(client, request, timeout)
        return await client.send(built, stream=True, follow_redirects=False)

    async def _read_raw(
        self, response: httpx.Response, body: BodyReader, url: str, deadline: float, timeout: float
    ) -> None:
        """Feed the raw body to ``body``, leaving none of httpx's async generators suspended.

        The body comes through five nested async generators (httpx's and
        httpcore's); trio warns about each one left suspended. So when the body
        is refused (too large, too late), a client this transport built is
        made to fail its next socket read (the attempt's deadline is set in the
        past): the error ends every generator on its way out, and the refusal
        is raised after. A user's own client has no such hook: it stops at once,
        and so does a transport whose bytes come from no socket of ours (past
        ``_DRAIN`` bytes).
        """
        refused: AichatError | None = None
        drained = 0
        raw = typing.cast("typing.AsyncGenerator[bytes, None]", response.aiter_raw())
        try:
            async with aclosing(raw) as chunks:
                async for chunk in chunks:
                    if refused is not None:
                        drained += len(chunk)  # bytes httpx holds already; the next read fails
                        if drained > _DRAIN:
                            raise refused
                        continue
                    try:
                        body.feed(chunk)
                        if time.monotonic() > deadline:
                            raise _timed_out(url, timeout)
                    except AichatError as error:
                        if not self._owns_client:
                            raise
                        refused = error
                        ATTEMPT_DEADLINE.set(0.0)
        except httpx.HTTPError:
            if refused is None:
                raise
        if refused is not None:
            raise refused

    async def aclose(self) -> None:
        """Release the connection pool (only if this transport built the client)."""
        self._closed = True
        if self._owns_client:
            await self._pools.aclose(loop_token())


async def _close_client(client: httpx.AsyncClient) -> None:
    await client.aclose()


def _timed_out(url: str, timeout: float) -> RequestTimeoutError:
    return timeout_error(url, "read", timeout)
