"""The stub's challenge mode, over real HTTP on loopback, solved in Python as a browser would."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

import httpx
import pytest

from aichat_adapters.stub import ChallengeGate, StubServer
from aichat_adapters.stub._challenge import SOLVE_PATH, leading_zero_bits
from tests.support import BODY, BROWSER, HEADLESS, solve


@pytest.fixture
def stub(challenge: StubServer) -> StubServer:
    """The shared stub in challenge mode (``challenge``, reset), under the name used here."""
    return challenge


def clear(client: httpx.Client) -> httpx.Response:
    """Open the site, solve the challenge, post the answer (the client keeps the cookie)."""
    page = client.get("/")
    assert page.status_code == 403
    return client.post(SOLVE_PATH, json=solve(page.text))


def test_without_a_clearance_every_request_gets_the_challenge_page(stub: StubServer) -> None:
    with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
        for response in (client.get("/"), client.get("/chat"), client.post("/api/text", json=BODY)):
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("text/html")
            assert "<title>Just a moment...</title>" in response.text
            assert "crypto.subtle.digest" in response.text


def test_a_solved_challenge_sets_an_httponly_clearance_bound_to_the_user_agent(
    stub: StubServer,
) -> None:
    with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
        solved = clear(client)
        assert solved.status_code == 200
        cookie = solved.headers["set-cookie"]
        assert re.fullmatch(
            r"cf_clearance=[\w-]{40,}; Max-Age=1800; Path=/; HttpOnly; SameSite=Lax", cookie
        )
        assert client.get("/").status_code == 200
        answer = client.post("/api/text", json=BODY)
        assert answer.json() == {"response": True, "message": "Echo: Hi"}
        token = client.cookies["cf_clearance"]
    assert stub.challenge is not None
    assert (stub.challenge.issued, stub.challenge.user_agents) == (1, [BROWSER])
    # The same cookie with another User-Agent is challenged again.
    for agent in (BROWSER + " Extra", "python-httpx/0.28"):
        other = httpx.post(
            f"{stub.url}/api/text",
            json=BODY,
            headers={"user-agent": agent},
            cookies={"cf_clearance": token},
        )
        assert other.status_code == 403
    assert token not in repr(stub.challenge)


def test_a_headless_browser_is_never_cleared(stub: StubServer) -> None:
    with httpx.Client(base_url=stub.url, headers={"user-agent": HEADLESS}) as client:
        refused = clear(client)
    assert refused.status_code == 403
    assert refused.json() == {"ok": False, "reason": "headless browsers are not cleared"}
    assert "set-cookie" not in refused.headers
    assert stub.challenge is not None
    assert (stub.challenge.issued, stub.challenge.refused) == (0, 1)


def wrong_answer(sent: dict[str, str]) -> dict[str, str]:
    """A counter after the answer that does not solve it (the next one might)."""
    zeros = leading_zero_bits
    answer = int(sent["answer"]) + 1
    while zeros(hashlib.sha256(f"{sent['nonce']}:{answer}".encode()).digest()) >= 12:
        answer += 1
    return {**sent, "answer": str(answer)}


def other_nonce(sent: dict[str, str]) -> dict[str, str]:
    """The nonce with its last character changed (its signature no longer matches)."""
    nonce = sent["nonce"]
    return {**sent, "nonce": nonce[:-1] + ("1" if nonce.endswith("0") else "0")}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (wrong_answer, "wrong answer"),
        (other_nonce, "unknown or stale nonce"),
        (lambda sent: {**sent, "answer": "١٢"}, "the answer is not a counter"),
        (lambda sent: {"nonce": sent["nonce"]}, "expected {nonce, answer} strings"),
    ],
)
def test_a_wrong_answer_is_refused(
    stub: StubServer, change: Callable[[dict[str, str]], dict[str, str]], reason: str
) -> None:
    with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
        refused = client.post(SOLVE_PATH, json=change(solve(client.get("/").text)))
    assert refused.status_code == 403
    assert refused.json()["reason"] == reason
    assert "set-cookie" not in refused.headers


def test_a_stale_nonce_is_refused(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
        sent = solve(client.get("/").text)
        later = time.time() + 601
        monkeypatch.setattr("aichat_adapters.stub._challenge.time.time", lambda: later)
        refused = client.post(SOLVE_PATH, json=sent)
    assert refused.json()["reason"] == "unknown or stale nonce"


def test_revoke_and_short_lives(stub: StubServer) -> None:
    gate = stub.challenge
    assert gate is not None
    gate.max_age = 1
    with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
        assert "Max-Age=1;" in clear(client).headers["set-cookie"]
        assert client.post("/api/text", json=BODY).status_code == 200
        time.sleep(1.1)
        assert client.post("/api/text", json=BODY).status_code == 403  # expired
        gate.max_age = 60
        clear(client)
        assert client.post("/api/text", json=BODY).status_code == 200
        assert stub.revoke_clearances() == 1
        assert client.post("/api/text", json=BODY).status_code == 403
    assert gate.issued == 2
    stub.reset()
    assert (gate.issued, gate.refused, gate.max_age, gate.clearing) == (0, 0, 1800, True)


def test_a_gate_that_clears_nobody(stub: StubServer) -> None:
    assert stub.challenge is not None
    stub.challenge.clearing = False
    with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
        assert clear(client).json()["reason"] == "this gate clears nobody"


def test_faults_and_required_cookies_apply_once_cleared() -> None:
    from aichat_adapters.stub import Fault

    with StubServer(challenge=True, require_cookies={"sid": "1"}) as stub:
        stub.enqueue(Fault.status(503))
        with httpx.Client(base_url=stub.url, headers={"user-agent": BROWSER}) as client:
            clear(client)
            assert client.post("/api/text", json=BODY).status_code == 403  # no sid
            client.cookies.set("sid", "1")
            assert client.post("/api/text", json=BODY).status_code == 503
            assert client.post("/api/text", json=BODY).status_code == 200


def test_challenge_mode_serves_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback only"):
        StubServer(challenge=True, host="0.0.0.0")
    StubServer(challenge=True, host="localhost")
    StubServer(challenge=ChallengeGate(), host="::1")


@pytest.mark.parametrize(
    "options", [{"difficulty": 33}, {"difficulty": -1}, {"max_age": 0}, {"clearing": 1}]
)
def test_bad_gate_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must be"):
        ChallengeGate(**options)  # type: ignore[arg-type]


def test_revoking_without_challenge_mode_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not in challenge mode"):
        StubServer().revoke_clearances()
