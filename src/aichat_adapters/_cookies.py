"""Cookie sources: where the site's cookies come from.

Each source is a small frozen object with ``get_cookies()``, which returns a
non-empty ``dict`` or raises :class:`~aichat_core.CookiesNotFoundError` whose
``tried`` says which source gave nothing and why. No cookie value ever
appears in a repr, an error message or a log line: only cookie names do.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import ClassVar

import attrs

from aichat_adapters._cookie_files import (
    DEFAULT_DOMAIN,
    CookieEntry,
    CookieFileError,
    ParsedCookies,
    check_domain,
    decode_cookie_file,
    parse_cookie_editor_json,
    parse_netscape_cookies,
    read_cookie_text,
    select_entries,
)
from aichat_core import (
    AichatError,
    CookiesNotFoundError,
    CookieSource,
    InvalidRequestError,
    format_cookie_header,
    parse_cookie_header,
)

__all__ = [
    "ChainCookieSource",
    "EnvCookieSource",
    "FileCookieSource",
    "StaticCookieSource",
    "default_cookie_source",
    "parse_cookie_editor_json",
    "parse_netscape_cookies",
]

logger = logging.getLogger("aichat")

#: The variable :class:`EnvCookieSource` reads by default.
COOKIES_VARIABLE = "AICHAT_COOKIES"
#: The variable that overrides :class:`FileCookieSource`'s default path.
COOKIES_FILE_VARIABLE = "AICHAT_COOKIES_FILE"
#: :class:`FileCookieSource`'s default path when ``AICHAT_COOKIES_FILE`` is unset.
DEFAULT_COOKIES_FILE = "~/.config/aichat/cookies.txt"
# A cookies file larger than this is not one (a browser's whole jar is a few MB).
MAX_COOKIES_FILE_SIZE = 16 * 1024 * 1024


def _log_found(label: str, cookies: Mapping[str, str]) -> None:
    logger.debug("cookies from %s: %s", label, list(cookies))  # names only, never values


def _not_found(label: str, reason: str) -> CookiesNotFoundError:
    return CookiesNotFoundError.from_tried(((label, reason),))


def _checked(cookies: Mapping[str, str]) -> dict[str, str]:
    """A plain dict of the cookies, every name and value checked as a header needs."""
    format_cookie_header(cookies)  # raises InvalidRequestError naming the cookie, not its value
    return dict(cookies)


# --------------------------------------------------------------------------- static


def _static_pairs(cookies: Mapping[str, str] | str) -> tuple[tuple[str, str], ...]:
    if isinstance(cookies, str):
        parsed = parse_cookie_header(cookies)
    elif isinstance(cookies, Mapping):
        parsed = _checked(cookies)
    else:
        raise InvalidRequestError(
            "cookies must be a mapping of names to values or a "
            f'"name=value; other=value2" string, not {type(cookies).__name__}'
        )
    if not parsed:
        raise InvalidRequestError("cookies is empty; give at least one cookie")
    return tuple(parsed.items())


@attrs.frozen
class StaticCookieSource:
    """Fixed cookies given in code: a mapping or a ``"a=b; c=d"`` header string.

    ``StaticCookieSource({"sid": "..."})`` or
    ``StaticCookieSource("sid=...; cf_clearance=...")``; the repr shows the
    names only.

    Raises:
        InvalidRequestError: the cookies are empty, or a part, name or value is malformed.
    """

    _pairs: tuple[tuple[str, str], ...] = attrs.field(converter=_static_pairs, alias="cookies")
    blocking: ClassVar[bool] = False

    @property
    def names(self) -> list[str]:
        """The cookie names, in order."""
        return [name for name, _ in self._pairs]

    def describe(self) -> str:
        """The label used in errors and logs."""
        return "static cookies"

    def get_cookies(self) -> dict[str, str]:
        """Return a copy of the cookies."""
        cookies = dict(self._pairs)
        _log_found(self.describe(), cookies)
        return cookies

    @classmethod
    def from_text(cls, text: str, *, origin: str = "cookies") -> StaticCookieSource:
        """Cookies typed as text: ``"a=b; c=d"``, or a JSON object ``{"a": "b"}``.

        Args:
            text: The text.
            origin: Where it came from, named in errors (e.g. ``"--cookies"``).

        Raises:
            InvalidRequestError: the text is empty or malformed (its values are never quoted).
        """
        try:
            return cls(_parse_cookie_text(origin, text.strip()))
        except CookieFileError as exc:
            raise InvalidRequestError(exc.reason) from None

    def __repr__(self) -> str:
        return f"StaticCookieSource(names={self.names!r})"


# --------------------------------------------------------------------------- env


@attrs.frozen
class EnvCookieSource:
    """Cookies from an environment variable, read at each call.

    The value is a ``"a=b; c=d"`` header string, or a JSON object
    ``{"name": "value"}`` when it starts with ``{``.

    Attributes:
        variable: The variable's name.
        environ: The environment to read; ``os.environ`` by default.
    """

    variable: str = COOKIES_VARIABLE
    environ: Mapping[str, str] | None = attrs.field(default=None, eq=False)
    blocking: ClassVar[bool] = False

    def describe(self) -> str:
        """The label used in errors and logs, e.g. ``env AICHAT_COOKIES``."""
        return f"env {self.variable}"

    def get_cookies(self) -> dict[str, str]:
        """Read and parse the variable.

        Raises:
            CookiesNotFoundError: the variable is unset, empty or malformed.
        """
        environ = os.environ if self.environ is None else self.environ
        raw = environ.get(self.variable)
        try:
            cookies = self._parse(raw)
        except CookieFileError as exc:
            raise _not_found(self.describe(), exc.reason) from None
        _log_found(self.describe(), cookies)
        return cookies

    def _parse(self, raw: str | None) -> dict[str, str]:
        name = self.variable
        if raw is None:
            raise CookieFileError(f"{name} is not set")
        text = raw.strip()
        if not text:
            raise CookieFileError(f"{name} is set but empty")
        if text.startswith("["):
            raise CookieFileError(
                f"{name} holds a JSON list; it takes a 'name=value; ...' string or a JSON "
                f"object; put a Cookie-Editor export in a file ({COOKIES_FILE_VARIABLE})"
            )
        cookies = _parse_cookie_text(name, text)
        if not cookies:
            raise CookieFileError(f"{name} holds no cookies")
        return cookies

    def __repr__(self) -> str:
        # ``environ`` is left out: it holds the cookies themselves.
        return f"EnvCookieSource(variable={self.variable!r})"


def _parse_cookie_text(name: str, text: str) -> dict[str, str]:
    """A ``"a=b; c=d"`` string, or a JSON object when it starts with ``{``.

    Raises:
        CookieFileError: naming ``name`` (where the text came from), never a value.
    """
    try:
        if text.startswith("{"):
            return _checked(_parse_json_object(name, text))
        return parse_cookie_header(text)
    except InvalidRequestError as exc:
        raise CookieFileError(f"{name} is malformed: {exc.message}") from None


def _parse_json_object(name: str, text: str) -> Mapping[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg is the decoder's fixed wording; the document is not quoted.
        raise CookieFileError(
            f"{name} starts with '{{' but is not valid JSON "
            f"({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        raise CookieFileError(f"{name} starts with '{{' but is not valid JSON") from None
    # Valid JSON that starts with "{" is an object; the values are checked by the caller.
    assert isinstance(data, dict)
    return data


# --------------------------------------------------------------------------- file


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


_CacheKey = tuple[str, int, int, int]


@attrs.define
class _FileCache:
    """The last parse (or failure reason), keyed by path, inode, mtime_ns and size.

    One attribute holds key and result together, so that threads sharing the
    source never see a key with another file's result.
    """

    entry: tuple[_CacheKey, ParsedCookies | str] | None = None


@attrs.frozen
class FileCookieSource:
    """Cookies from a file exported from the browser, filtered to the site's domain.

    Reads a Netscape ``cookies.txt`` (curl, browser export extensions) or a
    Cookie-Editor JSON export, detected by content. Keeps unexpired cookies of
    ``domain`` and its subdomains. The parse is cached until the file's
    modification time or size changes.

    Attributes:
        path: The file. By default ``$AICHAT_COOKIES_FILE`` if set, else
            ``~/.config/aichat/cookies.txt``, looked up at each call.
        domain: The site whose cookies are kept.

    Raises:
        InvalidRequestError: ``path`` or ``domain`` is malformed.
    """

    path: Path | None = attrs.field(default=None, converter=_optional_path)
    domain: str = attrs.field(default=DEFAULT_DOMAIN, converter=check_domain)
    _cache: _FileCache = attrs.field(factory=_FileCache, init=False, repr=False, eq=False)
    blocking: ClassVar[bool] = False

    def _resolve(self) -> tuple[Path, str]:
        """The file to read now, and where that path came from (for messages)."""
        if self.path is not None:
            return self.path, ""
        from_env = os.environ.get(COOKIES_FILE_VARIABLE, "").strip()
        if from_env:
            return _expand(Path(from_env)), f" (path from {COOKIES_FILE_VARIABLE})"
        return _expand(Path(DEFAULT_COOKIES_FILE)), ""

    def describe(self) -> str:
        """The label used in errors and logs, e.g. ``file /home/u/.config/aichat/cookies.txt``."""
        return f"file {self._resolve()[0]}"

    def get_cookies(self) -> dict[str, str]:
        """Read the file (or reuse the cached parse) and return the site's cookies.

        Raises:
            CookiesNotFoundError: the file is missing, unreadable, malformed, or
                holds no unexpired cookie of the domain.
        """
        cookies = {name: entry.value for name, entry in self.get_entries().items()}
        _log_found(self.describe(), cookies)
        return cookies

    def get_entries(self) -> dict[str, CookieEntry]:
        """The cookies :meth:`get_cookies` gives, by name, with their domain, path and expiry.

        Raises:
            CookiesNotFoundError: as :meth:`get_cookies`.
        """
        path, origin = self._resolve()
        try:
            return select_entries(self._parsed(path, origin), self.domain, _now())
        except CookieFileError as exc:
            raise _not_found(f"file {path}", exc.reason) from None

    def _parsed(self, path: Path, origin: str) -> ParsedCookies:
        cache = self._cache
        if path.parts and path.parts[0].startswith("~"):
            raise CookieFileError("cannot expand '~': the home directory is unknown (set HOME)")
        try:
            stat = path.stat()
            key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
            entry = cache.entry
            if entry is not None and entry[0] == key:
                result = entry[1]
            else:
                result = self._read(path, stat.st_size)
                cache.entry = (key, result)
        except FileNotFoundError:
            raise CookieFileError("no such file" + origin) from None
        except IsADirectoryError:
            raise CookieFileError("is a directory, not a file" + origin) from None
        except PermissionError:
            raise CookieFileError("permission denied" + origin) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CookieFileError(f"cannot read it ({reason}){origin}") from None
        if isinstance(result, str):
            raise CookieFileError(result)
        return result

    def _read(self, path: Path, size: int) -> ParsedCookies | str:
        """Parse the file; a malformed content gives its reason (cached like a parse)."""
        if size > MAX_COOKIES_FILE_SIZE:
            limit = MAX_COOKIES_FILE_SIZE
            return f"{size} bytes is too large for a cookies file (the limit is {limit})"
        with path.open("rb") as file:
            data = file.read(MAX_COOKIES_FILE_SIZE + 1)
        try:
            parsed = read_cookie_text(decode_cookie_file(data), self.domain)
        except CookieFileError as exc:
            return exc.reason
        if parsed.problems:
            logger.debug(
                "cookies file %s: skipped %d malformed entries", path, len(parsed.problems)
            )
        return parsed

    def __repr__(self) -> str:
        path = None if self.path is None else str(self.path)
        return f"FileCookieSource(path={path!r}, domain={self.domain!r})"


def _now() -> float:
    return time.time()


# --------------------------------------------------------------------------- chain


def _is_own(source: object) -> bool:
    """Whether the source is one of aichat-client's: its repr shows no value, and it logs."""
    return type(source).__module__.startswith("aichat_adapters.")


def _label(source: object) -> str:
    """A source's ``describe()``, else its type's name (never its repr: it may show values)."""
    describe = getattr(source, "describe", None)
    if callable(describe):
        return str(describe())
    return type(source).__qualname__


def _checked_sources(sources: Iterable[CookieSource]) -> tuple[CookieSource, ...]:
    checked: list[CookieSource] = []
    for position, source in enumerate(sources, start=1):
        get_cookies = getattr(source, "get_cookies", None)
        if not callable(get_cookies):
            raise InvalidRequestError(
                f"cookie source {position} ({type(source).__name__}) has no get_cookies() method"
            )
        if inspect.iscoroutinefunction(get_cookies):
            raise InvalidRequestError(
                f"cookie source {position} ({type(source).__name__}) has an async "
                "get_cookies(); a ChainCookieSource calls its sources synchronously"
            )
        checked.append(source)
    if not checked:
        raise InvalidRequestError("ChainCookieSource needs at least one source")
    return tuple(checked)


@attrs.frozen(init=False)
class ChainCookieSource:
    """Tries sources in order and returns the first one's cookies.

    Any object with a ``get_cookies()`` method is a source. A source that
    raises :class:`~aichat_core.CookiesNotFoundError` (or another
    :class:`~aichat_core.AichatError`), or returns nothing, is skipped; any
    other exception propagates.

    Args:
        *sources: The sources, first tried first.

    Raises:
        InvalidRequestError: no source, or an object without a plain ``get_cookies()``.
    """

    sources: tuple[CookieSource, ...]

    def __init__(self, *sources: CookieSource) -> None:
        self.__attrs_init__(_checked_sources(sources))

    @property
    def blocking(self) -> bool:
        """Whether a member does blocking work (e.g. reads browser databases).

        The async client runs a blocking source in a worker thread.
        """
        return any(getattr(source, "blocking", False) for source in self.sources)

    def describe(self) -> str:
        """The label used in errors and logs."""
        return "chain of " + ", ".join(_label(source) for source in self.sources)

    def get_cookies(self) -> dict[str, str]:
        """Return the first source's cookies.

        Raises:
            CookiesNotFoundError: every source failed; ``tried`` concatenates
                their reasons in order.
        """
        tried: list[tuple[str, str]] = []
        for source in self.sources:
            try:
                cookies = self._from(source)
            except CookiesNotFoundError as exc:
                entries = exc.tried or ((_label(source), exc.message),)
            except AichatError as exc:
                entries = ((_label(source), f"{type(exc).__name__}: {exc.message}"),)
            else:
                return cookies
            for label, reason in entries:
                logger.debug("no cookies from %s: %s", label, reason)
            tried.extend(entries)
        raise CookiesNotFoundError.from_tried(tuple(tried))

    @staticmethod
    def _from(source: CookieSource) -> dict[str, str]:
        cookies: object = source.get_cookies()
        if not isinstance(cookies, Mapping):
            raise _not_found(
                _label(source),
                f"returned {type(cookies).__name__}, not a mapping of cookie names to values",
            )
        if not cookies:
            raise _not_found(_label(source), "gave no cookies")
        checked = _checked(cookies)
        if not _is_own(source):
            _log_found(_label(source), checked)  # aichat-client's sources log for themselves
        return checked

    def __repr__(self) -> str:
        members = ", ".join(
            repr(source)
            if _is_own(source)
            # A user's object's repr might show its cookies: name its type only.
            else f"<{_label(source)}>"
            for source in self.sources
        )
        return f"ChainCookieSource({members})"


# --------------------------------------------------------------------------- default


def _optional_sources() -> tuple[CookieSource, ...]:
    """Sources that depend on an extra: the browsers (rookiepy, extra ``browser``).

    Without the extra the browser source stays in the chain and reports how to
    install it, so ``CookiesNotFoundError`` says so too.
    """
    from aichat_adapters._browser_cookies import BrowserCookieSource

    return (BrowserCookieSource(),)


def default_cookie_source() -> ChainCookieSource:
    """The chain used when a client gets no cookies: ``AICHAT_COOKIES``, the file, browsers.

    Returns:
        ``ChainCookieSource(EnvCookieSource(), FileCookieSource(), BrowserCookieSource())``;
        the browser source reads profiles when the ``browser`` extra is installed.
    """
    return ChainCookieSource(EnvCookieSource(), FileCookieSource(), *_optional_sources())
