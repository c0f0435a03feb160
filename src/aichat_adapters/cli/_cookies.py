"""``aichat cookies``: which source gives the site's cookies; names and expiry, never values."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping

import click

from aichat_adapters._browser_cookies import BrowserCookieSource
from aichat_adapters._cookies import (
    ChainCookieSource,
    FileCookieSource,
    StaticCookieSource,
)
from aichat_adapters.cli._exit import COOKIES, EXIT_CODES_HELP, describe
from aichat_adapters.cli._options import CookieChoice, cookie_options
from aichat_core import AichatError, CookiesNotFoundError

__all__ = ["cookies"]


def label(source: object) -> str:
    """How a source is named in the report."""
    if isinstance(source, StaticCookieSource):
        return "--cookies"
    if isinstance(source, BrowserCookieSource):
        return f"browser {source.browser or '(any)'}"
    describe_source = getattr(source, "describe", None)
    return str(describe_source()) if callable(describe_source) else type(source).__name__


def expiries(source: object, found: Mapping[str, str]) -> dict[str, str]:
    """When each cookie expires, where the source knows it (only files say so)."""
    if not isinstance(source, FileCookieSource):
        given = "not known" if isinstance(source, BrowserCookieSource) else "none given"
        return dict.fromkeys(found, f"expiry {given}")
    try:
        entries = source.get_entries()
    except AichatError:  # changed since it was read: leave the expiry unknown
        entries = {}
    now = time.time()
    result = dict.fromkeys(found, "expiry not known")
    for name, entry in entries.items():
        if name not in found:
            continue
        if entry.expires is None:
            result[name] = "session cookie (no expiry date)"
        else:
            result[name] = f"expires {_date(entry.expires)} ({_until(entry.expires - now)})"
    return result


def _date(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _until(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"in {seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"in {seconds / 3600:.0f} hours"
    return f"in {max(seconds, 0) / 60:.0f} minutes"


@click.command(short_help="Show where the cookies come from (no values).", epilog=EXIT_CODES_HELP)
@cookie_options
def cookies(cookie_choice: CookieChoice) -> None:
    """Show which source gives the site's cookies, their names and expiry.

    Values are never shown, only their length. With no option, the default
    chain is tried in order: AICHAT_COOKIES, the cookies file
    (AICHAT_COOKIES_FILE or ~/.config/aichat/cookies.txt), then the browsers.
    When no source has any, every source tried is listed with the reason,
    and the exit code is 3.

    \b
    Examples:
      aichat cookies
      aichat cookies --cookies-file ~/Downloads/cookies.txt
      aichat cookies --browser firefox
    """
    source = cookie_choice.source()
    members = source.sources if isinstance(source, ChainCookieSource) else (source,)
    tried: list[tuple[str, str]] = []
    for member in members:
        try:
            found = dict(member.get_cookies())
        except CookiesNotFoundError as error:
            tried.extend(error.tried or ((label(member), error.message),))
            continue
        except AichatError as error:
            tried.append((label(member), describe(error)))
            continue
        if not found:
            tried.append((label(member), "gave no cookies"))
            continue
        _report(member, found, tried)
        return
    click.echo("no cookies for chat-gpt.org; sources tried:")
    for name, reason in tried:
        click.echo(f"  {name}: {reason}")
    click.echo(
        "error: no cookie source has cookies for chat-gpt.org (see the sources above). Open "
        "https://chat-gpt.org in a browser, then export its cookies into AICHAT_COOKIES, "
        "a cookies.txt file (--cookies-file), or read them with --browser",
        err=True,
    )
    raise SystemExit(COOKIES)


def _report(source: object, found: Mapping[str, str], tried: list[tuple[str, str]]) -> None:
    when = expiries(source, found)
    width = max(len(name) for name in found)
    count = len(found)
    click.echo(f"{count} cookie{'s' if count != 1 else ''} for chat-gpt.org from {label(source)}")
    for name, value in found.items():
        size = f"{len(value)} chars"
        click.echo(f"  {name:<{width}}  {size:>10}  {when[name]}")
    for name, reason in tried:
        click.echo(f"  (tried first: {name}: {reason})")
