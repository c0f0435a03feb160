"""Which cookies a source gives: the site's domain rule, expiry, and one cookie per name.

Every source of this package selects cookies the same way: cookies of
`DEFAULT_DOMAIN` (or the `domain` it is given) and its subdomains, unexpired,
one per name, with what the input says they are bound to. The sources and the
formats share these values. Nothing here touches the file system or logs a value.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Final

import attrs

from aichat_core import (
    CookiesNotFoundError,
    Credentials,
    InvalidRequestError,
    format_cookie_header,
)

__all__ = [
    "CLEARANCE_COOKIES",
    "DEFAULT_DOMAIN",
    "BoundTo",
    "CookieEntry",
    "ParsedCookies",
    "Unusable",
    "check_domain",
    "checked",
    "credentials_from",
    "expired_entries",
    "log_found",
    "logger",
    "not_found",
    "plural",
    "problems_suffix",
    "select_entries",
    "utc",
]

DEFAULT_DOMAIN: Final = "chat-gpt.org"
"""The site whose cookies every source selects unless given another ``domain``."""

#: The cookies whose expiry ends a file's credentials (``Credentials.expires``).
CLEARANCE_COOKIES = ("cf_clearance",)

logger = logging.getLogger("aichat")

_MAX_PROBLEMS_SHOWN = 3
# A host name and nothing more (rookiepy pastes it into an SQL ``LIKE``).
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


class Unusable(Exception):
    """Internal: the input gives no usable cookie; ``reason`` says why, without values."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_domain(domain: object) -> str:
    """The site's host, normalised: lower case, no outer dots, IDNA for non-ASCII names.

    An IP address is accepted as it is (``127.0.0.1``, ``::1``, ``[::1]``),
    so that a local stub's cookies can be selected.

    Raises:
        InvalidRequestError: not a plain host name or IP address.
    """
    text = domain.strip().strip(".").lower() if isinstance(domain, str) else ""
    address = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        pass
    if text and not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            text = ""
    if not _HOST.fullmatch(text):
        raise InvalidRequestError(
            f"domain must be a host name like {DEFAULT_DOMAIN!r}, without scheme, port or "
            f"path; got {domain!r}"
        )
    return text


@attrs.frozen
class CookieEntry:
    """One cookie of the site, with where it applies and when it expires.

    Attributes:
        name: The cookie's name.
        value: Its value (never shown by ``repr``).
        domain: The domain it was set for, as the source gave it.
        path: The path it was set for.
        expires: Seconds since 1970; ``None`` for a session cookie.
    """

    name: str
    value: str = attrs.field(repr=False)
    domain: str
    path: str
    expires: float | None


def _names(value: Mapping[str, str]) -> str:
    return repr(sorted(value))


@attrs.frozen
class BoundTo:
    """What an input says its cookies are bound to (a bundle, a HAR's User-Agent).

    Attributes:
        user_agent: The User-Agent the cookies were earned with, if known.
        headers: Other headers that travel with them (names lower-case; values never shown).
        obtained_at: Epoch seconds at which they were obtained, if known.
        proxy: The proxy they were earned through, without user and password.
    """

    user_agent: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_names)
    obtained_at: float | None = None
    proxy: str | None = None


@attrs.frozen
class ParsedCookies:
    """What an input held: the site's well-formed cookies, and counts for the reasons.

    ``entries`` are in input order, one per (domain, path, name) (a later
    duplicate replaces an earlier one, as in a browser's jar). Expiry is not
    applied yet, so the result can be cached and checked again later.
    ``hint`` is added to the reason when nothing is usable; ``bound`` is
    what the input says the cookies are bound to.
    """

    kind: str
    entries: tuple[CookieEntry, ...]
    total: int
    problems: tuple[str, ...]
    hint: str = ""
    bound: BoundTo = BoundTo()


def select_entries(parsed: ParsedCookies, domain: str, now: float) -> dict[str, CookieEntry]:
    """The cookies to send: unexpired ones, one per name, with their expiry.

    When a name appears more than once (on several paths or subdomains), the
    cookie of the domain closest to the site wins (the site's own first), then
    the one with the longest path, then the one that expires last (a session
    cookie last of all), then the later one in the input.

    Raises:
        Unusable: no unexpired cookie of the site, with the counts why.
    """
    site_labels = _labels(domain)
    best: dict[str, tuple[tuple[int, int, float, int], CookieEntry]] = {}
    expired: list[CookieEntry] = []
    for position, entry in enumerate(parsed.entries):
        if entry.expires is not None and entry.expires < now:
            expired.append(entry)
            continue
        rank = (
            site_labels - _labels(entry.domain),
            len(entry.path),
            math.inf if entry.expires is None else entry.expires,
            position,
        )
        current = best.get(entry.name)
        if current is None or rank > current[0]:
            best[entry.name] = (rank, entry)
    if best:
        return {name: entry for name, (_, entry) in best.items()}
    raise Unusable(_nothing_usable(parsed, domain, expired))


def credentials_from(
    entries: Mapping[str, CookieEntry], bound: BoundTo, names: Iterable[str] = CLEARANCE_COOKIES
) -> Credentials:
    """The credentials of selected cookies; ``expires`` holds the expiry of ``names``.

    Raises:
        InvalidRequestError: a value the format's check let through is refused
            by `Credentials` (never expected: both use the core's checks).
    """
    expires = {
        name: entry.expires
        for name in names
        if (entry := entries.get(name)) is not None and entry.expires is not None
    }
    return Credentials(
        {name: entry.value for name, entry in entries.items()},
        user_agent=bound.user_agent,
        headers=bound.headers,
        expires=expires,
        obtained_at=bound.obtained_at,
        proxy=bound.proxy,
    )


def expired_entries(parsed: ParsedCookies, now: float) -> dict[str, float]:
    """The site's cookies that have expired, by name, with when (the latest of each name)."""
    expired: dict[str, float] = {}
    for entry in parsed.entries:
        if entry.expires is not None and entry.expires < now:
            expired[entry.name] = max(entry.expires, expired.get(entry.name, entry.expires))
    return expired


def checked(cookies: Mapping[str, str]) -> dict[str, str]:
    """A plain dict of the cookies, every name and value checked as a ``Cookie`` header needs.

    Raises:
        InvalidRequestError: naming the cookie, never its value.
    """
    format_cookie_header(cookies)
    return dict(cookies)


def log_found(label: str, cookies: Mapping[str, str]) -> None:
    """Log at DEBUG where cookies came from, with their names (never the values)."""
    if logger.isEnabledFor(logging.DEBUG):  # (called for every request)
        logger.debug("cookies from %s: %s", label, list(cookies))


def not_found(label: str, reason: str) -> CookiesNotFoundError:
    """The error of one source that gave nothing."""
    return CookiesNotFoundError.from_tried(((label, reason),))


def utc(timestamp: float) -> str | None:
    """``2026-03-01 12:00 UTC``, or ``None`` for a date a calendar cannot show."""
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return None


def problems_suffix(problems: Iterable[str]) -> str:
    """``; skipped 2 malformed entries (line 3: ...; line 9: ...)``, or nothing."""
    problems = list(problems)
    if not problems:
        return ""
    shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
    more = len(problems) - _MAX_PROBLEMS_SHOWN
    if more > 0:
        shown += f"; and {more} more"
    return f"; skipped {len(problems)} malformed {plural(len(problems), 'entry')} ({shown})"


def plural(count: int, word: str) -> str:
    """``word`` for one, its plural for any other count."""
    if count == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _nothing_usable(parsed: ParsedCookies, domain: str, expired: list[CookieEntry]) -> str:
    if expired:
        latest = max(entry.expires or 0.0 for entry in expired)
        when = utc(latest) or "a date far in the future"
        reason = (
            f"all {len(expired)} {plural(len(expired), 'cookie')} of {domain} "
            f"in this {parsed.kind} have expired (the last on {when}); export them again"
        )
    elif parsed.total:
        reason = (
            f"no cookie of {domain} among {parsed.total} "
            f"{plural(parsed.total, 'cookie')} of other sites in this {parsed.kind}"
        )
    else:
        reason = f"no cookies in this {parsed.kind}{parsed.hint}"
    return reason + problems_suffix(parsed.problems)


def _labels(domain: str) -> int:
    return len(domain.strip().strip(".").split("."))
