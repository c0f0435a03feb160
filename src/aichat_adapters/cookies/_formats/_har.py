"""HAR 1.2 exports (DevTools, Firefox, Charles): the cookies the site used (read only).

A HAR export records every request and response of a browsing session. The
site's cookies are in the entries whose URL host is the site or a subdomain:
`request.cookies`, the request's `Cookie` headers and `response.cookies`
(what `Set-Cookie` gave). For each name the latest mention wins, by the
entry's `startedDateTime` (a response's cookie after its request's). The
latest of those entries with a `User-Agent` request header gives the
User-Agent the cookies are bound to. A HAR export is never written back: it
is a record of a session, not a cookie store. No file I/O: text goes in,
cookies come out.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from aichat_adapters.cookies._formats._common import (
    check_cookie,
    json_kind,
    load_json,
    not_empty,
    parse_public,
)
from aichat_adapters.cookies._select import (
    DEFAULT_DOMAIN,
    BoundTo,
    CookieEntry,
    ParsedCookies,
    Unusable,
)
from aichat_core import InvalidRequestError, check_headers, domain_matches, parse_cookie_date

__all__ = ["KIND", "is_har", "parse_har", "read_har"]

#: What the reasons call this format.
KIND = "HAR export"
_SANITIZED = (
    " (a sanitized export holds none: in Chrome, turn on DevTools Settings > Preferences > "
    "Network > 'Allow to generate HAR with sensitive data' and choose "
    "'Export HAR (with sensitive data)')"
)
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.IGNORECASE,
)
_TIMEZONE_LENGTH = 5  # "+0200"
# A cookie's rank: the entry's start, the entry's position, the mention's position in it.
_Rank = tuple[float, int, int]
# A cookie an entry mentions: name, value, domain, expiry.
_Mention = tuple[str, str, str, float | None]


def is_har(data: object) -> bool:
    """Whether parsed JSON looks like a HAR export (an object with a ``log`` key)."""
    return isinstance(data, dict) and "log" in data


def read_har(data: object, domain: str) -> ParsedCookies:
    """The site's cookies in a HAR export, one per name: the latest mention of each.

    The latest entry of the site with a ``User-Agent`` request header gives
    the User-Agent (``bound``); a malformed one is skipped as a problem.

    Raises:
        Unusable: not a HAR export (no ``log`` object with an ``entries`` list).
    """
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise Unusable(
            f"JSON {json_kind(data)} without a 'log' object holding an 'entries' list: "
            "not a HAR export"
        )
    latest: dict[str, tuple[_Rank, CookieEntry]] = {}
    agent: tuple[tuple[float, int], str] | None = None
    problems: list[str] = []
    total = 0
    for index, entry in enumerate(log["entries"], start=1):
        try:
            host, started, mentions = _mentions(entry)
        except Unusable as exc:
            problems.append(f"entry {index}: {exc.reason}")
            continue
        total += len(mentions)
        if not domain_matches(host, domain):
            continue
        try:
            user_agent = _user_agent(entry)
        except Unusable as exc:
            problems.append(f"entry {index}: {exc.reason}")
            user_agent = None
        if user_agent is not None and (agent is None or (started, index) > agent[0]):
            agent = ((started, index), user_agent)
        for order, (name, value, cookie_domain, expires) in enumerate(mentions):
            try:
                check_cookie(name, value)
            except Unusable as exc:
                problems.append(f"entry {index}: {exc.reason}")
                continue
            if not domain_matches(cookie_domain, domain):
                continue
            rank = (started, index, order)
            current = latest.get(name)
            if current is None or rank > current[0]:
                latest[name] = (rank, CookieEntry(name, value, cookie_domain, "/", expires))
    bound = BoundTo()
    if agent is not None:
        started = agent[0][0]
        bound = BoundTo(
            user_agent=agent[1], obtained_at=started if math.isfinite(started) else None
        )
    return ParsedCookies(
        kind=KIND,
        entries=tuple(entry for _, entry in sorted(latest.values(), key=lambda item: item[0])),
        total=total,
        problems=tuple(problems),
        hint=_SANITIZED,
        bound=bound,
    )


def parse_har(text: str, domain: str = DEFAULT_DOMAIN, now: float | None = None) -> dict[str, str]:
    """Parse a HAR 1.2 export and return the cookies of ``domain`` its latest requests used.

    Args:
        text: The export (JSON).
        domain: The site; entries whose URL host is it or a subdomain are read.
        now: The time for the expiry check (seconds since 1970), default now.

    Raises:
        CookiesNotFoundError: no usable cookie; ``tried`` says why.
    """
    return parse_public("HAR text", _read_har_text, text, domain, now)


def _read_har_text(text: str, domain: str) -> ParsedCookies:
    return read_har(load_json(not_empty(text)), domain)


def _mentions(entry: object) -> tuple[str, float, list[_Mention]]:
    """An entry's host, start time, and every cookie it mentions, in order.

    Raises:
        Unusable: the entry is not an object with a request and an http(s) URL.
    """
    if not isinstance(entry, dict):
        raise Unusable(f"a JSON {json_kind(entry)}, not an entry object")
    request = entry.get("request")
    if not isinstance(request, dict):
        raise Unusable("no 'request' object")
    host = _host(request.get("url"))
    started = _iso_time(entry.get("startedDateTime"))
    mentions: list[_Mention] = []
    for name, value in _pairs(request.get("cookies")):
        mentions.append((name, value, host, None))
    for header_name, header in _pairs(request.get("headers")):
        if header_name.lower() == "cookie":
            for name, value in _header_pairs(header):
                mentions.append((name, value, host, None))
    response = entry.get("response")
    if isinstance(response, dict):
        for cookie in _objects(response.get("cookies")):
            cookie_name, cookie_value = cookie.get("name"), cookie.get("value")
            if isinstance(cookie_name, str) and isinstance(cookie_value, str):
                given = cookie.get("domain")
                cookie_domain = given if isinstance(given, str) and given.strip(".") else host
                expires = _expiry(cookie.get("expires"))
                mentions.append((cookie_name, cookie_value, cookie_domain, expires))
    return host, -math.inf if started is None else started, mentions


def _user_agent(entry: object) -> str | None:
    """The entry's request ``User-Agent`` header (the last one), checked.

    Raises:
        Unusable: a header HTTP could not carry (never quoted).
    """
    request = entry.get("request") if isinstance(entry, dict) else None
    found = None
    for name, value in _pairs(request.get("headers") if isinstance(request, dict) else None):
        if name.lower() == "user-agent" and value.strip():
            found = value
    if found is None:
        return None
    try:
        return check_headers({"user-agent": found})["user-agent"]
    except InvalidRequestError:
        raise Unusable("a User-Agent header with a character HTTP cannot carry") from None


def _host(url: object) -> str:
    if not isinstance(url, str):
        raise Unusable("no request 'url' text")
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        host = None
    if not host:
        raise Unusable("a request 'url' without a host")
    return host


def _objects(items: object) -> list[dict[object, object]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _pairs(items: object) -> list[tuple[str, str]]:
    pairs = []
    for item in _objects(items):
        name, value = item.get("name"), item.get("value")
        if isinstance(name, str) and isinstance(value, str):
            pairs.append((name, value))
    return pairs


def _header_pairs(header: str) -> list[tuple[str, str]]:
    """A ``Cookie`` header's pairs; a part without ``=`` is left out (HTTP/2 may split it)."""
    pairs = []
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def _expiry(expires: object) -> float | None:
    """A response cookie's ``expires``: ISO 8601 (HAR 1.2), an HTTP date, or seconds."""
    if isinstance(expires, bool) or expires is None:
        return None
    if isinstance(expires, int | float):
        try:
            seconds = float(expires)
        except OverflowError:
            return None
        return seconds if math.isfinite(seconds) and seconds > 0 else None
    if isinstance(expires, str) and expires.strip():
        iso = _iso_time(expires)
        return parse_cookie_date(expires) if iso is None else iso
    return None


def _iso_time(text: object) -> float | None:
    """ISO 8601 as HAR writes it (``2024-05-01T10:00:00.123Z``), in seconds since 1970."""
    if not isinstance(text, str):
        return None
    match = _ISO.fullmatch(text.strip()[:64])
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = timedelta(0)
    if zone and zone.upper() != "Z":
        digits = zone.replace(":", "")
        if len(digits) != _TIMEZONE_LENGTH:
            return None
        sign = -1 if digits[0] == "-" else 1
        offset = sign * timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=timezone(offset),
        )
    except ValueError:  # a day or hour out of range, or an offset of a day or more
        return None
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)
