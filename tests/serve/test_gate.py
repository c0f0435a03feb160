"""The gate: places at the site, the queue, first come first served, cancellation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from aichat_adapters.serve._gate import Gate

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def enter(gate: Gate) -> AsyncIterator[None]:
    """A call as the app makes it: admitted, then a place at the site, then out."""
    assert gate.admit(), f"the gate refused a call: {gate.admitted} of {gate.capacity} admitted"
    try:
        async with gate.place():
            yield
    finally:
        gate.leave()


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_at_most_concurrency_at_once_first_come_first_served(concurrency: int) -> None:
    gate = Gate(concurrency=concurrency, queue=10)
    running = peak = 0
    order: list[int] = []
    arrived: list[int] = []

    async def call(i: int) -> None:
        nonlocal running, peak
        arrived.append(i)  # and, with no await between, admitted and queued
        async with enter(gate):
            order.append(i)
            running += 1
            peak = max(peak, running)
            await anyio.sleep(0.01)
            running -= 1

    async with anyio.create_task_group() as group:
        for i in range(10):
            group.start_soon(call, i)
            while len(arrived) < i + 1:  # arrive in order (the first may be done by now)
                await anyio.sleep(0)
    assert peak == concurrency
    if concurrency == 1:  # one place handed on at a time: the order is the queue's
        assert order == list(range(10))
    assert (gate.admitted, gate.running) == (0, 0)


async def test_full_counts_the_waiting_and_the_running() -> None:
    gate = Gate(concurrency=1, queue=1)
    release = anyio.Event()

    async def call() -> None:
        async with enter(gate):
            await release.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        await anyio.sleep(0.01)
        assert not gate.full()
        group.start_soon(call)
        await anyio.sleep(0.01)
        assert gate.full()
        release.set()
    assert not gate.full()


async def test_a_waiter_cancelled_in_the_queue_leaves_it() -> None:
    gate = Gate(concurrency=1, queue=5)
    release = anyio.Event()
    ran: list[str] = []

    async def call(name: str) -> None:
        async with enter(gate):
            ran.append(name)
            await release.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(call, "first")
        await anyio.sleep(0.01)
        async with anyio.create_task_group() as queued:
            queued.start_soon(call, "cancelled")
            await anyio.sleep(0.01)
            queued.cancel_scope.cancel()
        group.start_soon(call, "third")
        await anyio.sleep(0.01)
        release.set()
    assert "cancelled" not in ran
    assert ran[0] == "first"
    assert "third" in ran
    assert (gate.admitted, gate.running) == (0, 0)


async def test_a_place_handed_to_a_cancelled_waiter_goes_to_the_next() -> None:
    gate = Gate(concurrency=1, queue=5)
    got: list[str] = []
    release = anyio.Event()

    async with anyio.create_task_group() as group, anyio.create_task_group() as doomed:

        async def holder() -> None:
            async with enter(gate):
                await release.wait()
                doomed.cancel_scope.cancel()  # then the place is handed to "doomed"

        async def waiter(name: str) -> None:
            async with enter(gate):
                got.append(name)

        group.start_soon(holder)
        while gate.admitted < 1:
            await anyio.sleep(0)
        doomed.start_soon(waiter, "doomed")
        while gate.admitted < 2:
            await anyio.sleep(0)
        group.start_soon(waiter, "next")
        while gate.admitted < 3:
            await anyio.sleep(0)
        release.set()
    assert got == ["next"]
    assert (gate.admitted, gate.running) == (0, 0)


async def test_calls_that_arrive_together_cannot_all_pass() -> None:
    # The app admits a call before the task that waits for its place has run: the
    # count must not wait for that task (60 calls in one tick once all got in).
    gate = Gate(concurrency=2, queue=1)
    admitted = [gate.admit() for _ in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert gate.full()
    for _ in range(3):
        gate.leave()
    assert (gate.admitted, gate.running) == (0, 0)
    assert not gate.full()
