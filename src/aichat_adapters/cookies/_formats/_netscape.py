"""Netscape ``cookies.txt`` (curl, browser export extensions): read, and written back.

No file I/O: text goes in, cookies (or the rewritten text) come out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aichat_adapters.cookies._formats._common import (
    check_cookie,
    is_winner,
    not_empty,
    parse_public,
)
from aichat_adapters.cookies._select import (
    DEFAULT_DOMAIN,
    CookieEntry,
    ParsedCookies,
    Unusable,
    problems_suffix,
)
from aichat_core import domain_matches

if TYPE_CHECKING:
    from http.cookiejar import MozillaCookieJar

__all__ = [
    "KIND",
    "NETSCAPE_HEADER",
    "parse_netscape_cookies",
    "read_netscape",
    "rewrite_netscape",
]

#: What the reasons call this format.
KIND = "Netscape cookies.txt"
#: The first line of a Netscape ``cookies.txt``.
NETSCAPE_HEADER = "# Netscape HTTP Cookie File\n"

_FIELDS = 7
_HTTPONLY_PREFIX = "#HttpOnly_"
# The header line MozillaCookieJar insists on (it matches it with this regex).
_MAGIC = re.compile("#( Netscape)? HTTP Cookie File")
# Whole seconds, as curl and the export extensions write them; a fraction is
# tolerated. Bounded so that no number can overflow ``int(float(...))``.
_EXPIRES = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,9})?")
_SPACE = re.compile(r"\s")


def read_netscape(text: str, domain: str) -> ParsedCookies:
    """Read a Netscape ``cookies.txt`` (curl, browser export extensions).

    Raises:
        Unusable: no line at all looks like a cookie and there is no
            ``# Netscape HTTP Cookie File`` header.
    """
    clean, order, total, problems, has_magic = _prevalidate(not_empty(text), domain)
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
        kind=KIND,
        entries=tuple(entry for _, entry in cookies),
        total=total,
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


def rewrite_netscape(
    text: str, site: str, winners: Mapping[str, CookieEntry], cookies: Mapping[str, str]
) -> str:
    """The file with the site's cookies set to ``cookies``; every other line kept as it was.

    Args:
        text: The file as it is.
        site: The site.
        winners: The cookies the file gives now, by name (the lines to change).
        cookies: Every cookie of the site as it should now be; the names
            missing from it are removed, new ones appended as session cookies.
    """
    deleted = set(winners) - set(cookies)
    written: set[str] = set()
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        parsed = _fields(line)
        if parsed is None or len(parsed[1]) != _FIELDS:
            out.append(raw)
            continue
        prefix, fields = parsed
        domain, path, name = fields[0].strip().lower(), fields[2].strip() or "/", fields[5]
        if not domain_matches(domain, site):
            out.append(raw)
        elif name in deleted:
            continue  # every line of a deleted name goes, so that none comes back
        elif name in cookies and is_winner(winners.get(name), domain, path, name):
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


def _prevalidate(
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
        if not has_magic and _MAGIC.match(line):
            has_magic = True
        split = _fields(line)
        if split is None:
            continue  # a comment or a blank line, as MozillaCookieJar reads them
        prefix, fields = split
        try:
            if len(fields) != _FIELDS:
                hint = " (were tabs replaced by spaces?)" if len(fields) == 1 else ""
                raise Unusable(
                    f"expected {_FIELDS} tab-separated fields, found {len(fields)}{hint}"
                )
            domain, _, path, secure, expires, name, value = fields
            domain = domain.strip().lower()  # as the jar stores it
            if not domain or domain.startswith(("#", "$")) or _SPACE.search(domain):
                raise Unusable("invalid domain field")
            if not domain_matches(domain, site):
                total += 1
                continue
            expires = _expires(expires.strip())
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


def _fields(line: str) -> tuple[str, list[str]] | None:
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
    temporary file here: file I/O in a parser that takes text, a writable
    temporary directory, a file that cannot be reopened while open on Windows,
    and ``load()`` opens the file with the locale's encoding rather than UTF-8.
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


def _expires(expires: str) -> str:
    if expires in ("", "0"):
        return ""  # a session cookie
    if not _EXPIRES.fullmatch(expires):
        raise Unusable("the expiry field is not a number of seconds")
    return str(int(float(expires)))
