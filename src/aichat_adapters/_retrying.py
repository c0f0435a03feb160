"""The retry loop: the one module that uses tenacity.

A fresh ``Retrying``/``AsyncRetrying`` is built for every call (sharing one
between threads or tasks mixes up attempt counts); the decisions come from
the core's :class:`~aichat_core.RetryPolicy`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import tenacity

from aichat_core import AichatError, RequestTimeoutError, RetryPolicy

__all__ = ["retry_call", "retry_call_async"]

T = TypeVar("T")
R = TypeVar("R", bound=tenacity.BaseRetrying)
logger = logging.getLogger("aichat")


class _Plan:
    """One call's retry state: attempts made, and the wait decided for the next one."""

    def __init__(self, policy: RetryPolicy, timeout: float) -> None:
        self.policy = policy
        self.timeout = timeout
        self.started = time.monotonic()
        self.attempts = 0
        self.next_wait: float | None = None
        self.decided_for = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def attempt_timeout(self) -> float:
        """Counts an attempt and gives its timeout, or raises if the deadline passed."""
        self.attempts += 1
        timeout = self.policy.attempt_timeout(self.timeout, elapsed=self.elapsed())
        if timeout <= 0:
            raise RequestTimeoutError(f"the call's deadline of {self.policy.deadline:g} s passed")
        return timeout

    def retry(self, state: tenacity.RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        return error is not None and self.policy.is_retryable(error)

    def decide(self, state: tenacity.RetryCallState) -> float | None:
        """The wait before the next attempt, or ``None`` to stop; decided once per attempt.

        tenacity asks ``wait`` and ``stop`` in an order that changed between
        versions; both read this one decision.
        """
        if self.decided_for != state.attempt_number:
            error = state.outcome.exception() if state.outcome else None
            assert error is not None  # asked only after a retryable failure
            self.decided_for = state.attempt_number
            self.next_wait = self.policy.next_wait(
                state.attempt_number, error, elapsed=self.elapsed(), rand=random.random()
            )
        return self.next_wait

    def stop(self, state: tenacity.RetryCallState) -> bool:
        return self.decide(state) is None

    def wait(self, state: tenacity.RetryCallState) -> float:
        return self.decide(state) or 0.0

    def build(self, kind: type[R], *, sleep: Callable[[float], Any]) -> R:
        """A fresh tenacity loop of ``kind`` driven by this plan's decisions."""
        return kind(
            sleep=sleep,
            retry=self.retry,
            stop=self.stop,
            wait=self.wait,
            before_sleep=self.before_sleep,
            reraise=True,
        )

    def before_sleep(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.info(
            "attempt %d failed (%s: %s); retrying in %.2f s",
            state.attempt_number,
            type(error).__name__,
            error,
            self.next_wait or 0.0,
        )


def retry_call(send: Callable[[float], T], policy: RetryPolicy, *, timeout: float) -> tuple[T, int]:
    """Call ``send(attempt_timeout)`` until it succeeds or the policy gives up.

    Returns the result and the number of attempts; an error that ends the
    call carries ``.attempts``.
    """
    plan = _Plan(policy, timeout)

    def attempt() -> T:
        return send(plan.attempt_timeout())

    retrying = plan.build(tenacity.Retrying, sleep=time.sleep)
    try:
        return retrying(attempt), plan.attempts
    except AichatError as error:
        error.attempts = plan.attempts
        raise


async def retry_call_async(
    send: Callable[[float], Awaitable[T]], policy: RetryPolicy, *, timeout: float
) -> tuple[T, int]:
    """The async twin of :func:`retry_call`; sleeps with ``anyio.sleep`` (asyncio and trio)."""
    plan = _Plan(policy, timeout)

    async def attempt() -> T:
        return await send(plan.attempt_timeout())

    retrying = plan.build(tenacity.AsyncRetrying, sleep=anyio.sleep)
    try:
        return await retrying(attempt), plan.attempts
    except AichatError as error:
        error.attempts = plan.attempts
        raise
