"""The formats of exported cookies, and the one place that tells which format a text is in.

One module per format, each with its reader and, beside it, its write-back:

- `_netscape`: Netscape ``cookies.txt`` (curl, browser export extensions);
- `_cookie_editor`: Cookie-Editor (or EditThisCookie) JSON, a list of cookie objects;
- `_har`: HAR 1.2 exports (DevTools, Firefox, Charles), read only;
- `_bundle`: the credentials bundle, cookies with what they are bound to.

`read_cookie_text` and `rewrite` ask `sniff` which format a text is in, so a
file is always written back in the format it was read in. No file I/O here:
text goes in, cookies (or text) come out; `FileCookieSource` does the files.
"""

from __future__ import annotations

from collections.abc import Mapping

from aichat_adapters.cookies._formats import _bundle, _cookie_editor, _har, _netscape
from aichat_adapters.cookies._formats._bundle import render_bundle
from aichat_adapters.cookies._formats._common import (
    check_cookie,
    decode,
    json_kind,
    load_json,
    not_empty,
)
from aichat_adapters.cookies._formats._cookie_editor import parse_cookie_editor_json
from aichat_adapters.cookies._formats._har import parse_har
from aichat_adapters.cookies._formats._netscape import NETSCAPE_HEADER, parse_netscape_cookies
from aichat_adapters.cookies._select import CookieEntry, ParsedCookies, Unusable

__all__ = [
    "HAR_KIND",
    "check_cookie",
    "decode",
    "load_json",
    "parse_cookie_editor_json",
    "parse_har",
    "parse_netscape_cookies",
    "read_cookie_text",
    "render_bundle",
    "rewrite",
    "sniff",
]

HAR_KIND = _har.KIND


def sniff(text: str) -> tuple[str, object]:
    """Which format ``text`` is in, and its JSON value (``None`` for a ``cookies.txt``).

    Text whose first non-blank character is ``[`` is a Cookie-Editor JSON
    export; ``{`` a HAR export (an object with a ``log`` key) or a
    credentials bundle (an object with a ``cookies`` list); anything else a
    Netscape ``cookies.txt``.

    Args:
        text: The text, with no BOM and not blank (see `not_empty`).

    Returns:
        The format's kind (``"Netscape cookies.txt"``, ``"Cookie-Editor
        JSON"``, ``"HAR export"`` or ``"credentials bundle"``) and the JSON value.

    Raises:
        Unusable: JSON in none of these shapes.
    """
    if not text.lstrip().startswith(("[", "{")):
        return _netscape.KIND, None
    data = load_json(text)
    if isinstance(data, list):
        return _cookie_editor.KIND, data
    if _har.is_har(data):
        return _har.KIND, data
    if _bundle.is_bundle(data):
        return _bundle.KIND, data
    raise Unusable(
        f"JSON {json_kind(data)}, expected a list of cookie objects (a Cookie-Editor "
        "export), a HAR export (an object with a 'log' key) or a credentials bundle "
        "(an object with a 'cookies' list)"
    )


def read_cookie_text(text: str, domain: str) -> ParsedCookies:
    """Read the site's cookies from exported text, whatever its format (see `sniff`).

    Raises:
        Unusable: the text is empty or in none of these formats.
    """
    text = not_empty(text)
    kind, data = sniff(text)
    if kind == _netscape.KIND:
        return _netscape.read_netscape(text, domain)
    if kind == _har.KIND:
        return _har.read_har(data, domain)
    if kind == _bundle.KIND:
        assert isinstance(data, dict)
        return _bundle.read_bundle(data, domain)
    assert isinstance(data, list)
    return _cookie_editor.read_cookie_editor(data, domain)


def rewrite(
    text: str, domain: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> str:
    """The export with the site's cookies set to ``cookies``, in the export's own format.

    Only the site's cookies change: every line or entry of other sites, and a
    bundle's other keys (the User-Agent, headers...), are kept as they were.

    Args:
        text: The export as it is: Netscape ``cookies.txt``, Cookie-Editor
            JSON or a credentials bundle (blank for a new file, written as
            ``cookies.txt``).
        domain: The site.
        winners: The cookies the export gives now, by name (the lines to change).
        cookies: Every cookie of the site as it should now be.

    Raises:
        Unusable: a HAR export, or text in no format (see `sniff`).
    """
    if not text.strip():
        return _netscape.rewrite_netscape(text or NETSCAPE_HEADER, domain, winners, cookies)
    kind, data = sniff(not_empty(text))
    if kind == _netscape.KIND:
        return _netscape.rewrite_netscape(text, domain, winners, cookies)
    if kind == _har.KIND:
        raise Unusable(
            "write-back cannot rewrite a HAR export; export the cookies as "
            "cookies.txt or Cookie-Editor JSON to have rotated cookies saved"
        )
    if kind == _bundle.KIND:
        assert isinstance(data, dict)
        return _bundle.rewrite_bundle(data, domain, winners, cookies)
    assert isinstance(data, list)
    return _cookie_editor.rewrite_cookie_editor(text, data, domain, winners, cookies)
