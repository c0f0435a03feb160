"""``aichat cookies``: which source gives the site's cookies; names and expiry, never values."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping

import click

from aichat_adapters.cli._exit import COOKIES, EXIT_CODES_HELP
from aichat_adapters.cli._factory import chosen_source, cookie_domain
from aichat_adapters.cli._options import CookieChoice, base_url_option, cookie_options
from aichat_adapters.cookies import (
    BrowserCookieSource,
    ChainCookieSource,
    FileCookieSource,
    ResolvedCookies,
    StaticCookieSource,
)
from aichat_adapters.cookies._select import utc
from aichat_core import AichatError, CookiesNotFoundError
from aichat_core import CookieSource as _CookieSource

__all__ = ["cookies", "describe_expiry"]

_DAY = 86_400
_YEAR = 365.25 * _DAY


def label(source: object) -> str:
    """How a source is named in the report."""
    if isinstance(source, StaticCookieSource):
        return "--cookies"
    describe_source = getattr(source, "describe", None)
    return str(describe_source()) if callable(describe_source) else type(source).__name__


def expiries(source: object, found: Mapping[str, str], now: float) -> dict[str, str]:
    """When each cookie expires, where the source knows it (only files say so)."""
    if not isinstance(source, FileCookieSource):
        given = "not known" if isinstance(source, BrowserCookieSource) else "none given"
        return dict.fromkeys(found, f"expiry {given}")
    try:
        entries = source.get_entries()
    except AichatError:  # changed since it was read: leave the expiry unknown
        entries = {}
    result = dict.fromkeys(found, "expiry not known")
    for name, entry in entries.items():
        if name in found:
            result[name] = describe_expiry(entry.expires, now)
    return result


def describe_expiry(expires: float | None, now: float) -> str:
    """``expires 2026-03-01 12:00 UTC (in 30 days)``, for any date at all.

    Args:
        expires: Seconds since 1970; ``None`` for a session cookie.
        now: The current time, in the same unit.
    """
    if expires is None:
        return "session cookie (no expiry date)"
    try:
        moment = datetime.datetime.fromtimestamp(expires, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):  # past the year 9999, or not a number
        return "expires in the far future (no calendar date)"
    date = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"expires {date} ({_until(max(expires - now, 0.0))})"


def _until(seconds: float) -> str:
    if seconds >= 2 * _YEAR:
        return f"in {seconds / _YEAR:.0f} years"
    if seconds >= 2 * _DAY:
        return f"in {seconds / _DAY:.0f} days"
    if seconds >= 2 * 3600:
        return f"in {seconds / 3600:.0f} hours"
    return f"in {seconds / 60:.0f} minutes"


@click.command(short_help="Show where the cookies come from (no values).", epilog=EXIT_CODES_HELP)
@base_url_option("The service; the cookies of its host are shown.")
@cookie_options
def cookies(cookie_choice: CookieChoice, base_url: str) -> None:
    """Show which source gives the site's cookies, their names and expiry.

    Values are never shown, only their length. With no option, the default
    chain is tried in order: AICHAT_COOKIES, the cookies file or folder
    (AICHAT_COOKIES_FILE or ~/.config/aichat/cookies.txt), then the browsers;
    files and browsers give the cookies of --base-url's host. When no source
    has any, every source tried is listed with the reason, and the exit code
    is 3.

    \b
    Examples:
      aichat cookies
      aichat cookies --cookies-file ~/Downloads/chat-gpt.org.har
      aichat cookies --base-url http://127.0.0.1:8000
    """
    domain = cookie_domain(base_url)
    source: _CookieSource = chosen_source(cookie_choice, domain=domain)
    chain = source if isinstance(source, ChainCookieSource) else ChainCookieSource(source)
    try:
        found = chain.resolve()
    except CookiesNotFoundError as error:
        click.echo(f"no cookies for {domain}; sources tried:")
        for name, reason in error.tried:
            click.echo(f"  {name}: {reason}")
        click.echo(
            f"error: no cookie source has cookies for {domain} (see the sources above). Open "
            f"the site in a browser, then export its cookies into AICHAT_COOKIES, a cookies "
            "file or HAR export (--cookies-file), or read them with --browser",
            err=True,
        )
        raise SystemExit(COOKIES) from None
    _report(found, domain)


def _report(found: ResolvedCookies, domain: str) -> None:
    cookies = found.cookies
    now = time.time()
    when = expiries(found.source, cookies, now)
    expired = found.source.get_expired() if isinstance(found.source, FileCookieSource) else {}
    width = max(len(name) for name in (*cookies, *expired))
    count = len(cookies)
    dropped = f" ({len(expired)} expired, dropped)" if expired else ""
    click.echo(
        f"{count} cookie{'s' if count != 1 else ''} for {domain} "
        f"from {label(found.source)}{dropped}"
    )
    for name, value in cookies.items():
        size = f"{len(value)} chars"
        click.echo(f"  {name:<{width}}  {size:>10}  {when[name]}")
    for name, expires in sorted(expired.items()):
        click.echo(f"  {name:<{width}}  {'dropped':>10}  {describe_expired(expires, now)}")
    for name, reason in found.tried:
        click.echo(f"  (tried first: {name}: {reason})")


def describe_expired(expires: float, now: float) -> str:
    """``expired 2026-01-01 00:00 UTC (337 days ago)``."""
    ago = _until(max(now - expires, 0.0)).replace("in ", "", 1)
    return f"expired {utc(expires) or 'before any calendar date'} ({ago} ago)"
