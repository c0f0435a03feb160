"""Retries, Retry-After and the deadline, over loopback, for every client kind."""

from __future__ import annotations

import pytest

from aichat_adapters import (
    APIStatusError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
)
from aichat_adapters.stub import Fault, StubServer
from tests.support import Complete


def test_503_503_ok_succeeds_on_the_third_attempt(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.status(503), Fault.status(503))

    reply = complete("Hi")

    assert reply.text == "Echo: Hi"
    assert reply.attempts == 3
    assert len(stub.requests) == 3


def test_retry_after_beyond_the_cap_is_not_waited_for(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.status(429, retry_after=3600))

    with pytest.raises(RateLimitError) as caught:
        complete("Hi")

    assert caught.value.retry_after == 3600
    assert len(stub.requests) == 1


def test_not_retried_statuses(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.status(400), Fault.reply("would succeed"))

    with pytest.raises(APIStatusError) as caught:
        complete("Hi")

    assert caught.value.status_code == 400
    assert len(stub.requests) == 1


def test_deadline_cuts_a_call_that_would_retry_longer(complete: Complete, stub: StubServer) -> None:
    # Ten retries 1 s apart would take 10 s; a 1.5 s deadline allows two attempts, and the
    # second starts 0.5 s before the deadline (room for a loaded machine's slow sleep).
    stub.enqueue(*[Fault.status(503)] * 11)
    policy = RetryPolicy(max_retries=10, initial_wait=1.0, max_wait=1.0, jitter=0)

    with pytest.raises(ServerError) as caught:
        complete("Hi", client={"retry_policy": policy, "deadline": 1.5})

    assert 1 <= caught.value.attempts <= 3
    assert len(stub.requests) == caught.value.attempts


def test_deadline_cuts_a_slow_attempt(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.delay(3.0))

    with pytest.raises(RequestTimeoutError):
        complete("Hi", client={"timeout": 30, "deadline": 0.3})
