"""`SessionJar`: a client's cookies during its life, following the site's ``Set-Cookie``.

Like a browser's jar for one host: it starts from the cookie source, applies
the ``Set-Cookie`` headers of the host's answers, and starts over whenever
the source gives other credentials than before. It is the session state of a
client family (`_family`), beside its retry budget (`_budget`): one jar for a
client and its ``with_options`` copies. No source holds one; the public name
stays ``aichat_adapters.cookies.SessionJar``.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Iterable, Mapping

from aichat_adapters._logging import logger
from aichat_core import Credentials, domain_matches, parse_set_cookie
from aichat_core._engine import Sent

__all__ = ["SessionJar"]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class SessionJar:
    """The cookies one client sends to its host, kept up to date like a browser's.

    Safe to share between threads and tasks: every method takes a lock for a
    short, non-blocking moment. No value appears in its ``repr``.

    Args:
        host: The host the client talks to (``base_url``'s host name).
    """

    def __init__(self, host: str) -> None:
        self.host = host.strip("[]").strip(".").lower()
        self._lock = threading.Lock()
        self._cookies: dict[str, str] = {}
        self._expires: dict[str, float] = {}
        self._seed: Credentials | None = None
        self._version = 0
        self._sent: Sent | None = None
        self._sent_until = 0.0

    @property
    def version(self) -> int:
        """A number that grows with every change, so a caller can tell the cookies changed."""
        return self._version

    def cookies(self, *, now: float | None = None) -> dict[str, str]:
        """A snapshot of the cookies to send (those past their expiry left out).

        Args:
            now: The time, in seconds since 1970 (default: now).
        """
        now = time.time() if now is None else now
        with self._lock:
            return {
                name: value
                for name, value in self._cookies.items()
                if self._expires.get(name, now) >= now
            }

    def sent(self) -> Sent:
        """What the next request carries: the version, the ``Cookie`` header, the values,
        and the credentials the jar was seeded with.

        Cached until the cookies change or one of them expires, so a call costs
        no formatting or checking while nothing changes.
        """
        now = time.time()
        with self._lock:
            if self._sent is None or now >= self._sent_until:
                live = {
                    name: value
                    for name, value in self._cookies.items()
                    if self._expires.get(name, now) >= now
                }
                header = "; ".join(f"{name}={value}" for name, value in live.items())
                self._sent = Sent(self._version, header, tuple(live.values()), self._seed)
                self._sent_until = min(self._expires.values(), default=math.inf)
            return self._sent

    def seed(
        self, credentials: Credentials | Mapping[str, str], *, if_version: int | None = None
    ) -> bool:
        """Start over from the source's credentials, if they differ from the last seed.

        The source gives the same credentials call after call; only when they
        change (a refresh, a file exported again) do they replace what the
        site set since.

        Args:
            credentials: What the source gave: [`Credentials`][aichat_core.Credentials],
                or bare cookies.
            if_version: Seed only if the jar is still at this version: a caller
                that read the source before another call refreshed it must not
                put the older cookies back.

        Returns:
            Whether the jar's cookies changed.

        Raises:
            InvalidRequestError: a name or value that a ``Cookie`` header
                cannot carry (named, never quoted).
        """
        seed = self._seed
        if credentials is seed:  # the usual case: the source's cached value again
            return False
        credentials = Credentials.of(credentials)  # checks the cookies (names, never values)
        with self._lock:
            if credentials == self._seed or (
                if_version is not None and if_version != self._version
            ):
                return False
            self._seed = credentials
            cookies = dict(credentials.cookies)
            if cookies == self._cookies:  # e.g. a file the rotated cookies were saved to
                if (
                    seed is None
                    or seed.user_agent != credentials.user_agent
                    or (seed.headers != credentials.headers)
                ):
                    self._sent = None  # same cookies, but sent with another User-Agent
                return False
            self._cookies, self._expires = cookies, {}
            self._version += 1
            self._sent = None
            return True

    def update(self, set_cookies: Iterable[str], *, now: float | None = None) -> bool:
        """Apply the ``Set-Cookie`` header values of one answer from the host.

        A new value replaces the old one; ``Max-Age=0`` or an ``Expires`` in
        the past deletes the cookie; a ``Domain`` that the host does not
        belong to, or a header a browser would ignore, is ignored.

        Args:
            set_cookies: The answer's ``Set-Cookie`` values, one per header.
            now: The time, in seconds since 1970 (default: now).

        Returns:
            Whether any cookie changed.
        """
        now = time.time() if now is None else now
        changed: list[str] = []
        with self._lock:
            for header in set_cookies:
                cookie = parse_set_cookie(header, now=now)
                if cookie is None or not self._accepts(cookie.domain):
                    continue
                name = cookie.name
                if cookie.deletes:
                    if self._cookies.pop(name, None) is not None:
                        changed.append(name)
                    self._expires.pop(name, None)
                    continue
                if self._cookies.get(name) != cookie.value:
                    changed.append(name)
                self._cookies[name] = cookie.value
                if cookie.expires is None:
                    self._expires.pop(name, None)
                else:
                    self._expires[name] = cookie.expires
            if changed:
                self._version += 1
                self._sent = None
        if changed:
            logger.debug("cookies set by %s: %s", self.host, changed)  # names only
        return bool(changed)

    def _accepts(self, domain: str | None) -> bool:
        """Whether a cookie with this ``Domain`` attribute may be kept (RFC 6265 5.3)."""
        if domain is None or domain == self.host:
            return True
        return not _is_ip(self.host) and domain_matches(self.host, domain)

    def __repr__(self) -> str:
        with self._lock:
            names = list(self._cookies)
        return f"SessionJar(host={self.host!r}, names={names!r}, version={self._version})"
