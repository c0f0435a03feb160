"""Cookies that stay valid, end to end: refresh and replay, rotation, write-back, right host."""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest

from aichat_adapters import (
    AichatClient,
    AsyncAichatClient,
    AuthenticationError,
    ChallengeError,
    CookiesNotFoundError,
    FileCookieSource,
    InvalidRequestError,
)
from aichat_adapters.stub import Fault, StubServer
from tests.support import FAST, call, read_only

STALE = {"session": "stale-s3cr3t-value"}
FRESH = {"session": "fresh-s3cr3t-value"}
SECRETS = (STALE["session"], FRESH["session"], "rotated-s3cr3t-value")


class Refreshable:
    """A source whose cookies are stale until ``refresh_cookies()``; counts both calls."""

    def __init__(self, refreshed: dict[str, str] | None = None) -> None:
        self.current = dict(STALE)
        self.refreshed = FRESH if refreshed is None else refreshed
        self.gets = 0
        self.refreshes = 0
        self._lock = threading.Lock()

    def get_cookies(self) -> dict[str, str]:
        with self._lock:
            self.gets += 1
            return dict(self.current)

    def refresh_cookies(self) -> dict[str, str]:
        with self._lock:
            self.refreshes += 1
            self.current = dict(self.refreshed)
            return dict(self.current)


class ReadAgain:
    """A source with no ``refresh_cookies()``: its second read gives the fresh cookies."""

    def __init__(self) -> None:
        self.gets = 0

    def get_cookies(self) -> dict[str, str]:
        self.gets += 1
        return dict(STALE if self.gets == 1 else FRESH)


def stub_options(stub: StubServer, **options: Any) -> dict[str, Any]:
    return {"base_url": stub.url, "retry_policy": FAST, **options}


@pytest.fixture
def guarded(stub: StubServer) -> Iterator[StubServer]:
    """The stub, asking for the fresh cookies (the challenge page otherwise)."""
    stub.require_cookies(FRESH)
    yield stub
    stub.require_cookies(None)


# --------------------------------------------------------------------------- refresh and replay


def test_stale_cookies_are_refreshed_once_and_the_call_replayed(
    kind: str, guarded: StubServer
) -> None:
    source = Refreshable()

    reply = call(kind, stub_options(guarded, cookie_source=source, max_retries=0), "Hi")

    assert reply.text == "Echo: Hi"
    assert reply.attempts == 2  # the rejected one and the replay; no retry was spent
    assert source.refreshes == 1
    assert [r.cookies for r in guarded.requests] == [STALE, FRESH]


def test_a_source_without_refresh_is_read_again(kind: str, guarded: StubServer) -> None:
    source = ReadAgain()

    reply = call(kind, stub_options(guarded, cookie_source=source, max_retries=0), "Hi")

    assert reply.attempts == 2
    assert source.gets == 2
    assert [r.cookies for r in guarded.requests] == [STALE, FRESH]


def test_unchanged_cookies_give_the_original_error_without_a_replay(
    kind: str, guarded: StubServer
) -> None:
    with pytest.raises(ChallengeError) as caught:
        call(kind, stub_options(guarded, cookies=STALE), "Hi")

    assert caught.value.attempts == 1
    assert len(guarded.requests) == 1
    assert "gave the same ones" in str(caught.value)  # the hint


def test_a_refreshed_cookie_rejected_again_is_not_refreshed_twice(
    kind: str, guarded: StubServer
) -> None:
    source = Refreshable(refreshed={"session": "still-wrong-value"})

    with pytest.raises(ChallengeError) as caught:
        call(kind, stub_options(guarded, cookie_source=source), "Hi")

    assert source.refreshes == 1
    assert caught.value.attempts == 2
    assert len(guarded.requests) == 2


def test_a_replay_happens_whatever_max_retries_is_and_spends_no_retry(
    kind: str, guarded: StubServer
) -> None:
    guarded.enqueue(Fault.status(503))  # the replay meets a 503: one retry is left for it
    source = Refreshable()

    reply = call(kind, stub_options(guarded, cookie_source=source, max_retries=1), "Hi")

    assert reply.attempts == 3  # rejected, replayed (503), retried
    assert source.refreshes == 1


def test_a_401_also_triggers_the_refresh(kind: str, stub: StubServer) -> None:
    stub.enqueue(Fault.status(401))
    source = Refreshable()

    reply = call(kind, stub_options(stub, cookie_source=source, max_retries=0), "Hi")

    assert reply.attempts == 2
    assert [r.cookies for r in stub.requests] == [STALE, FRESH]


def test_20_threads_rejected_together_share_one_refresh(guarded: StubServer) -> None:
    barrier = threading.Barrier(20)

    class Together(Refreshable):
        def get_cookies(self) -> dict[str, str]:
            cookies = super().get_cookies()
            if self.gets <= 20:
                barrier.wait(timeout=10)  # every call reads the stale cookies first
            return cookies

    source = Together()
    with (
        AichatClient(**stub_options(guarded, cookie_source=source, max_retries=0)) as client,
        ThreadPoolExecutor(20) as pool,
    ):
        replies = list(pool.map(client.complete, [f"t{n}" for n in range(20)]))

    assert source.refreshes == 1
    assert sorted(r.text for r in replies) == sorted(f"Echo: t{n}" for n in range(20))
    assert all(r.attempts == 2 for r in replies)


def test_cookies_read_before_a_refresh_do_not_undo_it(guarded: StubServer) -> None:
    """A call that read the stale cookies, then seeds them after another call refreshed."""

    class Slow(Refreshable):
        def __init__(self) -> None:
            super().__init__()
            self.reading = threading.Event()
            self.refreshed_now = threading.Event()

        def get_cookies(self) -> dict[str, str]:
            cookies = super().get_cookies()
            if threading.current_thread().name == "late":
                self.reading.set()
                self.refreshed_now.wait(10)  # returns the stale cookies after the refresh
            return cookies

        def refresh_cookies(self) -> dict[str, str]:
            cookies = super().refresh_cookies()
            self.refreshed_now.set()
            return cookies

    source = Slow()
    late: list[Any] = []
    with AichatClient(**stub_options(guarded, cookie_source=source, max_retries=0)) as client:
        thread = threading.Thread(target=lambda: late.append(client.complete("late")), name="late")
        thread.start()
        assert source.reading.wait(10)
        first = client.complete("first")  # rejected, refreshed, replayed
        thread.join(10)

    assert source.refreshes == 1
    assert first.attempts == 2
    assert late[0].attempts == 1  # sent the refreshed cookies from the jar at once


@pytest.mark.anyio
async def test_50_tasks_rejected_together_share_one_refresh(guarded: StubServer) -> None:
    arrived = 0
    everyone = anyio.Event()

    class Together:
        def __init__(self) -> None:
            self.current = dict(STALE)
            self.refreshes = 0

        async def get_cookies(self) -> dict[str, str]:
            nonlocal arrived
            cookies = dict(self.current)
            arrived += 1
            if arrived == 50:
                everyone.set()
            await everyone.wait()
            return cookies

        async def refresh_cookies(self) -> dict[str, str]:
            self.refreshes += 1
            await anyio.sleep(0.01)  # others pile up behind the single flight meanwhile
            self.current = dict(FRESH)
            return dict(self.current)

    source = Together()
    texts: list[str] = []
    async with AsyncAichatClient(**stub_options(guarded, cookie_source=source)) as client:

        async def one(n: int) -> None:
            texts.append(await client.ask(f"a{n}"))

        async with anyio.create_task_group() as group:
            for n in range(50):
                group.start_soon(one, n)

    assert source.refreshes == 1
    assert sorted(texts) == sorted(f"Echo: a{n}" for n in range(50))


@pytest.mark.anyio
async def test_copies_made_by_with_options_share_one_refresh(guarded: StubServer) -> None:
    """A client and its ``with_options`` copy are one family: one refresh lock (issue 12)."""

    class Slow:
        def __init__(self) -> None:
            self.current = dict(STALE)
            self.refreshes = 0

        async def get_cookies(self) -> dict[str, str]:
            return dict(self.current)

        async def refresh_cookies(self) -> dict[str, str]:
            self.refreshes += 1
            await anyio.sleep(0.3)  # the other calls are rejected meanwhile
            self.current = dict(FRESH)
            return dict(self.current)

    source = Slow()
    texts: list[str] = []
    async with AsyncAichatClient(**stub_options(guarded, cookie_source=source)) as client:
        copies = (client, client.with_options(timeout=30, max_retries=1))

        async def one(n: int) -> None:
            texts.append(await copies[n % 2].ask(f"c{n}"))

        async with anyio.create_task_group() as group:
            for n in range(10):
                group.start_soon(one, n)

    assert source.refreshes == 1
    assert sorted(texts) == sorted(f"Echo: c{n}" for n in range(10))


def test_copies_made_by_with_options_share_one_refresh_on_threads(guarded: StubServer) -> None:
    barrier = threading.Barrier(10)

    class Slow(Refreshable):
        def get_cookies(self) -> dict[str, str]:
            cookies = super().get_cookies()
            if self.gets <= 10:
                barrier.wait(timeout=10)  # every call reads the stale cookies first
            return cookies

    source = Slow()
    with (
        AichatClient(**stub_options(guarded, cookie_source=source)) as client,
        ThreadPoolExecutor(10) as pool,
    ):
        copies = (client, client.with_options(timeout=30))
        replies = list(pool.map(lambda n: copies[n % 2].complete(f"t{n}"), range(10)))

    assert source.refreshes == 1
    assert all(r.attempts == 2 for r in replies)


def test_a_failed_refresh_gives_the_original_error_and_never_its_text(
    kind: str, guarded: StubServer
) -> None:
    class Broken(Refreshable):
        def refresh_cookies(self) -> dict[str, str]:
            raise RuntimeError(f"vault said no to {STALE['session']}")

    with pytest.raises(ChallengeError) as caught:
        call(kind, stub_options(guarded, cookie_source=Broken()), "Hi")

    assert str(caught.value).endswith("; refreshing the cookies failed: RuntimeError")
    assert STALE["session"] not in str(caught.value)
    assert caught.value.attempts == 1
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_static_cookies_simply_fail(kind: str, stub: StubServer) -> None:
    stub.enqueue(Fault.status(403))
    with pytest.raises(AuthenticationError) as caught:
        call(kind, stub_options(stub, cookies=FRESH), "Hi")
    assert caught.value.attempts == 1


# --------------------------------------------------------------------------- rotation


def test_a_rotated_cookie_rides_on_the_next_request(kind: str, stub: StubServer) -> None:
    stub.enqueue(Fault.set_cookie("session=rotated-s3cr3t-value; Path=/; HttpOnly"))
    if kind == "sync":
        with AichatClient(**stub_options(stub, cookies=STALE)) as client:
            client.ask("one")
            client.ask("two")
    else:

        async def main() -> None:
            async with AsyncAichatClient(**stub_options(stub, cookies=STALE)) as client:
                await client.ask("one")
                await client.ask("two")

        anyio.run(main, backend=kind)

    assert [r.cookies for r in stub.requests] == [STALE, {"session": "rotated-s3cr3t-value"}]


ROTATIONS = [
    pytest.param("session=; Max-Age=0", {"other": "x-value"}, id="max-age-0-deletes"),
    pytest.param(
        "session=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT", {"other": "x-value"}, id="past"
    ),
    pytest.param(
        "session=evil; Domain=other.example",
        {"session": "stale-s3cr3t-value", "other": "x-value"},
        id="other-domain-ignored",
    ),
]


@pytest.mark.parametrize(("set_cookie", "next_cookies"), ROTATIONS)
def test_deletion_and_foreign_domains(
    stub: StubServer, set_cookie: str, next_cookies: dict[str, str]
) -> None:
    stub.enqueue(Fault.set_cookie(set_cookie))
    with AichatClient(**stub_options(stub, cookies={**STALE, "other": "x-value"})) as client:
        client.ask("one")
        client.ask("two")

    assert stub.requests[1].cookies == next_cookies


def test_copies_made_with_with_options_share_the_jar(stub: StubServer) -> None:
    stub.enqueue(Fault.set_cookie("session=rotated-s3cr3t-value"))
    with AichatClient(**stub_options(stub, cookies=STALE)) as client:
        client.ask("one")
        client.with_options(timeout=5).ask("two")

    assert stub.requests[1].cookies == {"session": "rotated-s3cr3t-value"}


# --------------------------------------------------------------------------- write-back


NETSCAPE = (
    "# Netscape HTTP Cookie File\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tstale-s3cr3t-value\n"
    ".example.com\tTRUE\t/\tFALSE\t0\tkeep\tother-site-value\n"
)


def cookie_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE)
    path.chmod(0o600)
    return path


def test_rotated_cookies_are_written_back(kind: str, stub: StubServer, tmp_path: Path) -> None:
    path = cookie_file(tmp_path)
    path.chmod(0o644)  # the rewrite makes it private anyway
    source = FileCookieSource(path, domain="127.0.0.1", write_back=True)
    stub.enqueue(Fault.set_cookie("session=rotated-s3cr3t-value; Path=/"))

    call(kind, stub_options(stub, cookie_source=source), "Hi")

    text = path.read_text()
    assert "rotated-s3cr3t-value" in text
    assert "stale-s3cr3t-value" not in text
    assert ".example.com\tTRUE\t/\tFALSE\t0\tkeep\tother-site-value" in text  # kept as it was
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["cookies.txt"]  # no temporary file left
    fresh_reader = FileCookieSource(path, domain="127.0.0.1")
    assert fresh_reader.get_cookies() == {"session": "rotated-s3cr3t-value"}


def test_a_failed_write_back_is_a_warning_not_a_failed_call(
    kind: str,
    stub: StubServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = cookie_file(tmp_path)
    source = FileCookieSource(path, domain="127.0.0.1", write_back=True)
    stub.enqueue(Fault.set_cookie("session=rotated-s3cr3t-value"))
    caplog.set_level(logging.DEBUG)

    with read_only(tmp_path, monkeypatch):
        reply = call(kind, stub_options(stub, cookie_source=source), "Hi")

    assert reply.text == "Echo: Hi"
    assert path.read_text() == NETSCAPE  # unchanged
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith(f"rotated cookies not saved to {path}")
    assert "rotated-s3cr3t-value" not in caplog.text


# --------------------------------------------------------------------------- secrets


def test_no_cookie_value_in_reprs_errors_or_debug_logs(
    stub: StubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stub.require_cookies(FRESH)
    source = Refreshable()
    shown: list[str] = []
    try:
        with (
            caplog.at_level(logging.DEBUG),
            AichatClient(**stub_options(stub, cookie_source=source)) as client,
        ):
            client.ask("refresh")  # rejected, refreshed, replayed
            stub.enqueue(Fault.set_cookie("session=rotated-s3cr3t-value"))
            client.ask("rotate")
            stub.require_cookies(None)
            stub.enqueue(Fault.echo_cookie(500))
            with pytest.raises(Exception) as caught:  # noqa: PT011 - any error: its text is checked
                client.with_options(max_retries=0).ask("echo")
            shown += [str(caught.value), repr(caught.value), repr(client), repr(source)]
            shown.append(repr(client._family.jar))
    finally:
        stub.require_cookies(None)

    shown += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) > 3  # the log was really captured
    for secret in SECRETS:
        assert all(secret not in text for text in shown), secret


# --------------------------------------------------------------------------- the right host


def test_the_default_chain_sends_no_chat_gpt_org_cookie_to_another_host(
    kind: str, stub: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        ".chat-gpt.org\tTRUE\t/\tTRUE\t0\tcf_clearance\tsite-s3cr3t-value\n"
    )
    path.chmod(0o600)
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    monkeypatch.setenv("HOME", str(tmp_path))  # no browser profile to find either

    with pytest.raises(CookiesNotFoundError) as caught:
        call(kind, {"base_url": stub.url}, "Hi")

    assert stub.requests == []
    assert "127.0.0.1" in str(caught.value)
    assert "site-s3cr3t-value" not in str(caught.value)


def test_a_source_built_for_another_site_is_refused_at_construction(
    stub: StubServer, tmp_path: Path
) -> None:
    source = FileCookieSource(cookie_file(tmp_path))  # chat-gpt.org's cookies by default

    with pytest.raises(InvalidRequestError) as caught:
        AichatClient(base_url=stub.url, cookie_source=source)

    assert "chat-gpt.org" in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    assert stub.requests == []


def test_explicit_cookies_go_to_the_base_url_they_were_given_with(
    kind: str, stub: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_COOKIES", "session=from-env-value")
    call(kind, {"base_url": stub.url}, "env")
    call(kind, {"base_url": stub.url, "cookies": {"session": "given-value"}}, "given")

    assert [r.cookies for r in stub.requests] == [
        {"session": "from-env-value"},
        {"session": "given-value"},
    ]
