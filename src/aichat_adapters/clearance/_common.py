"""What the clearance sources share: their options' checks and the cookies they earn."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from aichat_adapters.cookies._formats import check_cookie
from aichat_adapters.cookies._select import (
    BoundTo,
    CookieEntry,
    Unusable,
    check_domain,
    credentials_from,
)
from aichat_core import Credentials, InvalidRequestError, domain_matches
from aichat_core._credentials import public_proxy

__all__ = [
    "check_cookie_names",
    "check_seconds",
    "check_url",
    "credentials_of",
    "entries_of",
    "host_of",
    "logger",
    "proxy_repr",
    "origin_of",
    "still_valid",
]

logger = logging.getLogger("aichat")


def check_url(url: object) -> str | None:
    """An ``http(s)://host[:port]/...`` URL to open, or ``None`` (the client's base_url, later)."""
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip():
        raise InvalidRequestError(
            f"url must be an http(s) URL such as 'https://chat-gpt.org/', not {url!r}"
        )
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        host = None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidRequestError(
            f"url must be an http(s) URL such as 'https://chat-gpt.org/', not {text[:100]!r}"
        )
    if "@" in parts.netloc:
        raise InvalidRequestError("url must not hold a user or password; give the site's URL")
    if not text.isascii() or any(c in text for c in " \t\r\n"):
        raise InvalidRequestError("url must be ASCII without spaces (percent-encode the rest)")
    return text


def origin_of(base_url: str) -> str:
    """``scheme://host[:port]/``: the page of ``base_url``'s site that earns the clearance."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


def host_of(url: str) -> str:
    """The URL's host, as the cookie sources select it."""
    return check_domain(urlsplit(url).hostname or "")


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite number of seconds, > 0 (or >= 0)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidRequestError(
            f"{name} must be a finite number of seconds {bound}, not {value!r}"
        )
    return float(value)


def check_cookie_names(names: object) -> tuple[str, ...]:
    """The clearance cookies to wait for: one name or more, each a cookie name."""
    if isinstance(names, str):
        names = (names,)
    if not isinstance(names, Iterable):
        raise InvalidRequestError(f"cookie_names must be a tuple of cookie names, not {names!r}")
    checked = tuple(names)
    if not checked:
        raise InvalidRequestError(
            "cookie_names needs at least one cookie name, e.g. 'cf_clearance'"
        )
    for name in checked:
        if not isinstance(name, str):
            raise InvalidRequestError(f"cookie_names holds {name!r}, not a cookie name")
        try:
            check_cookie(name, "")
        except Unusable as exc:
            raise InvalidRequestError(f"cookie_names: {exc.reason}") from None
    return checked


def proxy_repr(proxy: str | None) -> str:
    """A proxy for a repr: without user and password."""
    return repr(public_proxy(proxy))


def entries_of(cookies: Iterable[object], host: str) -> dict[str, CookieEntry]:
    """The site's cookies among a browser's (DevTools or FlareSolverr objects), one per name.

    A cookie that a ``Cookie`` header cannot carry is left out (its name is
    logged, never its value).
    """
    found: dict[str, CookieEntry] = {}
    for item in cookies:
        if not isinstance(item, Mapping):
            continue
        name, value, domain = item.get("name"), item.get("value"), item.get("domain")
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        domain = domain if isinstance(domain, str) and domain.strip(".") else host
        if not domain_matches(domain, host):
            continue
        try:
            check_cookie(name, value)
        except Unusable:
            logger.debug("clearance: cookie %r left out: a Cookie header cannot carry it", name)
            continue
        path = item.get("path")
        expires = _expiry(item.get("expires"), item.get("session"))
        entry = CookieEntry(
            name, value, domain, path if isinstance(path, str) and path else "/", expires
        )
        current = found.get(name)
        # One per name: the cookie of the most specific domain (the site's own before a parent's).
        if current is None or len(domain.lstrip(".")) > len(current.domain.lstrip(".")):
            found[name] = entry
    return found


def _expiry(expires: object, session: object) -> float | None:
    if session is True or isinstance(expires, bool) or not isinstance(expires, int | float):
        return None
    try:
        seconds = float(expires)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def credentials_of(
    entries: Mapping[str, CookieEntry],
    *,
    user_agent: str,
    proxy: str | None,
    names: Iterable[str],
    obtained_at: float | None = None,
) -> tuple[Credentials, BoundTo]:
    """The credentials earned: the site's cookies, the User-Agent, ``expires`` of ``names``;
    and what they are bound to (for the bundle file)."""
    bound = BoundTo(user_agent=user_agent, obtained_at=obtained_at or time.time(), proxy=proxy)
    return credentials_from(entries, bound, names), bound


def still_valid(
    credentials: Credentials, names: Iterable[str], margin: float, now: float | None = None
) -> bool:
    """Whether credentials hold every cookie of ``names`` and none ends within the margin.

    The margin is at most half the clearance's life, so that a site that gives
    a clearance shorter than ``refresh_margin`` is not asked for a new one at
    every call.
    """
    names = tuple(names)
    if any(name not in credentials.cookies for name in names):
        return False
    renew_at = credentials.renew_at(margin, names)
    return renew_at is None or (time.time() if now is None else now) < renew_at
