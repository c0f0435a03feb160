"""FlareSolverrClearance against a fake FlareSolverr that answers in the service's shapes."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from aichat_adapters.clearance import FlareSolverrClearance
from aichat_adapters.stub import StubServer
from aichat_core import (
    ChallengeError,
    ConnectError,
    Credentials,
    RequestTimeoutError,
    ResponseFormatError,
)
from tests.support import FakeFlareSolverr
from tests.support.clearance import ask
from tests.support.flaresolverr import USER_AGENT


@pytest.fixture
def hung_endpoint() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


def source(fake: FakeFlareSolverr | str, stub: StubServer, **options: Any) -> FlareSolverrClearance:
    endpoint = fake if isinstance(fake, str) else fake.endpoint
    made = FlareSolverrClearance(endpoint, **options)
    return made.bind(base_url=stub.url, proxy=None)


def test_the_solution_passes_the_challenge(
    challenge: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeFlareSolverr() as fake:
        clearance = source(fake, challenge, timeout=20)
        credentials = clearance.get_credentials()
        assert clearance.get_credentials() is credentials
    assert fake.requests == [
        {
            "cmd": "request.get",
            "url": challenge.url + "/",
            "maxTimeout": 20000,
            "returnOnlyCookies": True,
        }
    ]
    assert credentials.user_agent == USER_AGENT
    assert set(credentials.cookies) == {"cf_clearance"}
    assert 1790 < credentials.expires["cf_clearance"] - time.time() <= 1800
    assert ask(challenge.url, credentials).text == "Echo: Hi"
    value = credentials.cookies["cf_clearance"]
    ours = [record.getMessage() for record in caplog.records if record.name == "aichat"]
    assert any("FlareSolverr passed" in line for line in ours)
    assert not any(value in line for line in ours)  # (the fake's own httpx logs its cookie)
    assert value not in repr(credentials)


def test_a_refresh_asks_again(challenge: StubServer) -> None:
    with FakeFlareSolverr() as fake:
        clearance = source(fake, challenge)
        first = clearance.get_credentials()
        challenge.revoke_clearances()
        fresh = clearance.refresh_credentials()
    assert fresh.cookies != first.cookies
    assert len(fake.requests) == 2
    assert ask(challenge.url, fresh).text == "Echo: Hi"


@pytest.mark.anyio
async def test_the_async_methods_share_one_request(challenge: StubServer) -> None:
    with FakeFlareSolverr() as fake:
        clearance = source(fake, challenge)
        found: list[Credentials] = []

        async def get() -> None:
            found.append(await clearance.aget_credentials())

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(get)
        fresh = await clearance.arefresh_credentials()
    assert len(fake.requests) == 2
    assert len({id(credentials) for credentials in found}) == 1
    assert fresh.cookies != found[0].cookies


def test_the_clients_proxy_goes_to_flaresolverr(challenge: StubServer) -> None:
    answer = {
        "status": "ok",
        "solution": {
            "cookies": [{"name": "cf_clearance", "value": "v", "domain": ".127.0.0.1"}],
            "userAgent": USER_AGENT,
        },
    }
    with FakeFlareSolverr(answer) as fake:
        clearance = FlareSolverrClearance(fake.endpoint).bind(
            base_url=challenge.url, proxy="http://user:pw@127.0.0.1:3128"
        )
        credentials = clearance.get_credentials()
    assert fake.requests[0]["proxy"] == {
        "url": "http://127.0.0.1:3128",
        "username": "user",
        "password": "pw",
    }
    assert credentials.proxy == "http://user:pw@127.0.0.1:3128"
    assert credentials.expires == {}  # a session cookie


@pytest.mark.parametrize(
    ("script", "error", "words"),
    [
        ("timeout", ChallengeError, "could not clear the challenge at .*Timeout after 5.0 seconds"),
        ("dns", ConnectError, "browser could not open .*net::ERR_NAME_NOT_RESOLVED"),
        ("crash", ChallengeError, "Request parameter 'url' is mandatory"),
        (
            "no-clearance",
            ChallengeError,
            r"got no cf_clearance cookie for 127.0.0.1 \(it got: __cf_bm\)",
        ),
        ("html", ResponseFormatError, "not JSON; is the endpoint FlareSolverr's /v1"),
        ("huge", ResponseFormatError, "more than 16777216 bytes"),
        ({"status": "ok", "solution": None}, ResponseFormatError, "without a solution"),
        ({"status": "ok", "solution": {"cookies": []}}, ResponseFormatError, "without a userAgent"),
        (
            {"status": "ok", "solution": {"cookies": [], "userAgent": "a\nb"}},
            ResponseFormatError,
            "userAgent HTTP headers cannot carry",
        ),
    ],
)
def test_failures_are_typed_and_say_why(
    challenge: StubServer, script: object, error: type[Exception], words: str
) -> None:
    with FakeFlareSolverr(script) as fake, pytest.raises(error, match=words):
        source(fake, challenge, timeout=5).get_credentials()


def test_a_hung_endpoint_is_bounded_by_the_timeout(
    challenge: StubServer, hung_endpoint: str
) -> None:
    clearance = source(hung_endpoint, challenge, timeout=1)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError, match=r"gave no answer in 6 s"):
        clearance.get_credentials()
    assert time.monotonic() - started < 1 + 5 + 1


@pytest.mark.anyio
async def test_cancelling_stops_the_request(challenge: StubServer, hung_endpoint: str) -> None:
    clearance = source(hung_endpoint, challenge, timeout=30)
    started = time.monotonic()
    with anyio.move_on_after(0.5):
        await clearance.aget_credentials()
    assert time.monotonic() - started < 3


def test_an_endpoint_nobody_listens_on(challenge: StubServer) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ConnectError, match=r"not reachable at .*connection refused.*docker run"):
        source(f"http://127.0.0.1:{port}/v1", challenge).get_credentials()
