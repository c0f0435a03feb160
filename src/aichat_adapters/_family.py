"""A client family: what a client shares with its [`with_options`][] copies.

One source, one session jar, one retry budget, one transport and one
refresh lock: calls rejected together on any member of the family refresh
the credentials once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aichat_adapters._edges import SourceEdge

if TYPE_CHECKING:
    import anyio

    from aichat_adapters._budget import RetryBudget
    from aichat_adapters._jar import SessionJar

__all__ = ["Family"]

S = TypeVar("S", bound=SourceEdge)
T = TypeVar("T")


class Family(Generic[S, T]):
    """The state a client shares with its copies; the drivers lock it, the engine reads it.

    ``S`` is the source as the client uses it (a ``SyncSource`` or an
    ``AsyncSource``), ``T`` its transport port (``Transport`` or ``AsyncTransport``).
    """

    def __init__(
        self,
        source: S,
        jar: SessionJar,
        budget: RetryBudget | None,
        sleep: Callable[[float], Any],
    ) -> None:
        self.source = source
        self.jar = jar
        self.budget = budget
        self.transport: T | None = None  # built on first use when the client builds its own
        self.closed = False
        self.lock = threading.Lock()  # building the transport, closing
        self.refresh_lock = threading.Lock()  # the blocking client's refreshes
        self._loop_locks: dict[int, anyio.Lock] = {}
        self.sleep = sleep  # time.sleep or anyio.sleep: a test may put a fake clock's here

    def loop_lock(self) -> anyio.Lock:
        """The async client's refresh lock: one per event loop (an anyio lock belongs to
        the loop that first used it)."""
        import anyio

        from aichat_adapters.transports._common import loop_token

        key = id(loop_token())
        lock = self._loop_locks.get(key)
        if lock is None:
            self._loop_locks = {key: (lock := anyio.Lock())}
        return lock
