"""Pure parsers for cookie files: Netscape ``cookies.txt`` and Cookie-Editor JSON.

Nothing here touches the file system: text goes in, cookies come out. Every
function raises only :class:`~aichat_core.CookiesNotFoundError` on bad input,
and no message ever contains a cookie value.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from http.cookiejar import LoadError, MozillaCookieJar

import attrs

from aichat_core import CookiesNotFoundError, InvalidRequestError, domain_matches
from aichat_core import format_cookie_header as _format_cookie_header

__all__ = ["parse_cookie_editor_json", "parse_netscape_cookies"]

DEFAULT_DOMAIN = "chat-gpt.org"

_NETSCAPE_FIELDS = 7
_HTTPONLY_PREFIX = "#HttpOnly_"
# The header line MozillaCookieJar insists on (it matches it with this regex).
_NETSCAPE_MAGIC = re.compile("#( Netscape)? HTTP Cookie File")
_NETSCAPE_HEADER = "# Netscape HTTP Cookie File\n"
# Whole seconds, as curl and the export extensions write them; a fraction is
# tolerated. Bounded so that no number can overflow ``int(float(...))``.
_EXPIRES = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,9})?")
_MAX_PROBLEMS_SHOWN = 3
_SPACE = re.compile(r"\s")
# A host name and nothing more (rookiepy pastes it into an SQL ``LIKE``).
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


def check_domain(domain: object) -> str:
    """The site's domain, normalised (lower case, no outer dots), for the cookie sources.

    Raises:
        InvalidRequestError: not a plain host name.
    """
    normalised = domain.strip().strip(".").lower() if isinstance(domain, str) else ""
    if not _HOST.fullmatch(normalised):
        raise InvalidRequestError(
            f"domain must be a host name like {DEFAULT_DOMAIN!r}, without scheme, port or "
            f"path; got {domain!r}"
        )
    return normalised


class CookieFileError(Exception):
    """Internal: the text gives no usable cookie; ``reason`` says why, without values."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class CookieEntry:
    """One cookie of the site read from a file (the value never goes in a repr)."""

    name: str
    value: str = attrs.field(repr=False)
    domain: str
    path: str
    expires: float | None  # None: a session cookie, kept until the browser closes


@attrs.frozen
class ParsedCookies:
    """What a file held: the site's well-formed cookies, and counts for the reasons.

    ``entries`` are in file order, one per (domain, path, name): a later
    duplicate replaces an earlier one, as in a browser's jar. Expiry is not
    applied yet, so the result can be cached and checked again later.
    """

    kind: str
    entries: tuple[CookieEntry, ...]
    total: int
    problems: tuple[str, ...]


def decode_cookie_file(data: bytes) -> str:
    """Decode a cookie file's bytes: UTF-8 (with or without a BOM) or UTF-16 with a BOM.

    Raises:
        CookieFileError: the bytes are not text in one of those encodings.
    """
    encoding = "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # PowerShell's ">" writes this.
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CookieFileError(
            f"not {encoding.upper().replace('-SIG', '')} text (bad byte at offset {exc.start})"
        ) from None


def read_cookie_text(text: str, domain: str) -> ParsedCookies:
    """Detect the format from the content and read the site's cookies from ``text``.

    A text whose first non-blank character is ``[`` or ``{`` is read as a
    Cookie-Editor JSON export, anything else as a Netscape ``cookies.txt``.

    Raises:
        CookieFileError: the text is empty or is in neither format.
    """
    if _not_empty(text).lstrip().startswith(("[", "{")):
        return read_cookie_editor(text, domain)
    return read_netscape(text, domain)


def select_cookies(parsed: ParsedCookies, domain: str, now: float) -> dict[str, str]:
    """The cookies to send, by name (see :func:`select_entries` for the rules).

    Raises:
        CookieFileError: no unexpired cookie of the site, with the counts why.
    """
    return {name: entry.value for name, entry in select_entries(parsed, domain, now).items()}


def select_entries(parsed: ParsedCookies, domain: str, now: float) -> dict[str, CookieEntry]:
    """The cookies to send: unexpired ones, one per name, with their expiry.

    When a name appears more than once (on several paths or subdomains), the
    cookie of the domain closest to the site wins (the site's own first), then
    the one with the longest path, then the one that expires last (a session
    cookie last of all), then the later one in the file. The browser source
    follows the same order.

    Raises:
        CookieFileError: no unexpired cookie of the site, with the counts why.
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
    raise CookieFileError(_nothing_usable(parsed, domain, expired))


def read_netscape(text: str, domain: str) -> ParsedCookies:
    """Read a Netscape ``cookies.txt`` (curl, browser export extensions).

    Raises:
        CookieFileError: no line at all looks like a cookie and there is no
            ``# Netscape HTTP Cookie File`` header.
    """
    clean, order, total, problems, has_magic = _prevalidate_netscape(_not_empty(text), domain)
    if not has_magic and total == 0:
        raise CookieFileError(
            "neither a Netscape cookies.txt (no '# Netscape HTTP Cookie File' line, "
            "no tab-separated cookie lines) nor a Cookie-Editor JSON export"
            + _problems_suffix(problems)
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


def read_cookie_editor(text: str, domain: str) -> ParsedCookies:
    """Read a Cookie-Editor (or EditThisCookie) JSON export: a list of cookie objects.

    Raises:
        CookieFileError: the text is not JSON, or not a list.
    """
    try:
        data = json.loads(_not_empty(text))
    except json.JSONDecodeError as exc:
        # exc.msg is the decoder's fixed wording; the document is not quoted.
        raise CookieFileError(
            f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        raise CookieFileError("not valid JSON (too deeply nested or a number too long)") from None
    if not isinstance(data, list):
        raise CookieFileError(
            f"JSON {_json_kind(data)}, expected a list of cookie objects (a Cookie-Editor export)"
        )
    latest: dict[tuple[str, str, str], tuple[int, CookieEntry]] = {}
    problems: list[str] = []
    for index, item in enumerate(data, start=1):
        try:
            entry = _cookie_editor_entry(item, domain)
        except CookieFileError as exc:
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
        now: The time for the expiry check (seconds since the epoch), default now.

    Raises:
        CookiesNotFoundError: no usable cookie; ``tried`` says why.
    """
    return _parse_public("Netscape cookies.txt text", read_netscape, text, domain, now)


def parse_cookie_editor_json(
    text: str, domain: str = DEFAULT_DOMAIN, now: float | None = None
) -> dict[str, str]:
    """Parse a Cookie-Editor JSON export and return the unexpired cookies of ``domain``.

    Args:
        text: The export: a JSON list of objects with ``name``, ``value``,
            ``domain`` and optionally ``expirationDate`` (seconds) and ``session``.
        domain: The site; its cookies and its subdomains' are kept.
        now: The time for the expiry check (seconds since the epoch), default now.

    Raises:
        CookiesNotFoundError: no usable cookie; ``tried`` says why.
    """
    return _parse_public("Cookie-Editor JSON text", read_cookie_editor, text, domain, now)


def _parse_public(
    label: str,
    reader: Callable[[str, str], ParsedCookies],
    text: str,
    domain: str,
    now: float | None,
) -> dict[str, str]:
    try:
        parsed = reader(text, domain)
        return select_cookies(parsed, domain, time.time() if now is None else now)
    except CookieFileError as exc:
        raise CookiesNotFoundError.from_tried(((label, exc.reason),)) from None


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
    out = [_NETSCAPE_HEADER]
    order: dict[tuple[str, str, str], int] = {}
    problems: list[str] = []
    total = 0
    has_magic = False
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not has_magic and _NETSCAPE_MAGIC.match(line):
            has_magic = True
        prefix = ""
        if line.startswith(_HTTPONLY_PREFIX):
            prefix, line = _HTTPONLY_PREFIX, line[len(_HTTPONLY_PREFIX) :]
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "$")):
            continue  # a comment or a blank line, as MozillaCookieJar reads them
        fields = line.split("\t")
        try:
            if len(fields) != _NETSCAPE_FIELDS:
                hint = " (were tabs replaced by spaces?)" if len(fields) == 1 else ""
                raise CookieFileError(
                    f"expected {_NETSCAPE_FIELDS} tab-separated fields, found {len(fields)}{hint}"
                )
            domain, _, path, secure, expires, name, value = fields
            domain = domain.strip().lower()  # as the jar stores it
            if not domain or domain.startswith(("#", "$")) or _SPACE.search(domain):
                raise CookieFileError("invalid domain field")
            if not domain_matches(domain, site):
                total += 1
                continue
            expires = _netscape_expires(expires.strip())
            _check_cookie(name, value)
        except CookieFileError as exc:
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
    Expiry is checked by :func:`select_cookies` (curl writes 0 for session
    cookies, which the jar would count as expired), so both ``ignore_*`` flags
    are on.
    """
    jar = MozillaCookieJar()
    try:
        # typeshed leaves the private method out, hence the ignore.
        jar._really_load(io.StringIO(clean), "<cookies.txt>", True, True)  # type: ignore[attr-defined]
    except LoadError:  # pragma: no cover - pre-validation leaves nothing for it to reject
        raise CookieFileError("not a Netscape cookies.txt file") from None
    return jar


def _not_empty(text: str) -> str:
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CookieFileError("empty")
    return text


def _netscape_expires(expires: str) -> str:
    if expires in ("", "0"):
        return ""  # a session cookie
    if not _EXPIRES.fullmatch(expires):
        raise CookieFileError("the expiry field is not a number of seconds")
    return str(int(float(expires)))


def _check_cookie(name: str, value: str) -> None:
    if not name:
        # MozillaCookieJar would take the value for the name: never let it through.
        raise CookieFileError("empty cookie name")
    try:
        _format_cookie_header({name: value})
    except InvalidRequestError as exc:
        raise CookieFileError(exc.message) from None


def _cookie_editor_entry(item: object, site: str) -> CookieEntry | None:
    """The entry as a cookie of the site, or None for another site's well-formed cookie."""
    if not isinstance(item, dict):
        raise CookieFileError(f"a JSON {_json_kind(item)}, not a cookie object")
    name, value, domain = (_text_field(item, key) for key in ("name", "value", "domain"))
    if not domain_matches(domain, site):
        return None
    _check_cookie(name, value)
    expiration = item.get("expirationDate")
    expires: float | None = None
    if item.get("session") is not True and expiration is not None:
        if isinstance(expiration, bool) or not isinstance(expiration, int | float):
            raise CookieFileError("'expirationDate' is not a number")
        try:
            expires = float(expiration)
        except OverflowError:
            raise CookieFileError("'expirationDate' is out of range") from None
        if not math.isfinite(expires):
            raise CookieFileError("'expirationDate' is not a finite number")
    path = item.get("path")
    return CookieEntry(
        name, value, domain, path if isinstance(path, str) and path else "/", expires
    )


def _text_field(item: dict[object, object], key: str) -> str:
    field = item.get(key)
    if not isinstance(field, str):
        raise CookieFileError(f"no {key!r} text")
    return field


def _nothing_usable(parsed: ParsedCookies, domain: str, expired: list[CookieEntry]) -> str:
    if expired:
        latest = max(entry.expires or 0.0 for entry in expired)
        reason = (
            f"all {len(expired)} {_plural(len(expired), 'cookie')} of {domain} "
            f"in this {parsed.kind} have expired (the last on {_utc(latest)}); "
            "export them again"
        )
    elif parsed.total:
        reason = (
            f"no cookie of {domain} among {parsed.total} "
            f"{_plural(parsed.total, 'cookie')} of other sites in this {parsed.kind}"
        )
    else:
        reason = f"no cookies in this {parsed.kind}"
    return reason + _problems_suffix(parsed.problems)


def _problems_suffix(problems: Iterable[str]) -> str:
    problems = list(problems)
    if not problems:
        return ""
    shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
    more = len(problems) - _MAX_PROBLEMS_SHOWN
    if more > 0:
        shown += f"; and {more} more"
    return f"; skipped {len(problems)} malformed {_plural(len(problems), 'entry')} ({shown})"


def _labels(domain: str) -> int:
    return len(domain.strip().strip(".").split("."))


def _plural(count: int, word: str) -> str:
    if count == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _utc(timestamp: float) -> str:
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return f"{timestamp:.0f} s after 1970"


def _json_kind(value: object) -> str:
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
