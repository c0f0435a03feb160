"""The clients with a BrowserClearance: a real Chromium earns what the client sends, and earns
it again when the site revokes it or just before it expires. Over loopback only."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from aichat_adapters import AichatClient, AsyncAichatClient, Reply, RetryPolicy
from aichat_adapters.clearance import BrowserClearance
from aichat_adapters.cookies import FileCookieSource
from aichat_adapters.stub import StubServer
from aichat_adapters.stub._challenge import ChallengeGate
from aichat_core import ChallengeError, CookiesNotFoundError

pytestmark = pytest.mark.usefixtures("chromium")

FAST = RetryPolicy(initial_wait=0.01, max_wait=0.05)


def gate(stub: StubServer) -> ChallengeGate:
    assert stub.challenge is not None
    return stub.challenge


def asked(stub: StubServer) -> list[str]:
    """The User-Agent of each request to the API the site saw."""
    return [r.headers.get("user-agent", "") for r in stub.requests if r.path == "/api/text"]


def test_three_calls_cost_one_browser_run_and_carry_its_user_agent(
    challenge: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with AichatClient(
        base_url=challenge.url, cookie_source=BrowserClearance(timeout=30), retry_policy=FAST
    ) as client:
        replies = [client.complete(f"q{n}") for n in range(3)]
        repr_text = repr(client)
        value = client.credentials().cookies["cf_clearance"]

    assert [r.text for r in replies] == ["Echo: q0", "Echo: q1", "Echo: q2"]
    assert [r.attempts for r in replies] == [1, 1, 1]
    assert gate(challenge).issued == 1
    (agent,) = gate(challenge).user_agents
    assert "Headless" not in agent
    assert asked(challenge) == [agent] * 3  # the browser's own User-Agent, on every call
    for shown in (caplog.text, repr_text):
        assert value not in shown


@pytest.mark.parametrize("kind", ["sync", "asyncio", "trio"])
def test_a_revoked_clearance_is_earned_again_and_the_call_replayed(
    kind: str, challenge: StubServer
) -> None:
    options: dict[str, Any] = {
        "base_url": challenge.url,
        "cookie_source": BrowserClearance(timeout=30),
    }
    if kind == "sync":
        with AichatClient(**options, retry_policy=FAST) as client:
            client.ask("before")
            gate(challenge).revoke()
            reply = client.complete("after")
    else:

        async def main() -> Reply:
            async with AsyncAichatClient(**options, retry_policy=FAST) as client:
                await client.ask("before")
                gate(challenge).revoke()
                return await client.complete("after")

        reply = anyio.run(main, backend=kind)

    assert reply.text == "Echo: after"
    assert reply.attempts == 2  # refused, then replayed with the new clearance
    assert gate(challenge).issued == 2


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_twenty_calls_refused_together_cost_one_browser_run(
    backend: str, challenge: StubServer
) -> None:
    texts: list[str] = []
    attempts: list[int] = []

    async def main() -> None:
        async with AsyncAichatClient(
            base_url=challenge.url, cookie_source=BrowserClearance(timeout=30), retry_policy=FAST
        ) as client:
            await client.ask("warm")
            gate(challenge).revoke()

            async def one(n: int) -> None:
                reply = await client.complete(f"c{n}")
                texts.append(reply.text)
                attempts.append(reply.attempts)

            async with anyio.create_task_group() as group:
                for n in range(20):
                    group.start_soon(one, n)

    anyio.run(main, backend=backend)

    assert sorted(texts) == sorted(f"Echo: c{n}" for n in range(20))
    assert gate(challenge).issued == 2  # the first run, and one for all twenty
    assert set(attempts) <= {1, 2}


def test_a_clearance_about_to_expire_is_renewed_before_the_site_sees_it(
    challenge: StubServer,
) -> None:
    gate(challenge).max_age = 6  # renewed 3 s before it ends (half its life < the margin)
    source = BrowserClearance(timeout=30, refresh_margin=60)
    with AichatClient(base_url=challenge.url, cookie_source=source, retry_policy=FAST) as client:
        client.ask("first")
        refused = gate(challenge).refused
        sent = len(challenge.requests)
        time.sleep(3.2)  # past half the clearance's life: it must be renewed first
        reply = client.complete("second")

    assert reply.attempts == 1  # no challenge on the way
    assert gate(challenge).issued == 2
    assert gate(challenge).refused == refused
    later = [r for r in challenge.requests[sent:] if r.path == "/api/text"]
    assert len(later) == 1  # the site saw one request, with the fresh clearance


def test_save_to_serves_a_new_process_with_no_browser(
    challenge: StubServer, tmp_path: Path
) -> None:
    saved = tmp_path / "credentials.json"
    with AichatClient(
        base_url=challenge.url, cookie_source=BrowserClearance(timeout=30, save_to=saved)
    ) as client:
        client.ask("earn")
    assert saved.stat().st_mode & 0o777 == 0o600
    # What a new process does: only the file, no browser.
    with AichatClient(
        base_url=challenge.url, cookie_source=FileCookieSource(saved, domain="127.0.0.1")
    ) as client:
        assert client.ask("reuse") == "Echo: reuse"
    assert gate(challenge).issued == 1
    assert len(set(asked(challenge))) == 1  # the same User-Agent, from the file


def test_a_missing_browser_is_a_typed_error_with_nothing_sent(
    challenge: StubServer, tmp_path: Path
) -> None:
    source = BrowserClearance(executable=str(tmp_path / "no-chromium"), timeout=5)
    started = time.monotonic()
    with (
        AichatClient(base_url=challenge.url, cookie_source=source) as client,
        pytest.raises(CookiesNotFoundError) as caught,
    ):
        client.ask("Hi")
    assert time.monotonic() - started < 5
    assert "chromium" in str(caught.value)
    assert asked(challenge) == []


def test_an_unsolvable_challenge_fails_within_the_timeout(challenge: StubServer) -> None:
    gate(challenge).clearing = False  # the site never clears anyone
    source = BrowserClearance(timeout=4)
    started = time.monotonic()
    with (
        AichatClient(base_url=challenge.url, cookie_source=source) as client,
        pytest.raises(ChallengeError) as caught,
    ):
        client.ask("Hi")
    assert time.monotonic() - started < 4 + 3
    assert "4 s" in str(caught.value)
    assert asked(challenge) == []
