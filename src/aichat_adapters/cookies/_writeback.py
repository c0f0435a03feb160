"""Write-back: the site's rotated cookies put back into an export, in its own format.

`rewrite` is pure: it changes only the site's cookies in the text, keeping
every line or entry of other sites as it was; ``aichat_adapters._files``
writes the result atomically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aichat_adapters.cookies._bundle import is_bundle, rewrite_bundle
from aichat_adapters.cookies._formats import NETSCAPE_HEADER, load_json, netscape_fields
from aichat_adapters.cookies._select import CookieEntry, Unusable
from aichat_core import domain_matches

__all__ = ["rewrite"]

_NETSCAPE_FIELDS = 7
_INDENT = re.compile(r"\n([ \t]+)\S")


def rewrite(
    text: str, domain: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> str:
    """The export with the site's cookies set to ``cookies``, in the export's own format.

    Args:
        text: The export as it is: Netscape ``cookies.txt``, Cookie-Editor
            JSON or a credentials bundle, whose other keys (the User-Agent,
            headers...) are kept (empty for a new file, written as ``cookies.txt``).
        domain: The site.
        winners: The cookies the export gives now, by name (the lines to change).
        cookies: Every cookie of the site as it should now be.

    Raises:
        Unusable: a JSON export that is neither a list of cookies nor a bundle.
    """
    if text.lstrip("\ufeff \t\r\n").startswith(("[", "{")):
        return _rewrite_cookie_editor(text, domain, winners, cookies)
    return _rewrite_netscape(text or NETSCAPE_HEADER, domain, winners, cookies)


def _is_winner(entry: CookieEntry | None, domain: str, path: str, name: str) -> bool:
    return entry is not None and (entry.domain, entry.path, entry.name) == (domain, path, name)


def _rewrite_netscape(
    text: str, site: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> str:
    deleted = set(winners) - set(cookies)
    written: set[str] = set()
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        parsed = netscape_fields(line)
        if parsed is None or len(parsed[1]) != _NETSCAPE_FIELDS:
            out.append(raw)
            continue
        prefix, fields = parsed
        domain, path, name = fields[0].strip().lower(), fields[2].strip() or "/", fields[5]
        if not domain_matches(domain, site):
            out.append(raw)
        elif name in deleted:
            continue  # every line of a deleted name goes, so that none comes back
        elif name in cookies and _is_winner(winners.get(name), domain, path, name):
            fields[6] = cookies[name]
            out.append(prefix + "\t".join(fields) + raw[len(line) :])
            written.add(name)
        else:
            out.append(raw)
    result = "\n".join(out)
    added = [name for name in cookies if name not in written]
    if added:
        newline = "\r\n" if "\r\n" in text else "\n"
        if result and not result.endswith("\n"):
            result += newline
        result += "".join(
            "\t".join((site, "FALSE", "/", "FALSE", "0", name, cookies[name])) + newline
            for name in added
        )
    return result


def _rewrite_cookie_editor(
    text: str, site: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> str:
    data = load_json(text.lstrip("\ufeff"))
    if is_bundle(data):
        assert isinstance(data, dict)
        items = data["cookies"]
        assert isinstance(items, list)
        return rewrite_bundle(data, _rewrite_items(items, site, winners, cookies))
    if not isinstance(data, list):
        raise Unusable(
            "write-back rewrites a Cookie-Editor export (a JSON list) or a credentials bundle "
            "(a JSON object with a 'cookies' list) only"
        )
    out = _rewrite_items(data, site, winners, cookies)
    indent = _INDENT.search(text)
    rendered = json.dumps(out, indent=indent.group(1) if indent else None, ensure_ascii=False)
    return rendered + ("\n" if text.endswith("\n") else "")


def _rewrite_items(
    data: list[object], site: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> list[object]:
    """A Cookie-Editor list with the site's cookies set to ``cookies``, other entries kept."""
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
                if name in cookies and _is_winner(winners.get(name), domain, path, name):
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
