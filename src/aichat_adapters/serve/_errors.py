"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, with their status.

The status is chosen for what OpenAI clients do with it: they raise
``BadRequestError`` for 400, ``AuthenticationError`` for 401,
``PermissionDeniedError`` for 403, ``RateLimitError`` for 429 and
``InternalServerError`` for 5xx, and they retry 429 and 5xx unless the answer
says ``x-should-retry: false``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import attrs

from aichat_core import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    CertificateError,
    ConnectError,
    CookiesNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
    ServiceError,
    TransportError,
)

__all__ = ["DEFAULT_RETRY_AFTER", "MAX_MESSAGE", "Problem", "problem_for"]

DEFAULT_RETRY_AFTER = 5
"""Seconds a client is told to wait after the site's 429 when the site named no wait."""

MAX_MESSAGE = 2000
"""The longest message sent (the site's text is already quoted short by the client)."""

_NO_RETRY = (("x-should-retry", "false"),)
_JSON = (b"content-type", b"application/json")


@attrs.frozen
class Problem:
    """An error answer: status, message, OpenAI's ``type`` and ``code``, ``param``, headers."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> bytes:
        """The JSON body, ``{"error": {...}}``, on one line."""
        message = " ".join(self.message.split())
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "..."
        error = {"message": message, "type": self.type, "param": self.param, "code": self.code}
        return json.dumps({"error": error}).encode("ascii")

    def raw_headers(self, body: bytes) -> list[tuple[bytes, bytes]]:
        """The answer's headers, for an ASGI ``http.response.start`` message."""
        headers = [_JSON, (b"content-length", str(len(body)).encode("ascii"))]
        headers += [(name.encode("ascii"), value.encode("ascii")) for name, value in self.headers]
        return headers


def _cookies(names: Sequence[str]) -> str:
    return f"its cookies ({', '.join(names)})" if names else "its cookies"


def problem_for(error: Exception, cookie_names: Sequence[str] = ()) -> Problem:
    """The answer for an error raised by the client's call (``cookie_names``: the source's)."""
    if not isinstance(error, AichatError):
        return Problem(
            500,
            f"internal error ({type(error).__name__}) in aichat serve; its log has the details",
            "server_error",
            "internal_error",
        )
    text = str(error)
    if isinstance(error, CookiesNotFoundError):
        return Problem(
            503,
            f"this server has no cookies for the site, so it cannot ask it: {text}. "
            "Retrying will not help: the server's operator must give it the site's cookies "
            "(--cookies-file, --cookies or --browser; 'aichat cookies' shows what each source "
            "gives) and restart it",
            "server_error",
            "cookies_not_found",
            headers=_NO_RETRY,
        )
    if isinstance(error, AuthenticationError):
        return Problem(
            502,
            f"the site refused this server's session: {_cookies(cookie_names)} are missing, "
            f"stale or challenged ({text}). Retrying will not help: the server's operator must "
            "open the site in a browser, export fresh cookies into the server's cookie source "
            "and restart it ('aichat cookies' shows what each source gives)",
            "server_error",
            "cookies_rejected",
            headers=_NO_RETRY,
        )
    if isinstance(error, RateLimitError):
        wait = error.retry_after
        seconds = DEFAULT_RETRY_AFTER if wait is None else max(1, math.ceil(wait))
        return Problem(
            429,
            f"the site is rate limiting this server ({text}); try again in {seconds} s",
            "rate_limit_error",
            "rate_limit_exceeded",
            headers=(("retry-after", str(seconds)),),
        )
    if isinstance(error, ServerError):
        return Problem(502, f"the site failed: {text}", "server_error", "upstream_error")
    if isinstance(error, APIStatusError):
        return Problem(
            502,
            f"the site answered with an unexpected status: {text}",
            "server_error",
            "upstream_error",
            headers=_NO_RETRY,
        )
    if isinstance(error, RequestTimeoutError):
        return Problem(504, f"the site did not answer in time: {text}", "server_error", "timeout")
    if isinstance(error, CertificateError):
        return Problem(
            502,
            f"the site's certificate was refused: {text}",
            "server_error",
            "upstream_certificate",
            headers=_NO_RETRY,
        )
    if isinstance(error, (ConnectError, TransportError)):
        return Problem(
            502, f"the site could not be reached: {text}", "server_error", "upstream_unreachable"
        )
    if isinstance(error, ServiceError):
        return Problem(
            502,
            f"the site refused to answer: {text}",
            "server_error",
            "service_refused",
            headers=_NO_RETRY,
        )
    if isinstance(error, ResponseFormatError):
        return Problem(
            502,
            f"the site's answer could not be read: {text}",
            "server_error",
            "bad_upstream_response",
            headers=_NO_RETRY,
        )
    # An InvalidRequestError here is the server's own (the request was checked before the
    # call): a cookie source that returns no mapping, a closed client.
    return Problem(
        500,
        f"this server is misconfigured: {text}",
        "server_error",
        "server_misconfigured",
        headers=_NO_RETRY,
    )
