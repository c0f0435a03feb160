"""Retry decisions: pure functions of the attempt, the error, and the time and chance given.

The time comes in as ``now`` and the jitter as ``rand``. The call engine
(`_engine`) asks these decisions; the clients' drivers run the loop. This
module only decides whether to try again, how long to wait first, and what
a retry costs.
"""

from __future__ import annotations

import email.utils
import math
from typing import Any

import attrs

from aichat_core._errors import (
    APIStatusError,
    CertificateError,
    InvalidRequestError,
    RequestTimeoutError,
    TransportError,
)

__all__ = ["RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses that are worth another attempt."""


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP-date).

    Returns ``None`` for a missing or unreadable value; never negative.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - now
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _non_negative(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidRequestError(f"{attribute.name} must be a number >= 0, got {value!r}")


def _optional_positive(
    _instance: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
    ):
        raise InvalidRequestError(f"{attribute.name} must be a number > 0 or None, got {value!r}")


def _retry_count(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _optional_count(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _retry_count(_instance, attribute, value)


@attrs.frozen
class RetryPolicy:
    """When to retry and how long to wait.

    Attributes:
        max_retries: Retries after the first attempt (``2`` means three attempts).
        initial_wait: The first backoff, in seconds; it doubles each retry.
        max_wait: The longest backoff, in seconds.
        jitter: Up to this fraction of the backoff is added at random.
        max_retry_after: The longest ``Retry-After`` honoured; a longer one
            ends the call with the error.
        deadline: Seconds for the whole call, attempts and waits together.
        budget: Tokens in each client's retry budget (``None`` turns it off).
            A retry spends ``retry_cost`` tokens (``timeout_cost`` after a
            timeout); a call that succeeds gives back what its retries spent,
            or one token. With the bucket empty, calls fail fast with their
            error instead of retrying, so a failing server does not get its
            traffic multiplied (botocore's "standard" retry mode).
        retry_cost: Tokens a retry spends.
        timeout_cost: Tokens a retry after a timeout spends.
    """

    max_retries: int = attrs.field(default=2, validator=_retry_count)
    initial_wait: float = attrs.field(default=0.5, validator=_non_negative)
    max_wait: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.5, validator=_non_negative)
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative)
    deadline: float | None = attrs.field(default=None, validator=_optional_positive)
    budget: int | None = attrs.field(default=500, validator=_optional_count)
    retry_cost: int = attrs.field(default=5, validator=_retry_count)
    timeout_cost: int = attrs.field(default=10, validator=_retry_count)

    def is_retryable(self, error: BaseException) -> bool:
        """Whether this error is worth another attempt at all."""
        if isinstance(error, TransportError):
            return not isinstance(error, CertificateError)
        return isinstance(error, APIStatusError) and error.status_code in RETRY_STATUSES

    def backoff(self, attempt: int, rand: float) -> float:
        """The wait after failed attempt number ``attempt`` (1-based).

        ``rand`` is a number in ``[0, 1)`` that draws the jitter.
        """
        base = min(self.max_wait, self.initial_wait * 2 ** (attempt - 1))
        return float(base * (1 + self.jitter * rand))

    def next_wait(
        self, attempt: int, error: BaseException, *, elapsed: float, rand: float
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up.

        ``attempt`` is the number of attempts made so far, ``elapsed`` the
        seconds since the call began.
        """
        if attempt > self.max_retries or not self.is_retryable(error):
            return None
        retry_after = error.retry_after if isinstance(error, APIStatusError) else None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            wait = retry_after
        else:
            wait = self.backoff(attempt, rand)
        if self.deadline is not None and elapsed + wait >= self.deadline:
            return None
        return wait

    def cost_of(self, error: BaseException) -> int:
        """The tokens of the retry budget that a retry after ``error`` spends."""
        return self.timeout_cost if isinstance(error, RequestTimeoutError) else self.retry_cost

    def attempt_timeout(self, timeout: float, *, elapsed: float) -> float:
        """The timeout for the next attempt: ``timeout`` cut to the time left.

        Returns ``0`` when the deadline has passed.
        """
        if self.deadline is None:
            return timeout
        return max(0.0, min(timeout, self.deadline - elapsed))
