"""Retry decisions: ``RetryPolicy`` and ``parse_retry_after`` (DESIGN §5)."""

from __future__ import annotations

import email.utils
import math
from typing import Any

import pytest

from aichat_core import (
    RETRY_STATUSES,
    AichatError,
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    ConnectError,
    CookiesNotFoundError,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    RetryPolicy,
    ServerError,
    ServiceError,
    TransportError,
    parse_retry_after,
)

NOW = 1_750_000_000.0
POLICY = RetryPolicy()
ALMOST_ONE = 0.999_999_999


def status_error(status: int, retry_after: float | None = None) -> APIStatusError:
    cls: type[APIStatusError] = APIStatusError
    if status in (401, 403):
        cls = AuthenticationError
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    return cls(f"HTTP {status}", status_code=status, retry_after=retry_after)


# --------------------------------------------------------------------------- is_retryable

RETRYABLE = [
    pytest.param(ConnectError("refused"), True, id="connect"),
    pytest.param(RequestTimeoutError("timed out"), True, id="timeout"),
    pytest.param(TransportError("closed"), True, id="transport"),
    *(pytest.param(status_error(s), True, id=str(s)) for s in (408, 409, 429, 500, 502, 503, 504)),
    *(
        pytest.param(APIStatusError("x", status_code=s), True, id=f"{s}-plain-class")
        for s in (429, 503)
    ),
    *(pytest.param(status_error(s), False, id=str(s)) for s in (400, 401, 403, 404, 418)),
    pytest.param(ChallengeError("challenge", status_code=403), False, id="403-challenge"),
    pytest.param(APIStatusError("redirect", status_code=302), False, id="302"),
    pytest.param(ServerError("x", status_code=501), False, id="501"),
    pytest.param(ServiceError("refused", payload={"response": False}), False, id="service"),
    pytest.param(ResponseFormatError("not json"), False, id="format"),
    pytest.param(InvalidRequestError("bad"), False, id="invalid-request"),
    pytest.param(CookiesNotFoundError("none"), False, id="cookies-not-found"),
    pytest.param(AichatError("base"), False, id="base"),
    pytest.param(ValueError("x"), False, id="foreign-valueerror"),
    pytest.param(TimeoutError("x"), False, id="foreign-timeout"),
]


@pytest.mark.parametrize(("error", "expected"), RETRYABLE)
def test_is_retryable(error: BaseException, expected: bool) -> None:
    assert POLICY.is_retryable(error) is expected


def test_retry_statuses() -> None:
    assert frozenset({408, 409, 429, 500, 502, 503, 504}) == RETRY_STATUSES


# --------------------------------------------------------------------------- backoff

BACKOFF = [
    pytest.param(1, 0.5, id="1"),
    pytest.param(2, 1.0, id="2"),
    pytest.param(3, 2.0, id="3"),
    pytest.param(4, 4.0, id="4"),
    pytest.param(5, 8.0, id="5-cap"),
    pytest.param(6, 8.0, id="6-capped"),
    pytest.param(30, 8.0, id="30-capped"),
]


@pytest.mark.parametrize(("attempt", "expected"), BACKOFF)
def test_backoff_without_jitter(attempt: int, expected: float) -> None:
    assert POLICY.backoff(attempt, 0.0) == expected


@pytest.mark.parametrize(("attempt", "base"), BACKOFF)
def test_backoff_jitter_bounds(attempt: int, base: float) -> None:
    high = POLICY.backoff(attempt, ALMOST_ONE)
    middle = POLICY.backoff(attempt, 0.5)
    assert base < middle < high < base * 1.5  # jitter 0.5: up to half the base is added
    assert high == pytest.approx(base * 1.5)


def test_backoff_is_monotonic() -> None:
    waits = [POLICY.backoff(attempt, 0.0) for attempt in range(1, 12)]
    assert waits == sorted(waits)


@pytest.mark.parametrize(
    ("policy", "attempt", "rand", "expected"),
    [
        pytest.param(RetryPolicy(initial_wait=1, max_wait=100, jitter=0), 4, 0.9, 8.0, id="init1"),
        pytest.param(RetryPolicy(initial_wait=0.5, max_wait=3), 4, 0.0, 3.0, id="cap3"),
        pytest.param(RetryPolicy(jitter=1.0), 1, 0.5, 0.75, id="jitter1"),
        pytest.param(RetryPolicy(initial_wait=0), 3, ALMOST_ONE, 0.0, id="zero-wait"),
    ],
)
def test_backoff_follows_the_fields(
    policy: RetryPolicy, attempt: int, rand: float, expected: float
) -> None:
    assert policy.backoff(attempt, rand) == pytest.approx(expected)


# --------------------------------------------------------------------------- next_wait

CONNECT = ConnectError("refused")

NEXT_WAIT = [
    # (policy, attempt, error, elapsed, expected)
    pytest.param(POLICY, 1, CONNECT, 0.0, 0.5, id="first-retry"),
    pytest.param(POLICY, 2, CONNECT, 0.0, 1.0, id="second-retry"),
    pytest.param(POLICY, 3, CONNECT, 0.0, None, id="after-max-retries"),
    pytest.param(POLICY, 4, CONNECT, 0.0, None, id="well-after"),
    pytest.param(RetryPolicy(max_retries=0), 1, CONNECT, 0.0, None, id="no-retries"),
    pytest.param(RetryPolicy(max_retries=5), 5, CONNECT, 0.0, 8.0, id="fifth-of-five"),
    pytest.param(RetryPolicy(max_retries=5), 6, CONNECT, 0.0, None, id="sixth-of-five"),
    pytest.param(POLICY, 1, status_error(400), 0.0, None, id="not-retryable"),
    pytest.param(POLICY, 1, ServiceError("x", payload={}), 0.0, None, id="service-error"),
    pytest.param(POLICY, 1, status_error(503), 0.0, 0.5, id="503-backoff"),
    pytest.param(POLICY, 1, status_error(429, 7.0), 0.0, 7.0, id="retry-after-honoured"),
    pytest.param(POLICY, 2, status_error(429, 0.25), 0.0, 0.25, id="retry-after-short"),
    pytest.param(POLICY, 1, status_error(429, 0.0), 0.0, 0.0, id="retry-after-zero"),
    pytest.param(POLICY, 1, status_error(503, 60.0), 0.0, 60.0, id="retry-after-60"),
    pytest.param(POLICY, 1, status_error(503, 60.5), 0.0, None, id="retry-after-over-60"),
    pytest.param(POLICY, 1, status_error(429, 3600.0), 0.0, None, id="retry-after-hour"),
    pytest.param(POLICY, 3, status_error(429, 1.0), 0.0, None, id="retry-after-but-exhausted"),
    pytest.param(POLICY, 1, status_error(400, 1.0), 0.0, None, id="retry-after-on-400"),
    pytest.param(
        RetryPolicy(max_retry_after=5), 1, status_error(429, 5.5), 0.0, None, id="own-max"
    ),
    pytest.param(RetryPolicy(deadline=10), 1, CONNECT, 9.0, 0.5, id="deadline-room"),
    pytest.param(RetryPolicy(deadline=10), 1, CONNECT, 9.5, None, id="deadline-exactly"),
    pytest.param(RetryPolicy(deadline=10), 1, CONNECT, 9.8, None, id="deadline-over"),
    pytest.param(RetryPolicy(deadline=10), 1, CONNECT, 12.0, None, id="deadline-passed"),
    pytest.param(RetryPolicy(deadline=10), 1, status_error(429, 7.0), 2.9, 7.0, id="deadline-ra"),
    pytest.param(
        RetryPolicy(deadline=10), 1, status_error(429, 7.0), 3.0, None, id="deadline-ra-exactly"
    ),
]


@pytest.mark.parametrize(("policy", "attempt", "error", "elapsed", "expected"), NEXT_WAIT)
def test_next_wait(
    policy: RetryPolicy,
    attempt: int,
    error: BaseException,
    elapsed: float,
    expected: float | None,
) -> None:
    assert policy.next_wait(attempt, error, elapsed=elapsed, rand=0.0) == expected


@pytest.mark.parametrize("rand", [0.0, 0.3, ALMOST_ONE])
def test_retry_after_is_not_jittered(rand: float) -> None:
    assert POLICY.next_wait(1, status_error(429, 7.0), elapsed=0.0, rand=rand) == 7.0


def test_next_wait_is_the_jittered_backoff() -> None:
    wait = POLICY.next_wait(2, CONNECT, elapsed=0.0, rand=0.5)
    assert wait == POLICY.backoff(2, 0.5)
    assert wait is not None
    assert 1.0 < wait < 1.5


def test_jitter_counts_against_the_deadline() -> None:
    policy = RetryPolicy(deadline=10)
    assert policy.next_wait(1, CONNECT, elapsed=9.3, rand=0.0) == 0.5
    assert policy.next_wait(1, CONNECT, elapsed=9.3, rand=ALMOST_ONE) is None


# --------------------------------------------------------------------------- attempt_timeout

TIMEOUTS = [
    pytest.param(None, 60.0, 1000.0, 60.0, id="no-deadline"),
    pytest.param(10.0, 60.0, 4.0, 6.0, id="cut-by-deadline"),
    pytest.param(10.0, 5.0, 1.0, 5.0, id="timeout-shorter"),
    pytest.param(10.0, 5.0, 5.0, 5.0, id="equal"),
    pytest.param(10.0, 60.0, 10.0, 0.0, id="deadline-reached"),
    pytest.param(10.0, 60.0, 12.5, 0.0, id="deadline-passed"),
]


@pytest.mark.parametrize(("deadline", "timeout", "elapsed", "expected"), TIMEOUTS)
def test_attempt_timeout(
    deadline: float | None, timeout: float, elapsed: float, expected: float
) -> None:
    policy = RetryPolicy(deadline=deadline)
    assert policy.attempt_timeout(timeout, elapsed=elapsed) == expected


# --------------------------------------------------------------------------- policy fields


def test_defaults() -> None:
    assert RetryPolicy() == RetryPolicy(
        max_retries=2, initial_wait=0.5, max_wait=8.0, max_retry_after=60.0, deadline=None
    )


VALID_FIELDS = [
    pytest.param("max_retries", 0, id="max_retries-0"),
    pytest.param("max_retries", 10, id="max_retries-10"),
    pytest.param("initial_wait", 0, id="initial_wait-0"),
    pytest.param("max_wait", 0.0, id="max_wait-0"),
    pytest.param("jitter", 0, id="jitter-0"),
    pytest.param("max_retry_after", 0, id="max_retry_after-0"),
    pytest.param("deadline", None, id="deadline-none"),
    pytest.param("deadline", 0.001, id="deadline-small"),
]


@pytest.mark.parametrize(("name", "value"), VALID_FIELDS)
def test_valid_fields(name: str, value: Any) -> None:
    kwargs: dict[str, Any] = {name: value}
    assert getattr(RetryPolicy(**kwargs), name) == value


INVALID_FIELDS = [
    pytest.param("max_retries", -1, id="max_retries-negative"),
    pytest.param("max_retries", True, id="max_retries-bool"),
    pytest.param("max_retries", 1.5, id="max_retries-float"),
    pytest.param("max_retries", "2", id="max_retries-str"),
    pytest.param("max_retries", None, id="max_retries-none"),
    pytest.param("initial_wait", -0.1, id="initial_wait-negative"),
    pytest.param("initial_wait", True, id="initial_wait-bool"),
    pytest.param("initial_wait", math.nan, id="initial_wait-nan"),
    pytest.param("max_wait", -1, id="max_wait-negative"),
    pytest.param("max_wait", False, id="max_wait-bool"),
    pytest.param("jitter", -0.5, id="jitter-negative"),
    pytest.param("jitter", "0.5", id="jitter-str"),
    pytest.param("max_retry_after", -60, id="max_retry_after-negative"),
    pytest.param("max_retry_after", True, id="max_retry_after-bool"),
    pytest.param("deadline", 0, id="deadline-zero"),
    pytest.param("deadline", -5, id="deadline-negative"),
    pytest.param("deadline", True, id="deadline-bool"),
    pytest.param("deadline", math.nan, id="deadline-nan"),
    pytest.param("deadline", "10", id="deadline-str"),
]


@pytest.mark.parametrize(("name", "value"), INVALID_FIELDS)
def test_invalid_fields(name: str, value: Any) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(InvalidRequestError) as exc_info:
        RetryPolicy(**kwargs)
    assert name in str(exc_info.value)


# --------------------------------------------------------------------------- parse_retry_after

RETRY_AFTER_VALUES = [
    pytest.param("5", 5.0, id="seconds"),
    pytest.param("0", 0.0, id="zero"),
    pytest.param("0.5", 0.5, id="fraction"),
    pytest.param("  12  ", 12.0, id="padded"),
    pytest.param("120", 120.0, id="long"),
    pytest.param("-3", 0.0, id="negative-clamped"),
    pytest.param(email.utils.formatdate(NOW + 90, usegmt=True), 90.0, id="date-future"),
    pytest.param(email.utils.formatdate(NOW - 90, usegmt=True), 0.0, id="date-past"),
    pytest.param(email.utils.formatdate(NOW, usegmt=True), 0.0, id="date-now"),
    pytest.param("", None, id="empty"),
    pytest.param("soon", None, id="garbage"),
    pytest.param("5 seconds", None, id="trailing-words"),
    pytest.param("nan", None, id="nan"),
    pytest.param("inf", None, id="inf"),
    pytest.param("Mon, 99 Foo 2025 99:99:99 GMT", None, id="broken-date"),
    pytest.param(None, None, id="none"),
]


@pytest.mark.parametrize(("value", "expected"), RETRY_AFTER_VALUES)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    result = parse_retry_after(value, now=NOW)
    assert result == expected
    if result is not None:
        assert type(result) is float


def test_http_date_is_relative_to_now() -> None:
    header = "Wed, 21 Oct 2015 07:28:00 GMT"
    moment = 1_445_412_480.0  # 2015-10-21T07:28:00Z
    assert parse_retry_after(header, now=moment - 45) == 45.0
    assert parse_retry_after(header, now=moment + 45) == 0.0
