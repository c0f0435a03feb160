"""A real Chromium, driven over the DevTools protocol (pydoll), to earn a clearance.

The browser runs in a session (process group) of its own with a fresh profile
in a temporary folder; its crash handler and caches are kept in that folder
too. Whatever happens (success, timeout, error, cancellation), the whole
group is killed, every process that names the profile is waited for, and the
folder is removed before `earn` returns or raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from aichat_adapters._extras import import_extra
from aichat_adapters.clearance._common import entries_of, logger, proxy_repr
from aichat_adapters.cookies._select import CookieEntry
from aichat_core import (
    AichatError,
    ChallengeError,
    ConnectError,
    CookiesNotFoundError,
    InvalidRequestError,
)

__all__ = [
    "BROWSER_NAMES",
    "BROWSER_VARIABLE",
    "PROFILE_PREFIX",
    "Earned",
    "Launch",
    "check_browser_args",
    "check_display",
    "earn",
    "find_browser",
]

#: The variable naming the browser to run, before the names on ``PATH``.
BROWSER_VARIABLE = "AICHAT_BROWSER"
#: The names looked for on ``PATH``, in order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
#: The temporary profile folders' prefix (in the system's temporary folder).
PROFILE_PREFIX = "aichat-clearance-"

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium), or give the browser's path "
    f"with executable=... (aichat login --browser-path) or {BROWSER_VARIABLE}"
)
_HEADLESS_MARK = "HeadlessChrome"
# Quiet in a machine that refuses outside connections: no sync, no updates, no pings.
_FLAGS = (
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--password-store=basic",
    "--use-mock-keychain",
    "--mute-audio",
)
# Flags the source sets itself: a user's browser_args may not.
_OWN_FLAGS = (
    "--user-data-dir",
    "--remote-debugging-port",
    "--remote-debugging-pipe",
    "--proxy-server",
    "--proxy-bypass-list",
    "--headless",
    "--user-agent",
)
_POLL = 0.05
_STOP_WAIT = 5.0
_DEATH_WAIT = 0.5
# Chromium makes a Unix socket at TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket and
# aborts when that path is over 107 bytes: the profile (its TMPDIR) must be short.
_MAX_TEMPORARY_FOLDER = 40
_SHORT_FOLDER = "/tmp"  # noqa: S108 - a fresh mkdtemp folder in it, 0700, never a fixed name
_PR_SET_PDEATHSIG = 1


def find_browser(executable: str | None) -> str:
    """The browser to run: ``executable``, else ``$AICHAT_BROWSER``, else the first of
    `BROWSER_NAMES` on ``PATH``.

    Raises:
        CookiesNotFoundError: none of them is an executable file; the message
            names what was tried and how to install a browser.
    """
    if executable is not None:
        return _executable(executable, f"executable={executable!r}")
    from_env = os.environ.get(BROWSER_VARIABLE, "").strip()
    if from_env:
        return _executable(from_env, f"{BROWSER_VARIABLE}={from_env!r}")
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise _no_browser(
        f"tried {BROWSER_VARIABLE} (unset) and {', '.join(BROWSER_NAMES)} on PATH: none found"
    )


def _executable(path: str, origin: str) -> str:
    found = shutil.which(path) if os.sep not in path else path
    if found and os.path.isfile(found) and os.access(found, os.X_OK):
        return found
    reason = "not an executable file" if found and os.path.exists(found) else "no such file"
    raise _no_browser(f"{origin}: {reason}")


def _no_browser(reason: str) -> CookiesNotFoundError:
    message = f"no browser to earn the clearance with ({reason}); {INSTALL_HINT}"
    return CookiesNotFoundError(
        message, tried=(("browser clearance", f"{reason}; {INSTALL_HINT}"),)
    )


def check_display(*, headless: bool) -> None:
    """Refuse a visible window where there is no display to show it on (Linux).

    Raises:
        InvalidRequestError: ``headless=False`` and neither ``DISPLAY`` nor ``WAYLAND_DISPLAY``.
    """
    if headless or not sys.platform.startswith("linux"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InvalidRequestError(
            "a visible browser window needs a display, and neither DISPLAY nor "
            "WAYLAND_DISPLAY is set (no desktop session here); run headless instead "
            "(without --show)"
        )


def check_browser_args(args: object) -> tuple[str, ...]:
    """Extra Chromium flags: strings starting with ``--``, none the source sets itself."""
    if isinstance(args, str) or not isinstance(args, Sequence):
        raise InvalidRequestError(
            f"browser_args must be a tuple of flags such as ('--lang=en-US',), not {args!r}"
        )
    checked = tuple(args)
    for arg in checked:
        if not isinstance(arg, str) or not arg.startswith("--") or "\0" in arg:
            raise InvalidRequestError(f"browser_args holds {arg!r}, not a flag such as '--lang=en'")
        name = arg.split("=", 1)[0]
        if name in _OWN_FLAGS:
            raise InvalidRequestError(
                f"browser_args may not set {name}: BrowserClearance sets it (a proxy goes in "
                "the client's proxy=, the profile is a fresh temporary folder)"
            )
    return checked


@attrs.frozen
class Launch:
    """What one browser run does.

    Attributes:
        executable: The browser to run.
        url: The page to open.
        host: The host whose cookies are waited for and returned.
        headless: Run without a window.
        timeout: Seconds for the whole run (start, page, challenge).
        proxy: The proxy URL the browser goes out through.
        args: Extra flags.
        cookie_names: The cookies that mean the challenge was passed.
    """

    executable: str
    url: str
    host: str
    headless: bool
    timeout: float
    proxy: str | None = attrs.field(repr=proxy_repr)
    args: tuple[str, ...]
    cookie_names: tuple[str, ...]


Earned = tuple[dict[str, CookieEntry], str, float]


async def earn(launch: Launch) -> Earned:
    """Run the browser until it has the clearance.

    Returns:
        The host's cookies, the browser's User-Agent, and when the cookies were read.

    Raises:
        InvalidRequestError: no display for a window, or the ``clearance`` extra is missing.
        CookiesNotFoundError: the browser did not start, or failed on the way (crashed,
            stopped answering).
        ConnectError: the browser could not open the page (refused, no such host...).
        ChallengeError: the clearance cookies were not set within the timeout.
    """
    check_display(headless=launch.headless)
    import_extra("pydoll", "clearance", "BrowserClearance")
    deadline = time.monotonic() + launch.timeout
    try:
        profile = Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX, dir=_short_temporary_folder()))
    except OSError as exc:
        raise _failed(launch, f"no temporary folder for its profile ({exc.strerror})") from None
    group = _Group(profile)
    loop = asyncio.get_running_loop()
    browser: Any = None
    drive: asyncio.Future[Earned] | None = None
    try:
        browser = _browser(launch, profile, group)
        drive = asyncio.ensure_future(_drive(browser, launch, deadline, group))
        watch = asyncio.ensure_future(group.exited())
        try:
            await asyncio.wait(
                {drive, watch},
                timeout=max(0.0, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            watch.cancel()
        if drive.done():
            return drive.result()
        if watch.done() and not watch.cancelled():  # it died: pydoll may wait a minute to see it
            raise _exited(launch, group, watch.result())
        raise _not_cleared(launch)
    except AichatError:
        raise
    except Exception as exc:  # the browser crashed or stopped answering: pydoll's errors
        try:  # a lost connection is often the browser's death, seen a moment earlier
            code = await asyncio.wait_for(group.exited(), _DEATH_WAIT)
        except asyncio.TimeoutError:
            pass
        else:
            raise _exited(launch, group, code) from None
        said = _first_line(str(exc))
        raise _failed(launch, f"{type(exc).__name__}: {said}"[:300]) from None
    finally:
        # Kill first: a page that keeps the browser busy must not hold the clean-up
        # (pydoll waits up to 60 s for commands a busy browser does not answer).
        await loop.run_in_executor(None, group.kill)
        if drive is not None:
            drive.cancel()
            await asyncio.wait({drive}, timeout=_STOP_WAIT)
            if drive.done() and not drive.cancelled():
                drive.exception()  # retrieved: its error, if any, was raised above
        await _close(browser)
        await loop.run_in_executor(None, group.stop)


def _exited(launch: Launch, group: _Group, code: int) -> CookiesNotFoundError:
    said = group.last_words()
    words = f"; its last words: {said}" if said else ""
    if not group.answering:
        return CookiesNotFoundError(
            f"the browser {launch.executable} did not start: it exited with code {code}{words}",
            tried=(("browser clearance", "the browser did not start"),),
        )
    return _failed(launch, f"the browser exited with code {code}{words}")


def _failed(launch: Launch, reason: str) -> CookiesNotFoundError:
    return CookiesNotFoundError(
        f"the browser {launch.executable} failed while earning the clearance at {launch.url}: "
        f"{reason}",
        tried=(("browser clearance", reason),),
    )


def _short_temporary_folder() -> str | None:
    """The system's temporary folder, or ``/tmp`` when its path is too long for Chromium."""
    folder = tempfile.gettempdir()
    if len(os.fsencode(folder)) > _MAX_TEMPORARY_FOLDER and os.path.isdir(_SHORT_FOLDER):
        return _SHORT_FOLDER
    return None


def _browser(launch: Launch, profile: Path, group: _Group) -> Any:
    from pydoll.browser.chromium import Chrome
    from pydoll.browser.chromium.base import Browser
    from pydoll.browser.managers import BrowserProcessManager, ChromiumOptionsManager
    from pydoll.browser.options import ChromiumOptions

    class _Chromium(Chrome):
        """pydoll's Chrome, whose process starts as ``group`` says."""

        def __init__(self, options: ChromiumOptions) -> None:
            manager = BrowserProcessManager(process_creator=group.start)
            Browser.__init__(
                self, ChromiumOptionsManager(options), None, browser_process_manager=manager
            )

    options: Any = ChromiumOptions()  # type: ignore[no-untyped-call]
    options.binary_location = launch.executable
    options.headless = launch.headless
    options.start_timeout = max(1, min(30, int(launch.timeout)))
    browser = _Chromium(options)
    flags = [*_FLAGS, f"--user-data-dir={profile}"]
    if os.name == "posix" and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    if launch.proxy is not None:
        # The proxy for every request, loopback included (Chromium skips it for loopback).
        flags += [f"--proxy-server={launch.proxy}", "--proxy-bypass-list=<-loopback>"]
    for flag in [*flags, *launch.args]:
        if flag not in browser.options.arguments:
            browser.options.add_argument(flag)
    return browser


async def _drive(browser: Any, launch: Launch, deadline: float, group: _Group) -> Earned:
    from pydoll.exceptions import FailedToStartBrowser, NavigationError, PageLoadTimeout

    try:
        await browser.start()
    except FailedToStartBrowser as exc:
        said = group.last_words()
        raise CookiesNotFoundError(
            f"the browser {launch.executable} did not start: {_first_line(str(exc))}"
            + (f"; its last words: {said}" if said else ""),
            tried=(("browser clearance", "the browser did not start"),),
        ) from None
    group.answering = True
    version = await browser.get_version()
    user_agent = str(version["userAgent"]).replace(_HEADLESS_MARK, "Chrome")
    # pydoll applies a --user-agent flag to every tab it opens from now on, with the
    # client hints that go with it: the page is opened as the User-Agent it will be sent with.
    browser.options.add_argument(f"--user-agent={user_agent}")
    tab = await browser.new_tab()
    user_agent = await _page_user_agent(tab, user_agent)
    try:
        await tab.go_to(launch.url, timeout=max(1, int(deadline - time.monotonic())))
    except NavigationError as exc:
        raise ConnectError(
            f"the browser could not open {launch.url}: {_first_line(str(exc.error_text))}"
        ) from None
    except PageLoadTimeout:
        pass  # the page is still loading: the cookies may come all the same
    while True:
        cookies = await browser.get_cookies()
        entries = entries_of(cookies, launch.host)
        if all(name in entries for name in launch.cookie_names):
            logger.info(
                "clearance: the browser passed the challenge at %s (cookies %s)",
                launch.url,
                sorted(entries),
            )
            return entries, user_agent, time.time()
        if time.monotonic() >= deadline:
            raise _not_cleared(launch)
        await asyncio.sleep(_POLL)


def _not_cleared(launch: Launch) -> ChallengeError:
    return ChallengeError(
        f"the browser could not clear the challenge at {launch.url} in {launch.timeout:g} s "
        f"(no {', '.join(launch.cookie_names)} cookie for {launch.host}); open the site with "
        "a visible window (aichat login --show) to see what it asks, or raise the timeout",
        status_code=403,
    )


async def _page_user_agent(tab: Any, fallback: str) -> str:
    """The User-Agent the tab sends (``navigator.userAgent`` follows the override)."""
    try:
        answer = await tab.execute_script("navigator.userAgent", return_by_value=True)
        value = answer["result"]["result"]["value"]
    except Exception:  # an old pydoll or a protocol change: the override's own value
        return fallback
    return value if isinstance(value, str) and value else fallback


async def _close(browser: Any) -> None:
    """Close the DevTools connection (the process is killed after, the tabs' with it)."""
    if browser is None:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(browser.close(), 2.0)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no reason given"
    return line[:300]


class _Group:
    """The browser's processes: a session of their own, killed whole, waited for."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.popen: subprocess.Popen[bytes] | None = None
        self.answering = False  # it answered on the DevTools port
        self._log: IO[bytes] | None = None

    def start(self, command: list[str]) -> subprocess.Popen[bytes]:
        """Start the browser (pydoll's process creator)."""
        where = str(self.profile)
        env = {
            **os.environ,
            # Its temporary files, crash handler, caches and settings go in the profile
            # (removed after), not in /tmp or $HOME.
            "TMPDIR": where,
            "BREAKPAD_DUMP_LOCATION": os.path.join(where, "crashes"),
            "XDG_CONFIG_HOME": os.path.join(where, "config"),
            "XDG_CACHE_HOME": os.path.join(where, "cache"),
        }
        self._log = open(os.path.join(where, "browser.log"), "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(  # noqa: S603 - the browser found, and fixed flags
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent(),  # noqa: PLW1509 - one libc call, no lock taken
        )
        logger.debug("clearance: browser started (pid %d)", self.popen.pid)
        return self.popen

    def last_words(self) -> str:
        """The last line the browser wrote on stderr that is not about D-Bus (for errors)."""
        try:
            with open(self.profile / "browser.log", "rb") as file:
                file.seek(max(0, file.seek(0, os.SEEK_END) - 8192))
                lines = file.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        useful = [line for line in lines if line.strip() and "dbus" not in line.lower()]
        return _first_line(useful[-1]) if useful else ""

    async def exited(self) -> int:
        """Return the browser's exit code once it has exited (started or not yet)."""
        while self.popen is None or self.popen.poll() is None:
            await asyncio.sleep(_POLL)
        return self.popen.returncode

    def kill(self) -> None:
        """Kill the browser's process group at once (SIGKILL)."""
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Kill every process of the browser, wait until they are gone, remove the profile."""
        popen = self.popen
        if popen is not None:
            self.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(_STOP_WAIT)
            self._wait_for_all(popen.pid)
        if self._log is not None:
            self._log.close()
        for _ in range(20):
            shutil.rmtree(self.profile, ignore_errors=True)
            if not self.profile.exists():
                break
            time.sleep(0.05)
        else:
            logger.warning("clearance: the browser profile %s could not be removed", self.profile)

    def _wait_for_all(self, group: int) -> None:
        deadline = time.monotonic() + _STOP_WAIT
        marker = os.fsencode(self.profile)
        while True:
            left = _processes(group, marker)
            if not left:
                return
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                logger.warning("clearance: browser processes %s did not exit", sorted(left))
                return
            time.sleep(0.02)


def _processes(group: int, marker: bytes) -> set[int]:
    """The live processes of the browser: its group, and any that names its profile."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return set()
        return {group}
    found: set[int] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as file:
                fields = file.read().rpartition(b")")[2].split()
            if fields[0] == b"Z":
                continue  # a zombie: gone, waiting to be reaped
            if int(fields[2]) == group:
                found.add(int(name))
                continue
            with open(f"/proc/{name}/cmdline", "rb") as file:
                if marker in file.read():
                    found.add(int(name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux: the browser gets SIGKILL if this process dies first (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return set_signal
