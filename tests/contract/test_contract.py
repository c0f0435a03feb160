"""The transport contract, end to end over loopback against the stub, for every row of the table.

Each test runs once per transport and event loop (see ``rows.py``): the same
bytes on the wire, the same typed error for each fault (issue 8's fault
matrix among them), the same retries, the same hard time bounds, the same
body cap, and nothing left open after ``close()``.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import attrs
import pytest

from aichat_adapters import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    ConnectError,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
    ServiceError,
)
from aichat_adapters.stub import Fault, StubServer
from aichat_core import USER_AGENT, GenerationParams, build_request
from tests.support import (
    COOKIES,
    Waits,
    client_fd_count,
    free_port,
    open_fds,
    settle,
    wait_for,
)

from .rows import Row, options_for

PROMPT = 'Grüße, 世界: "quotes", \\ and emoji 🙂'
PARAMS: dict[str, Any] = {
    "temperature": 0.3,
    "top_p": 0.9,
    "presence_penalty": 0.5,
    "frequency_penalty": -1,
}
CAP = 100_000
"""The body cap of the cap tests: small, so that a refused body is quick to send."""
SLACK = 0.5
"""How far past ``timeout`` or ``deadline`` a call may end (issue 8)."""
TRICKLE = Fault.trickle(interval=0.8, tail=5)
"""All but 5 bytes at once, then a byte every 0.8 s (4 s in all)."""


def test_success_puts_the_same_bytes_on_the_wire(row: Row, stub: StubServer) -> None:
    reply = row.call(options_for(stub), PROMPT, **PARAMS)

    assert reply.text == "Echo: " + PROMPT
    assert (reply.attempts, reply.status_code) == (1, 200)
    expected = build_request(PROMPT, GenerationParams(**PARAMS), base_url=stub.url, cookies=COOKIES)
    [sent] = stub.requests
    assert (sent.method, sent.path) == ("POST", "/api/text")
    assert sent.body == expected.body
    assert sent.headers["cookie"] == "cf_clearance=s3cr3t-clearance; session=s3cr3t-session"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["origin"] == stub.url
    assert sent.headers["referer"] == f"{stub.url}/chat"
    assert "upgrade" not in sent.headers  # no browser asks for h2c


def test_user_agent_is_ours_or_the_browsers(row: Row, stub: StubServer) -> None:
    row.call(options_for(stub))

    [sent] = stub.requests
    agent = sent.headers["user-agent"]
    if row.browser:
        # The browser's own header set, agreeing with its TLS fingerprint: not our Chrome.
        assert agent != USER_AGENT
        assert "Chrome/" in agent
        assert f'v="{agent.split("Chrome/")[1].split(".")[0]}"' in sent.headers["sec-ch-ua"]
    else:
        assert agent == USER_AGENT
        assert "sec-ch-ua" not in sent.headers


def test_a_user_agent_given_in_headers_wins(row: Row, stub: StubServer) -> None:
    row.call(options_for(stub, headers={"User-Agent": "contract-test/1.0"}))

    [sent] = stub.requests
    assert sent.headers["user-agent"] == "contract-test/1.0"  # one value, not joined


def _http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


@attrs.frozen
class Case:
    """A fault, and how the call must end on every row.

    Attributes:
        faults: The stub's script for the call.
        error: The error the call must raise.
        options: Client options beyond the contract's (no retries, 5 s attempts).
        requests: How many requests the stub must have seen (0: nobody listens).
        status: The ``status_code`` of the error, if it has one.
        retry_after: Bounds of the error's ``retry_after``.
    """

    faults: tuple[Fault, ...]
    error: type[AichatError]
    options: dict[str, Any] = attrs.field(factory=dict)
    requests: int = 1
    status: int | None = None
    retry_after: tuple[float, float] | None = None


HTML = "<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hello</body></html>"
NESTED = b"[" * 100_000 + b"]" * 100_000

FAULTS = {
    "refusal": Case((Fault.refuse("quota exceeded"),), ServiceError),
    "challenge": Case((Fault.challenge(),), ChallengeError, status=403),
    "401": Case((Fault.status(401),), AuthenticationError, status=401),
    "403": Case((Fault.status(403),), AuthenticationError, status=403),
    "429": Case((Fault.status(429),), RateLimitError, status=429),
    "503": Case((Fault.status(503),), ServerError, status=503),
    "418": Case((Fault.status(418),), APIStatusError, status=418),
    "redirect": Case((Fault.redirect(),), APIStatusError, status=302),
    "malformed": Case((Fault.malformed(),), ResponseFormatError),
    "drop": Case((Fault.drop(),), ConnectError),
    "cut-fin": Case((Fault.cut(),), ConnectError),
    "cut-rst": Case((Fault.cut(reset=True),), ConnectError),
    # The fault matrix of issue 8, beyond the cases above.
    "refused": Case((), ConnectError, requests=0),
    "404": Case((Fault.status(404),), APIStatusError, status=404),
    "500": Case((Fault.status(500),), ServerError, status=500),
    "html-200": Case(
        (Fault.status(200, body=HTML, content_type="text/html"),), ResponseFormatError
    ),
    "invalid-utf8": Case(
        (Fault.malformed(b'{"response": true, "message": "\xff\xfe\xfd"}'),),
        ResponseFormatError,
    ),
    "nested-json": Case((Fault.malformed(NESTED),), ResponseFormatError),
    "64MiB-content-length": Case((Fault.large(64 << 20),), ResponseFormatError),
    "64MiB-chunked": Case((Fault.large(64 << 20, content_length=False),), ResponseFormatError),
    "gzip-bomb": Case((Fault.gzip_bomb(),), ResponseFormatError),
    "cross-host-307": Case(
        (Fault.redirect("http://evil.example/api/text", status=307),), APIStatusError, status=307
    ),
    "retry-after-date-over-cap": Case(
        (Fault.status(429, retry_after=_http_date(3600)),),
        RateLimitError,
        {"max_retries": 2},
        status=429,
        retry_after=(61, 3601),  # over the 60 s cap, however long ago the table was built
    ),
    "retry-after-seconds-over-cap": Case(
        (Fault.status(503, retry_after=120),),
        ServerError,
        {"max_retries": 2},
        status=503,
        retry_after=(120, 120),
    ),
}
"""Each fault, over real sockets: its error, the requests it costs, nothing left open."""


@pytest.mark.parametrize("case", FAULTS.values(), ids=FAULTS.keys())
def test_each_fault_raises_its_error_class(row: Row, stub: StubServer, case: Case) -> None:
    before = client_fd_count(stub)
    stub.enqueue(*case.faults)
    options = options_for(stub, **case.options)
    if case.requests == 0:
        options["base_url"] = f"http://127.0.0.1:{free_port()}"  # nobody listens there

    result = row.timed(options)

    error = result.outcome
    assert type(error) is case.error, error
    assert error.attempts == max(case.requests, 1)
    assert len(stub.requests) == case.requests
    if case.status is not None:
        assert isinstance(error, APIStatusError)
        assert error.status_code == case.status
    if case.retry_after is not None:
        assert isinstance(error, APIStatusError)
        assert error.retry_after is not None
        low, high = case.retry_after
        assert low <= error.retry_after <= high
        assert result.seconds < 5  # not waited for
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves the request"
    assert wait_for(lambda: client_fd_count(stub) <= before), f"left open: {open_fds()}"


def test_a_retry_after_date_in_the_past_is_retried(row: Row, stub: StubServer) -> None:
    before = client_fd_count(stub)
    stub.enqueue(Fault.status(503, retry_after=_http_date(-60)))

    reply = row.call(options_for(stub, max_retries=2))

    assert reply.text == "Echo: Hi"
    assert reply.attempts == 2
    assert len(stub.requests) == 2
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves the request"
    assert wait_for(lambda: client_fd_count(stub) <= before), f"left open: {open_fds()}"


def test_503_and_429_with_retry_after_are_retried(row: Row, stub: StubServer, waits: Waits) -> None:
    # The backoff waits at most 75 ms (50 ms and half of it in jitter); Retry-After: 1, 1 s.
    stub.enqueue(Fault.status(503), Fault.status(429, retry_after=1))

    result = row.timed(options_for(stub, max_retries=2), waits=waits)

    assert result.reply().attempts == 3
    assert len(stub.requests) == 3
    backoff, retry_after = waits.seconds
    assert 0 < backoff <= 0.075
    assert retry_after == 1.0


def test_dropped_connections_are_retried(row: Row, stub: StubServer) -> None:
    stub.enqueue(Fault.drop(), Fault.drop())

    reply = row.call(options_for(stub, max_retries=2))

    assert reply.text == "Echo: Hi"
    assert reply.attempts == 3
    assert len(stub.requests) == 3


def test_a_drop_on_a_reused_connection_is_one_counted_attempt(
    row: Row, stub: StubServer, request: pytest.FixtureRequest
) -> None:
    if row.name.startswith("curl-"):
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="libcurl resends a request, unasked and uncounted, when a reused "
                "keep-alive connection closes before any answer (no option turns it off)",
            )
        )
    stub.enqueue(Fault.reply("first"), Fault.drop(), Fault.reply("resent"))

    first, second = row.calls(options_for(stub), ["first", "second"])

    assert first.reply().text == "first"
    assert isinstance(second.outcome, ConnectError)
    assert second.outcome.attempts == 1
    assert len(stub.requests) == 2  # every request on the wire is an attempt


def test_retries_stop_at_max_retries(row: Row, stub: StubServer) -> None:
    stub.enqueue(*[Fault.status(500)] * 3, Fault.reply("too late"))

    with pytest.raises(ServerError) as caught:
        row.call(options_for(stub, max_retries=2))

    assert caught.value.attempts == 3
    assert len(stub.requests) == 3


def test_slow_headers_time_out(row: Row, stub: StubServer) -> None:
    before = client_fd_count(stub)
    stub.enqueue(Fault.delay(3))

    result = row.timed(options_for(stub, timeout=0.3))

    assert isinstance(result.outcome, RequestTimeoutError)
    assert result.outcome.attempts == 1
    assert result.seconds < 0.3 + SLACK
    assert len(stub.requests) == 1
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves the request"
    assert wait_for(lambda: client_fd_count(stub) <= before), f"left open: {open_fds()}"


def test_a_trickled_body_times_out_within_the_attempt(row: Row, stub: StubServer) -> None:
    # A byte every 0.8 s: within a per-read timeout of 1 s, so only a bound on the
    # whole attempt ends the call at 1 s; a check made as each byte comes would end
    # it at 1.6 s, past the slack, and a per-read timeout not before 4 s.
    before = client_fd_count(stub)
    stub.enqueue(TRICKLE)

    result = row.timed(options_for(stub, timeout=1.0))

    assert isinstance(result.outcome, RequestTimeoutError), result.outcome
    assert result.outcome.attempts == 1
    assert result.seconds < 1.0 + SLACK
    assert len(stub.requests) == 1
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves the request"
    assert wait_for(lambda: client_fd_count(stub) <= before), f"left open: {open_fds()}"


def test_the_deadline_cuts_the_whole_call(row: Row, stub: StubServer) -> None:
    # The second attempt has 0.2 s left of the deadline: cut there, the call ends
    # by 1.2 s; retries alone would take 2 s or more.
    before = client_fd_count(stub)
    stub.enqueue(*[TRICKLE] * 4)

    result = row.timed(options_for(stub, timeout=1.0, deadline=1.2, max_retries=3))

    assert isinstance(result.outcome, RequestTimeoutError), result.outcome
    assert result.outcome.attempts == 2
    assert len(stub.requests) == 2
    assert result.seconds < 1.2 + SLACK
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves the request"
    assert wait_for(lambda: client_fd_count(stub) <= before), f"left open: {open_fds()}"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed(row: Row, stub: StubServer, status: int) -> None:
    # The target is the stub itself: a client that followed would be seen there.
    stub.enqueue(Fault.redirect(f"{stub.url}/api/text?followed=1", status=status))

    with pytest.raises(APIStatusError) as caught:
        row.call(options_for(stub))

    assert caught.value.status_code == status
    assert len(stub.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.large(1 << 20), id="content-length"),
        pytest.param(Fault.large(1 << 20, content_length=False), id="chunked"),
        pytest.param(Fault.gzip_bomb(64 << 20), id="gzip-bomb"),
    ],
)
def test_a_body_over_the_cap_is_refused(row: Row, stub: StubServer, fault: Fault) -> None:
    stub.enqueue(fault)

    with pytest.raises(ResponseFormatError, match=f"larger than {CAP} bytes") as caught:
        row.call(options_for(stub), transport_options={"max_body_size": CAP})

    assert caught.value.attempts == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.large(CAP), id="plain"),
        pytest.param(Fault.gzip_bomb(CAP), id="gzip"),
    ],
)
def test_a_body_at_the_cap_is_read(row: Row, stub: StubServer, fault: Fault) -> None:
    stub.enqueue(fault)

    reply = row.call(options_for(stub), transport_options={"max_body_size": CAP})

    assert reply.text == "a" * (CAP - len('{"response":true,"message":""}'))


def test_nothing_is_left_open_after_close(row: Row, stub: StubServer) -> None:
    row.call(options_for(stub))  # the libraries' one-time descriptors, if any
    before = settle(stub)
    stub.enqueue(
        Fault.drop(),  # first, on a new connection (see test_a_drop_on_a_reused_connection)
        Fault.reply("ok"),
        Fault.cut(reset=True),
        Fault.trickle(interval=0.25, tail=8),  # with timeout=0.5
        Fault.large(1 << 20, content_length=False),
        Fault.status(503),
    )
    prompts = ["drop", "ok", "reset", "trickle", "large", "503", "ok again"]

    results = row.calls(
        options_for(stub, timeout=0.5), prompts, transport_options={"max_body_size": CAP}
    )

    kinds = [type(result.outcome).__name__ for result in results]
    assert kinds == [
        "ConnectError",
        "Reply",
        "ConnectError",
        "RequestTimeoutError",
        "ResponseFormatError",
        "ServerError",
        "Reply",
    ]
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves a request"
    assert wait_for(lambda: len(open_fds()) <= before), f"left open: {open_fds()}"


def test_an_asyncio_only_transport_under_trio_is_refused(
    refused_row: Row, stub: StubServer
) -> None:
    results = refused_row.calls(options_for(stub), ["one", "two"])

    for result in results:
        error = result.outcome
        assert isinstance(error, InvalidRequestError)
        assert "asyncio" in str(error)
        assert "AsyncHttpxTransport" in str(error)  # what to use instead
    assert stub.requests == []
