"""`BrowserClearance`: credentials earned by a real Chromium, saved and shared if asked."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from aichat_adapters.clearance._chromium import Launch, check_browser_args, earn, find_browser
from aichat_adapters.clearance._common import (
    check_cookie_names,
    check_url,
    credentials_of,
    host_of,
    logger,
    proxy_repr,
)
from aichat_adapters.clearance._earned import EarnedSource, check_margin, check_timeout
from aichat_adapters.clearance._flight import Earn, Flights
from aichat_adapters.clearance._lock import locked
from aichat_adapters.cookies._file import load_bundle, write_bundle
from aichat_adapters.cookies._select import Unusable
from aichat_adapters.transports._common import check_proxy
from aichat_core import Credentials, InvalidRequestError
from aichat_core._credentials import DIRECT, public_proxy

if TYPE_CHECKING:
    pass

__all__ = ["BrowserClearance"]

# How much longer than a browser run a process waits for another's lock.
_LOCK_MARGIN = 30.0


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequestError(f"headless must be True or False, not {value!r}")
    return value


def _optional_text_path(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not os.fspath(value).strip():
        raise InvalidRequestError(f"executable must be a path or a name on PATH, not {value!r}")
    return str(os.fspath(value))


def _save_path(value: object) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not os.fspath(value).strip():
        raise InvalidRequestError(f"save_to must be a file path, not {value!r}")
    path = Path(value)
    try:
        return path.expanduser()
    except RuntimeError:  # no home directory: used as given
        return path


@attrs.frozen
class BrowserClearance(EarnedSource):
    """Credentials earned by a real Chromium: the site's cookies and the browser's User-Agent.

    A credentials source (see [`CredentialsSource`][aichat_core.CredentialsSource])
    that opens ``url`` in Chromium, driven over the DevTools protocol
    (pydoll, the ``clearance`` extra), and waits until every cookie of
    ``cookie_names`` is set for the site, as a person's browser passes
    Cloudflare's challenge. It returns all the site's cookies (HttpOnly
    included) with the browser's User-Agent, in which "HeadlessChrome" is
    replaced by "Chrome" before the page is opened: the clearance is earned
    by the User-Agent it will be sent with.

    Give it to a client as ``cookie_source=``: the client binds it to its
    ``base_url`` (the default ``url``) and its ``proxy`` (the browser goes
    out through it, so the clearance is earned from the client's IP).

    The browser runs in a fresh temporary profile, headless by default, and
    it and its profile are gone after every outcome: success, timeout,
    error or cancellation. It is found from ``executable``, else
    ``$AICHAT_BROWSER``, else ``chromium``, ``chromium-browser``,
    ``google-chrome`` or ``chrome`` on ``PATH``.

    Calls share one run: `get_credentials` gives the credentials in memory
    while they are valid, else those saved at ``save_to`` while they are,
    else runs the browser; `refresh_credentials` runs it again. With
    ``save_to``, the credentials are saved there (a bundle file, ``0600``,
    written atomically) and processes that share the file renew them one
    at a time through a lock file beside it: a process that gets the lock
    first reads the file again, and uses credentials another process saved
    meanwhile instead of starting a browser.

    Attributes:
        url: The page to open; by default the client's ``base_url`` origin.
        executable: The browser's path (or a name on ``PATH``).
        headless: Run without a window (``False`` needs a display).
        timeout: Seconds for one run: start, page and challenge.
        refresh_margin: Renew when a clearance cookie ends within this many
            seconds (at most half its life).
        save_to: A bundle file to save to and read from.
        browser_args: Extra Chromium flags, e.g. ``("--lang=en-US",)``.
        cookie_names: The cookies that mean the challenge was passed.
        proxy: The proxy URL the browser goes out through; a client sets its own.

    Raises:
        InvalidRequestError: an option is malformed.
    """

    url: str | None = attrs.field(default=None, converter=check_url)
    executable: str | None = attrs.field(default=None, converter=_optional_text_path)
    headless: bool = attrs.field(default=True, converter=_flag)
    timeout: float = attrs.field(default=60.0, converter=check_timeout)
    refresh_margin: float = attrs.field(default=60.0, converter=check_margin)
    save_to: Path | None = attrs.field(default=None, converter=_save_path)
    browser_args: tuple[str, ...] = attrs.field(default=(), converter=check_browser_args)
    cookie_names: tuple[str, ...] = attrs.field(
        default=("cf_clearance",), converter=check_cookie_names
    )
    proxy: str | None = attrs.field(
        default=None, kw_only=True, converter=check_proxy, repr=proxy_repr
    )
    _flights: Flights = attrs.field(factory=Flights, init=False, repr=False, eq=False)

    def describe(self) -> str:
        """The label used in errors and logs."""
        if self.url is None:
            return "browser clearance (no url yet)"
        return f"browser clearance of {self.url}"

    def get_credentials(self) -> Credentials:
        """The credentials in memory while valid, else those saved at ``save_to``, else a run's.

        Raises:
            InvalidRequestError: no ``url`` (give one, or pass the source to a client).
            CookiesNotFoundError: no browser, or it did not start.
            ConnectError: the browser could not open the page.
            ChallengeError: the challenge was not passed within ``timeout``.
        """
        return super().get_credentials()

    def _earner(self, refresh: bool, stale: Credentials | None) -> Earn:
        return lambda: self._obtain(refresh, stale)

    async def _obtain(self, refresh: bool, stale: Credentials | None) -> Credentials:
        """Credentials from the file (when valid and, to renew, newer than ``stale``) or a run."""
        if self.save_to is None:
            return await self._browse()
        if not refresh and (saved := self._saved()) is not None:
            return saved
        async with locked(self.save_to, self.timeout + _LOCK_MARGIN):
            saved = self._saved()
            if saved is not None and (not refresh or _newer(saved, stale)):
                logger.info("clearance: using the credentials another process saved")
                return saved
            return await self._browse()

    async def _browse(self) -> Credentials:
        assert self.url is not None
        launch = Launch(
            executable=find_browser(self.executable),
            url=self.url,
            host=host_of(self.url),
            headless=self.headless,
            timeout=self.timeout,
            proxy=self.proxy,
            args=self.browser_args,
            cookie_names=self.cookie_names,
        )
        logger.info("clearance: starting %s for %s", launch.executable, launch.url)
        entries, user_agent, obtained_at = await earn(launch)
        credentials, bound = credentials_of(
            entries,
            user_agent=user_agent,
            proxy=self.proxy or DIRECT,
            names=self.cookie_names,
            obtained_at=obtained_at,
        )
        if self.save_to is not None:
            try:
                write_bundle(self.save_to, entries.values(), bound)
            except OSError as exc:
                logger.warning(
                    "clearance: credentials not saved to %s: %s",
                    self.save_to,
                    exc.strerror or type(exc).__name__,
                )
        return credentials

    def _saved(self) -> Credentials | None:
        """The credentials saved at ``save_to``, when they are this source's and still valid."""
        assert self.save_to is not None
        assert self.url is not None
        try:
            entries, bound = load_bundle(self.save_to, host_of(self.url))
        except Unusable as exc:
            logger.debug("clearance: nothing usable at %s: %s", self.save_to, exc.reason)
            return None
        if bound.user_agent is None or _route(bound.proxy) != _route(self.proxy):
            logger.debug("clearance: %s was earned otherwise (User-Agent or proxy)", self.save_to)
            return None
        credentials, _ = credentials_of(
            entries,
            user_agent=bound.user_agent,
            proxy=self.proxy or DIRECT,
            names=self.cookie_names,
            obtained_at=bound.obtained_at,
        )
        return credentials if self._valid(credentials) else None


def _route(proxy: str | None) -> str | None:
    """The way out a clearance was earned: a proxy without its password, or ``None``
    for directly (``"direct"``, or no word in a file written before there was one)."""
    return None if proxy in (None, DIRECT) else public_proxy(proxy)


def _newer(saved: Credentials, stale: Credentials | None) -> bool:
    """Whether ``saved`` was obtained after ``stale`` (so it is not the one being renewed)."""
    if stale is None or saved.cookies == stale.cookies:
        return False
    return (saved.obtained_at or 0.0) > (stale.obtained_at or time.time())
