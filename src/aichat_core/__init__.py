"""aichat_core: the pure heart of aichat-client. No I/O, no HTTP library."""

from aichat_core._cookies import domain_matches, format_cookie_header, parse_cookie_header
from aichat_core._errors import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    ConnectError,
    CookiesNotFoundError,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
    ServiceError,
    TransportError,
)
from aichat_core._http import HttpRequest, HttpResponse
from aichat_core._ports import AsyncCookieSource, AsyncTransport, CookieSource, Transport

__all__ = [
    "APIStatusError",
    "AichatError",
    "AsyncCookieSource",
    "AsyncTransport",
    "AuthenticationError",
    "ChallengeError",
    "ConnectError",
    "CookieSource",
    "CookiesNotFoundError",
    "HttpRequest",
    "HttpResponse",
    "InvalidRequestError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseFormatError",
    "ServerError",
    "ServiceError",
    "Transport",
    "TransportError",
    "domain_matches",
    "format_cookie_header",
    "parse_cookie_header",
]
