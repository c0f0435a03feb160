"""Exit codes of the ``aichat`` command, one per family of errors, and how errors are shown.

Every error ends as one line on stderr, ``error: ...``, worded for a shell
user: a [`CookiesNotFoundError`][aichat_core.CookiesNotFoundError] names the
command's options (``--cookies``, ``--cookies-file``, ``--browser``) rather
than the library's arguments, a host name that does not resolve suggests
``--proxy`` or ``--stub``, and a proxy's failure names ``--proxy``.
"""

from __future__ import annotations

import re
from typing import NoReturn

import click

from aichat_core import (
    AichatError,
    AuthenticationError,
    ConnectError,
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
    "MAX_MESSAGE",
    "NETWORK",
    "OK",
    "OTHER",
    "REFUSED",
    "USAGE",
    "describe",
    "exit_code",
    "fail",
    "message",
    "one_line",
]

OK, OTHER, USAGE, COOKIES, REFUSED, NETWORK = 0, 1, 2, 3, 4, 5
#: Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2.
INTERRUPTED = 130

#: The longest error message shown (a server may send megabytes of text).
MAX_MESSAGE = 2000

# "\b" keeps click from re-wrapping the block into one paragraph.
EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    other error (a server error, a file, a missing extra)
  2    usage or invalid input (nothing was sent)
  3    cookies or authentication
  4    rate limit or service refusal
  5    network or timeout
  130  interrupted (Ctrl-C)"""

COOKIES_ADVICE = (
    "Open {site} in a browser, then give its cookies with "
    "--cookies 'NAME=VALUE; ...', --cookies-file FILE (a cookies.txt or Cookie-Editor "
    "export), --browser NAME, or the AICHAT_COOKIES variable; "
    "'aichat cookies' shows what each source gives"
)
UNRESOLVED_ADVICE = (
    "Behind a proxy, give it with --proxy URL (or AICHAT_PROXY); to try aichat offline, add --stub"
)
PROXY_ADVICE = "The proxy was given with --proxy (or AICHAT_PROXY)"

# Line breaks (every kind str.splitlines knows) and the other control characters,
# which could move the cursor or recolour a terminal.
_BREAKS = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


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


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` as one safe line: breaks become spaces, control characters escapes, capped.

    Args:
        text: Any text, a server's included.
        limit: The most characters kept; a longer text ends with ``"... (N more characters)"``.
    """
    line = _BREAKS.sub(" ", text)
    line = _CONTROLS.sub(lambda match: f"\\x{ord(match.group()):02x}", line)
    if len(line) > limit:
        line = f"{line[:limit]}... ({len(line) - limit} more characters)"
    return line


def message(error: AichatError) -> str:
    """The error's message for a shell user, on one line (never a cookie value)."""
    if isinstance(error, CookiesNotFoundError):
        tried = "; ".join(f"{source}: {reason}" for source, reason in error.tried) or "none"
        cookies_advice = COOKIES_ADVICE.format(site=error.site)
        return one_line(f"no cookie source gave cookies (tried {tried}). {cookies_advice}")
    text = str(error)
    advice = _advice(error, text)
    return one_line(f"{text}. {advice}" if advice else text)


def _advice(error: AichatError, text: str) -> str | None:
    """The command's options that are the next step, for the errors a message alone leaves open."""
    from aichat_adapters.transports._reasons import UNRESOLVED, blames_proxy

    if not isinstance(error, ConnectError):
        return None
    if blames_proxy(text):
        return PROXY_ADVICE
    if UNRESOLVED in text:
        return UNRESOLVED_ADVICE
    return None


def describe(error: AichatError) -> str:
    """``"TypeName: message"``, on one line (messages never hold cookie values)."""
    return f"{type(error).__name__}: {message(error)}"


def fail(error: AichatError) -> NoReturn:
    """Print ``error`` as one line on stderr and exit with its family's code."""
    click.echo(f"error: {describe(error)}", err=True)
    raise SystemExit(exit_code(error))
