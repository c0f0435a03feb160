"""The one place the command builds what talks to the service: clients, transports, sources.

A command receives its options as values (`ServiceOptions`, `CookieChoice`,
from `_options`) and turns them into a client with `make_client` or
`open_client` (under ``--stub``, inside `serving`), or into a cookie source
with `service_source` or `chosen_source`. A missing extra is reported here,
before anything is read or sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import attrs
import click

from aichat_adapters import AichatClient, AsyncAichatClient
from aichat_adapters.cli._extras import require_extra
from aichat_adapters.cli._options import CookieChoice, ServiceOptions
from aichat_adapters.cookies import (
    BROWSERS,
    DEFAULT_DOMAIN,
    BrowserCookieSource,
    FileCookieSource,
    StaticCookieSource,
    default_cookie_source,
    default_credentials_path,
)
from aichat_core import InvalidRequestError

if TYPE_CHECKING:
    from aichat_adapters.clearance import BrowserClearance

__all__ = [
    "STUB_COOKIES",
    "browser_clearance",
    "chosen_source",
    "cookie_domain",
    "make_client",
    "open_client",
    "service_source",
    "serving",
]

ClientT = TypeVar("ClientT", AichatClient, AsyncAichatClient)

#: What ``--stub`` sends when no cookie option is given: the stub asks for none.
STUB_COOKIES = {"stub": "1"}

_ANY_BROWSER = ("any", "all")


def make_client(
    options: ServiceOptions, client_class: type[ClientT], *, cookie_source: Any = None
) -> ClientT:
    """The one place the command builds a client from its options.

    Args:
        options: The command's service options (after `serving`).
        client_class: `AichatClient` or `AsyncAichatClient`.
        cookie_source: A source to use instead of the one the options choose.
    """
    if options.proxy is not None and options.proxy.lower().startswith("socks"):
        require_extra("socksio", "socks", "a SOCKS proxy (--proxy socks5://...)")
    transport = _transport(options, client_class)
    return client_class(
        cookie_source=service_source(options) if cookie_source is None else cookie_source,
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


def service_source(options: ServiceOptions) -> Any:
    """The cookie source a command's service options ask for (see `chosen_source`).

    With ``--save-cookies``, the cookies file, saving what the site rotates.

    Raises:
        click.UsageError: ``--save-cookies`` without a cookies file, or with
            another cookie option; as `chosen_source`.
    """
    domain = cookie_domain(options.base_url)
    choice = options.cookies
    if not options.save_cookies:
        return chosen_source(
            choice, stub=options.stub, domain=domain, base_url=options.base_url, proxy=options.proxy
        )
    path = choice.cookies_file
    if path is None or choice.chosen() in ("cookies", "browser", "clearance"):
        raise click.UsageError(
            "--save-cookies saves to the cookies file: give --cookies-file "
            "(or AICHAT_COOKIES_FILE)",
            click.get_current_context(silent=True),
        )
    return FileCookieSource(path, domain=domain, write_back=True)


def chosen_source(
    choice: CookieChoice,
    *,
    stub: bool = False,
    domain: str = DEFAULT_DOMAIN,
    base_url: str | None = None,
    proxy: str | None = None,
) -> Any:
    """The cookie source the cookie options ask for.

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
    chosen = choice.chosen()
    if chosen == "clearance":
        if stub:
            raise click.UsageError(
                "--stub sets no clearance: run 'aichat stub --challenge' and point "
                "--base-url at it to try --clearance",
                click.get_current_context(silent=True),
            )
        return _clearance(choice, base_url or _command_base_url(domain), proxy)
    if chosen == "cookies":
        assert choice.cookies is not None
        return StaticCookieSource.from_text(choice.cookies, origin="--cookies")
    if chosen == "cookies_file":
        return FileCookieSource(choice.cookies_file, domain=domain)
    if chosen == "browser":
        assert choice.browser is not None
        return _browser_source(choice.browser, domain)
    if stub:
        return StaticCookieSource(STUB_COOKIES)
    return default_cookie_source(domain=domain)


def browser_clearance(what: str, **options: Any) -> BrowserClearance:
    """A `BrowserClearance` with these options, once the ``clearance`` extra is checked.

    Args:
        what: What needs it, for the message of a missing extra (``"aichat login"``).
        **options: `BrowserClearance`'s options.
    """
    require_extra("pydoll", "clearance", what)
    from aichat_adapters.clearance import BrowserClearance

    return BrowserClearance(**options)


def _clearance(choice: CookieChoice, base_url: str, proxy: str | None) -> Any:
    """``--clearance``'s source, for ``base_url``'s site, through ``proxy``."""
    if choice.clearance == "flaresolverr":
        from aichat_adapters.clearance import DEFAULT_ENDPOINT, FlareSolverrClearance

        endpoint = choice.flaresolverr_url or DEFAULT_ENDPOINT
        return FlareSolverrClearance(endpoint).bind(base_url=base_url, proxy=proxy)
    source = browser_clearance("--clearance browser", save_to=default_credentials_path())
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
