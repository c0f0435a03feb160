"""What the sync and async clients share: options, checks and the pure steps of a call."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Mapping
from typing import Any

import attrs

from aichat_core import (
    Conversation,
    CookiesNotFoundError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    PreparedCall,
    Reply,
    RetryPolicy,
    build_request,
    check_base_url,
    parse_response,
)

__all__ = ["BaseChat", "BaseClient"]

logger = logging.getLogger("aichat")


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidRequestError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    return float(timeout)


def _check_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise InvalidRequestError("headers must be a mapping of str to str")
    return dict(headers)


def _retry_policy(
    retry_policy: RetryPolicy | None, max_retries: int | None, deadline: float | None
) -> RetryPolicy:
    policy = retry_policy or RetryPolicy()
    overrides: dict[str, Any] = {}
    if max_retries is not None:
        overrides["max_retries"] = max_retries
    if deadline is not None:
        overrides["deadline"] = deadline
    return attrs.evolve(policy, **overrides) if overrides else policy


class BaseClient:
    """Options and pure steps shared by :class:`AichatClient` and :class:`AsyncAichatClient`."""

    def __init__(
        self,
        *,
        cookies: Mapping[str, str] | str | None,
        cookie_source: object | None,
        base_url: str,
        proxy: str | None,
        timeout: float,
        max_retries: int | None,
        deadline: float | None,
        verify: bool | str,
        headers: Mapping[str, str] | None,
        transport: object | None,
        http_client: object | None,
        retry_policy: RetryPolicy | None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.timeout = _check_timeout(timeout)
        self.retry_policy = _retry_policy(retry_policy, max_retries, deadline)
        self.headers = _check_headers(headers)
        if transport is not None and (
            http_client is not None or proxy is not None or verify is not True
        ):
            raise InvalidRequestError(
                "transport=... replaces the built-in httpx transport; configure proxy, "
                "verify and http_client on your transport instead"
            )
        self._proxy = proxy
        self._verify = verify
        self.cookie_source = self._choose_cookie_source(cookies, cookie_source)

    @staticmethod
    def _choose_cookie_source(
        cookies: Mapping[str, str] | str | None, cookie_source: object | None
    ) -> Any:
        # Imported here: the cookie module is only needed once a client is built.
        from aichat_adapters._cookies import StaticCookieSource, default_cookie_source

        if cookies is not None and cookie_source is not None:
            raise InvalidRequestError("give either cookies=... or cookie_source=..., not both")
        if cookies is not None:
            return StaticCookieSource(cookies)
        if cookie_source is None:
            return default_cookie_source()
        if not callable(getattr(cookie_source, "get_cookies", None)):
            raise InvalidRequestError(
                "cookie_source must have a get_cookies() method returning a mapping of "
                f"cookie names to values; {type(cookie_source).__name__} has none"
            )
        return cookie_source

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"cookie_source={self.cookie_source!r}, timeout={self.timeout!r}, "
            f"max_retries={self.retry_policy.max_retries!r})"
        )

    @staticmethod
    def checked_cookies(source: object, cookies: object) -> Mapping[str, str]:
        """Check what a cookie source gave: a non-empty mapping."""
        if not isinstance(cookies, Mapping):
            raise InvalidRequestError(
                f"{type(source).__name__}.get_cookies() returned {type(cookies).__name__}; "
                "it must return a mapping of cookie names to values"
            )
        if not cookies:
            raise CookiesNotFoundError.from_tried(((repr(source), "gave no cookies"),))
        return cookies

    @staticmethod
    def source_is_async(source: object) -> bool:
        """Whether ``source.get_cookies`` is a coroutine function."""
        return inspect.iscoroutinefunction(getattr(source, "get_cookies", None))

    def build(self, prepared: PreparedCall, cookies: Mapping[str, str]) -> HttpRequest:
        """The HTTP request for a prepared call."""
        return build_request(
            prepared.prompt,
            prepared.params,
            base_url=self.base_url,
            cookies=cookies,
            headers=self.headers,
        )

    @staticmethod
    def read(response: HttpResponse, request: HttpRequest, sent_at: float) -> Reply:
        """Log one exchange (never its cookies) and parse the answer."""
        logger.debug(
            "%s %s -> %d in %.1f ms",
            request.method,
            request.url,
            response.status_code,
            (time.monotonic() - sent_at) * 1000,
        )
        return parse_response(response)

    @staticmethod
    def finish(reply: Reply, attempts: int, started: float) -> Reply:
        """Stamp the call's attempts and duration on its reply."""
        return attrs.evolve(reply, attempts=attempts, elapsed=time.monotonic() - started)


class BaseChat:
    """The history that :class:`Chat` and :class:`AsyncChat` keep; only ``ask`` differs."""

    def __init__(self, system: str | None = None) -> None:
        self.system = system
        self.history = Conversation.start(system)

    def reset(self) -> None:
        """Forget every turn, keeping the system message if there was one."""
        self.history = Conversation.start(self.system)
