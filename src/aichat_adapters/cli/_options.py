"""The options every command that talks to the service shares, and the values they give.

Options are declared once here (`service_options`, `cookie_options`,
`generation_options`); a command receives them as one value
(`ServiceOptions` or `CookieChoice`), checked, and `_factory` turns it into a
client or a cookie source.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs
import click
from click.core import ParameterSource

from aichat_adapters.cli._text import TEXT
from aichat_adapters.cookies import BROWSERS
from aichat_core import DEFAULT_BASE_URL, RETRY_STATUSES

__all__ = [
    "CLEARANCES",
    "TRANSPORTS",
    "CookieChoice",
    "ServiceOptions",
    "base_url_option",
    "cookie_options",
    "generation_options",
    "parse_headers",
    "service_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: ``--transport``'s choices.
TRANSPORTS = ("httpx", "curl", "aiohttp")

# The cookie options; at most one of them on the command line.
_COOKIE_NAMES = ("cookies", "cookies_file", "browser", "clearance")
_FLAGS = {
    "cookies": "--cookies",
    "cookies_file": "--cookies-file",
    "browser": "--browser",
    "clearance": "--clearance",
}
#: How ``--clearance`` earns the credentials.
CLEARANCES = ("browser", "flaresolverr")
_FLARESOLVERR_VARIABLE = "AICHAT_FLARESOLVERR_URL"

_COOKIE_OPTIONS: Sequence[Callable[[F], F]] = (
    click.option(
        "--cookies",
        type=TEXT,
        envvar="AICHAT_COOKIES",
        show_envvar=True,
        metavar="'NAME=VALUE; ...'",
        help='The site\'s cookies as "name=value; other=value2", or a JSON object.',
    ),
    click.option(
        "--cookies-file",
        envvar="AICHAT_COOKIES_FILE",
        show_envvar=True,
        type=click.Path(path_type=Path),
        help=(
            "A cookies.txt (Netscape), Cookie-Editor JSON or HAR export of the site's "
            "cookies, a credentials bundle (aichat login), or a folder of them (the newest "
            "file wins for each cookie)."
        ),
    ),
    click.option(
        "--browser",
        type=TEXT,
        metavar="NAME",
        help=(
            "Read the cookies from this browser's profile (needs the 'browser' extra): "
            f"{', '.join(BROWSERS)}, or 'any' for the first that has some."
        ),
    ),
    click.option(
        "--clearance",
        type=click.Choice(CLEARANCES),
        help=(
            "Earn the cookies and the User-Agent they are bound to: with a headless Chromium "
            "('browser', the 'clearance' extra) or a FlareSolverr service ('flaresolverr'). "
            "Saved to credentials.json beside the cookies file and reused while valid."
        ),
    ),
    click.option(
        "--flaresolverr-url",
        type=TEXT,
        envvar=_FLARESOLVERR_VARIABLE,
        show_envvar=True,
        metavar="URL",
        help="FlareSolverr's API for --clearance flaresolverr [default: http://localhost:8191/v1].",
    ),
)


def base_url_option(help_text: str) -> Callable[[F], F]:
    """``--base-url`` (``AICHAT_BASE_URL``, default chat-gpt.org), with this help."""
    return click.option(
        "--base-url",
        type=TEXT,
        envvar="AICHAT_BASE_URL",
        show_envvar=True,
        default=DEFAULT_BASE_URL,
        show_default=True,
        help=help_text,
    )


_SERVICE_OPTIONS: Sequence[Callable[[F], F]] = (
    base_url_option("The service, a mirror, or a stub server."),
    *_COOKIE_OPTIONS,
    click.option(
        "--proxy",
        type=TEXT,
        envvar="AICHAT_PROXY",
        show_envvar=True,
        metavar="URL",
        help="A proxy for the requests, e.g. http://127.0.0.1:8080 or socks5://...",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=60.0,
        show_default=True,
        help="Seconds for each attempt.",
    ),
    click.option(
        "--max-retries",
        type=click.IntRange(min=0),
        default=2,
        show_default=True,
        help=(
            "Retries after the first attempt (network errors, timeouts, and statuses "
            f"{', '.join(map(str, sorted(RETRY_STATUSES)))})."
        ),
    ),
    click.option(
        "--stub",
        is_flag=True,
        help="Start the local stub server in this process and ask it (no network, no cookies).",
    ),
    click.option(
        "--save-cookies",
        is_flag=True,
        help=(
            "Save the cookies the site rotates back to --cookies-file (AICHAT_COOKIES_FILE), "
            "in its own format, mode 0600."
        ),
    ),
    click.option(
        "--transport",
        type=click.Choice(TRANSPORTS),
        default=None,
        help=(
            "How requests are sent: httpx (the default), curl (a browser's TLS fingerprint; "
            "the 'impersonate' extra) or aiohttp (batch and serve only; the 'aiohttp' extra)."
        ),
    ),
    click.option(
        "--impersonate",
        type=TEXT,
        metavar="TARGET",
        help=(
            "The browser curl shakes hands as, e.g. chrome, safari, firefox, chrome131 "
            "(implies --transport curl) [default: the browser the credentials' User-Agent "
            "names, else the newest chrome]."
        ),
    ),
    click.option(
        "--user-agent",
        type=TEXT,
        metavar="UA",
        help=(
            "The User-Agent to send [default: the one the credentials are bound to, else "
            "with curl the impersonated browser's]; it breaks a clearance earned with another."
        ),
    ),
    click.option(
        "--header",
        "headers",
        type=TEXT,
        multiple=True,
        metavar="'NAME: VALUE'",
        help="An extra header; repeat for more. Replaces a default of the same name.",
    ),
)

_GENERATION_OPTIONS: Sequence[Callable[[F], F]] = (
    click.option("--temperature", type=float, help="Sampling temperature, 0 to 2 [default: 0.5]."),
    click.option("--top-p", type=float, help="Nucleus sampling, 0 to 1 [default: 1]."),
)


def _apply(options: Sequence[Callable[[F], F]], function: F) -> F:
    for option in reversed(options):
        function = option(function)
    return function


@attrs.frozen
class CookieChoice:
    """What the cookie options asked for, and which of them came from the command line."""

    cookies: str | None = attrs.field(default=None, repr=False)  # secret: never in a repr
    cookies_file: Path | None = None
    browser: str | None = None
    clearance: str | None = None
    flaresolverr_url: str | None = None
    from_command_line: frozenset[str] = frozenset()

    @classmethod
    def pop_from(cls, params: dict[str, Any]) -> CookieChoice:
        """Take the cookie options out of a command's parameters."""
        context = click.get_current_context()
        values = {name: params.pop(name) for name in (*_COOKIE_NAMES, "flaresolverr_url")}
        given = frozenset(
            name
            for name, value in values.items()
            if value is not None
            and context.get_parameter_source(name) is ParameterSource.COMMANDLINE
        )
        return cls(**values, from_command_line=given)

    def chosen(self) -> str | None:
        """The option given on the command line, or ``None`` for the default chain.

        Values from the environment are left to the default chain, which reads
        ``AICHAT_COOKIES``, then ``AICHAT_COOKIES_FILE`` (or the default
        cookies file), then the browsers.

        Raises:
            click.UsageError: more than one cookie option on the command line.
        """
        explicit = [name for name in _COOKIE_NAMES if name in self.from_command_line]
        if len(explicit) > 1:
            flags = " and ".join(_FLAGS[name] for name in explicit)
            raise click.UsageError(
                f"{flags} both choose the cookies; give only one of them",
                click.get_current_context(silent=True),
            )
        if "flaresolverr_url" in self.from_command_line and self.clearance != "flaresolverr":
            raise click.UsageError(
                "--flaresolverr-url is FlareSolverr's address for --clearance flaresolverr; "
                "give both",
                click.get_current_context(silent=True),
            )
        return explicit[0] if explicit else None


@attrs.frozen
class ServiceOptions:
    """The common options of every command that talks to the service."""

    base_url: str = DEFAULT_BASE_URL
    cookies: CookieChoice = attrs.field(factory=CookieChoice)
    proxy: str | None = attrs.field(default=None, repr=False)  # may hold credentials
    timeout: float = 60.0
    max_retries: int = 2
    stub: bool = False
    save_cookies: bool = False
    transport: str = "httpx"
    impersonate: str | None = None
    headers: dict[str, str] = attrs.field(factory=dict, repr=False)  # may hold credentials

    @classmethod
    def pop_from(cls, params: dict[str, Any]) -> ServiceOptions:
        """Take the service options out of a command's parameters."""
        cookies = CookieChoice.pop_from(params)
        impersonate = params.pop("impersonate")
        transport = params.pop("transport")
        if impersonate is not None and transport not in (None, "curl"):
            raise click.UsageError(
                f"--impersonate needs --transport curl, not {transport}",
                click.get_current_context(silent=True),
            )
        headers = parse_headers(params.pop("headers"))
        user_agent = params.pop("user_agent")
        if user_agent is not None:
            headers["user-agent"] = user_agent
        return cls(
            base_url=params.pop("base_url"),
            cookies=cookies,
            proxy=params.pop("proxy") or None,
            timeout=params.pop("timeout"),
            max_retries=params.pop("max_retries"),
            stub=params.pop("stub"),
            save_cookies=params.pop("save_cookies"),
            transport="curl" if impersonate is not None else transport or "httpx",
            impersonate=impersonate,
            headers=headers,
        )


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    """``--header 'Name: value'`` options as a mapping (checked again by the client)."""
    headers: dict[str, str] = {}
    for value in values:
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            raise click.UsageError(
                f"--header takes 'Name: value', not {value[:60]!r}",
                click.get_current_context(silent=True),
            )
        headers[name.strip().lower()] = rest.strip()
    return headers


def cookie_options(function: F) -> F:
    """Add the cookie options (``--cookies``, ``--cookies-file``, ``--browser``,
    ``--clearance``...); pass ``cookie_choice``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **params: Any) -> Any:
        params["cookie_choice"] = CookieChoice.pop_from(params)
        return function(*args, **params)

    return _apply(_COOKIE_OPTIONS, cast(F, wrapper))


def service_options(function: F) -> F:
    """Add the common options (``--base-url``, cookies, ``--proxy``...); pass ``service``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **params: Any) -> Any:
        params["service"] = ServiceOptions.pop_from(params)
        return function(*args, **params)

    return _apply(_SERVICE_OPTIONS, cast(F, wrapper))


def generation_options(function: F) -> F:
    """Add ``--temperature`` and ``--top-p`` (passed as ``temperature`` and ``top_p``)."""
    return _apply(_GENERATION_OPTIONS, function)
