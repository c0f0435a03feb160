"""The clearance sources without a browser: options, binding, a missing browser, single flight."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from aichat_adapters.clearance import (
    BROWSER_NAMES,
    BrowserClearance,
    FlareSolverrClearance,
    find_browser,
)
from aichat_adapters.clearance._flight import Earn, Flights
from aichat_core import (
    ChallengeError,
    CookiesNotFoundError,
    Credentials,
    CredentialsSource,
    InvalidRequestError,
)

SECRET = "s3cr3t-proxy-password"


@pytest.mark.parametrize("make", [BrowserClearance, FlareSolverrClearance])
def test_a_client_binds_the_source_to_its_site_and_proxy(make: Callable[..., Any]) -> None:
    source = make()
    assert source.domain is None
    assert "no url yet" in source.describe()
    bound = source.bind(base_url="http://127.0.0.1:8000", proxy="http://127.0.0.1:3128")
    assert bound.url == "http://127.0.0.1:8000/"
    assert bound.domain == "127.0.0.1"
    assert bound.proxy == "http://127.0.0.1:3128"
    assert bound.bind(base_url="http://127.0.0.1:8000", proxy="http://127.0.0.1:3128") is bound
    kept = make(url="https://chat-gpt.org/chat").bind(base_url="https://mirror.example", proxy=None)
    assert kept.url == "https://chat-gpt.org/chat"
    assert kept.domain == "chat-gpt.org"


@pytest.mark.parametrize("make", [BrowserClearance, FlareSolverrClearance])
def test_an_unbound_source_says_how_to_bind_it(make: Callable[..., Any]) -> None:
    with pytest.raises(InvalidRequestError, match=r"give url=.*cookie_source="):
        make().get_credentials()


def test_the_sources_fit_the_port() -> None:
    # mypy checks these assignments.
    sources: list[CredentialsSource] = [BrowserClearance(), FlareSolverrClearance()]
    assert all(source.blocking for source in sources)  # type: ignore[attr-defined]
    assert BrowserClearance().refresh_margin == 60.0


@pytest.mark.parametrize(
    "options",
    [
        {"url": "ftp://x"},
        {"url": "https://user:pw@chat-gpt.org/"},
        {"url": "chat-gpt.org"},
        {"url": "https://chat-gpt.org:99999/"},
        {"timeout": 0},
        {"timeout": float("nan")},
        {"timeout": True},
        {"refresh_margin": -1},
        {"headless": "yes"},
        {"executable": ""},
        {"save_to": ""},
        {"browser_args": "--lang=en"},
        {"browser_args": ("lang=en",)},
        {"browser_args": ("--user-data-dir=/tmp/x",)},
        {"browser_args": ("--proxy-server=http://x:1",)},
        {"cookie_names": ()},
        {"cookie_names": ("bad name",)},
        {"proxy": "ftp://x"},
    ],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError):
        BrowserClearance(**options)


@pytest.mark.parametrize(
    "options", [{"endpoint": "localhost:8191"}, {"endpoint": 8191}, {"timeout": -1}]
)
def test_bad_flaresolverr_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError):
        FlareSolverrClearance(**options)


def test_a_proxy_password_is_never_shown() -> None:
    proxy = f"http://user:{SECRET}@127.0.0.1:3128"
    for source in (BrowserClearance(proxy=proxy), FlareSolverrClearance(proxy=proxy)):
        assert SECRET not in repr(source)
        assert "127.0.0.1:3128" in repr(source)


def test_a_missing_browser_names_what_was_tried_and_how_to_install_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AICHAT_BROWSER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CookiesNotFoundError) as caught:
        find_browser(None)
    message = str(caught.value)
    assert all(name in message for name in BROWSER_NAMES)
    assert "apt-get install chromium" in message
    assert "AICHAT_BROWSER" in message
    source = BrowserClearance(url="http://127.0.0.1:9/", timeout=5)
    started = time.monotonic()
    with pytest.raises(CookiesNotFoundError, match="apt-get install chromium"):
        source.get_credentials()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("where", ["executable", "env"])
def test_a_named_browser_that_is_missing_is_not_replaced(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-chromium")
    plain = tmp_path / "not-executable"
    plain.write_text("")
    for path, reason in ((missing, "no such file"), (str(plain), "not an executable file")):
        if where == "env":
            monkeypatch.setenv("AICHAT_BROWSER", path)
        with pytest.raises(CookiesNotFoundError, match=reason) as caught:
            find_browser(path if where == "executable" else None)
        assert path in str(caught.value)


def test_a_browser_that_does_not_start_is_a_typed_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken-browser"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    broken.chmod(0o700)
    source = BrowserClearance(url="http://127.0.0.1:9/", executable=str(broken), timeout=10)
    started = time.monotonic()
    with pytest.raises(CookiesNotFoundError, match=r"did not start.*code 3.*cannot open display"):
        source.get_credentials()
    assert time.monotonic() - started < 10


def test_a_window_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    source = BrowserClearance(url="http://127.0.0.1:9/", headless=False, executable="/bin/sh")
    with pytest.raises(InvalidRequestError, match=r"needs a display.*DISPLAY"):
        source.get_credentials()


# Single flight, with a stand-in for the browser run.


class Runs:
    """Counts runs of a fake earner that takes ``seconds`` and gives numbered credentials."""

    def __init__(self, seconds: float = 0.2, error: Exception | None = None) -> None:
        self.seconds = seconds
        self.error = error
        self.started = 0
        self.finished = 0
        self.cancelled = 0
        self.lock = threading.Lock()

    def earner(self, refresh: bool, stale: Credentials | None) -> Earn:
        async def earn() -> Credentials:
            with self.lock:
                self.started += 1
                number = self.started
            try:
                await asyncio.sleep(self.seconds)
            except asyncio.CancelledError:
                await asyncio.sleep(0.1)  # clean-up takes a moment
                with self.lock:
                    self.cancelled += 1
                raise
            if self.error is not None:
                raise self.error
            with self.lock:
                self.finished += 1
            return Credentials({"n": str(number)}, obtained_at=time.time())

        return earn


def always(_: Credentials) -> bool:
    return True


def test_threads_share_one_run_and_refresh_starts_another() -> None:
    runs, flights = Runs(), Flights()
    found: list[Credentials] = []
    threads = [
        threading.Thread(target=lambda: found.append(flights.get(runs.earner, always)))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runs.started == 1
    assert {c.cookies["n"] for c in found} == {"1"}
    assert flights.get(runs.earner, always) is found[0]
    assert flights.refresh(runs.earner).cookies == {"n": "2"}
    assert flights.get(runs.earner, always).cookies == {"n": "2"}
    assert flights.get(runs.earner, lambda _: False).cookies == {"n": "3"}  # invalid: renewed


@pytest.mark.anyio
async def test_tasks_share_one_run(anyio_backend: str) -> None:
    runs, flights = Runs(), Flights()
    found: list[Credentials] = []

    async def get() -> None:
        found.append(await flights.aget(runs.earner, always))

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(get)
    assert runs.started == 1
    assert len(found) == 10
    refreshed = await asyncio_or_trio_refresh(flights, runs)
    assert refreshed.cookies == {"n": "2"}


async def asyncio_or_trio_refresh(flights: Flights, runs: Runs) -> Credentials:
    async with anyio.create_task_group() as group:
        results: list[Credentials] = []

        async def refresh() -> None:
            results.append(await flights.arefresh(runs.earner))

        for _ in range(3):
            group.start_soon(refresh)
    assert len({id(result) for result in results}) == 1  # renewals together: one run
    return results[0]


def test_an_error_reaches_every_waiter_and_the_next_call_tries_again() -> None:
    runs, flights = Runs(error=ChallengeError("no", status_code=403)), Flights()
    errors: list[BaseException] = []

    def get() -> None:
        try:
            flights.get(runs.earner, always)
        except ChallengeError as error:
            errors.append(error)

    threads = [threading.Thread(target=get) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 4
    assert runs.started == 1
    runs.error = None
    assert flights.get(runs.earner, always).cookies == {"n": "2"}


@pytest.mark.anyio
async def test_the_run_is_cancelled_when_its_last_waiter_leaves(anyio_backend: str) -> None:
    runs, flights = Runs(seconds=30), Flights()
    with anyio.move_on_after(0.3):
        await flights.aget(runs.earner, always)
    # Returned only once the run had cleaned up.
    assert (runs.started, runs.cancelled, runs.finished) == (1, 1, 0)
    runs.seconds = 0.1
    assert (await flights.aget(runs.earner, always)).cookies == {"n": "2"}


@pytest.mark.anyio
async def test_a_run_others_wait_for_is_not_cancelled(anyio_backend: str) -> None:
    runs, flights = Runs(seconds=1.0), Flights()
    found: list[Credentials] = []

    async def patient() -> None:
        found.append(await flights.aget(runs.earner, always))

    async with anyio.create_task_group() as group:
        group.start_soon(patient)
        await anyio.sleep(0.1)
        with anyio.move_on_after(0.2):
            await flights.aget(runs.earner, always)
    assert (runs.started, runs.cancelled, runs.finished) == (1, 0, 1)
    assert found[0].cookies == {"n": "1"}


def test_a_sync_call_and_an_async_one_share_a_run() -> None:
    runs, flights = Runs(seconds=0.5), Flights()
    found: list[Credentials] = []
    thread = threading.Thread(target=lambda: found.append(flights.get(runs.earner, always)))
    thread.start()
    found.append(anyio.run(flights.aget, runs.earner, always, backend="trio"))
    thread.join()
    assert runs.started == 1
    assert found[0] is found[1]


def test_no_thread_is_left_after_a_run() -> None:
    before = {t.ident for t in threading.enumerate()}
    Flights().get(Runs(seconds=0.01).earner, always)
    deadline = time.monotonic() + 5
    while {t.ident for t in threading.enumerate()} - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert {t.name for t in threading.enumerate() if t.ident not in before} == set()
    assert os.getpid() > 0


# The lock file that keeps processes sharing save_to apart.


def test_the_lock_is_held_for_the_block_and_waits_are_bounded(tmp_path: Path) -> None:
    import fcntl

    from aichat_adapters.clearance._lock import lock_path, locked

    saved = tmp_path / "state" / "credentials.json"

    async def hold() -> None:
        async with locked(saved, timeout=5):
            assert stat.S_IMODE(lock_path(saved).stat().st_mode) == 0o600
            fd = os.open(lock_path(saved), os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):  # another open file: refused
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)

    asyncio.run(hold())
    fd = os.open(lock_path(saved), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the block

        async def wait() -> None:
            async with locked(saved, timeout=0.3):
                raise AssertionError("entered a lock another file holds")

        started = time.monotonic()
        with pytest.raises(CookiesNotFoundError, match=r"another process .* for 0.3 s"):
            asyncio.run(wait())
        assert 0.3 <= time.monotonic() - started < 2
    finally:
        os.close(fd)


def test_a_lock_file_that_cannot_be_made_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from aichat_adapters.clearance._lock import locked

    entered: list[bool] = []

    async def enter() -> None:
        async with locked(Path("/proc/aichat/credentials.json"), timeout=1):
            entered.append(True)

    asyncio.run(enter())
    assert entered == [True]
    assert "no lock file /proc/aichat/credentials.json.lock" in caplog.text


def test_a_symlink_planted_as_the_lock_file_is_not_followed(tmp_path: Path) -> None:
    from aichat_adapters.clearance._lock import lock_path, locked

    saved = tmp_path / "credentials.json"
    target = tmp_path / "elsewhere"
    lock_path(saved).symlink_to(target)

    async def enter() -> None:
        async with locked(saved, timeout=1):
            pass

    asyncio.run(enter())  # runs unlocked, with a warning; the link's target is never made
    assert not target.exists()
