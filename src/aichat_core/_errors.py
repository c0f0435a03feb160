"""The exception tree: every error the SDK raises is an `AichatError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = [
    "APIStatusError",
    "AichatError",
    "AuthenticationError",
    "CertificateError",
    "ChallengeError",
    "ConnectError",
    "CookiesNotFoundError",
    "InvalidRequestError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseFormatError",
    "ServerError",
    "ServiceError",
    "TransportError",
]


E = TypeVar("E", bound="AichatError")

DEFAULT_SITE = "https://chat-gpt.org"


class AichatError(Exception):
    """Base of every error raised by aichat-client.

    ``attempts`` is how many HTTP requests the failed call made (0 when it
    failed before sending anything).
    """

    def __init__(self, message: str, *, attempts: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message

    def evolve(
        self: E,
        *,
        message: str | None = None,
        attempts: int | None = None,
        cause: BaseException | None = None,
    ) -> E:
        """A new error of the same class and fields, with another message or attempts count.

        Errors are never edited once raised: a call that ends with one raises
        such a copy, with its final text and attempts. Its ``__cause__`` is
        ``cause``, else this error's own.
        """
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        if message is not None:
            new.message = message
        if attempts is not None:
            new.attempts = attempts
        new.args = (new.message,)
        new.__cause__ = self.__cause__ if cause is None else cause
        new.__suppress_context__ = True
        return new


class InvalidRequestError(AichatError, ValueError):
    """Bad messages, parameters, model or options; nothing was sent."""


class CookiesNotFoundError(AichatError, RuntimeError):
    """No cookie source gave cookies.

    ``tried`` holds one ``(source, reason)`` pair per source that was asked;
    ``site`` is the origin the cookies were for (``base_url``).
    """

    def __init__(
        self,
        message: str,
        *,
        tried: tuple[tuple[str, str], ...] = (),
        site: str = DEFAULT_SITE,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.tried = tried
        self.site = site

    @classmethod
    def from_tried(
        cls, tried: tuple[tuple[str, str], ...], *, site: str = DEFAULT_SITE
    ) -> CookiesNotFoundError:
        """Build the error with a message that lists every source and why it gave nothing.

        ``site`` is the origin asked (``base_url``): the message names its host.
        """
        lines = "; ".join(f"{source}: {reason}" for source, reason in tried) or "no source"
        host = site.split("://", 1)[-1].split("/", 1)[0]
        message = (
            f"no cookies for {host} ({lines}). Open {site} in a browser, then export its "
            "cookies into AICHAT_COOKIES or a cookies.txt file, or pass cookies=... to the client"
        )
        return cls(message, tried=tried, site=site)

    def for_site(self, site: str) -> CookiesNotFoundError:
        """This error, worded for ``site`` (the client's ``base_url``)."""
        if site == DEFAULT_SITE:
            return self
        return self.from_tried(self.tried, site=site).evolve(attempts=self.attempts)


class TransportError(AichatError):
    """No complete HTTP answer was received."""


class ConnectError(TransportError):
    """The connection was refused, reset, or closed before the answer."""


class CertificateError(ConnectError):
    """The server's TLS certificate was not accepted; never retried (it will not change)."""


class RequestTimeoutError(TransportError, TimeoutError):
    """The request, or the call's deadline, ran out of time."""


class APIStatusError(AichatError):
    """The service answered with a non-2xx status.

    ``body`` is the start of the answer's text (truncated); ``retry_after`` is
    the wait in seconds the service asked for, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        retry_after: float | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after


class AuthenticationError(APIStatusError):
    """401 or 403: the cookies are missing, stale or refused."""


class ChallengeError(AuthenticationError):
    """403 with an HTML page: the site's anti-bot challenge."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class ServerError(APIStatusError):
    """5xx: the service failed."""


class ServiceError(AichatError):
    """200 with ``{"response": false}``: the service refused to answer.

    ``payload`` is the decoded JSON object.
    """

    def __init__(self, message: str, *, payload: Mapping[str, Any], attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.payload = payload


class ResponseFormatError(AichatError):
    """The answer is not JSON, not an object, has no text message, or is too large."""


for _error in (
    AichatError,
    InvalidRequestError,
    CookiesNotFoundError,
    TransportError,
    ConnectError,
    CertificateError,
    RequestTimeoutError,
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    RateLimitError,
    ServerError,
    ServiceError,
    ResponseFormatError,
):
    _error.__module__ = "aichat_core"  # the public home in tracebacks, as httpx does
del _error
