"""The retry loop: the one module that uses tenacity.

A call's first attempt runs on its own; only when it fails is a tenacity loop
built (a fresh ``Retrying``/``AsyncRetrying`` per call: sharing one between
threads or tasks mixes up attempt counts), and that failure is its first
outcome, so every failure meets the same decisions. The decisions come from
the core's [`RetryPolicy`][aichat_core.RetryPolicy] and the client's
[`RetryBudget`][aichat_core.RetryBudget].
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aichat_core import AichatError, RequestTimeoutError, RetryBudget, RetryPolicy

if TYPE_CHECKING:
    import tenacity

__all__ = ["Plan", "retry_call", "retry_call_async"]

T = TypeVar("T")
R = TypeVar("R", bound="tenacity.BaseRetrying")
logger = logging.getLogger("aichat")


class Plan:
    """One call's retry state: requests made, tokens spent, the wait decided for the next try."""

    __slots__ = (
        "attempts",
        "budget",
        "decided_for",
        "next_wait",
        "policy",
        "spent",
        "started",
        "timeout",
    )

    def __init__(self, policy: RetryPolicy, timeout: float, budget: RetryBudget | None) -> None:
        self.policy = policy
        self.timeout = timeout
        self.budget = budget
        self.started = time.monotonic()
        self.attempts = 0
        self.spent = 0
        self.next_wait: float | None = None
        self.decided_for = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def attempt_timeout(self) -> float:
        """Count one request and give its timeout, or raise if the deadline passed."""
        self.attempts += 1
        timeout = self.policy.attempt_timeout(self.timeout, elapsed=self.elapsed())
        if timeout <= 0:
            raise RequestTimeoutError(f"the call's deadline of {self.policy.deadline:g} s passed")
        return timeout

    def succeeded(self) -> None:
        if self.budget is not None:
            self.budget.give_back(self.spent)

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
            wait = self.policy.next_wait(
                state.attempt_number, error, elapsed=self.elapsed(), rand=random.random()
            )
            if wait is not None and self.budget is not None:
                cost = self.budget.spend(error)
                if cost is None:
                    logger.info("retry budget spent: not retrying %s", type(error).__name__)
                    wait = None
                else:
                    self.spent += cost
            self.next_wait = wait
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


def retry_call(
    attempt: Callable[[Plan], T],
    policy: RetryPolicy,
    *,
    timeout: float,
    budget: RetryBudget | None = None,
) -> tuple[T, int]:
    """Call ``attempt(plan)`` until it succeeds or the policy gives up.

    ``attempt`` asks ``plan.attempt_timeout()`` before each request it sends.
    Returns the result and the number of requests; an error that ends the call
    carries ``.attempts``.
    """
    plan = Plan(policy, timeout, budget)
    try:
        result = attempt(plan)
    except AichatError as first:
        failures = [first]

        def again() -> T:
            if failures:
                raise failures.pop()
            return attempt(plan)

        import tenacity  # only once a call has failed: a call that succeeds never needs it

        try:
            result = plan.build(tenacity.Retrying, sleep=time.sleep)(again)
        except AichatError as error:
            error.attempts = plan.attempts
            raise
    plan.succeeded()
    return result, plan.attempts


async def retry_call_async(
    attempt: Callable[[Plan], Awaitable[T]],
    policy: RetryPolicy,
    *,
    timeout: float,
    budget: RetryBudget | None = None,
) -> tuple[T, int]:
    """The async twin of [`retry_call`][]; sleeps with ``anyio.sleep`` (asyncio and trio)."""
    plan = Plan(policy, timeout, budget)
    try:
        result = await attempt(plan)
    except AichatError as first:
        failures = [first]

        async def again() -> T:
            if failures:
                raise failures.pop()
            return await attempt(plan)

        import anyio
        import tenacity

        try:
            result = await plan.build(tenacity.AsyncRetrying, sleep=anyio.sleep)(again)
        except AichatError as error:
            error.attempts = plan.attempts
            raise
    plan.succeeded()
    return result, plan.attempts
