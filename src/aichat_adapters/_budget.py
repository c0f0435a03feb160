"""The retry budget: a token bucket that a client shares with its copies (botocore's standard mode).

The core's [`RetryPolicy`][aichat_core.RetryPolicy] says what a retry costs;
this bucket holds the tokens, behind a lock, for the calls of every thread
and task.
"""

from __future__ import annotations

import logging
import threading

from aichat_core import RetryPolicy

__all__ = ["RetryBudget"]

logger = logging.getLogger("aichat")


class RetryBudget:
    """A client family's token bucket for retries (see ``RetryPolicy.budget``)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._tokens = capacity
        self._lock = threading.Lock()

    @classmethod
    def for_policy(cls, policy: RetryPolicy) -> RetryBudget | None:
        """The bucket ``policy`` asks for, full; ``None`` when its ``budget`` is ``None``."""
        return None if policy.budget is None else cls(policy.budget)

    @property
    def tokens(self) -> int:
        """Tokens left."""
        return self._tokens

    def spend(self, cost: int) -> bool:
        """Take ``cost`` tokens for one retry; ``False`` (nothing taken) when short."""
        with self._lock:
            if cost > self._tokens:
                enough = False
            else:
                self._tokens -= cost
                enough = True
        if not enough:
            logger.info("retry budget spent: not retrying")
        return enough

    def give_back(self, spent: int) -> None:
        """A call succeeded: return what its retries spent, or one token if it spent none."""
        if self._tokens >= self.capacity:  # full already (the usual case): nothing to lock
            return
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + (spent or 1))

    def __repr__(self) -> str:
        return f"RetryBudget(tokens={self._tokens}/{self.capacity})"
