"""`ChainCookieSource`: sources tried in order; `default_cookie_source`: the default chain."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from aichat_adapters.cookies._browser import BrowserCookieSource
from aichat_adapters.cookies._file import FileCookieSource, default_credentials_path
from aichat_adapters.cookies._select import (
    DEFAULT_DOMAIN,
    checked,
    log_found,
    logger,
    not_found,
)
from aichat_adapters.cookies._static import EnvCookieSource
from aichat_core import (
    AichatError,
    CookiesNotFoundError,
    CookieSource,
    Credentials,
    CredentialsSource,
    InvalidRequestError,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ChainCookieSource", "ResolvedCookies", "Source", "default_cookie_source"]

#: What a chain takes: a source of cookies, or of credentials.
Source = CookieSource | CredentialsSource


def _is_own(source: object) -> bool:
    """Whether the source is one of aichat-client's: its repr shows no value, and it logs."""
    return type(source).__module__.startswith("aichat_adapters.")


def label(source: object) -> str:
    """A source's ``describe()``, else its type's name (never its repr: it may show values)."""
    describe = getattr(source, "describe", None)
    if callable(describe):
        return str(describe())
    return type(source).__qualname__


def _domain_of(source: object) -> str | None:
    domain = getattr(source, "domain", None)
    return domain.strip().strip(".").lower() if isinstance(domain, str) else None


def _checked_sources(sources: Iterable[Source]) -> tuple[Source, ...]:
    checked_sources: list[Source] = []
    for position, source in enumerate(sources, start=1):
        name = type(source).__name__
        get_cookies = getattr(source, "get_cookies", None)
        if not callable(get_cookies) and not callable(getattr(source, "get_credentials", None)):
            raise InvalidRequestError(
                f"cookie source {position} ({name}) has no get_cookies() or get_credentials() "
                "method"
            )
        for method in (
            "get_cookies",
            "refresh_cookies",
            "save_cookies",
            "get_credentials",
            "refresh_credentials",
        ):
            if inspect.iscoroutinefunction(getattr(source, method, None)):
                raise InvalidRequestError(
                    f"cookie source {position} ({name}) has an async {method}(); "
                    "a ChainCookieSource calls its sources synchronously"
                )
        checked_sources.append(source)
    if not checked_sources:
        raise InvalidRequestError("ChainCookieSource needs at least one source")
    domains = {domain for source in checked_sources if (domain := _domain_of(source))}
    if len(domains) > 1:
        raise InvalidRequestError(
            f"the sources of a ChainCookieSource select the cookies of different sites "
            f"({', '.join(sorted(domains))}); a client talks to one host: give them the same "
            "domain"
        )
    return tuple(checked_sources)


@attrs.frozen
class ResolvedCookies:
    """What a chain's resolution found: who answered, the cookies, and who did not.

    Attributes:
        source: The source that gave the cookies.
        cookies: The cookies, checked (never shown by ``repr``).
        tried: A ``(source, reason)`` pair for each source asked before it.
        credentials: The cookies with what the source says they are bound
            to (``Credentials.of(cookies)`` for a source of bare cookies).
    """

    source: Source = attrs.field(repr=label)
    cookies: dict[str, str] = attrs.field(repr=False)
    tried: tuple[tuple[str, str], ...]
    credentials: Credentials = attrs.field(repr=False)

    @credentials.default
    def _bare(self) -> Credentials:
        return Credentials.of(self.cookies)


@attrs.define
class _Last:
    """The source that answered last: `save_cookies` goes to it."""

    source: Source | None = None


@attrs.frozen(init=False)
class ChainCookieSource:
    """Tries sources in order and returns the first one's cookies.

    Any object with a ``get_cookies()`` (or ``get_credentials()``) method is
    a source. A source that raises
    [`CookiesNotFoundError`][aichat_core.CookiesNotFoundError] (or another
    [`AichatError`][aichat_core.AichatError]), or returns nothing, is
    skipped; any other exception propagates. `get_credentials` gives the
    first source's [`Credentials`][aichat_core.Credentials]: a bundle's
    User-Agent with its cookies, or bare cookies.

    Args:
        *sources: The sources, first tried first.

    Raises:
        InvalidRequestError: no source, an object without a plain
            ``get_cookies()``, or sources selecting different sites' cookies.
    """

    sources: tuple[Source, ...]
    _last: _Last = attrs.field(repr=False, eq=False)

    def __init__(self, *sources: Source) -> None:
        self.__attrs_init__(_checked_sources(sources), _Last())

    @property
    def blocking(self) -> bool:
        """Whether a member does blocking work (reads files or browser databases).

        The async client runs a blocking source in a worker thread.
        """
        return any(getattr(source, "blocking", False) for source in self.sources)

    @property
    def domain(self) -> str | None:
        """The site whose cookies the members select; ``None`` when no member has a domain."""
        return next((d for source in self.sources if (d := _domain_of(source))), None)

    @property
    def refresh_margin(self) -> float:
        """The largest ``refresh_margin`` of the members (``0.0`` when none has one)."""
        margins = [getattr(source, "refresh_margin", None) for source in self.sources]
        return max((float(m) for m in margins if isinstance(m, int | float)), default=0.0)

    def describe(self) -> str:
        """The label used in errors and logs."""
        return "chain of " + ", ".join(label(source) for source in self.sources)

    def bind(self, *, base_url: str, proxy: str | None) -> Self:
        """A chain whose members that can be bound to a client (``bind()``) are.

        Called by a client's constructor, as it calls a credentials source's own.
        """
        members: list[Any] = []
        for source in self.sources:
            bind = getattr(source, "bind", None)
            members.append(bind(base_url=base_url, proxy=proxy) if callable(bind) else source)
        return type(self)(*members)

    def get_credentials(self) -> Credentials:
        """Return the first source's credentials (bare cookies as ``Credentials.of``).

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self.resolve(credentials=True).credentials

    def refresh_credentials(self) -> Credentials:
        """Ask the sources again past their caches, as `refresh_cookies`, for credentials.

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self.resolve(refresh=True, credentials=True).credentials

    def get_cookies(self) -> dict[str, str]:
        """Return the first source's cookies.

        Raises:
            CookiesNotFoundError: every source failed; ``tried`` concatenates
                their reasons in order.
        """
        return self.resolve().cookies

    def refresh_cookies(self) -> dict[str, str]:
        """Ask the sources again past their caches (``refresh_cookies()`` where they have it).

        Raises:
            CookiesNotFoundError: as `get_cookies`.
        """
        return self.resolve(refresh=True).cookies

    def resolve(self, *, refresh: bool = False, credentials: bool = False) -> ResolvedCookies:
        """Ask the sources in order; say which one answered and why the others did not.

        Args:
            refresh: Call each source's ``refresh_cookies()`` (``refresh_credentials()``)
                where it has one.
            credentials: Ask ``get_credentials()`` of the sources that have it, so that
                the result's ``credentials`` hold what the cookies are bound to.

        Raises:
            CookiesNotFoundError: every source failed; ``tried`` concatenates
                their reasons in order.
        """
        tried: list[tuple[str, str]] = []
        for source in self.sources:
            try:
                found = self._ask(source, refresh=refresh, credentials=credentials)
            except CookiesNotFoundError as exc:
                entries = exc.tried or ((label(source), exc.message),)
            except AichatError as exc:
                entries = ((label(source), f"{type(exc).__name__}: {exc.message}"),)
            else:
                self._last.source = source
                return ResolvedCookies(source, dict(found.cookies), tuple(tried), found)
            for name, reason in entries:
                logger.debug("no cookies from %s: %s", name, reason)
            tried.extend(entries)
        raise CookiesNotFoundError.from_tried(tuple(tried))

    def save_cookies(self, cookies: Mapping[str, str]) -> None:
        """Pass rotated cookies to the source that answered last, if it can save them.

        Never raises: a failure is logged as a warning.
        """
        source = self._last.source
        save = getattr(source, "save_cookies", None)
        if source is None or not callable(save):
            return
        try:
            save(cookies)
        except Exception as exc:  # a user's source must not fail the call either
            logger.warning("rotated cookies not saved by %s: %s", label(source), type(exc).__name__)

    @staticmethod
    def _ask(source: Source, *, refresh: bool, credentials: bool) -> Credentials:
        found = _call(source, refresh=refresh, credentials=credentials)
        if isinstance(found, Credentials):
            given, cookies = found, found.cookies
        elif isinstance(found, Mapping):
            given, cookies = None, found
        else:
            raise not_found(
                label(source),
                f"returned {type(found).__name__}, not a mapping of cookie names to values",
            )
        if not cookies:
            raise not_found(label(source), "gave no cookies")
        cookies = checked(cookies)
        if not _is_own(source):
            log_found(label(source), cookies)  # aichat-client's sources log for themselves
        return given if given is not None else Credentials.of(cookies)

    def __repr__(self) -> str:
        members = ", ".join(
            repr(source)
            if _is_own(source)
            # A user's object's repr might show its cookies: name its type only.
            else f"<{label(source)}>"
            for source in self.sources
        )
        return f"ChainCookieSource({members})"


def _call(source: Source, *, refresh: bool, credentials: bool) -> object:
    """What a source gives: its credentials when asked for them and it has them, else cookies."""
    if credentials or not callable(getattr(source, "get_cookies", None)):
        name = "refresh_credentials" if refresh else "get_credentials"
        method = getattr(source, name, None)
        if not callable(method) and refresh:
            method = getattr(source, "get_credentials", None)
        if callable(method):
            return method()
    refresh_cookies = getattr(source, "refresh_cookies", None) if refresh else None
    get_cookies = getattr(source, "get_cookies", None)
    assert callable(get_cookies)  # checked when the chain was built
    return refresh_cookies() if callable(refresh_cookies) else get_cookies()


def default_cookie_source(domain: str = DEFAULT_DOMAIN) -> ChainCookieSource:
    """The chain a client uses when given no cookies: ``AICHAT_COOKIES``, the bundle
    ``aichat login`` saved, the cookies file, then browsers.

    Args:
        domain: The host the client talks to (``base_url``'s): the file and
            browser sources select its cookies, and no other site's.

    Returns:
        A chain of `EnvCookieSource()`, then
            `FileCookieSource(default_credentials_path(), domain=domain)` (the
            bundle `aichat login` saves, `credentials.json` in the cookies
            file's folder), then `FileCookieSource(domain=domain)`, then
            `BrowserCookieSource(domain=domain)`. Without the `browser` extra,
            the browser source says how to install it.

    Raises:
        InvalidRequestError: ``domain`` is not a host name or an IP address.
    """
    return ChainCookieSource(
        EnvCookieSource(),
        FileCookieSource(default_credentials_path(), domain=domain),
        FileCookieSource(domain=domain),
        BrowserCookieSource(domain=domain),
    )
