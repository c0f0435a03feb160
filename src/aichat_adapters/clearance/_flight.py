"""One run that earns credentials, shared by every caller who waits for it.

The run is an asyncio coroutine (pydoll and the FlareSolverr call are asyncio
code) on an event loop of its own, in a worker thread. So the sync methods
work inside a running event loop (Jupyter) and the async ones under trio as
under asyncio. Callers wait for the run; when the last one leaves (Ctrl-C, a
cancelled task), the run is cancelled, and the caller returns only once the
run has cleaned up (the browser and its profile are gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import attrs

from aichat_core import Credentials

__all__ = ["Flight", "Flights"]

_MAX_PAUSE = 0.05

Earn = Callable[[], Coroutine[Any, Any, Credentials]]


class Flight:
    """One run of ``earn`` in a thread with its own asyncio loop.

    Args:
        earn: Makes the coroutine that earns the credentials.
        refresh: Whether the run was started to renew credentials.
        finish: Called in the run's thread with the outcome, before waiters wake.
    """

    def __init__(
        self,
        earn: Earn,
        *,
        refresh: bool,
        finish: Callable[[Flight], None],
    ) -> None:
        self.refresh = refresh
        self.done = threading.Event()
        self.result: Credentials | None = None
        self.error: BaseException | None = None
        self.waiters = 0
        self._earn = earn
        self._finish = finish
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Credentials] | None = None
        self._cancelled = False
        # Not a daemon: at interpreter exit, Python waits for the run to clean up.
        self._thread = threading.Thread(target=self._run, name="aichat-clearance")

    def start(self) -> None:
        """Start the run's thread."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the run to stop (idempotent); it cleans up, then `done` is set."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the run is over
                loop.call_soon_threadsafe(task.cancel)

    @property
    def cancelled(self) -> bool:
        """Whether the run was asked to stop."""
        with self._lock:
            return self._cancelled

    def outcome(self) -> Credentials:
        """The run's credentials, or its error raised again (after `done`)."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def _run(self) -> None:
        try:
            self.result = asyncio.run(self._main())
        except BaseException as exc:  # handed to the waiters
            self.error = exc
        finally:
            try:
                self._finish(self)
            finally:
                self.done.set()

    async def _main(self) -> Credentials:
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            if self._cancelled:
                raise asyncio.CancelledError
            self._loop, self._task = asyncio.get_running_loop(), task
        return await self._earn()


@attrs.define
class Flights:
    """A source's credentials in memory and its run in progress, shared by threads and loops.

    Attributes:
        current: The credentials obtained last.
        runs: How many runs were started (for tests and logs).
    """

    current: Credentials | None = None
    runs: int = 0
    _flight: Flight | None = None
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def get(
        self, earn: Callable[[bool, Credentials | None], Earn], valid: Callable[[Credentials], bool]
    ) -> Credentials:
        """The credentials in memory while ``valid``, else a run's (joining one in progress)."""
        while True:
            flight, joined = self._plan(earn, valid, refresh=False)
            if flight is None:
                assert self.current is not None
                return self.current
            self._wait(flight, joined)
            if joined:
                return flight.outcome()

    def refresh(self, earn: Callable[[bool, Credentials | None], Earn]) -> Credentials:
        """A new run's credentials (joining a renewal in progress)."""
        while True:
            flight, joined = self._plan(earn, None, refresh=True)
            assert flight is not None
            self._wait(flight, joined)
            if joined:
                return flight.outcome()

    async def aget(
        self, earn: Callable[[bool, Credentials | None], Earn], valid: Callable[[Credentials], bool]
    ) -> Credentials:
        """The awaitable twin of `get` (asyncio or trio)."""
        while True:
            flight, joined = self._plan(earn, valid, refresh=False)
            if flight is None:
                assert self.current is not None
                return self.current
            await self._await(flight, joined)
            if joined:
                return flight.outcome()

    async def arefresh(self, earn: Callable[[bool, Credentials | None], Earn]) -> Credentials:
        """The awaitable twin of `refresh` (asyncio or trio)."""
        while True:
            flight, joined = self._plan(earn, None, refresh=True)
            assert flight is not None
            await self._await(flight, joined)
            if joined:
                return flight.outcome()

    def _plan(
        self,
        earn: Callable[[bool, Credentials | None], Earn],
        valid: Callable[[Credentials], bool] | None,
        *,
        refresh: bool,
    ) -> tuple[Flight | None, bool]:
        """What to wait for: ``(None, _)`` use `current`; ``(flight, True)`` its outcome;
        ``(flight, False)`` a run to wait out before planning again (one being
        cancelled, or a plain run whose result may be what a renewal replaces)."""
        with self._lock:
            if valid is not None and self.current is not None and valid(self.current):
                return None, True
            flight = self._flight
            if flight is not None and (flight.cancelled or (refresh and not flight.refresh)):
                return flight, False
            if flight is not None:
                flight.waiters += 1
                return flight, True
            flight = Flight(earn(refresh, self.current), refresh=refresh, finish=self._finish)
            flight.waiters = 1
            self._flight = flight
            self.runs += 1
        flight.start()
        return flight, True

    def _finish(self, flight: Flight) -> None:
        with self._lock:
            if flight.result is not None:
                self.current = flight.result
            if self._flight is flight:
                self._flight = None

    def _leave(self, flight: Flight) -> bool:
        """One waiter gives up; ``True`` when it was the last (the run is then cancelled)."""
        with self._lock:
            flight.waiters -= 1
            last = flight.waiters <= 0 and not flight.done.is_set()
        if last:
            flight.cancel()
        return last

    def _wait(self, flight: Flight, joined: bool) -> None:
        try:
            flight.done.wait()
        except BaseException:  # Ctrl-C: stop the run if nobody else waits, and let it clean up
            if joined and self._leave(flight):
                flight.done.wait()
            raise

    async def _await(self, flight: Flight, joined: bool) -> None:
        try:
            await _done(flight)
        except BaseException:  # cancelled: the same, shielded from the cancellation
            with anyio.CancelScope(shield=True):
                if joined and self._leave(flight):
                    await _done(flight)
            raise


async def _done(flight: Flight) -> None:
    """Wait for the run in this event loop (asyncio or trio) without holding a thread.

    The run's thread cannot wake a loop it does not know, so the waiter looks,
    every few milliseconds at first and at most every 50 ms.
    """
    pause = 0.005
    while not flight.done.is_set():
        await anyio.sleep(pause)
        pause = min(pause * 2, _MAX_PAUSE)
