"""How many calls reach the site at once (``concurrency``), and how many may wait (``queue``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from aichat_adapters.transports._shared import loop_token

__all__ = ["GRACE", "Gate"]

GRACE = 0.05
"""Seconds a call cancelled at the site keeps its place, so that the site sees its
connection close before the next call is sent: the site never counts more than
``concurrency`` calls, even while clients go away."""


class Gate:
    """At most ``concurrency`` calls at the site; ``queue`` more wait their turn, in order.

    Counting is plain arithmetic: an app serves one event loop at a time, and
    its tasks only switch at awaits.
    """

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self.admitted = 0  # at the site, or waiting for a place
        self._loop: object = None
        self._semaphore: anyio.Semaphore | None = None

    def full(self) -> bool:
        """Whether a new call would find the site busy and the queue full."""
        return self.admitted >= self.capacity

    def _places(self) -> anyio.Semaphore:
        loop = loop_token()
        if self._semaphore is None or loop is not self._loop:
            self._loop, self._semaphore = loop, anyio.Semaphore(self.concurrency)
        return self._semaphore

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """Wait in the queue for a place at the site; hold it for the block.

        Check [`full`][] first: the caller answers 429 instead of waiting.
        """
        self.admitted += 1
        try:
            places = self._places()
            async with places:
                try:
                    yield
                except anyio.get_cancelled_exc_class():
                    with anyio.CancelScope(shield=True):
                        await anyio.sleep(GRACE)
                    raise
        finally:
            self.admitted -= 1
