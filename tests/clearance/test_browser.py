"""BrowserClearance with a real Chromium against the stub's challenge, over loopback only."""

from __future__ import annotations

import logging
import os
import signal
import stat
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from aichat_adapters.clearance import BrowserClearance
from aichat_adapters.cookies import FileCookieSource
from aichat_adapters.stub import StubServer
from aichat_core import ChallengeError, CookiesNotFoundError, Credentials
from tests.support import leftover_profiles, processes_naming
from tests.support.clearance import ask

pytestmark = pytest.mark.usefixtures("chromium")


def bound(stub: StubServer, **options: Any) -> BrowserClearance:
    """A source bound to the stub as a client binds it, with a short timeout."""
    options.setdefault("timeout", 30.0)
    return BrowserClearance(**options).bind(base_url=stub.url, proxy=None)


def test_the_bundle_passes_the_challenge_with_the_browsers_user_agent(
    challenge: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source = bound(challenge)
    credentials = source.get_credentials()
    assert set(credentials.cookies) == {"cf_clearance"}
    assert credentials.user_agent is not None
    assert "Headless" not in credentials.user_agent
    assert "Chrome/" in credentials.user_agent
    # The UA the site saw when it cleared the browser is the one in the bundle.
    assert challenge.challenge is not None
    assert challenge.challenge.user_agents == [credentials.user_agent]
    assert ask(challenge.url, credentials).text == "Echo: Hi"
    sent = challenge.requests[-1]
    assert sent.headers["user-agent"] == credentials.user_agent
    expires = credentials.expires["cf_clearance"]
    assert 1790 < expires - time.time() <= 1800
    assert credentials.obtained_at is not None
    value = credentials.cookies["cf_clearance"]
    for shown in (caplog.text, repr(credentials), repr(source), source.describe()):
        assert value not in shown


def test_the_clearance_with_another_user_agent_is_challenged(challenge: StubServer) -> None:
    credentials = bound(challenge).get_credentials()
    with pytest.raises(ChallengeError):
        ask(challenge.url, credentials.cookies)  # the SDK's own User-Agent
    other = Credentials(credentials.cookies, user_agent=f"{credentials.user_agent} Other/1")
    with pytest.raises(ChallengeError):
        ask(challenge.url, other)
    assert ask(challenge.url, credentials).text == "Echo: Hi"


def test_many_calls_cost_one_browser_run(challenge: StubServer) -> None:
    source = bound(challenge)
    results: list[Credentials] = []
    threads = [
        threading.Thread(target=lambda: results.append(source.get_credentials())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results += [source.get_credentials() for _ in range(5)]
    assert len(results) == 13
    assert all(result == results[0] for result in results)
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 1


def test_a_revoked_clearance_is_renewed_by_a_refresh(challenge: StubServer) -> None:
    source = bound(challenge)
    first = source.get_credentials()
    assert challenge.revoke_clearances() == 1
    with pytest.raises(ChallengeError):
        ask(challenge.url, first)
    assert source.get_credentials() is first  # still valid as far as the source knows
    fresh = source.refresh_credentials()
    assert fresh.cookies != first.cookies
    assert source.get_credentials() is fresh
    assert ask(challenge.url, fresh).text == "Echo: Hi"
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 2


@pytest.mark.anyio
async def test_the_async_methods(challenge: StubServer) -> None:
    source = bound(challenge)
    async with anyio.create_task_group() as group:
        found: list[Credentials] = []

        async def get() -> None:
            found.append(await source.aget_credentials())

        for _ in range(5):
            group.start_soon(get)
    assert len({id(credentials) for credentials in found}) == 1
    challenge.revoke_clearances()
    fresh = await source.arefresh_credentials()
    assert fresh.cookies != found[0].cookies
    assert (await anyio.to_thread.run_sync(ask, challenge.url, fresh)).text == "Echo: Hi"
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 2


def test_a_clearance_within_the_refresh_margin_is_renewed(
    challenge: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert challenge.challenge is not None
    challenge.challenge.max_age = 30
    source = bound(challenge, refresh_margin=20.0)
    first = source.get_credentials()
    assert source.get_credentials() is first  # 30 s left: more than the 15 s margin
    challenge.challenge.max_age = 8
    second = source.refresh_credentials()
    third = source.get_credentials()  # 8 s left, margin min(20, 8 / 2): kept
    assert third is second
    now = time.time
    monkeypatch.setattr(time, "time", lambda: now() + 4.5)  # 4.5 s later, without waiting them
    renewed = source.get_credentials()  # under 4 s left: renewed before it is sent
    assert renewed is not second
    assert ask(challenge.url, renewed).text == "Echo: Hi"
    assert challenge.challenge.issued == 3


def test_save_to_writes_a_private_bundle_any_process_can_use(
    challenge: StubServer, tmp_path: Path
) -> None:
    saved = tmp_path / "state" / "credentials.json"
    credentials = bound(challenge, save_to=saved).get_credentials()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert credentials.cookies["cf_clearance"] in saved.read_text()
    from_file = FileCookieSource(saved, domain="127.0.0.1").get_credentials()
    assert from_file.cookies == credentials.cookies
    assert from_file.user_agent == credentials.user_agent
    assert from_file.expires == pytest.approx(credentials.expires)
    assert ask(challenge.url, from_file).text == "Echo: Hi"
    # Another source sharing the file uses it: no second browser run.
    again = bound(challenge, save_to=saved).get_credentials()
    assert again.cookies == credentials.cookies
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 1


def test_an_unsolvable_challenge_fails_within_the_timeout(challenge: StubServer) -> None:
    assert challenge.challenge is not None
    challenge.challenge.clearing = False
    source = bound(challenge, timeout=4.0)
    started = time.monotonic()
    with pytest.raises(ChallengeError, match=r"could not clear the challenge at .* in 4 s"):
        source.get_credentials()
    assert time.monotonic() - started < 4.0 + 3.0
    assert challenge.challenge.refused >= 1  # the page did solve it: the gate refused
    assert challenge.challenge.issued == 0


def test_a_proof_of_work_too_hard_fails_within_the_timeout(scratch: Path) -> None:
    from aichat_adapters.stub import ChallengeGate

    with StubServer(challenge=ChallengeGate(difficulty=32)) as hard:
        source = BrowserClearance(timeout=3.0).bind(base_url=hard.url, proxy=None)
        started = time.monotonic()
        with pytest.raises(ChallengeError):
            source.get_credentials()
        assert time.monotonic() - started < 3.0 + 3.0
        assert processes_naming(scratch) == {}
        assert leftover_profiles(scratch) == []


@pytest.mark.anyio
async def test_cancelling_mid_solve_leaves_no_process_and_no_profile(
    challenge: StubServer, scratch: Path
) -> None:
    assert challenge.challenge is not None
    challenge.challenge.clearing = False
    source = bound(challenge)
    with anyio.move_on_after(30) as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(source.aget_credentials)
            while challenge.challenge.refused == 0:  # the browser is on the page
                await anyio.sleep(0.02)
            assert processes_naming(scratch) != {}
            group.cancel_scope.cancel()
    assert not scope.cancelled_caught
    # Cancelled, and returned only once the browser and its profile were gone.
    assert processes_naming(scratch) == {}
    assert leftover_profiles(scratch) == []
    assert challenge.challenge.issued == 0
    assert os.listdir(scratch) == []


def test_a_browser_that_dies_mid_run_is_a_typed_error(challenge: StubServer, scratch: Path) -> None:
    assert challenge.challenge is not None
    challenge.challenge.clearing = False
    source = bound(challenge, timeout=60.0)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            source.get_credentials()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not any(request.method == "GET" for request in challenge.requests):  # on the page
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (main,) = [
        pid
        for pid, command in processes_naming(scratch).items()
        if "--type=" not in command and "crashpad" not in command
    ]
    started = time.monotonic()
    os.kill(main, signal.SIGKILL)
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - started < 15
    (error,) = errors
    assert isinstance(error, CookiesNotFoundError), repr(error)
    assert "failed while earning the clearance" in str(error)
    assert "the browser exited with code -9" in str(error)
