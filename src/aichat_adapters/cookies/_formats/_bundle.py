"""The credentials bundle: cookies with the User-Agent and headers they are bound to.

A bundle is a JSON object:

    {
      "cookies": [ ...Cookie-Editor cookie objects... ],
      "user_agent": "Mozilla/5.0 ...",
      "headers": {"accept-language": "en-US"},
      "obtained_at": 1767225600.0,
      "proxy": "http://127.0.0.1:8080"
    }

Only ``cookies`` is required. ``aichat login`` and `BrowserClearance`'s
``save_to`` write it (``0600``, atomically); `FileCookieSource` reads it like
the other formats, and writes the rotated cookies back into it. The proxy is
written without its user and password. No file I/O: text goes in, values
(or the rewritten text) come out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from aichat_adapters.cookies._formats._common import json_kind
from aichat_adapters.cookies._formats._cookie_editor import read_cookie_editor, rewrite_items
from aichat_adapters.cookies._select import BoundTo, CookieEntry, ParsedCookies, Unusable
from aichat_core import InvalidRequestError, check_headers
from aichat_core._credentials import DIRECT, public_proxy

__all__ = ["KIND", "is_bundle", "read_bundle", "render_bundle", "rewrite_bundle"]

#: What the reasons call this format.
KIND = "credentials bundle"

_KEYS = ("cookies", "user_agent", "headers", "obtained_at", "proxy")


def is_bundle(data: object) -> bool:
    """Whether parsed JSON looks like a bundle: an object with a ``cookies`` list."""
    return isinstance(data, dict) and "log" not in data and isinstance(data.get("cookies"), list)


def read_bundle(data: dict[str, object], domain: str) -> ParsedCookies:
    """The site's cookies in a bundle, with what they are bound to.

    Raises:
        Unusable: a field other than the cookies is malformed (named, never quoted).
    """
    cookies = data.get("cookies")
    if not isinstance(cookies, list):
        raise Unusable("a credentials bundle needs a 'cookies' list")
    parsed = read_cookie_editor(cookies, domain)
    bound = BoundTo(
        user_agent=_user_agent(data.get("user_agent")),
        headers=_headers(data.get("headers")),
        obtained_at=_time(data.get("obtained_at")),
        proxy=_proxy(data.get("proxy")),
    )
    return ParsedCookies(
        kind=KIND,
        entries=parsed.entries,
        total=parsed.total,
        problems=parsed.problems,
        bound=bound,
    )


def render_bundle(entries: Iterable[CookieEntry], bound: BoundTo) -> str:
    """The bundle's JSON text (indented, one trailing newline).

    The proxy is written without its user and password.
    """
    data: dict[str, object] = {"cookies": [_cookie_object(entry) for entry in entries]}
    if bound.user_agent is not None:
        data["user_agent"] = bound.user_agent
    if bound.headers:
        data["headers"] = dict(bound.headers)
    if bound.obtained_at is not None:
        data["obtained_at"] = bound.obtained_at
    if bound.proxy is not None:
        data["proxy"] = public_proxy(bound.proxy)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def rewrite_bundle(
    data: dict[str, object],
    site: str,
    winners: Mapping[str, CookieEntry],
    cookies: Mapping[str, str],
) -> str:
    """A bundle's JSON text with the site's cookies set to ``cookies``, every other key kept.

    Args:
        data: The bundle as it is (its ``cookies`` a list).
        site: The site.
        winners: The cookies the bundle gives now, by name (the entries to change).
        cookies: Every cookie of the site as it should now be.
    """
    items = data["cookies"]
    assert isinstance(items, list)
    out = {**data, "cookies": rewrite_items(items, site, winners, cookies)}
    ordered = {key: out[key] for key in _KEYS if key in out}
    ordered.update((key, value) for key, value in out.items() if key not in ordered)
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"


def _cookie_object(entry: CookieEntry) -> dict[str, object]:
    item: dict[str, object] = {
        "domain": entry.domain,
        "hostOnly": not entry.domain.startswith("."),
        "name": entry.name,
        "path": entry.path,
        "value": entry.value,
    }
    if entry.expires is None:
        item["session"] = True
    else:
        item["session"] = False
        item["expirationDate"] = entry.expires
    return item


def _user_agent(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise Unusable(f"'user_agent' is a JSON {json_kind(value)}, not a non-empty string")
    try:
        return check_headers({"user-agent": value})["user-agent"]
    except InvalidRequestError:
        raise Unusable(
            "'user_agent' has a character HTTP headers cannot carry (a line break, a control "
            "or a non-ASCII character)"
        ) from None


def _headers(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unusable(f"'headers' is a JSON {json_kind(value)}, not an object")
    try:
        headers = check_headers(value)
    except InvalidRequestError as exc:
        raise Unusable(f"'headers': {exc.message}") from None
    if "cookie" in headers:
        raise Unusable("'headers' holds a Cookie header; cookies go in 'cookies'")
    return headers


def _time(value: object) -> float | None:
    """Epoch seconds, or an ISO 8601 date with a time zone."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Unusable("'obtained_at' is not an ISO 8601 date") from None
        if moment.tzinfo is None:
            raise Unusable("'obtained_at' has no time zone (add Z or +00:00)")
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unusable(f"'obtained_at' is a JSON {json_kind(value)}, not epoch seconds")
    try:
        seconds = float(value)
    except OverflowError:
        raise Unusable("'obtained_at' is out of range") from None
    if not math.isfinite(seconds):
        raise Unusable("'obtained_at' is not a finite number")
    return seconds


def _proxy(value: object) -> str | None:
    if value is None or value == DIRECT:
        return value
    if not isinstance(value, str):
        raise Unusable(f"'proxy' is a JSON {json_kind(value)}, not a URL")
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        host = None
    if not host or not parts.scheme:
        raise Unusable("'proxy' is not a URL such as http://127.0.0.1:8080")
    return public_proxy(value.strip())
