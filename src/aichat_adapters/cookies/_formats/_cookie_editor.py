"""Cookie-Editor (or EditThisCookie) JSON exports, a list of cookie objects: read, and written back.

No file I/O: text goes in, cookies (or the rewritten text) come out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from aichat_adapters.cookies._formats._common import (
    check_cookie,
    is_winner,
    json_kind,
    load_json,
    not_empty,
    parse_public,
)
from aichat_adapters.cookies._select import DEFAULT_DOMAIN, CookieEntry, ParsedCookies, Unusable
from aichat_core import domain_matches

__all__ = [
    "KIND",
    "parse_cookie_editor_json",
    "read_cookie_editor",
    "rewrite_cookie_editor",
    "rewrite_items",
]

#: What the reasons call this format.
KIND = "Cookie-Editor JSON"

_INDENT = re.compile(r"\n([ \t]+)\S")


def read_cookie_editor(data: list[object], domain: str) -> ParsedCookies:
    """Read a Cookie-Editor (or EditThisCookie) JSON export: a list of cookie objects."""
    latest: dict[tuple[str, str, str], tuple[int, CookieEntry]] = {}
    problems: list[str] = []
    for index, item in enumerate(data, start=1):
        try:
            entry = _entry(item, domain)
        except Unusable as exc:
            problems.append(f"entry {index}: {exc.reason}")
            continue
        if entry is not None:
            latest[(entry.domain, entry.path, entry.name)] = (index, entry)
    return ParsedCookies(
        kind=KIND,
        entries=tuple(entry for _, entry in sorted(latest.values(), key=lambda item: item[0])),
        total=len(data) - len(problems),
        problems=tuple(problems),
    )


def parse_cookie_editor_json(
    text: str, domain: str = DEFAULT_DOMAIN, now: float | None = None
) -> dict[str, str]:
    """Parse a Cookie-Editor JSON export and return the unexpired cookies of ``domain``.

    Args:
        text: The export: a JSON list of objects with ``name``, ``value``,
            ``domain`` and optionally ``expirationDate`` (seconds) and ``session``.
        domain: The site; its cookies and its subdomains' are kept.
        now: The time for the expiry check (seconds since 1970), default now.

    Raises:
        CookiesNotFoundError: no usable cookie; ``tried`` says why.
    """
    return parse_public("Cookie-Editor JSON text", _read_text, text, domain, now)


def rewrite_cookie_editor(
    text: str,
    data: list[object],
    site: str,
    winners: Mapping[str, CookieEntry],
    cookies: Mapping[str, str],
) -> str:
    """The export with the site's cookies set to ``cookies``, in the file's own indentation.

    Args:
        text: The export as it is (for its indentation and final newline).
        data: Its JSON list.
        site: The site.
        winners: The cookies the export gives now, by name (the entries to change).
        cookies: Every cookie of the site as it should now be.
    """
    out = rewrite_items(data, site, winners, cookies)
    indent = _INDENT.search(text)
    rendered = json.dumps(out, indent=indent.group(1) if indent else None, ensure_ascii=False)
    return rendered + ("\n" if text.endswith("\n") else "")


def rewrite_items(
    data: list[object], site: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> list[object]:
    """A Cookie-Editor list with the site's cookies set to ``cookies``, other entries kept.

    The names missing from ``cookies`` are removed; new ones are appended as session cookies.
    """
    deleted = set(winners) - set(cookies)
    written: set[str] = set()
    out: list[object] = []
    for item in data:
        if isinstance(item, dict):
            name, domain, path = item.get("name"), item.get("domain"), item.get("path")
            if isinstance(name, str) and isinstance(domain, str) and domain_matches(domain, site):
                if name in deleted:
                    continue
                path = path if isinstance(path, str) and path else "/"
                if name in cookies and is_winner(winners.get(name), domain, path, name):
                    item = {**item, "value": cookies[name]}  # noqa: PLW2901
                    written.add(name)
        out.append(item)
    for name in cookies:
        if name not in written:
            out.append(
                {
                    "domain": site,
                    "hostOnly": True,
                    "httpOnly": False,
                    "name": name,
                    "path": "/",
                    "secure": False,
                    "session": True,
                    "value": cookies[name],
                }
            )
    return out


def _read_text(text: str, domain: str) -> ParsedCookies:
    data = load_json(not_empty(text))
    if not isinstance(data, list):
        raise Unusable(
            f"JSON {json_kind(data)}, expected a list of cookie objects (a Cookie-Editor export)"
        )
    return read_cookie_editor(data, domain)


def _entry(item: object, site: str) -> CookieEntry | None:
    """The entry as a cookie of the site, or None for another site's well-formed cookie."""
    if not isinstance(item, dict):
        raise Unusable(f"a JSON {json_kind(item)}, not a cookie object")
    name, value, domain = (_text_field(item, key) for key in ("name", "value", "domain"))
    if not domain_matches(domain, site):
        return None
    check_cookie(name, value)
    expiration = item.get("expirationDate")
    expires: float | None = None
    if item.get("session") is not True and expiration is not None:
        if isinstance(expiration, bool) or not isinstance(expiration, int | float):
            raise Unusable("'expirationDate' is not a number")
        try:
            expires = float(expiration)
        except OverflowError:
            raise Unusable("'expirationDate' is out of range") from None
        if not math.isfinite(expires):
            raise Unusable("'expirationDate' is not a finite number")
    path = item.get("path")
    return CookieEntry(
        name, value, domain, path if isinstance(path, str) and path else "/", expires
    )


def _text_field(item: dict[object, object], key: str) -> str:
    field = item.get(key)
    if not isinstance(field, str):
        raise Unusable(f"no {key!r} text")
    return field
