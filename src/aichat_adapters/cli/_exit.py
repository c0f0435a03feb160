"""Exit codes of the ``aichat`` command, one per family of errors."""

from __future__ import annotations

from aichat_core import (
    AichatError,
    AuthenticationError,
    CookiesNotFoundError,
    InvalidRequestError,
    RateLimitError,
    ServiceError,
    TransportError,
)

__all__ = ["EXIT_CODES_HELP", "exit_code"]

OK, OTHER, USAGE, COOKIES, REFUSED, NETWORK = 0, 1, 2, 3, 4, 5

EXIT_CODES_HELP = (
    "Exit codes: 0 success, 1 other error, 2 usage or invalid input (nothing sent), "
    "3 cookies or authentication, 4 rate limit or service refusal, 5 network or timeout."
)


def exit_code(error: AichatError) -> int:
    """The exit code for an error that ended a command."""
    if isinstance(error, InvalidRequestError):
        return USAGE
    if isinstance(error, (CookiesNotFoundError, AuthenticationError)):
        return COOKIES
    if isinstance(error, (RateLimitError, ServiceError)):
        return REFUSED
    if isinstance(error, TransportError):
        return NETWORK
    return OTHER
