"""One async client under event loops in turn: a pool per loop, each closed as its loop ends.

A script that calls ``asyncio.run`` (or ``trio.run``) twice with the same
client must work the second time, leave no socket of the first loop open, and
raise no warning (pytest turns warnings, unraisable ones included, into errors).
"""

from __future__ import annotations

import asyncio
import gc

import pytest
import trio

from aichat_adapters import AsyncAichatClient
from aichat_adapters.stub import StubServer
from tests.support import fd_count, settle, wait_for

from .rows import WORKING, Row, options_for

ASYNC_ROWS = [row for row in WORKING if row.backend != "sync"]


def _run(backend: str, client: AsyncAichatClient, prompt: str) -> str:
    """``client.ask(prompt)`` under a new event loop of ``backend``, as a script would."""
    if backend == "asyncio":
        return asyncio.run(client.ask(prompt))
    return trio.run(client.ask, prompt)


def _close(backend: str, client: AsyncAichatClient) -> None:
    if backend == "asyncio":
        asyncio.run(client.aclose())
    else:
        trio.run(client.aclose)


@pytest.mark.parametrize("row", ASYNC_ROWS, ids=lambda row: row.name)
def test_a_transport_works_under_a_second_loop_and_closes_the_first_loops_pool(
    row: Row, stub: StubServer
) -> None:
    before = settle(stub)
    client = AsyncAichatClient(transport=row.transport(), **options_for(stub))

    assert _run(row.backend, client, "first loop") == "Echo: first loop"
    # The first loop has ended: its pool was closed with it, not left to the GC.
    assert wait_for(lambda: fd_count() <= before), "the first loop's connection is still open"
    assert _run(row.backend, client, "second loop") == "Echo: second loop"
    assert wait_for(lambda: fd_count() <= before)
    _close(row.backend, client)
    gc.collect()  # an unclosed socket or session would warn now, inside this test

    assert [r.json["message"] for r in stub.requests] == ["first loop", "second loop"]  # type: ignore[index]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_default_client_works_under_a_second_loop(backend: str, stub: StubServer) -> None:
    before = settle(stub)
    client = AsyncAichatClient(**options_for(stub))

    answers = [_run(backend, client, f"run {n}") for n in range(3)]
    _close(backend, client)
    gc.collect()

    assert answers == ["Echo: run 0", "Echo: run 1", "Echo: run 2"]
    assert wait_for(lambda: fd_count() <= before)


def test_a_client_may_move_between_asyncio_and_trio(stub: StubServer) -> None:
    client = AsyncAichatClient(**options_for(stub))

    answers = [_run(backend, client, backend) for backend in ("asyncio", "trio", "asyncio")]
    _close("trio", client)  # closed from another loop than the last one used: nothing to close
    gc.collect()

    assert answers == ["Echo: asyncio", "Echo: trio", "Echo: asyncio"]
