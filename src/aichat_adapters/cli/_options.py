"""The options every command that talks to the service shares, and the one place a client is built.

Options are declared once here (`service_options`, `cookie_options`,
`generation_options`); a command receives them as one value
(`ServiceOptions` or `CookieChoice`) and turns it into a client
with `make_client` or `open_client`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import attrs
import click
from click.core import ParameterSource

from aichat_adapters import AichatClient, AsyncAichatClient
from aichat_adapters.cli._extras import require_extra
from aichat_adapters.cli._text import TEXT
from aichat_adapters.cookies import (
    BROWSERS,
    DEFAULT_DOMAIN,
    BrowserCookieSource,
    FileCookieSource,
    StaticCookieSource,
    default_cookie_source,
    default_credentials_path,
)
from aichat_core import DEFAULT_BASE_URL, RETRY_STATUSES, InvalidRequestError

__all__ = [
    "STUB_COOKIES",
    "CookieChoice",
    "ServiceOptions",
    "cookie_domain",
    "cookie_options",
    "generation_options",
    "make_client",
    "parse_headers",
    "open_client",
    "serving",
    "service_options",
]

F = TypeVar("F", bound=Callable[..., Any])

TRANSPORTS = ("httpx", "curl", "aiohttp")
ClientT = TypeVar("ClientT", AichatClient, AsyncAichatClient)

#: What ``--stub`` sends when no cookie option is given: the stub asks for none.
STUB_COOKIES = {"stub": "1"}

# The cookie options; at most one of them on the command line.
_COOKIE_NAMES = ("cookies", "cookies_file", "browser", "clearance")
_FLAGS = {
    "cookies": "--cookies",
    "cookies_file": "--cookies-file",
    "browser": "--browser",
    "clearance": "--clearance",
}
_ANY_BROWSER = ("any", "all")
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

_SERVICE_OPTIONS: Sequence[Callable[[F], F]] = (
    click.option(
        "--base-url",
        type=TEXT,
        envvar="AICHAT_BASE_URL",
        show_envvar=True,
        default=DEFAULT_BASE_URL,
        show_default=True,
        help="The service, a mirror, or a stub server.",
    ),
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

    def source(
        self,
        *,
        stub: bool = False,
        domain: str = DEFAULT_DOMAIN,
        base_url: str | None = None,
        proxy: str | None = None,
    ) -> Any:
        """The cookie source these options ask for.

        ``--cookies`` gives static cookies, ``--cookies-file`` a
        `FileCookieSource`, ``--browser`` a `BrowserCookieSource`,
        ``--clearance`` a `BrowserClearance` or `FlareSolverrClearance` for
        ``base_url`` (through ``proxy``); with none of them on the command
        line, the default chain (or, under ``--stub``, the stub's cookies).

        Raises:
            click.UsageError: more than one cookie option on the command line,
                or ``--clearance`` with ``--stub``.
            InvalidRequestError: a malformed ``--cookies`` or an unknown browser.
        """
        chosen = self.chosen()
        if chosen == "clearance":
            if stub:
                raise click.UsageError(
                    "--stub sets no clearance: run 'aichat stub --challenge' and point "
                    "--base-url at it to try --clearance",
                    click.get_current_context(silent=True),
                )
            return self._clearance(base_url or _command_base_url(domain), proxy)
        if chosen == "cookies":
            assert self.cookies is not None
            return StaticCookieSource.from_text(self.cookies, origin="--cookies")
        if chosen == "cookies_file":
            return FileCookieSource(self.cookies_file, domain=domain)
        if chosen == "browser":
            assert self.browser is not None
            return _browser_source(self.browser, domain)
        if stub:
            return StaticCookieSource(STUB_COOKIES)
        return default_cookie_source(domain=domain)

    def _clearance(self, base_url: str, proxy: str | None) -> Any:
        """``--clearance``'s source, for ``base_url``'s site, through ``proxy``."""
        from aichat_adapters.clearance import (
            DEFAULT_ENDPOINT,
            BrowserClearance,
            FlareSolverrClearance,
        )

        if self.clearance == "flaresolverr":
            endpoint = self.flaresolverr_url or DEFAULT_ENDPOINT
            return FlareSolverrClearance(endpoint).bind(base_url=base_url, proxy=proxy)
        require_extra("pydoll", "clearance", "--clearance browser")
        source = BrowserClearance(save_to=default_credentials_path())
        return source.bind(base_url=base_url, proxy=proxy)


def _command_base_url(domain: str) -> str:
    """The command's ``--base-url`` (``aichat cookies`` has one), else the site's HTTPS origin."""
    context = click.get_current_context(silent=True)
    given = context.params.get("base_url") if context is not None else None
    return given if isinstance(given, str) and given else f"https://{domain}"


def cookie_domain(base_url: str) -> str:
    """The host whose cookies the file and browser sources select: ``base_url``'s."""
    try:
        host = urlsplit(base_url).hostname
    except ValueError:  # the client reports a malformed base_url itself
        host = None
    return host or DEFAULT_DOMAIN


def _browser_source(value: str, domain: str) -> Any:
    """``--browser``'s source: the extra is checked first, and an unknown name worded for it."""
    require_extra("rookiepy", "browser", "--browser")
    name = value.strip().lower()
    try:
        browser = None if name in _ANY_BROWSER else value
        return BrowserCookieSource(browser=browser, domain=domain)
    except InvalidRequestError:
        raise InvalidRequestError(
            f"unknown browser {value!r} for --browser; give one of {', '.join(BROWSERS)}, "
            "or 'any' for the first that has cookies"
        ) from None


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

    def cookie_source(self) -> Any:
        """The cookie source for these options (see `CookieChoice.source`).

        With ``--save-cookies``, the cookies file, saving what the site rotates.
        """
        domain = cookie_domain(self.base_url)
        if not self.save_cookies:
            return self.cookies.source(
                stub=self.stub, domain=domain, base_url=self.base_url, proxy=self.proxy
            )
        path = self.cookies.cookies_file
        if path is None or self.cookies.chosen() in ("cookies", "browser", "clearance"):
            raise click.UsageError(
                "--save-cookies saves to the cookies file: give --cookies-file "
                "(or AICHAT_COOKIES_FILE)",
                click.get_current_context(silent=True),
            )
        return FileCookieSource(path, domain=domain, write_back=True)


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


def _transport(options: ServiceOptions, client_class: type[Any]) -> Any:
    """The transport ``--transport``/``--impersonate`` ask for, or ``None`` for the default."""
    is_async = client_class is AsyncAichatClient
    if options.transport == "curl":
        require_extra("curl_cffi", "impersonate", "--transport curl")
        from aichat_adapters import AsyncCurlTransport, CurlTransport

        curl = AsyncCurlTransport if is_async else CurlTransport
        return curl(impersonate=options.impersonate, proxy=options.proxy)
    if options.transport == "aiohttp":
        if not is_async:
            raise click.UsageError(
                "--transport aiohttp is async only: use it with 'aichat batch' or 'aichat serve' "
                "(ask and chat take httpx or curl)",
                click.get_current_context(silent=True),
            )
        require_extra("aiohttp", "aiohttp", "--transport aiohttp")
        from aichat_adapters import AiohttpTransport

        return AiohttpTransport(proxy=options.proxy)
    return None


def cookie_options(function: F) -> F:
    """Add ``--cookies``, ``--cookies-file`` and ``--browser``; pass ``cookie_choice``."""

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


def make_client(
    options: ServiceOptions, client_class: type[ClientT], *, cookie_source: Any = None
) -> ClientT:
    """The one place the CLI builds a client from its options.

    Args:
        options: The command's service options (after `serving`).
        client_class: `AichatClient` or `AsyncAichatClient`.
        cookie_source: A source to use instead of the one the options choose.
    """
    if options.proxy is not None and options.proxy.lower().startswith("socks"):
        require_extra("socksio", "socks", "a SOCKS proxy (--proxy socks5://...)")
    transport = _transport(options, client_class)
    return client_class(
        cookie_source=options.cookie_source() if cookie_source is None else cookie_source,
        base_url=options.base_url,
        proxy=options.proxy if transport is None else None,
        timeout=options.timeout,
        max_retries=options.max_retries,
        headers=options.headers,
        transport=transport,
    )


@contextlib.contextmanager
def serving(options: ServiceOptions) -> Iterator[ServiceOptions]:
    """Under ``--stub``, run the stub server and point the options at it; else pass them on."""
    if not options.stub:
        yield options
        return
    require_extra("uvicorn", "stub", "--stub")
    from aichat_adapters.stub import StubServer

    with StubServer() as server:
        yield attrs.evolve(options, base_url=server.url, proxy=None)


@contextlib.contextmanager
def open_client(options: ServiceOptions) -> Iterator[AichatClient]:
    """A blocking client for the options (starting the stub under ``--stub``), closed after."""
    with serving(options) as resolved, make_client(resolved, AichatClient) as client:
        yield client
