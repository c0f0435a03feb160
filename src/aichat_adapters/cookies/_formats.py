"""Pure parsers for exported cookies: Netscape ``cookies.txt`` and Cookie-Editor JSON.

Nothing here touches the file system: text goes in, cookies come out. The
parsers raise only `Unusable` (internal) or, for the public functions,
[`CookiesNotFoundError`][aichat_core.CookiesNotFoundError]; no message ever
contains a cookie value.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aichat_adapters.cookies._select import (
    DEFAULT_DOMAIN,
    CookieEntry,
    ParsedCookies,
    Unusable,
    problems_suffix,
    select_entries,
)
from aichat_core import CookiesNotFoundError, InvalidRequestError, domain_matches
from aichat_core import format_cookie_header as _format_cookie_header

if TYPE_CHECKING:
    from http.cookiejar import MozillaCookieJar

__all__ = [
    "NETSCAPE_HEADER",
    "check_cookie",
    "decode",
    "json_kind",
    "load_json",
    "netscape_fields",
    "not_empty",
    "parse_cookie_editor_json",
    "parse_netscape_cookies",
    "parse_public",
    "read_cookie_editor",
    "read_netscape",
]

#: The first line of a Netscape ``cookies.txt``.
NETSCAPE_HEADER = "# Netscape HTTP Cookie File\n"

_NETSCAPE_FIELDS = 7
_HTTPONLY_PREFIX = "#HttpOnly_"
# The header line MozillaCookieJar insists on (it matches it with this regex).
_NETSCAPE_MAGIC = re.compile("#( Netscape)? HTTP Cookie File")
# Whole seconds, as curl and the export extensions write them; a fraction is
# tolerated. Bounded so that no number can overflow ``int(float(...))``.
_EXPIRES = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,9})?")
_SPACE = re.compile(r"\s")


def decode(data: bytes) -> tuple[str, str]:
    """Decode a cookie file: UTF-8 (with or without a BOM) or UTF-16 with a BOM.

    Returns:
        The text, and the encoding to write it back with (``utf-8``,
        ``utf-8-sig`` when it had a BOM, or ``utf-16``).

    Raises:
        Unusable: the bytes are not text in one of those encodings.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # PowerShell's ">" writes this.
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        name = encoding.upper().replace("-SIG", "")
        raise Unusable(f"not {name} text (bad byte at offset {exc.start})") from None


def not_empty(text: str) -> str:
    """The text without a BOM; raises `Unusable` when it is blank."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise Unusable("empty")
    return text


def load_json(text: str) -> object:
    """Parse JSON, with a reason that quotes nothing of the document.

    Raises:
        Unusable: not valid JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg is the decoder's fixed wording; the document is not quoted.
        raise Unusable(
            f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        raise Unusable("not valid JSON (too deeply nested or a number too long)") from None


def json_kind(value: object) -> str:
    """``object``, ``list``, ``string``... : a JSON value's type, for reasons."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def check_cookie(name: str, value: str) -> None:
    """Check a cookie can go in a ``Cookie`` header; raises `Unusable` naming it, not its value."""
    if not name:
        raise Unusable("empty cookie name")
    try:
        _format_cookie_header({name: value})
    except InvalidRequestError as exc:
        raise Unusable(exc.message) from None


def read_netscape(text: str, domain: str) -> ParsedCookies:
    """Read a Netscape ``cookies.txt`` (curl, browser export extensions).

    Raises:
        Unusable: no line at all looks like a cookie and there is no
            ``# Netscape HTTP Cookie File`` header.
    """
    clean, order, total, problems, has_magic = _prevalidate_netscape(not_empty(text), domain)
    if not has_magic and total == 0:
        raise Unusable(
            "neither a Netscape cookies.txt (no '# Netscape HTTP Cookie File' line, "
            "no tab-separated cookie lines) nor a Cookie-Editor JSON or HAR export"
            + problems_suffix(problems)
        )
    jar = _load_mozilla_jar(clean)
    cookies = []
    for cookie in jar:
        # Only the site's lines reached the jar, each with a name (so a value).
        if cookie.value is None:  # pragma: no cover
            continue
        # ``order`` restores the file's order: the jar iterates sorted by domain.
        position = order[(cookie.domain, cookie.path, cookie.name)]
        expires = None if cookie.expires is None else float(cookie.expires)
        entry = CookieEntry(cookie.name, cookie.value, cookie.domain, cookie.path, expires)
        cookies.append((position, entry))
    cookies.sort(key=lambda item: item[0])
    return ParsedCookies(
        kind="Netscape cookies.txt",
        entries=tuple(entry for _, entry in cookies),
        total=total,
        problems=tuple(problems),
    )


def read_cookie_editor(data: list[object], domain: str) -> ParsedCookies:
    """Read a Cookie-Editor (or EditThisCookie) JSON export: a list of cookie objects."""
    latest: dict[tuple[str, str, str], tuple[int, CookieEntry]] = {}
    problems: list[str] = []
    for index, item in enumerate(data, start=1):
        try:
            entry = _cookie_editor_entry(item, domain)
        except Unusable as exc:
            problems.append(f"entry {index}: {exc.reason}")
            continue
        if entry is not None:
            latest[(entry.domain, entry.path, entry.name)] = (index, entry)
    return ParsedCookies(
        kind="Cookie-Editor JSON",
        entries=tuple(entry for _, entry in sorted(latest.values(), key=lambda item: item[0])),
        total=len(data) - len(problems),
        problems=tuple(problems),
    )


def parse_netscape_cookies(
    text: str, domain: str = DEFAULT_DOMAIN, now: float | None = None
) -> dict[str, str]:
    """Parse a Netscape ``cookies.txt`` and return the unexpired cookies of ``domain``.

    Lines prefixed ``#HttpOnly_`` are cookies; other ``#`` lines are comments.
    Malformed lines are skipped (and counted in the reason if nothing is left).
    An expiry of ``0`` or empty marks a session cookie, which is kept.

    Args:
        text: The file's content.
        domain: The site; its cookies and its subdomains' are kept.
        now: The time for the expiry check (seconds since 1970), default now.

    Raises:
        CookiesNotFoundError: no usable cookie; ``tried`` says why.
    """
    return parse_public("Netscape cookies.txt text", read_netscape, text, domain, now)


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
    return parse_public("Cookie-Editor JSON text", _read_cookie_editor_text, text, domain, now)


def parse_public(
    label: str,
    reader: Callable[[str, str], ParsedCookies],
    text: str,
    domain: str,
    now: float | None,
) -> dict[str, str]:
    """Run a reader and select the cookies, as the public parse functions do."""
    try:
        parsed = reader(text, domain)
        entries = select_entries(parsed, domain, time.time() if now is None else now)
    except Unusable as exc:
        raise CookiesNotFoundError.from_tried(((label, exc.reason),)) from None
    return {name: entry.value for name, entry in entries.items()}


def _read_cookie_editor_text(text: str, domain: str) -> ParsedCookies:
    data = load_json(not_empty(text))
    if not isinstance(data, list):
        raise Unusable(
            f"JSON {json_kind(data)}, expected a list of cookie objects (a Cookie-Editor export)"
        )
    return read_cookie_editor(data, domain)


def _prevalidate_netscape(
    text: str, site: str
) -> tuple[str, dict[tuple[str, str, str], int], int, list[str], bool]:
    """Check every line before MozillaCookieJar sees it; rebuild the site's clean lines.

    MozillaCookieJar turns any odd line into ``LoadError`` whose message quotes
    the whole line (the cookie's value with it) and, before that, emits an
    "http.cookiejar bug!" warning with a traceback; an expiry like ``1e999``
    raises ``OverflowError``. So every field is checked here and only
    well-formed lines of the site reach the jar, each rebuilt with consistent
    fields. Other sites' lines are only counted (a whole browser's export
    holds thousands).

    Returns:
        The clean text, the line number of each (domain, path, name), the
        number of well-formed cookie lines, the problems, and whether a
        Netscape header line was seen.
    """
    out = [NETSCAPE_HEADER]
    order: dict[tuple[str, str, str], int] = {}
    problems: list[str] = []
    total = 0
    has_magic = False
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not has_magic and _NETSCAPE_MAGIC.match(line):
            has_magic = True
        split = netscape_fields(line)
        if split is None:
            continue  # a comment or a blank line, as MozillaCookieJar reads them
        prefix, fields = split
        try:
            if len(fields) != _NETSCAPE_FIELDS:
                hint = " (were tabs replaced by spaces?)" if len(fields) == 1 else ""
                raise Unusable(
                    f"expected {_NETSCAPE_FIELDS} tab-separated fields, found {len(fields)}{hint}"
                )
            domain, _, path, secure, expires, name, value = fields
            domain = domain.strip().lower()  # as the jar stores it
            if not domain or domain.startswith(("#", "$")) or _SPACE.search(domain):
                raise Unusable("invalid domain field")
            if not domain_matches(domain, site):
                total += 1
                continue
            expires = _netscape_expires(expires.strip())
            check_cookie(name, value)
        except Unusable as exc:
            problems.append(f"line {lineno}: {exc.reason}")
            continue
        total += 1
        subdomains = "TRUE" if domain.startswith(".") else "FALSE"
        secure = "TRUE" if secure.strip() == "TRUE" else "FALSE"
        path = path.strip() or "/"
        out.append(
            "\t".join((prefix + domain, subdomains, path, secure, expires, name, value)) + "\n"
        )
        order[(domain, path, name)] = lineno
    return "".join(out), order, total, problems, has_magic


def netscape_fields(line: str) -> tuple[str, list[str]] | None:
    """A line's ``#HttpOnly_`` prefix (or ``""``) and its tab-separated fields.

    Returns:
        ``None`` for a comment or a blank line.
    """
    prefix = ""
    if line.startswith(_HTTPONLY_PREFIX):
        prefix, line = _HTTPONLY_PREFIX, line[len(_HTTPONLY_PREFIX) :]
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "$")):
        return None
    return prefix, line.split("\t")


def _load_mozilla_jar(clean: str) -> MozillaCookieJar:
    """Load pre-validated Netscape text through MozillaCookieJar.

    The public route is ``MozillaCookieJar.load(filename)``, which would need a
    temporary file here: disk I/O in a pure parser, a writable temporary
    directory, a file that cannot be reopened while open on Windows, and
    ``load()`` opens the file with the locale's encoding rather than UTF-8.
    ``_really_load(f, filename, ignore_discard, ignore_expires)`` is the method
    ``load()`` delegates to; its signature has not changed since Python 2.4 and
    yt-dlp's cookie jar loads from a StringIO through it in the same way. The
    tests pin its behaviour, so a Python that changes it fails them loudly.
    Expiry is checked by `select_entries` (curl writes 0 for session cookies,
    which the jar would count as expired), so both ``ignore_*`` flags are on.
    """
    # Imported here: http.cookiejar pulls in urllib.request (~20 ms), needed only for cookies.txt.
    from http.cookiejar import LoadError, MozillaCookieJar

    jar = MozillaCookieJar()
    try:
        # typeshed leaves the private method out, hence the ignore.
        jar._really_load(io.StringIO(clean), "<cookies.txt>", True, True)  # type: ignore[attr-defined]
    except LoadError:  # pragma: no cover - pre-validation leaves nothing for it to reject
        raise Unusable("not a Netscape cookies.txt file") from None
    return jar


def _netscape_expires(expires: str) -> str:
    if expires in ("", "0"):
        return ""  # a session cookie
    if not _EXPIRES.fullmatch(expires):
        raise Unusable("the expiry field is not a number of seconds")
    return str(int(float(expires)))


def _cookie_editor_entry(item: object, site: str) -> CookieEntry | None:
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
