"""The httpx transports: where bytes are sent and httpx errors become core errors."""

from __future__ import annotations

import httpx

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

__all__ = ["DEFAULT_MAX_BODY_SIZE", "AsyncHttpxTransport", "HttpxTransport"]

DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
"""Answers larger than this (10 MiB) raise ``ResponseFormatError``."""


def map_httpx_error(exc: httpx.HTTPError, url: str) -> AichatError:
    """The core error for an httpx exception (the adapter edge)."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"timed out talking to {url}: {type(exc).__name__}")
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
        return ConnectError(f"connection to {url} failed: {exc or type(exc).__name__}")
    if isinstance(exc, httpx.DecodingError):
        return ResponseFormatError(f"the answer from {url} could not be decoded: {exc}")
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return InvalidRequestError(f"cannot send to {url}: {exc}; check base_url and proxy")
    return TransportError(f"request to {url} failed: {type(exc).__name__}: {exc}")


class _BodyReader:
    """Collects an answer's body, refusing more than ``limit`` bytes."""

    def __init__(self, response: httpx.Response, url: str, limit: int) -> None:
        self._response = response
        self._url = url
        self._limit = limit
        self._chunks = bytearray()
        try:
            declared = int(response.headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        if declared > limit:
            raise self._too_large()

    def _too_large(self) -> ResponseFormatError:
        limit = self._limit
        return ResponseFormatError(f"the answer from {self._url} is larger than {limit} bytes")

    def add(self, chunk: bytes) -> None:
        self._chunks += chunk
        if len(self._chunks) > self._limit:
            raise self._too_large()

    def result(self) -> HttpResponse:
        return HttpResponse(
            status_code=self._response.status_code,
            headers=dict(self._response.headers.items()),
            body=bytes(self._chunks),
        )


def _client_options(
    http_client: object, proxy: str | None, verify: bool | str, max_body_size: int
) -> None:
    if http_client is not None and (proxy is not None or verify is not True):
        raise InvalidRequestError(
            "proxy and verify configure the client aichat builds; with http_client=..., "
            "set them on your own httpx client instead"
        )
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int) or max_body_size < 1:
        raise InvalidRequestError(f"max_body_size must be a positive int, got {max_body_size!r}")


class HttpxTransport:
    """Sends requests with one pooled ``httpx.Client``.

    Give ``http_client`` to use your own client (it is not closed by
    :meth:`close`); otherwise one is built with ``proxy`` and ``verify``.
    Redirects are never followed.
    """

    def __init__(
        self,
        http_client: httpx.Client | None = None,
        *,
        proxy: str | None = None,
        verify: bool | str = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        _client_options(http_client, proxy, verify, max_body_size)
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(proxy=proxy, verify=verify)
        self._max_body_size = max_body_size

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer."""
        url = request.url
        try:
            with self._client.stream(
                request.method,
                url,
                content=request.body,
                headers=request.headers,
                timeout=timeout,
                follow_redirects=False,
            ) as response:
                body = _BodyReader(response, url, self._max_body_size)
                for chunk in response.iter_bytes():
                    body.add(chunk)
                return body.result()
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, url) from exc

    def close(self) -> None:
        """Release the connection pool (only if this transport built the client)."""
        if self._owns_client:
            self._client.close()


class AsyncHttpxTransport:
    """The async twin of :class:`HttpxTransport`, on ``httpx.AsyncClient``."""

    def __init__(
        self,
        http_client: httpx.AsyncClient | None = None,
        *,
        proxy: str | None = None,
        verify: bool | str = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        _client_options(http_client, proxy, verify, max_body_size)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(proxy=proxy, verify=verify)
        self._max_body_size = max_body_size

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer."""
        url = request.url
        try:
            async with self._client.stream(
                request.method,
                url,
                content=request.body,
                headers=request.headers,
                timeout=timeout,
                follow_redirects=False,
            ) as response:
                body = _BodyReader(response, url, self._max_body_size)
                async for chunk in response.aiter_bytes():
                    body.add(chunk)
                return body.result()
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, url) from exc

    async def aclose(self) -> None:
        """Release the connection pool (only if this transport built the client)."""
        if self._owns_client:
            await self._client.aclose()
