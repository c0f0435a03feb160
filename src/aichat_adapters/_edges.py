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
from typing import Any, Generic, TypeVar

import attrs

from aichat_core import (
    CookiesNotFoundError,
    Credentials,
    InvalidRequestError,
    domain_matches,
)
from aichat_core._credentials import DIRECT, mask_proxy, public_proxy

__all__ = ["SourceEdge", "source_edge", "user_agent_of"]

T = TypeVar("T")
Get = TypeVar("Get", Callable[[], Credentials], Callable[[], Awaitable[Credentials]])
Save = Callable[[Mapping[str, str]], Any]
logger = logging.getLogger("aichat")


@attrs.frozen
class SourceEdge(Generic[Get]):
    """A source as a client uses it: every optional part of the port answered.

    ``get`` and ``refresh`` return [`Credentials`][aichat_core.Credentials]
    (awaitables in the async client, which runs a blocking source in a worker
    thread); ``save`` is ``None`` when the source keeps nothing.
    """

    source: object = attrs.field(repr=False)
    label: str
    get: Get = attrs.field(repr=False)
    refresh: Get = attrs.field(repr=False)
    save: Save | None = attrs.field(repr=False)
    refresh_margin: float | None = None


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
    """How this client sends credentials, to warn (once each) where a bundle disagrees."""

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


def source_edge(
    cookies: Mapping[str, str] | str | None,
    cookie_source: object | None,
    *,
    base_url: str,
    host: str,
    proxy: str | None,
    proxy_known: bool,
    user_agent: str | None,
    asynchronous: bool,
) -> SourceEdge[Any]:
    """The client's source, chosen and wrapped; refuses what cannot work, naming why.

    ``user_agent`` is the one the user set in ``headers``, ``proxy`` the
    client's (known unless the user gave a transport of their own): a bundle
    earned with another gets one warning each.
    """
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
    sending = (proxy or DIRECT) if proxy_known else None
    binding = _Binding(label(source), user_agent, sending)
    if asynchronous:
        return _async_edge(source, base_url, margin, binding)
    return _sync_edge(source, base_url, margin, binding)


def _pick(source: object, *names: str) -> tuple[str, Callable[..., Any]]:
    for name in names:
        method = _method(source, name)
        if method is not None:
            return name, method
    raise AssertionError(names)  # source_edge checked that one exists


def _sync_edge(
    source: object, site: str, margin: float | None, binding: _Binding
) -> SourceEdge[Any]:
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
    return SourceEdge(
        source,
        label(source),
        lambda: got(_for_site(site, get)),
        lambda: refreshed(_for_site(site, refresh)),
        save,
        margin,
    )


def _async_edge(
    source: object, site: str, margin: float | None, binding: _Binding
) -> SourceEdge[Any]:
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
    return SourceEdge(
        source,
        label(source),
        _awaitable(get, got, site, blocking),
        _awaitable(refresh, refreshed, site, blocking),
        None if save is None else _awaitable(save, lambda value: value, site, blocking),
        margin,
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
        result = _for_site(site, lambda: method(*args))
        if inspect.isawaitable(result):
            result = await result
        return convert(result)

    return plain


def user_agent_of(transport: object, default: str) -> str | None:
    """Our User-Agent, or ``None`` when the transport sends a browser's own (read once)."""
    return None if getattr(transport, "impersonates", False) else default
