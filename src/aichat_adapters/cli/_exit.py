"""Exit codes of the ``aichat`` command, one per family of errors, and how errors are shown."""

from __future__ import annotations

from typing import NoReturn

import click

from aichat_core import (
    AichatError,
    AuthenticationError,
    CookiesNotFoundError,
    InvalidRequestError,
    RateLimitError,
    ServiceError,
    TransportError,
)

__all__ = [
    "COOKIES",
    "EXIT_CODES_HELP",
    "INTERRUPTED",
    "NETWORK",
    "OK",
    "OTHER",
    "REFUSED",
    "USAGE",
    "describe",
    "exit_code",
    "fail",
    "one_line",
]

OK, OTHER, USAGE, COOKIES, REFUSED, NETWORK = 0, 1, 2, 3, 4, 5
#: Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2.
INTERRUPTED = 130

# "\b" keeps click from re-wrapping the block into one paragraph.
EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    other error
  2    usage or invalid input (nothing was sent)
  3    cookies or authentication
  4    rate limit or service refusal
  5    network or timeout
  130  interrupted (Ctrl-C)"""


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


def one_line(text: str) -> str:
    """``text`` on a single line: line breaks become spaces."""
    return " ".join(text.splitlines())


def describe(error: AichatError) -> str:
    """``"TypeName: message"``, on one line (messages never hold cookie values)."""
    return one_line(f"{type(error).__name__}: {error}")


def fail(error: AichatError) -> NoReturn:
    """Print ``error`` as one line on stderr and exit with its family's code."""
    click.echo(f"error: {describe(error)}", err=True)
    raise SystemExit(exit_code(error))
