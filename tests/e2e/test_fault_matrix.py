"""The fault matrix (issue 8): each fault, over real sockets, for the sync client and the async
client on asyncio and trio (default transport).

Each case names its fault and the typed error it must raise (or success),
how many requests the stub must have seen, and checks that the call leaves
no file descriptor open.
"""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import attrs
import pytest

from aichat_adapters import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    ConnectError,
    RateLimitError,
    Reply,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
    ServiceError,
)
from aichat_adapters.stub import Fault, StubServer
from tests.support import call, fd_count, options_for, settle, wait_for

SLACK = 0.5
"""How far past ``timeout`` or ``deadline`` a call may end (issue 8)."""
HTML = "<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hello</body></html>"
NESTED = b"[" * 100_000 + b"]" * 100_000
TRICKLE = Fault.trickle(interval=0.8, tail=5)
"""A byte every 0.8 s: only a bound on the whole attempt (1 s) ends it before the slack."""


def _http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


@attrs.frozen
class Case:
    """One row of the matrix.

    Attributes:
        faults: The stub's script for the call.
        expect: The error the call must raise; ``None`` for success.
        options: Client options beyond the defaults (no retries).
        requests: How many requests the stub must have seen.
        status: The ``status_code`` of the error, if it has one.
        retry_after: Bounds of the error's ``retry_after``.
        within: Seconds the call may last at most (timeouts and deadlines).
    """

    faults: tuple[Fault, ...]
    expect: type[AichatError] | None
    options: dict[str, Any] = attrs.field(factory=dict)
    requests: int = 1
    status: int | None = None
    retry_after: tuple[float, float] | None = None
    within: float | None = None


CASES = {
    "refused": Case((), ConnectError, requests=0),
    "reset-mid-body": Case((Fault.cut(reset=True),), ConnectError),
    "fin-mid-body": Case((Fault.cut(),), ConnectError),
    "slow-headers": Case(
        (Fault.delay(3),), RequestTimeoutError, {"timeout": 0.3}, within=0.3 + SLACK
    ),
    "trickled-body": Case((TRICKLE,), RequestTimeoutError, {"timeout": 1.0}, within=1.0 + SLACK),
    "trickled-body-deadline": Case(
        (TRICKLE,) * 3,
        RequestTimeoutError,
        {"timeout": 1.0, "deadline": 1.2, "max_retries": 2},
        requests=2,
        within=1.2 + SLACK,
    ),
    "html-200": Case(
        (Fault.status(200, body=HTML, content_type="text/html"),), ResponseFormatError
    ),
    "invalid-utf8": Case(
        (Fault.malformed(b'{"response": true, "message": "\xff\xfe\xfd"}'),),
        ResponseFormatError,
    ),
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
    "retry-after-date-past": Case(
        (Fault.status(503, retry_after=_http_date(-60)),), None, {"max_retries": 2}, requests=2
    ),
    "401": Case((Fault.status(401),), AuthenticationError, status=401),
    "403": Case((Fault.status(403),), AuthenticationError, status=403),
    "404": Case((Fault.status(404),), APIStatusError, status=404),
    "500": Case((Fault.status(500),), ServerError, status=500),
    "refusal": Case((Fault.refuse("moderation"),), ServiceError),
    "nested-json": Case((Fault.malformed(NESTED),), ResponseFormatError),
}


def _closed_port() -> str:
    with socket.socket() as sock:  # free a moment ago: nobody listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fault(case: Case, kind: str, stub: StubServer) -> None:
    before = settle(stub)
    stub.enqueue(*case.faults)
    options = options_for(stub, **{"max_retries": 0, "timeout": 5.0, **case.options})
    if case.requests == 0:
        options["base_url"] = _closed_port()

    started = time.monotonic()
    try:
        outcome: Reply | AichatError = call(kind, options, "Hi")
    except AichatError as error:
        outcome = error
    seconds = time.monotonic() - started

    if case.expect is None:
        assert isinstance(outcome, Reply), outcome
        assert outcome.text == "Echo: Hi"
    else:
        assert type(outcome) is case.expect, outcome
        assert outcome.attempts == max(case.requests, 1)
    if case.status is not None:
        assert isinstance(outcome, APIStatusError)
        assert outcome.status_code == case.status
    if case.retry_after is not None:
        assert isinstance(outcome, APIStatusError)
        assert outcome.retry_after is not None
        low, high = case.retry_after
        assert low <= outcome.retry_after <= high
        assert seconds < 5  # not waited for
    if case.within is not None:
        assert seconds < case.within
    assert len(stub.requests) == case.requests
    assert wait_for(lambda: stub.in_flight == 0), "the stub still serves the request"
    assert wait_for(lambda: fd_count() <= before), "a file descriptor was left open"
