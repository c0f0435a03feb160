"""The call engine, table-driven: what happened in, what to do next out; no socket, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import pytest

from aichat_core import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    CertificateError,
    ChallengeError,
    ConnectError,
    Credentials,
    HttpResponse,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    prepare_call,
)
from aichat_core._engine import (
    SAME_COOKIES,
    CallEngine,
    CallSettings,
    Command,
    Done,
    Fail,
    Refresh,
    Save,
    Send,
    Sent,
    Sleep,
)

BASE_URL = "https://chat.example"
STALE = Credentials({"session": "stale-value"})
FRESH = Credentials({"session": "fresh-value"})
WALL = 1_800_000_000.0


class FakeJar:
    """The jar port with nothing but a dict and a version."""

    def __init__(self) -> None:
        self.version = 0
        self.seed_credentials: Credentials | None = None
        self.current: dict[str, str] = {}
        self.seeds = 0

    def sent(self) -> Sent:
        header = "; ".join(f"{k}={v}" for k, v in self.current.items())
        return Sent(self.version, header, tuple(self.current.values()), self.seed_credentials)

    def seed(self, credentials: Credentials, *, if_version: int | None = None) -> bool:
        if if_version is not None and if_version != self.version:
            return False
        if credentials == self.seed_credentials:
            return False
        self.seeds += 1
        self.seed_credentials = credentials
        if dict(credentials.cookies) == self.current:
            return False
        self.current = dict(credentials.cookies)
        self.version += 1
        return True

    def update(self, set_cookies: Iterable[str]) -> bool:
        for header in set_cookies:
            name, _, value = header.partition(";")[0].partition("=")
            self.current[name] = value
        self.version += 1
        return True

    def cookies(self) -> dict[str, str]:
        return dict(self.current)


class FakeBudget:
    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        self.given_back: list[int] = []

    def spend(self, cost: int) -> bool:
        if cost > self.tokens:
            return False
        self.tokens -= cost
        return True

    def give_back(self, spent: int) -> None:
        self.given_back.append(spent)


def answer(status: int = 200, body: str | None = None, **headers: str) -> HttpResponse:
    if body is None:
        body = '{"response": true, "message": "ok"}' if status == 200 else ""
    cookies = tuple(v for k, v in headers.items() if k.startswith("set_cookie"))
    plain = {k.replace("_", "-"): v for k, v in headers.items() if not k.startswith("set_cookie")}
    return HttpResponse(status, plain, body.encode(), set_cookies=cookies)


CHALLENGE = answer(403, "<html>Just a moment...</html>", content_type="text/html")


def engine(
    *,
    policy: RetryPolicy | None = None,
    budget: FakeBudget | None = None,
    jar: FakeJar | None = None,
    margin: float | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = "OurAgent/1",
) -> tuple[CallEngine, FakeJar]:
    jar = jar or FakeJar()
    settings = CallSettings(
        base_url=BASE_URL,
        headers=dict(headers or {}),
        user_agent=user_agent,
        timeout=10.0,
        policy=policy or RetryPolicy(),
        refresh_margin=margin,
    )
    call = CallEngine(prepare_call("Hi"), settings, jar=jar, budget=budget, started=0.0)
    return call, jar


Event = HttpResponse | AichatError | Credentials | None | str


def run(
    call: CallEngine,
    events: Sequence[Event],
    *,
    credentials: Credentials = STALE,
    rand: float = 0.0,
    version: int = 0,
) -> list[Command]:
    """Drive ``call`` as a client would: each Send takes the next answer (or error), each
    Refresh the next credentials (``None``: not asked; a string: the source raised)."""
    clock = 0.0
    script = list(events)
    commands = [call.start(credentials, version, now=clock, wall=WALL)]
    while not isinstance(commands[-1], (Done, Fail)):
        command = commands[-1]
        clock += 0.1
        if isinstance(command, Send):
            event = script.pop(0)
            if isinstance(event, AichatError):
                commands.append(call.failed(event, now=clock, rand=rand))
            else:
                assert isinstance(event, HttpResponse)
                commands.append(call.received(event, now=clock, wall=WALL, rand=rand))
        elif isinstance(command, Sleep):
            clock += command.seconds
            commands.append(call.slept(now=clock))
        elif isinstance(command, Save):
            commands.append(call.saved())
        else:
            assert isinstance(command, Refresh)
            event = script.pop(0)
            if isinstance(event, str):
                commands.append(call.refresh_failed(RuntimeError(event), now=clock))
            else:
                fresh = event if call.wants_fresh() else None
                assert fresh is None or isinstance(fresh, Credentials)
                commands.append(call.refreshed(fresh, now=clock))
    assert script == [], "events left over"
    return commands


def kinds(commands: Sequence[Command]) -> list[str]:
    return [type(command).__name__ for command in commands]


@pytest.mark.parametrize(
    ("events", "expected", "attempts"),
    [
        ([answer()], ["Send", "Done"], 1),
        ([answer(503), answer()], ["Send", "Sleep", "Send", "Done"], 2),
        ([ConnectError("refused"), answer()], ["Send", "Sleep", "Send", "Done"], 2),
        (
            [answer(503), answer(502), answer(500)],
            ["Send", "Sleep", "Send", "Sleep", "Send", "Fail"],
            3,
        ),
        ([answer(400)], ["Send", "Fail"], 1),
        ([CertificateError("self-signed certificate")], ["Send", "Fail"], 1),
        ([CHALLENGE, FRESH, answer()], ["Send", "Refresh", "Send", "Done"], 2),
        ([CHALLENGE, STALE], ["Send", "Refresh", "Fail"], 1),
        ([CHALLENGE, FRESH, CHALLENGE], ["Send", "Refresh", "Send", "Fail"], 2),
        (
            [CHALLENGE, FRESH, answer(503), answer()],
            ["Send", "Refresh", "Send", "Sleep", "Send", "Done"],
            3,
        ),
        ([answer(set_cookie="session=rotated")], ["Send", "Save", "Done"], 1),
        (
            [answer(500, set_cookie="session=rotated"), answer()],
            ["Send", "Save", "Sleep", "Send", "Done"],
            2,
        ),
    ],
    ids=[
        "ok",
        "503-then-ok",
        "drop-then-ok",
        "three-5xx",
        "400-not-retried",
        "certificate-not-retried",
        "challenge-refresh-replay",
        "challenge-same-cookies",
        "replay-rejected-again",
        "replay-then-retry",
        "rotation-saved",
        "rotation-then-retry",
    ],
)
def test_what_happens_next(events: list[Event], expected: list[str], attempts: int) -> None:
    call, _ = engine()
    commands = run(call, events)

    assert kinds(commands) == expected
    last = commands[-1]
    if isinstance(last, Done):
        assert last.reply.attempts == attempts
    else:
        assert isinstance(last, Fail)
        assert last.error.attempts == attempts


def test_backoff_and_retry_after_waits() -> None:
    call, _ = engine()
    commands = run(call, [answer(503), answer(503), answer()], rand=0.5)
    assert [c.seconds for c in commands if isinstance(c, Sleep)] == [0.625, 1.25]
    assert [c.attempt for c in commands if isinstance(c, Sleep)] == [1, 2]

    call, _ = engine()
    commands = run(call, [answer(429, retry_after="3"), answer()], rand=0.9)
    assert [c.seconds for c in commands if isinstance(c, Sleep)] == [3.0]  # not jittered


def test_a_retry_after_longer_than_the_cap_ends_the_call() -> None:
    call, _ = engine()
    last = run(call, [answer(429, retry_after="120")])[-1]
    assert isinstance(last, Fail)
    assert isinstance(last.error, RateLimitError)
    assert last.error.retry_after == 120


def test_the_deadline_ends_the_call_and_cuts_the_attempt() -> None:
    call, _ = engine(policy=RetryPolicy(deadline=1.0, initial_wait=0.6, jitter=0))
    first = call.start(STALE, 0, now=0.0, wall=WALL)
    assert isinstance(first, Send)
    assert first.timeout == 1.0  # 10 s attempts, cut to the deadline
    last = call.received(answer(503), now=0.5, wall=WALL, rand=0.0)  # 0.5 + 0.6 > 1
    assert isinstance(last, Fail)
    assert isinstance(last.error, ServerError)

    call, _ = engine(policy=RetryPolicy(deadline=1.0))
    call.start(STALE, 0, now=0.0, wall=WALL)
    call.received(answer(503), now=0.2, wall=WALL, rand=0.0)
    last = call.slept(now=1.5)  # the wait overran the deadline: nothing is sent
    assert isinstance(last, Fail)
    assert isinstance(last.error, RequestTimeoutError)
    assert last.error.attempts == 1


def test_the_budget_pays_for_retries_and_gets_them_back() -> None:
    budget = FakeBudget(tokens=100)
    call, _ = engine(budget=budget, policy=RetryPolicy(retry_cost=5, timeout_cost=10))
    run(call, [answer(503), RequestTimeoutError("read timed out"), answer()])
    assert budget.tokens == 85
    assert budget.given_back == [15]

    empty = FakeBudget(tokens=4)
    call, _ = engine(budget=empty)
    commands = run(call, [answer(503)])
    assert kinds(commands) == ["Send", "Fail"]  # no token for a retry
    assert empty.given_back == []


def test_a_replay_spends_no_retry() -> None:
    budget = FakeBudget(tokens=100)
    call, _ = engine(budget=budget, policy=RetryPolicy(max_retries=0))
    commands = run(call, [CHALLENGE, FRESH, answer()])
    assert kinds(commands) == ["Send", "Refresh", "Send", "Done"]
    assert budget.tokens == 100


def test_the_refusal_keeps_its_words_and_gets_a_hint() -> None:
    call, _ = engine()
    last = run(call, [CHALLENGE, STALE])[-1]
    assert isinstance(last, Fail)
    assert isinstance(last.error, ChallengeError)
    assert last.error.message.endswith(SAME_COOKIES)
    assert BASE_URL in last.error.message  # the site asked, not chat-gpt.org


def test_a_failed_refresh_names_only_the_type_of_a_foreign_error() -> None:
    call, _ = engine()
    last = run(call, [answer(401), "vault said no to stale-value"])[-1]
    assert isinstance(last, Fail)
    assert isinstance(last.error, AuthenticationError)
    assert last.error.message.endswith("; refreshing the cookies failed: RuntimeError")
    assert isinstance(last.error.__cause__, RuntimeError)
    assert "stale-value" not in str(last.error)


def test_errors_are_never_edited_once_raised() -> None:
    raised = ConnectError("connection refused")
    call, _ = engine(policy=RetryPolicy(max_retries=0))
    last = run(call, [raised])[-1]
    assert isinstance(last, Fail)
    assert last.error is not raised
    assert (raised.attempts, last.error.attempts) == (0, 1)
    assert type(last.error) is ConnectError
    assert str(last.error) == "connection refused"


def test_status_errors_keep_their_fields() -> None:
    call, _ = engine(policy=RetryPolicy(max_retries=0))
    last = run(call, [answer(503, "busy", retry_after="2")])[-1]
    assert isinstance(last, Fail)
    error = last.error
    assert isinstance(error, APIStatusError)
    assert (error.status_code, error.body, error.retry_after) == (503, "busy", 2.0)


def test_another_calls_refresh_is_used_without_asking_the_source() -> None:
    jar = FakeJar()
    call, _ = engine(jar=jar)
    call.start(STALE, 0, now=0.0, wall=WALL)
    assert isinstance(call.received(CHALLENGE, now=0.1, wall=WALL, rand=0.0), Refresh)
    jar.seed(FRESH)  # another call of the family refreshed meanwhile
    assert not call.wants_fresh()
    replay = call.refreshed(None, now=0.2)
    assert isinstance(replay, Send)
    assert ("cookie", "session=fresh-value") in replay.request.headers


def test_credentials_read_before_a_refresh_do_not_undo_it() -> None:
    jar = FakeJar()
    jar.seed(FRESH)  # a refresh happened after this call read the source (at version 0)
    call, _ = engine(jar=jar)
    first = call.start(STALE, 0, now=0.0, wall=WALL)
    assert isinstance(first, Send)
    assert ("cookie", "session=fresh-value") in first.request.headers


def test_a_bundle_brings_its_user_agent_and_headers() -> None:
    bundle = Credentials({"cf_clearance": "c"}, user_agent="Browser/2", headers={"x-a": "1"})
    call, _ = engine()
    first = call.start(bundle, 0, now=0.0, wall=WALL)
    assert isinstance(first, Send)
    headers = dict(first.request.headers)
    assert (headers["user-agent"], headers["x-a"]) == ("Browser/2", "1")

    call, _ = engine(headers={"user-agent": "Mine/3"})  # an explicit one wins
    first = call.start(bundle, 0, now=0.0, wall=WALL)
    assert isinstance(first, Send)
    assert dict(first.request.headers)["user-agent"] == "Mine/3"

    call, _ = engine(user_agent=None)  # an impersonating transport: the bundle's still
    first = call.start(bundle, 0, now=0.0, wall=WALL)
    assert isinstance(first, Send)
    assert dict(first.request.headers)["user-agent"] == "Browser/2"


class CachingJar(FakeJar):
    """Gives the same ``Sent`` while nothing changed, as the real jar does."""

    def __init__(self) -> None:
        super().__init__()
        self.last: Sent | None = None

    def sent(self) -> Sent:
        last = self.last
        if (
            last is None
            or last.version != self.version
            or last.credentials is not self.seed_credentials
        ):
            last = self.last = super().sent()
        return last


def test_each_request_has_the_headers_of_its_cookies_and_its_client() -> None:
    jar = CachingJar()
    settings = CallSettings(
        base_url=BASE_URL, headers={}, user_agent="OurAgent/1", timeout=10.0, policy=RetryPolicy()
    )
    copy = attrs.evolve(settings, headers={"x-copy": "1"})  # a with_options copy, same jar

    def headers(of: CallSettings) -> dict[str, str]:
        call = CallEngine(prepare_call("Hi"), of, jar=jar, budget=None, started=0.0)
        command = call.start(STALE, jar.version, now=0.0, wall=WALL)
        assert isinstance(command, Send)
        return dict(command.request.headers)

    assert headers(settings)["cookie"] == "session=stale-value"
    assert "x-copy" not in headers(settings)
    assert headers(copy)["x-copy"] == "1"
    jar.update(["session=rotated"])  # the site set a new value: the next request sends it
    assert headers(settings)["cookie"] == "session=rotated"
    assert headers(copy)["cookie"] == "session=rotated"


@attrs.frozen
class Expiry:
    left: float
    margin: float | None
    renews: bool


@pytest.mark.parametrize(
    "case",
    [
        Expiry(left=30, margin=60, renews=True),
        Expiry(left=90, margin=60, renews=False),
        Expiry(left=30, margin=None, renews=False),
        Expiry(left=-5, margin=0, renews=True),
    ],
)
def test_credentials_are_renewed_ahead_of_expiry(case: Expiry) -> None:
    soon = Credentials({"cf_clearance": "old"}, expires={"cf_clearance": WALL + case.left})
    renewed = Credentials({"cf_clearance": "new"}, expires={"cf_clearance": WALL + 3600})
    call, _ = engine(margin=case.margin)
    events: list[Any] = [renewed, answer()] if case.renews else [answer()]
    commands = run(call, events, credentials=soon)
    expected = ["Refresh", "Send", "Done"] if case.renews else ["Send", "Done"]
    assert kinds(commands) == expected
    sent = next(c for c in commands if isinstance(c, Send))
    value = "new" if case.renews else "old"
    assert ("cookie", f"cf_clearance={value}") in sent.request.headers


def test_a_renewed_call_is_not_refreshed_again_when_rejected() -> None:
    soon = Credentials({"cf_clearance": "old"}, expires={"cf_clearance": WALL + 1})
    renewed = Credentials({"cf_clearance": "new"})
    call, _ = engine(margin=60)
    commands = run(call, [renewed, CHALLENGE], credentials=soon)
    assert kinds(commands) == ["Refresh", "Send", "Fail"]


def test_a_failed_renewal_sends_what_it_has() -> None:
    soon = Credentials({"cf_clearance": "old"}, expires={"cf_clearance": WALL + 1})
    call, _ = engine(margin=60)
    commands = run(call, ["browser gone", answer()], credentials=soon)
    assert kinds(commands) == ["Refresh", "Send", "Done"]
