"""Every client option, checked in one place before a client exists.

Bad values and conflicting combinations raise ``InvalidRequestError`` from
the constructor, never at the first call.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping
from typing import Any

import attrs

from aichat_adapters.transports._common import check_proxy
from aichat_core import (
    DEFAULT_BASE_URL,
    USER_AGENT,
    InvalidRequestError,
    RetryPolicy,
    base_url_host,
    check_base_url,
    check_headers,
)

__all__ = [
    "BASE_URL_VARIABLE",
    "PROXY_VARIABLE",
    "ClientOptions",
    "check_http_client",
    "check_transport_options",
    "checked_transport",
]

BASE_URL_VARIABLE = "AICHAT_BASE_URL"
"""Read when ``base_url`` is not given."""
PROXY_VARIABLE = "AICHAT_PROXY"
"""Read when ``proxy`` is not given and the client builds its own transport."""


def _timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidRequestError(f"timeout must be a number of seconds > 0, got {value!r}")
    if not math.isfinite(value):
        raise InvalidRequestError(f"timeout must be a finite number of seconds, got {value!r}")
    return float(value)


def _verify(value: object) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.exists(path):
            raise InvalidRequestError(
                f"verify={path!r}: no such file; give the path of a PEM file of CA certificates"
            )
        return path
    raise InvalidRequestError(
        f"verify must be True, False or the path of a CA bundle, not {type(value).__name__}"
    )


def _policy(retry_policy: object, max_retries: int | None, deadline: float | None) -> RetryPolicy:
    if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
        raise InvalidRequestError(
            f"retry_policy must be a RetryPolicy, not {type(retry_policy).__name__}"
        )
    policy = retry_policy or RetryPolicy()
    overrides: dict[str, Any] = {}
    if max_retries is not None:
        overrides["max_retries"] = max_retries
    if deadline is not None:
        overrides["deadline"] = deadline
    return attrs.evolve(policy, **overrides) if overrides else policy


def check_transport_options(
    transport: object, http_client: object, proxy: object, verify: object
) -> None:
    """Refuse options that cannot go together."""
    if transport is not None and (
        http_client is not None or proxy is not None or verify is not True
    ):
        raise InvalidRequestError(
            "transport=... replaces the built-in transport; configure proxy, verify and "
            "http_client on your transport instead"
        )
    if http_client is not None and (proxy is not None or verify is not True):
        raise InvalidRequestError(
            "proxy and verify configure the client aichat builds; with http_client=..., "
            "set them on your own httpx client instead"
        )


def checked_transport(transport: object, *, asynchronous: bool) -> Any:
    """The transport a client was given, checked against its port; an httpx one is wrapped."""
    if transport is None:
        return None
    import httpx

    from aichat_adapters.transports import AsyncHttpxTransport, HttpxTransport

    client, other = ("AsyncAichatClient", "AichatClient")[:: 1 if asynchronous else -1]
    own = httpx.AsyncBaseTransport if asynchronous else httpx.BaseTransport
    foreign = httpx.BaseTransport if asynchronous else httpx.AsyncBaseTransport
    if isinstance(transport, httpx.AsyncBaseTransport) and asynchronous:
        return AsyncHttpxTransport.from_httpx(transport)
    if isinstance(transport, httpx.BaseTransport) and not asynchronous:
        return HttpxTransport.from_httpx(transport)
    if isinstance(transport, foreign):
        raise InvalidRequestError(
            f"transport is an httpx {'sync' if asynchronous else 'async'} transport; give it "
            f"to {other}, or give {client} an httpx.{own.__name__}"
        )
    close = "aclose" if asynchronous else "close"
    send = getattr(transport, "send", None)
    if (
        not callable(send)
        or not callable(getattr(transport, close, None))
        or inspect.iscoroutinefunction(send) is not asynchronous
    ):
        port = (
            "async send(request, *, timeout) and async aclose()"
            if asynchronous
            else ("send(request, *, timeout) and close()")
        )
        raise InvalidRequestError(
            f"{client}'s transport must have {port} (the transport port); "
            f"{type(transport).__name__} does not"
        )
    return transport


def check_http_client(http_client: object, *, asynchronous: bool) -> None:
    """Refuse an ``http_client`` of the other kind (``httpx.Client`` vs ``AsyncClient``)."""
    if http_client is None:
        return
    import httpx

    kind = httpx.AsyncClient if asynchronous else httpx.Client
    if not isinstance(http_client, kind):
        other = (
            "an httpx.Client goes to AichatClient"
            if asynchronous
            else ("an httpx.AsyncClient goes to AsyncAichatClient")
        )
        raise InvalidRequestError(
            f"http_client must be an httpx.{kind.__name__}, not {type(http_client).__name__}"
            f"; {other}"
        )


@attrs.frozen
class ClientOptions:
    """A client's checked options (everything but the transport and cookies)."""

    base_url: str
    host: str
    timeout: float
    retry_policy: RetryPolicy
    headers: Mapping[str, str]
    proxy: str | None = attrs.field(repr=False)  # may hold credentials
    verify: bool | str

    @classmethod
    def check(
        cls,
        *,
        base_url: str | None,
        timeout: float,
        max_retries: int | None,
        deadline: float | None,
        retry_policy: RetryPolicy | None,
        headers: Mapping[str, str] | None,
        proxy: str | None,
        verify: bool | str,
        builds_transport: bool,
    ) -> ClientOptions:
        """Check every option; read ``AICHAT_BASE_URL`` and ``AICHAT_PROXY`` where they apply."""
        if base_url is None:
            base_url = os.environ.get(BASE_URL_VARIABLE) or DEFAULT_BASE_URL
        checked_url = check_base_url(base_url)
        if proxy is None and builds_transport:
            proxy = os.environ.get(PROXY_VARIABLE) or None
        return cls(
            base_url=checked_url,
            host=base_url_host(checked_url),
            timeout=_timeout(timeout),
            retry_policy=_policy(retry_policy, max_retries, deadline),
            headers=check_headers(headers),
            proxy=check_proxy(proxy),
            verify=_verify(verify),
        )

    def changed(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> ClientOptions:
        """A copy with some per-call options changed; ``headers`` are merged over these."""
        return attrs.evolve(
            self,
            timeout=self.timeout if timeout is None else _timeout(timeout),
            retry_policy=_policy(retry_policy or self.retry_policy, max_retries, deadline),
            headers={**self.headers, **check_headers(headers)},
        )

    def user_agent(self, transport: object) -> str | None:
        """Our User-Agent, or none when the transport sends a browser's own."""
        return None if getattr(transport, "impersonates", False) else USER_AGENT
