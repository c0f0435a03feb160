"""`FileCookieSource`: cookies exported from the browser into a file, or a folder of files.

Reads Netscape ``cookies.txt``, Cookie-Editor JSON, HAR exports and credentials
bundles (told apart by their content: `_formats`), or every ``.har``, ``.json``
and ``.txt`` file of a folder. Files are opened by `aichat_adapters._files`:
regular files only, without ever blocking on a FIFO or a device; this module
says why a file gives no cookies. With ``write_back=True`` the cookies the site
rotates are saved to the file, in its own format.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import ClassVar

import attrs

from aichat_adapters._files import (
    FileTooLargeError,
    NotRegularFileError,
    read_regular,
    write_atomically,
)
from aichat_adapters.cookies._formats import decode, read_cookie_text, render_bundle, rewrite
from aichat_adapters.cookies._select import (
    CLEARANCE_COOKIES,
    DEFAULT_DOMAIN,
    BoundTo,
    CookieEntry,
    ParsedCookies,
    Unusable,
    check_domain,
    checked,
    credentials_from,
    expired_entries,
    log_found,
    logger,
    not_found,
    select_entries,
)
from aichat_core import AichatError, Credentials, InvalidRequestError

__all__ = [
    "COOKIES_FILE_VARIABLE",
    "CREDENTIALS_FILE_NAME",
    "DEFAULT_COOKIES_FILE",
    "FOLDER_SUFFIXES",
    "MAX_COOKIES_FILE_SIZE",
    "MAX_HAR_FILE_SIZE",
    "FileCookieSource",
    "default_credentials_path",
    "load_bundle",
    "read_cookie_text",  # the one parse this source calls (a test counts parses through it)
    "write_bundle",
]

#: The variable that overrides `FileCookieSource`'s default path (a file or a folder).
COOKIES_FILE_VARIABLE = "AICHAT_COOKIES_FILE"
#: `FileCookieSource`'s default path when ``AICHAT_COOKIES_FILE`` is unset.
DEFAULT_COOKIES_FILE = "~/.config/aichat/cookies.txt"
#: A cookies file larger than this is refused (a browser's whole jar is a few MB).
MAX_COOKIES_FILE_SIZE = 16 * 1024 * 1024
#: The limit for a ``.har`` file, which also holds the pages it recorded.
MAX_HAR_FILE_SIZE = 64 * 1024 * 1024
#: The files a folder path reads; any other file in it is ignored.
FOLDER_SUFFIXES = (".har", ".json", ".txt")
#: The bundle ``aichat login`` writes, in the folder of the default cookies file.
CREDENTIALS_FILE_NAME = "credentials.json"

_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_PRIVATE = 0o077  # group and others: ssh refuses a key they can access
_MAX_REASONS_SHOWN = 3

_CacheKey = tuple[int, int, int, int]
_Cached = tuple[_CacheKey, "ParsedCookies | str"]
_Selection = tuple[dict[str, CookieEntry], BoundTo]


def default_credentials_path() -> Path:
    """Where ``aichat login`` saves the bundle and the default chain looks for it.

    ``credentials.json`` in the folder of the default cookies file
    (``~/.config/aichat/``), or in ``$AICHAT_COOKIES_FILE`` itself when it
    names a folder, or beside it when it names a file.
    """
    from_env = os.environ.get(COOKIES_FILE_VARIABLE, "").strip()
    cookies = _expand(Path(from_env or DEFAULT_COOKIES_FILE))
    try:
        is_folder = stat.S_ISDIR(cookies.stat().st_mode)
    except OSError:
        is_folder = False
    return (cookies if is_folder else cookies.parent) / CREDENTIALS_FILE_NAME


def load_bundle(path: Path, domain: str) -> _Selection:
    """Read a bundle (or any cookies file) now, with no cache: the site's cookies and what
    they are bound to.

    Raises:
        Unusable: missing, not a regular file, malformed, or no unexpired cookie.
    """
    try:
        data, _ = _read_file(path, MAX_COOKIES_FILE_SIZE)
    except OSError as exc:
        raise Unusable(_os_reason(exc)) from None
    parsed = read_cookie_text(decode(data)[0], domain)
    return select_entries(parsed, domain, _now()), parsed.bound


def write_bundle(path: Path, entries: Iterable[CookieEntry], bound: BoundTo) -> None:
    """Write a bundle file atomically, ``0600``; a missing folder is made ``0700``.

    Raises:
        OSError: the folder cannot be made or written.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(path, [render_bundle(entries, bound).encode()])


def _optional_path(path: str | os.PathLike[str] | None) -> Path | None:
    if path is None:
        return None
    if isinstance(path, str) and not path.strip():
        raise InvalidRequestError("the cookies file path is empty")
    try:
        return _expand(Path(path))
    except TypeError:
        raise InvalidRequestError(
            f"the cookies file path must be text or a path, not {type(path).__name__}"
        ) from None


def _expand(path: Path) -> Path:
    """``~`` expanded; left as it is when there is no home directory (reported on use)."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


def _check_write_back(source: FileCookieSource, _: object, write_back: object) -> None:
    if not isinstance(write_back, bool):
        raise InvalidRequestError(f"write_back must be True or False, not {write_back!r}")
    if not write_back or source.path is None:
        return
    if source.path.suffix.lower() == ".har":
        raise InvalidRequestError(
            f"write_back=True cannot rewrite a HAR export ({source.path}); export the "
            "cookies as cookies.txt or Cookie-Editor JSON to have rotated cookies saved"
        )
    try:
        is_folder = stat.S_ISDIR(source.path.stat().st_mode)
    except OSError:  # missing or unreadable: found out when it is read
        is_folder = False
    if is_folder:
        raise InvalidRequestError(
            f"write_back=True needs a file, and {source.path} is a folder; give the "
            "path of a cookies.txt or Cookie-Editor JSON file to have rotated cookies saved"
        )


@attrs.define
class _State:
    """What a source keeps between calls: the parses by path, and a lock for saving.

    Each value holds a file's stat key and its parse (or failure reason)
    together, so threads sharing the source never see a key with another
    file's result.
    """

    parsed: dict[str, _Cached] = attrs.Factory(dict)
    saving: threading.Lock = attrs.Factory(threading.Lock)


@attrs.frozen
class FileCookieSource:
    """Cookies exported from the browser into a file (or a folder), for one site.

    Reads a Netscape ``cookies.txt``, a Cookie-Editor JSON export, a HAR
    export (DevTools, Firefox, Charles) or a credentials bundle (written by
    ``aichat login``), told apart by the content. A folder path reads every
    ``.har``, ``.json`` and ``.txt`` file in it (not its subfolders); for
    each cookie name the newest file wins. Keeps unexpired cookies of
    ``domain`` and its subdomains. `get_credentials` also gives the
    User-Agent the cookies are bound to (a bundle's, or a HAR's request header).

    A parse is cached until the file's inode, size or modification time
    changes; `refresh_cookies` reads again regardless. Only regular files are
    read (a FIFO, a device or a socket is refused without being opened), and
    a file that other users may read is reported with a warning on the
    ``aichat`` logger, as ssh does.

    Attributes:
        path: The file or folder. By default ``$AICHAT_COOKIES_FILE`` if set,
            else ``~/.config/aichat/cookies.txt``, looked up at each call.
        domain: The site whose cookies are selected (a host name or an IP address).
        write_back: Save the cookies the site rotates (see `save_cookies`).

    Raises:
        InvalidRequestError: ``path`` or ``domain`` is malformed, or
            ``write_back=True`` with a HAR file or a folder.
    """

    path: Path | None = attrs.field(default=None, converter=_optional_path)
    domain: str = attrs.field(default=DEFAULT_DOMAIN, converter=check_domain, kw_only=True)
    write_back: bool = attrs.field(default=False, kw_only=True, validator=_check_write_back)
    _state: _State = attrs.field(factory=_State, init=False, repr=False, eq=False)
    #: Reading files blocks: the async client calls this source in a worker thread.
    blocking: ClassVar[bool] = True

    def describe(self) -> str:
        """The label used in errors and logs, e.g. ``file /home/u/.config/aichat/cookies.txt``."""
        return f"file {self._resolve()[0]}"

    def get_cookies(self) -> dict[str, str]:
        """Return the site's cookies from the file (or the cached parse).

        Raises:
            CookiesNotFoundError: the file is missing, unreadable, not a
                regular file, malformed, or holds no unexpired cookie of the domain.
        """
        return self._cookies(refresh=False)

    def refresh_cookies(self) -> dict[str, str]:
        """Read the file again, even if it looks unchanged, and return the site's cookies.

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self._cookies(refresh=True)

    def get_credentials(self) -> Credentials:
        """Return the site's cookies with what they are bound to.

        A bundle gives its ``user_agent``, ``headers``, ``obtained_at`` and
        ``proxy``; a HAR export the ``User-Agent`` its latest request to the
        site sent; Netscape and Cookie-Editor files give the cookies alone.
        ``expires`` holds the expiry of the clearance (``cf_clearance``),
        when the file has it. In a folder, the newest file that says what
        its cookies are bound to gives the User-Agent.

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self._credentials(refresh=False)

    def refresh_credentials(self) -> Credentials:
        """Read the file again, even if it looks unchanged, and return `get_credentials`'s value.

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self._credentials(refresh=True)

    def get_entries(self) -> dict[str, CookieEntry]:
        """The cookies `get_cookies` gives, by name, with their domain, path and expiry.

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        path, origin = self._resolve()
        try:
            return self._select(path, origin, refresh=False)
        except Unusable as exc:
            raise not_found(f"file {path}", exc.reason) from None

    def get_expired(self) -> dict[str, float]:
        """The site's cookies left out because they expired, by name, with when (epoch seconds).

        Only the names no unexpired cookie gives: what the site will miss.
        Nothing is raised: a file that gives no cookies at all has its reason
        in `get_cookies`'s error instead.
        """
        path, origin = self._resolve()
        try:
            kept = self._select(path, origin, refresh=False)
            status = path.stat()
            if stat.S_ISDIR(status.st_mode):
                listed = self._folder_parses(path, refresh=False)
                parses = [parsed for _, _, parsed in listed if not isinstance(parsed, str)]
            else:
                parses = [self._parsed(path, status, refresh=False)]
        except (Unusable, OSError):
            return {}
        now = _now()
        expired: dict[str, float] = {}
        for parsed in parses:
            for name, when in expired_entries(parsed, now).items():
                if name not in kept:
                    expired[name] = max(when, expired.get(name, when))
        return expired

    def save_cookies(self, cookies: Mapping[str, str]) -> None:
        """Save the site's cookies, as the client now holds them, to the file.

        Does nothing unless ``write_back=True``. The file keeps its format
        (Netscape stays Netscape, Cookie-Editor JSON stays JSON) and every
        line or entry of other sites; the site's cookies get their new
        values, new ones are added and the ones missing from ``cookies`` are
        removed. The file is replaced atomically (a temporary file in the same
        folder, mode 0600, then `os.replace`). Never raises: a failure (a
        read-only folder, a HAR file) is logged as a warning.

        Args:
            cookies: Every cookie of the site, by name.
        """
        if not self.write_back:
            return
        path, _ = self._resolve()
        try:
            with self._state.saving:
                self._save(path, cookies)
        except Exception as exc:
            logger.warning("rotated cookies not saved to %s: %s", path, _reason(exc))

    def _cookies(self, *, refresh: bool) -> dict[str, str]:
        path, origin = self._resolve()
        try:
            entries = self._select(path, origin, refresh=refresh)
        except Unusable as exc:
            raise not_found(f"file {path}", exc.reason) from None
        cookies = {name: entry.value for name, entry in entries.items()}
        log_found(f"file {path}", cookies)
        return cookies

    def _credentials(self, *, refresh: bool) -> Credentials:
        path, origin = self._resolve()
        try:
            entries, bound = self._selection(path, origin, refresh=refresh)
        except Unusable as exc:
            raise not_found(f"file {path}", exc.reason) from None
        credentials = credentials_from(entries, bound, CLEARANCE_COOKIES)
        log_found(f"file {path}", credentials.cookies)
        return credentials

    def _resolve(self) -> tuple[Path, str]:
        """The path to read now, and where it came from (for messages)."""
        if self.path is not None:
            return self.path, ""
        from_env = os.environ.get(COOKIES_FILE_VARIABLE, "").strip()
        if from_env:
            return _expand(Path(from_env)), f" (path from {COOKIES_FILE_VARIABLE})"
        return _expand(Path(DEFAULT_COOKIES_FILE)), ""

    def _select(self, path: Path, origin: str, *, refresh: bool) -> dict[str, CookieEntry]:
        return self._selection(path, origin, refresh=refresh)[0]

    def _selection(self, path: Path, origin: str, *, refresh: bool) -> _Selection:
        """The cookies to send, and what they are bound to."""
        if path.parts and path.parts[0].startswith("~"):
            raise Unusable("cannot expand '~': the home directory is unknown (set HOME)")
        try:
            status = path.stat()
            if stat.S_ISDIR(status.st_mode):
                return self._select_folder(path, refresh=refresh)
            parsed = self._parsed(path, status, refresh=refresh)
        except OSError as exc:
            raise Unusable(_os_reason(exc) + origin) from None
        return select_entries(parsed, self.domain, _now()), parsed.bound

    def _parsed(self, path: Path, status: os.stat_result, *, refresh: bool) -> ParsedCookies:
        """The file's parse, from the cache while its stat is unchanged.

        Raises:
            Unusable: not a regular file, or nothing usable in it (cached too).
            OSError: it cannot be opened or read.
        """
        _refuse_special(status.st_mode)
        cached = self._state.parsed.get(str(path))
        if refresh or cached is None or cached[0] != _key(status):
            cached = self._read(path, status)
            self._state.parsed[str(path)] = cached
        result = cached[1]
        if isinstance(result, str):
            raise Unusable(result)
        return result

    def _read(self, path: Path, seen: os.stat_result) -> _Cached:
        """Open, check and parse the file; a content problem gives its reason (cached).

        The result is keyed on ``seen``, the stat() the cache was checked with.
        """
        limit = MAX_HAR_FILE_SIZE if path.suffix.lower() == ".har" else MAX_COOKIES_FILE_SIZE
        try:
            data, status = _read_file(path, limit)
        except Unusable as exc:
            hint = "; clear the Network panel, reload the page only, and export again"
            return _key(seen), exc.reason + (hint if limit == MAX_HAR_FILE_SIZE else "")
        if os.name == "posix" and status.st_mode & _PRIVATE:
            logger.warning(
                "cookies file %s is accessible by other users (mode %03o); they can read "
                "your session: run chmod 600 %s",
                path,
                stat.S_IMODE(status.st_mode),
                path,
            )
        try:
            text, _ = decode(data)
            parsed = read_cookie_text(text, self.domain)
        except Unusable as exc:
            return _key(status), exc.reason
        if parsed.problems:
            logger.debug(
                "cookies file %s: skipped %d malformed entries", path, len(parsed.problems)
            )
        return _key(status), parsed

    def _folder_files(self, folder: Path) -> list[Path]:
        """The cookie files of a folder, by name.

        Raises:
            Unusable: it cannot be listed, or holds no cookie file.
        """
        try:
            with os.scandir(folder) as listing:
                files = sorted(
                    Path(entry.path)
                    for entry in listing
                    if entry.name.lower().endswith(FOLDER_SUFFIXES)
                )
        except OSError as exc:
            raise Unusable(f"cannot list this folder ({_os_reason(exc)})") from None
        if not files:
            raise Unusable("a folder with no .har, .json or .txt file in it")
        return files

    def _folder_parses(
        self, folder: Path, *, refresh: bool
    ) -> list[tuple[Path, int, ParsedCookies | str]]:
        """Each cookie file of the folder, by name: its mtime and its parse (or why none)."""
        files = self._folder_files(folder)
        parses: list[tuple[Path, int, ParsedCookies | str]] = []
        for file in files:
            try:
                status = file.stat()
                parses.append(
                    (file, status.st_mtime_ns, self._parsed(file, status, refresh=refresh))
                )
            except Unusable as exc:
                parses.append((file, 0, exc.reason))
            except OSError as exc:
                parses.append((file, 0, _os_reason(exc)))
        self._forget_others(folder, files)
        return parses

    def _select_folder(self, folder: Path, *, refresh: bool) -> _Selection:
        """Every cookie file of the folder, merged: for each name, the newest file wins.

        The newest file that says what its cookies are bound to gives that.
        """
        parses = self._folder_parses(folder, refresh=refresh)
        found: list[tuple[int, str, dict[str, CookieEntry], BoundTo]] = []
        reasons: list[str] = []
        for file, mtime, parsed in parses:
            try:
                if isinstance(parsed, str):
                    raise Unusable(parsed)
                entries = select_entries(parsed, self.domain, _now())
            except Unusable as exc:
                reasons.append(f"{file.name}: {exc.reason}")
            else:
                found.append((mtime, file.name, entries, parsed.bound))
        merged: dict[str, CookieEntry] = {}
        bound = BoundTo()
        for _, _, entries, file_bound in sorted(found, key=lambda item: item[:2]):
            merged.update(entries)  # oldest first: a newer file's cookie replaces it
            if file_bound != BoundTo():
                bound = file_bound
        if not merged:
            shown = "; ".join(reasons[:_MAX_REASONS_SHOWN])
            more = len(reasons) - _MAX_REASONS_SHOWN
            raise Unusable(
                f"no usable cookie of {self.domain} in the {len(parses)} files of this folder "
                f"({shown}{f'; and {more} more' if more > 0 else ''})"
            )
        return merged, bound

    def _forget_others(self, folder: Path, files: list[Path]) -> None:
        """Drop the cached parses of files no longer in the folder."""
        current = {str(file) for file in files}
        for key in list(self._state.parsed):
            if Path(key).parent == folder and key not in current:
                self._state.parsed.pop(key, None)

    def _save(self, path: Path, cookies: Mapping[str, str]) -> None:
        if not isinstance(cookies, Mapping):
            raise Unusable(f"save_cookies() takes a mapping, not {type(cookies).__name__}")
        cookies = checked(cookies)
        target = path.resolve()
        try:
            status = target.stat()
        except FileNotFoundError:
            data, encoding = None, "utf-8"
        else:
            if stat.S_ISDIR(status.st_mode):
                raise Unusable("write-back needs a file, and this is a folder")
            data, _ = _read_file(target, MAX_COOKIES_FILE_SIZE)
        text, encoding = ("", "utf-8") if data is None else decode(data)
        winners = self._winners(text) if text.strip() else {}
        new_text = rewrite(text, self.domain, winners, cookies)
        if new_text == text:
            return
        write_atomically(target, [new_text.encode(encoding)])
        logger.debug("saved %d cookies to %s: %s", len(cookies), target, list(cookies))

    def _winners(self, text: str) -> dict[str, CookieEntry]:
        """The cookies the file gives now, to tell which lines to change."""
        parsed = read_cookie_text(text, self.domain)
        try:
            return select_entries(parsed, self.domain, _now())
        except Unusable:  # all expired: the site's cookies are all new
            return {}

    def __repr__(self) -> str:
        path = None if self.path is None else str(self.path)
        write_back = ", write_back=True" if self.write_back else ""
        return f"FileCookieSource(path={path!r}, domain={self.domain!r}{write_back})"


def _refuse_special(mode: int) -> None:
    """Raise `Unusable` for anything but a regular file or a folder (``mode``: an ``st_mode``)."""
    for test, kind in _SPECIAL:
        if test(mode):
            raise Unusable(f"is {kind}, not a regular file; give the path of an exported file")


def _read_file(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """`read_regular` with this source's reasons: a special file or one too large is `Unusable`.

    The path was checked with stat() before; the shared reader opens it
    without blocking, and checks what was really opened.

    Raises:
        Unusable: what was opened is a FIFO, a device or a socket, or is over ``limit`` bytes.
        OSError: it cannot be opened or read (a folder is ``IsADirectoryError``).
    """
    try:
        return read_regular(path, limit)
    except NotRegularFileError as exc:
        if stat.S_ISDIR(exc.mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path)) from None
        _refuse_special(exc.mode)
        raise  # pragma: no cover - no other kind of file is opened
    except FileTooLargeError as exc:
        raise Unusable(_too_large(exc.size, exc.limit)) from None


def _too_large(size: int, limit: int) -> str:
    return f"{size} bytes is too large for a cookies file (the limit is {limit})"


def _key(status: os.stat_result) -> _CacheKey:
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read it ({exc.strerror or type(exc).__name__})"


def _reason(exc: Exception) -> str:
    """Why a save failed, with no value in it."""
    if isinstance(exc, Unusable):
        return exc.reason
    if isinstance(exc, AichatError):
        return exc.message
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__} ({type(exc).__name__})"
    return type(exc).__name__


def _now() -> float:
    return time.time()
