"""`BrowserCookieSource`: the site's cookies read from a browser profile, via rookiepy.

rookiepy comes with the ``browser`` extra and is imported on first use. A read
decrypts a database (and may ask the system keyring), so it is cached for a
few minutes; `refresh_cookies` reads again.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

import attrs

from aichat_adapters._extras import install_hint
from aichat_adapters.cookies._select import (
    DEFAULT_DOMAIN,
    CookieEntry,
    ParsedCookies,
    Unusable,
    check_domain,
    logger,
    plural,
    select_entries,
)
from aichat_core import CookiesNotFoundError, InvalidRequestError, domain_matches

__all__ = ["BROWSERS", "DEFAULT_CACHE_TTL", "BrowserCookieSource"]


_Database = Literal["chromium", "firefox", "safari"]

# Browser name -> (rookiepy function, kind of cookie database). The order is the order
# in which the source tries them when no browser is named.
_BROWSERS: Final[Mapping[str, tuple[str, _Database]]] = {
    "chrome": ("chrome", "chromium"),
    "firefox": ("firefox", "firefox"),
    "edge": ("edge", "chromium"),
    "brave": ("brave", "chromium"),
    "chromium": ("chromium", "chromium"),
    "opera": ("opera", "chromium"),
    "opera_gx": ("opera_gx", "chromium"),
    "vivaldi": ("vivaldi", "chromium"),
    "librewolf": ("librewolf", "firefox"),
    "arc": ("arc", "chromium"),
    "safari": ("safari", "safari"),
}

BROWSERS: Final[tuple[str, ...]] = tuple(_BROWSERS)
"""Every browser name `BrowserCookieSource` accepts, in the order it tries them."""

# Firefox 142 and later store ``expiry`` in milliseconds and rookiepy passes the
# number through. A date in seconds stays below this (an HTTP date ends at the
# year 9999, 2.5e11 s); a date in milliseconds after 2001 is above it.
_MILLISECONDS_FROM: Final = 10**12

#: How long, in seconds, `BrowserCookieSource` reuses what it read.
DEFAULT_CACHE_TTL: Final = 300.0


class _Unreadable(Exception):
    """A browser or file gave nothing; the message is the reason (never a value)."""


def _check_browser(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"browser must be a name such as 'chrome', not {value!r}")
    name = re.sub(r"[\s-]+", "_", value.strip().lower())
    if name not in _BROWSERS:
        raise InvalidRequestError(
            f"unknown browser {value!r}; supported: {', '.join(BROWSERS)} (or None to try them all)"
        )
    return name


def _check_ttl(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidRequestError(
            f"cache_ttl must be a number of seconds >= 0 (0: no cache), not {value!r}"
        )
    return float(value)


@attrs.define
class _Cache:
    """The last cookies read and when they go stale; the lock makes one read at a time."""

    cookies: dict[str, str] | None = None
    until: float = 0.0
    lock: threading.Lock = attrs.Factory(threading.Lock)


def _to_path(value: str | os.PathLike[str] | None) -> Path | None:
    if value is None:
        return None
    try:
        return Path(value).expanduser()
    except TypeError:
        raise InvalidRequestError(
            f"cookie_file must be a path, not {type(value).__name__}"
        ) from None


@attrs.frozen
class BrowserCookieSource:
    """Reads the site's cookies from a browser profile on this machine, via rookiepy.

    Needs the ``browser`` extra (rookiepy); without it, `get_cookies()` says
    how to install it. rookiepy is imported on the first `get_cookies()` call, not before.

    Attributes:
        browser: One of [`BROWSERS`][aichat_adapters.cookies.BROWSERS]
            (``"chrome"``, ``"firefox"``, ...).
            ``None`` tries them all in that order; the first with cookies for
            the domain wins (cookies from several browsers are never merged).
        cookie_file: A profile's cookie database to read instead of looking
            for one: Firefox's ``cookies.sqlite`` or Chrome's ``Cookies``
            (``~`` is expanded). ``browser`` then says which kind it is;
            ``None`` detects it from the tables.
        domain: The site. Kept: cookies of this domain or its subdomains that
            have not expired.
        cache_ttl: Seconds during which the cookies read are given again
            without reading the profile (300 by default; 0: read at every call).

    Raises:
        InvalidRequestError: At construction, for an unknown browser name, a
            bad domain, or ``cookie_file`` with ``browser="safari"``.
    """

    #: Reading a profile blocks (disk, keyring): async callers use a worker thread.
    blocking: ClassVar[bool] = True

    browser: str | None = attrs.field(default=None, converter=_check_browser)
    cookie_file: Path | None = attrs.field(default=None, converter=_to_path)
    domain: str = attrs.field(default=DEFAULT_DOMAIN, converter=check_domain)
    cache_ttl: float = attrs.field(default=DEFAULT_CACHE_TTL, converter=_check_ttl, kw_only=True)
    _cache: _Cache = attrs.field(factory=_Cache, init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.cookie_file is not None and self.browser == "safari":
            raise InvalidRequestError(
                "cookie_file can be read as a Firefox- or Chromium-family database; "
                "for Safari leave cookie_file unset"
            )

    def describe(self) -> str:
        """The label used in errors and logs, e.g. ``browser firefox``."""
        if self.cookie_file is not None:
            return f"browser cookie file {self.cookie_file}"
        return f"browser {self.browser}" if self.browser else "browsers"

    def get_cookies(self) -> dict[str, str]:
        """Return the site's cookies from the first browser that has some.

        What was read is given again for ``cache_ttl`` seconds; a failure is
        not cached.

        Raises:
            CookiesNotFoundError: rookiepy is missing, or no browser (or the
                file) gave a cookie for the domain; ``.tried`` says why for each.
        """
        return self._cookies(refresh=False)

    def refresh_cookies(self) -> dict[str, str]:
        """Read the profile again, whatever the cache holds.

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self._cookies(refresh=True)

    def _cookies(self, *, refresh: bool) -> dict[str, str]:
        cache = self._cache
        with cache.lock:  # calls that arrive during a read wait for it, then share it
            if not refresh and cache.cookies is not None and _clock() < cache.until:
                return dict(cache.cookies)
            cookies = self._read()
            cache.cookies, cache.until = cookies, _clock() + self.cache_ttl
            return dict(cookies)

    def _read(self) -> dict[str, str]:
        rookiepy = _import_rookiepy()
        domains = [self.domain]
        if self.cookie_file is not None:
            path = self.cookie_file
            attempts: Iterable[tuple[str, Callable[[], object]]] = [
                (f"cookie file {path}", lambda: self._read_file(rookiepy, path))
            ]
        else:
            attempts = self._browser_attempts(rookiepy, domains)
        tried: list[tuple[str, str]] = []
        for source, read in attempts:
            try:
                cookies = self._select(_call_rookiepy(read))
            except _Unreadable as exc:
                reason = str(exc)
            else:
                logger.debug(
                    "browser cookies: %s gave %d cookie(s) for %s: %s",
                    source,
                    len(cookies),
                    self.domain,
                    ", ".join(sorted(cookies)),
                )
                return cookies
            logger.debug("browser cookies: %s gave none: %s", source, reason)
            tried.append((source, reason))
        raise CookiesNotFoundError.from_tried(tuple(tried))

    def _browser_attempts(
        self, rookiepy: Any, domains: list[str]
    ) -> Iterable[tuple[str, Callable[[], object]]]:
        names = [self.browser] if self.browser is not None else BROWSERS
        for name in names:
            function_name = _BROWSERS[name][0]
            function = getattr(rookiepy, function_name, None)
            if not callable(function):
                if self.browser is None:
                    continue  # not a browser of this operating system
                yield name, _fail(f"rookiepy has no reader for {name} on {sys.platform}")
                continue
            yield name, _bind(function, domains)

    def _read_file(self, rookiepy: Any, path: Path) -> object:
        if not path.exists():
            raise _Unreadable("file not found")
        if not path.is_file():
            raise _Unreadable("not a file")
        database = _detect_database(path)
        if self.browser is not None and _BROWSERS[self.browser][1] != database:
            raise _Unreadable(
                f"this is a {database.capitalize()}-family cookie database, not "
                f"{self.browser}'s; pass the matching browser or browser=None"
            )
        domains = [self.domain]
        if database == "firefox":
            return rookiepy.firefox_based(str(path), domains)
        if sys.platform == "win32":  # pragma: no cover - Windows only
            local_state = _find_local_state(path)
            if local_state is None:
                raise _Unreadable(
                    "no 'Local State' file found in the folders above it; "
                    "on Windows it holds the key that decrypts the cookies"
                )
            return rookiepy.chromium_based(str(local_state), str(path), domains)
        return rookiepy.chromium_based(str(path), domains)

    def _select(self, raw: object) -> dict[str, str]:
        """Keep unexpired cookies of the domain, one per name, by the file source's rules.

        Raises:
            _Unreadable: no cookie of the domain, or only expired ones.
        """
        if not isinstance(raw, list):
            raise _Unreadable(f"rookiepy returned {type(raw).__name__}, not a list")
        entries = []
        for item in raw:
            if not isinstance(item, Mapping):
                continue
            domain, name, value = item.get("domain"), item.get("name"), item.get("value")
            if not (isinstance(domain, str) and isinstance(name, str) and isinstance(value, str)):
                continue
            if name and domain_matches(domain, self.domain):
                path = item.get("path")
                expires = _expiry_seconds(item.get("expires"))
                entries.append(
                    CookieEntry(name, value, domain, path if isinstance(path, str) else "", expires)
                )
        parsed = ParsedCookies("browser profile", tuple(entries), total=len(raw), problems=())
        try:
            selected = select_entries(parsed, self.domain, time.time())
        except Unusable:
            if not entries:
                raise _Unreadable(f"no cookies for {self.domain}") from None
            count = len(entries)
            raise _Unreadable(
                f"only expired cookies for {self.domain} ({count} "
                f"{plural(count, 'cookie')}); open the site in this browser to renew them"
            ) from None
        return {name: entry.value for name, entry in selected.items()}


def _clock() -> float:
    return time.monotonic()


def _import_rookiepy() -> Any:
    # Typed as Any: rookiepy's stub gets some signatures wrong (firefox_based
    # takes (db_path, domains), not a key path first), so this module calls
    # only what it checked against the installed binary.
    try:
        return importlib.import_module("rookiepy")
    except ImportError as exc:
        raise CookiesNotFoundError.from_tried(
            (("browser", f"rookiepy is not installed ({exc}); run: {install_hint('browser')}"),)
        ) from None


def _bind(function: Callable[..., object], domains: list[str]) -> Callable[[], object]:
    return lambda: function(domains)


def _fail(reason: str) -> Callable[[], object]:
    def read() -> object:
        raise _Unreadable(reason)

    return read


def _call_rookiepy(read: Callable[[], object]) -> object:
    """Run a rookiepy read, turning every failure of it into `_Unreadable`."""
    try:
        return read()
    except _Unreadable:
        raise
    except Exception as exc:
        raise _Unreadable(_describe(exc)) from None
    except BaseException as exc:
        # A panic in rookie's Rust code arrives as pyo3's PanicException, a
        # BaseException; anything else (KeyboardInterrupt...) goes through.
        if type(exc).__name__ != "PanicException":
            raise
        raise _Unreadable(f"rookiepy crashed reading it ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    """rookie's error text on one line: the message and its causes, without the location."""
    parts: list[str] = []
    for raw_line in str(exc).splitlines():
        line = raw_line.strip()
        if line.startswith("Location:"):
            break
        line = re.sub(r"^\d+: ", "", line)
        if line and line != "Caused by:":
            parts.append(line)
    text = ": ".join(parts) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _describe(exc: Exception) -> str:
    """A short reason for a rookiepy failure; rookie's errors carry no cookie values."""
    detail = _first_line(exc)
    text = detail.lower()
    if isinstance(exc, PermissionError) or "permission denied" in text or "os error 13" in text:
        return f"permission denied reading its profile ({detail})"
    if "find cookies file" in text or "find any profile" in text:
        return "no profile found"
    if "decrypt" in text or "appbound" in text or "keychain" in text:
        return f"decryption error ({detail})"
    if text.startswith("canonicalize"):
        return f"incomplete profile: no 'Local State' file beside it ({detail})"
    if isinstance(exc, FileNotFoundError) or "no such file" in text:
        return f"cookie database not found ({detail})"
    if "database is locked" in text or "not a database" in text or "no such table" in text:
        return f"cannot read the cookie database ({detail})"
    return f"rookiepy failed: {type(exc).__name__}: {detail}"


def _expiry_seconds(expires: object) -> float | None:
    """Unix seconds, or ``None`` for a session cookie (rookiepy gives None or 0)."""
    if isinstance(expires, bool) or not isinstance(expires, (int, float)) or expires <= 0:
        return None
    if expires >= _MILLISECONDS_FROM:
        return expires / 1000
    return float(expires)


def _detect_database(path: Path) -> _Database:
    """Which kind of browser (Chromium or Firefox) wrote this database, by its tables."""
    import sqlite3  # only a cookie_file needs it

    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except (sqlite3.Error, OSError) as exc:
        raise _Unreadable(f"not a readable SQLite database ({_first_line(exc)})") from None
    if "moz_cookies" in tables:
        return "firefox"
    if "cookies" in tables:
        return "chromium"
    raise _Unreadable(
        "neither a Firefox (moz_cookies table) nor a Chromium (cookies table) cookie database"
    )


def _find_local_state(cookie_file: Path) -> Path | None:  # pragma: no cover - Windows only
    # ...\User Data\Default\Network\Cookies -> ...\User Data\Local State
    for folder in list(cookie_file.resolve().parents)[:3]:
        candidate = folder / "Local State"
        if candidate.is_file():
            return candidate
    return None
