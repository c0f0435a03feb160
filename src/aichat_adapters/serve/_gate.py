"""How many calls reach the site at once (``concurrency``), and how many may wait (``queue``)."""

from __future__ import annotations

from collections import deque
from types import TracebackType

import anyio

__all__ = ["GRACE", "Gate"]

GRACE = 0.05
"""Seconds a call cancelled at the site keeps its place, so that the site sees its
connection close before the next call is sent: the site never counts more than
``concurrency`` calls, even while clients go away."""


class Gate:
    """At most ``concurrency`` calls at the site; ``queue`` more wait their turn, first come
    first served.

    Counting is plain arithmetic: an app serves one event loop at a time, and its
    tasks only switch at awaits. A call that finds a free place takes it without
    an await; a place that frees up is handed to the oldest waiter.
    """

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self.admitted = 0  # at the site, or waiting for a place
        self.running = 0  # at the site
        self._waiting: deque[anyio.Event] = deque()
        self._place = _Place(self)

    def full(self) -> bool:
        """Whether a new call would find the site busy and the queue full."""
        return self.admitted >= self.capacity

    def admit(self) -> bool:
        """Count a new call in, at the site or waiting; ``False`` when `full`.

        The check and the count have no await between them, so calls that arrive
        together cannot all pass. A call admitted must `leave` once answered.
        """
        if self.full():
            return False
        self.admitted += 1
        return True

    def leave(self) -> None:
        """Count an admitted call out."""
        self.admitted -= 1

    def _release(self) -> None:
        if self._waiting:
            self._waiting.popleft().set()  # the place goes to the oldest waiter
        else:
            self.running -= 1

    async def _wait(self) -> None:
        turn = anyio.Event()
        self._waiting.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():  # given a place while being cancelled: pass it on
                self._release()
            else:
                self._waiting.remove(turn)
            raise

    def place(self) -> _Place:
        """Wait in the queue for a place at the site; hold it for the block.

        For a call that was admitted (`admit`): one that was not gets 429 instead.
        """
        return self._place


class _Place:
    """`Gate.place`'s context manager: a class, so that entering and leaving cost one call
    each (a generator's context manager costs several)."""

    __slots__ = ("_gate",)

    def __init__(self, gate: Gate) -> None:
        self._gate = gate

    async def __aenter__(self) -> None:
        gate = self._gate
        if gate.running < gate.concurrency:
            gate.running += 1
        else:
            await gate._wait()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None and issubclass(exc_type, anyio.get_cancelled_exc_class()):
                with anyio.CancelScope(shield=True):
                    await anyio.sleep(GRACE)
        finally:
            self._gate._release()
