"""What users give a client, wrapped once at the edge (as httpx's ``_build_auth`` does).

A cookie source may be a mapping, a header string, any object with
``get_cookies()`` or ``get_credentials()``, sync or async, with or without
the optional parts of the port. [`source_edge`][] reads those parts here,
once, when the client is built; past this module the clients hold a
[`SourceEdge`][] and never ask an object what it has. The same holds for a
transport: whether it impersonates a browser is read once.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import attrs

from aichat_core import (
    CookiesNotFoundError,
    Credentials,
    InvalidRequestError,
    domain_matches,
)
from aichat_core._credentials import DIRECT, mask_proxy, public_proxy

__all__ = [
    "AsyncSource",
    "SourceEdge",
    "SyncSource",
    "Wiring",
    "async_source",
    "sync_source",
    "user_agent_of",
]

T = TypeVar("T")
logger = logging.getLogger("aichat")


@attrs.frozen
class SourceEdge:
    """A source as a client uses it: every optional part of the port answered once.

    ``source`` is the object given (or built), ``label`` its ``describe()``,
    ``refresh_margin`` its own or ``None``.
    """

    source: object = attrs.field(repr=False)
    label: str
    refresh_margin: float | None


@attrs.frozen
class SyncSource(SourceEdge):
    """The blocking client's source: ``get`` and ``refresh`` give checked
    [`Credentials`][aichat_core.Credentials]; ``save`` is ``None`` when it keeps nothing."""

    get: Callable[[], Credentials] = attrs.field(repr=False)
    refresh: Callable[[], Credentials] = attrs.field(repr=False)
    save: Callable[[Mapping[str, str]], object] | None = attrs.field(repr=False)


@attrs.frozen
class AsyncSource(SourceEdge):
    """The async client's source: every method awaitable (a blocking one runs in a worker
    thread, a plain one is called directly)."""

    get: Callable[[], Awaitable[Credentials]] = attrs.field(repr=False)
    refresh: Callable[[], Awaitable[Credentials]] = attrs.field(repr=False)
    save: Callable[[Mapping[str, str]], Awaitable[object]] | None = attrs.field(repr=False)


def label(source: object) -> str:
    """A source's ``describe()``, else its type's name (never its repr: it may show values)."""
    describe = getattr(source, "describe", None)
    if callable(describe):
        return str(describe())
    return type(source).__qualname__


def _method(source: object, name: str) -> Callable[..., Any] | None:
    method = getattr(source, name, None)
    return method if callable(method) else None


@attrs.define
class _Binding:
    """How this client sends credentials, to warn (once each) where credentials disagree."""

    label: str
    user_agent: str | None  # the one the user set explicitly, if any
    proxy: str | None  # DIRECT, a URL, or None when unknown (the user's own transport)
    warned: set[str] = attrs.field(factory=set)

    def check(self, credentials: Credentials) -> None:
        bound = credentials.user_agent
        if bound is not None and self.user_agent not in (None, bound):
            self._warn(
                "user-agent",
                "the credentials from %s are bound to the User-Agent %r, but this client "
                "sends %r (set in headers): the site will likely challenge again; leave the "
                "User-Agent out to send the credentials' own",
                self.label,
                bound,
                self.user_agent,
            )
        earned, sending = credentials.proxy, self.proxy
        if (
            earned is not None
            and sending is not None
            and public_proxy(earned) != public_proxy(sending)  # a file keeps no password
        ):
            self._warn(
                "proxy",
                "the credentials from %s were earned %s, but this client sends %s: a "
                "clearance is bound to the IP that earned it, so the site will likely "
                "challenge again",
                self.label,
                _way(earned),
                _way(sending),
            )

    def _warn(self, what: str, message: str, *args: object) -> None:
        if what not in self.warned:
            self.warned.add(what)
            logger.warning(message, *args)


def _way(proxy: str) -> str:
    return "directly" if proxy == DIRECT else f"through the proxy {mask_proxy(proxy)}"


class _Credentials:
    """Turns what a source returns into checked credentials, reusing the last ones."""

    def __init__(self, source: object, name: str, site: str, binding: _Binding) -> None:
        self._source = source
        self._name = name
        self._site = site
        self._binding = binding
        self._last: tuple[object, Credentials] | None = None

    def __call__(self, value: object) -> Credentials:
        last = self._last
        if last is not None and (value is last[1] or value == last[0]):
            return last[1]  # the usual case: the same cookies as last time, checked then
        if isinstance(value, Credentials):
            credentials = value
        elif isinstance(value, Mapping):
            credentials = Credentials(value)
        else:
            raise InvalidRequestError(
                f"{type(self._source).__name__}.{self._name}() returned "
                f"{type(value).__name__}; it must return a mapping of cookie names to values"
            )
        if not credentials.cookies:
            raise CookiesNotFoundError.from_tried(
                ((label(self._source), "gave no cookies"),), site=self._site
            )
        self._binding.check(credentials)
        self._last = (value if isinstance(value, Credentials) else dict(value), credentials)
        return credentials


def _for_site(site: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except CookiesNotFoundError as error:
        raise error.for_site(site) from None


@attrs.frozen
class Wiring:
    """What a source's edge needs of the client: its site and how it sends."""

    base_url: str
    host: str
    proxy: str | None
    proxy_known: bool  # False: the user gave a transport of their own
    user_agent: str | None  # the one the user set in headers, if any


def sync_source(
    cookies: Mapping[str, str] | str | None, cookie_source: object | None, wiring: Wiring
) -> SyncSource:
    """The blocking client's source, chosen and wrapped (see [`async_source`][])."""
    source, margin, binding = _chosen(cookies, cookie_source, wiring)
    return _sync_edge(source, wiring.base_url, margin, binding)


def async_source(
    cookies: Mapping[str, str] | str | None, cookie_source: object | None, wiring: Wiring
) -> AsyncSource:
    """The async client's source, chosen and wrapped; refuses what cannot work, naming why.

    Credentials earned with another User-Agent or proxy than the client's get
    one warning each.
    """
    source, margin, binding = _chosen(cookies, cookie_source, wiring)
    return _async_edge(source, wiring.base_url, margin, binding)


def _chosen(
    cookies: Mapping[str, str] | str | None, cookie_source: object | None, wiring: Wiring
) -> tuple[object, float | None, _Binding]:
    base_url, host, proxy = wiring.base_url, wiring.host, wiring.proxy
    from aichat_adapters.cookies import StaticCookieSource, default_cookie_source

    if cookies is not None and cookie_source is not None:
        raise InvalidRequestError("give either cookies=... or cookie_source=..., not both")
    if cookies is not None:
        source: object = StaticCookieSource(cookies)
    elif cookie_source is None:
        source = default_cookie_source(domain=host)
    else:
        source = cookie_source
    if _method(source, "get_credentials") is None and _method(source, "get_cookies") is None:
        raise InvalidRequestError(
            "cookie_source must have a get_cookies() method returning a mapping of cookie "
            f"names to values (or get_credentials()); {type(source).__name__} has none"
        )
    domain = getattr(source, "domain", None)
    if isinstance(domain, str) and not domain_matches(host, domain):
        raise InvalidRequestError(
            f"{type(source).__name__} selects cookies of {domain}, but base_url's host is "
            f"{host}: its cookies would go to another site. Build the source with "
            f"domain={host!r}, or point base_url at {domain}"
        )
    bind = _method(source, "bind")
    if bind is not None:
        source = bind(base_url=base_url, proxy=proxy)
    margin = getattr(source, "refresh_margin", None)
    margin = float(margin) if isinstance(margin, (int, float)) and margin >= 0 else None
    sending = (proxy or DIRECT) if wiring.proxy_known else None
    return source, margin, _Binding(label(source), wiring.user_agent, sending)


def _pick(source: object, *names: str) -> tuple[str, Callable[..., Any]]:
    for name in names:
        method = _method(source, name)
        if method is not None:
            return name, method
    raise AssertionError(names)  # source_edge checked that one exists


def _sync_edge(source: object, site: str, margin: float | None, binding: _Binding) -> SyncSource:
    for name in ("get_credentials", "refresh_credentials", "get_cookies", "refresh_cookies"):
        if inspect.iscoroutinefunction(getattr(source, name, None)):
            raise InvalidRequestError(
                f"cookie_source.{name}() is async; use AsyncAichatClient, or give a source "
                "with plain methods"
            )
    save = _method(source, "save_cookies")
    if inspect.iscoroutinefunction(save):
        raise InvalidRequestError(
            "cookie_source.save_cookies() is async; use AsyncAichatClient, or give a source "
            "with plain methods"
        )
    get_name, get = _pick(source, "get_credentials", "get_cookies")
    refresh_name, refresh = _pick(
        source, "refresh_credentials", "refresh_cookies", "get_credentials", "get_cookies"
    )
    got = _Credentials(source, get_name, site, binding)
    refreshed = _Credentials(source, refresh_name, site, binding)
    return SyncSource(
        source,
        label(source),
        margin,
        lambda: got(_for_site(site, get)),
        lambda: refreshed(_for_site(site, refresh)),
        save,
    )


def _async_edge(source: object, site: str, margin: float | None, binding: _Binding) -> AsyncSource:
    blocking = bool(getattr(source, "blocking", False))
    get_name, get = _pick(source, "aget_credentials", "get_credentials", "get_cookies")
    refresh_name, refresh = _pick(
        source,
        "arefresh_credentials",
        "refresh_credentials",
        "refresh_cookies",
        "aget_credentials",
        "get_credentials",
        "get_cookies",
    )
    save = _method(source, "save_cookies")
    got = _Credentials(source, get_name, site, binding)
    refreshed = _Credentials(source, refresh_name, site, binding)
    return AsyncSource(
        source,
        label(source),
        margin,
        _awaitable(get, got, site, blocking),
        _awaitable(refresh, refreshed, site, blocking),
        None if save is None else _awaitable(save, lambda value: value, site, blocking),
    )


def _awaitable(
    method: Callable[..., Any], convert: Callable[[Any], T], site: str, blocking: bool
) -> Callable[..., Awaitable[T]]:
    """``method`` as a coroutine function: awaited if async, in a thread if blocking."""
    if inspect.iscoroutinefunction(method):

        async def awaited(*args: Any) -> T:
            try:
                return convert(await method(*args))
            except CookiesNotFoundError as error:
                raise error.for_site(site) from None

        return awaited
    if blocking:

        async def threaded(*args: Any) -> T:
            import anyio.to_thread

            return convert(
                await anyio.to_thread.run_sync(lambda: _for_site(site, lambda: method(*args)))
            )

        return threaded

    async def plain(*args: Any) -> T:
        try:
            result = method(*args)
            # A dict or Credentials is the usual answer: no need to ask the slower isawaitable.
            if not isinstance(result, dict | Credentials) and inspect.isawaitable(result):
                result = await result
        except CookiesNotFoundError as error:
            raise error.for_site(site) from None
        return convert(result)

    return plain


def user_agent_of(transport: object, default: str) -> str | None:
    """Our User-Agent, or ``None`` when the transport sends a browser's own (read once)."""
    return None if getattr(transport, "impersonates", False) else default
