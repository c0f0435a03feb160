"""Cancelling calls from outside: nothing left behind, no warning, on asyncio and trio.

Each scenario runs its own event loop and collects garbage after it ended: a
generator left unfinalized by a cancellation warns then (an error, in this suite).
"""

from __future__ import annotations

import gc

import anyio
import pytest

from aichat_adapters import AsyncAichatClient
from aichat_adapters.stub import Fault, StubServer
from tests.support import options_for

BACKENDS = ["asyncio", "trio"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancelling_a_large_upload_leaves_no_warning(stub: StubServer, backend: str) -> None:
    big = "x" * 32_000_000  # more than a socket buffer: the upload is under way when cancelled

    async def main() -> str:
        async with AsyncAichatClient(**options_for(stub, max_retries=0)) as client:
            for delay in (0.001, 0.005, 0.02, 0.05):
                with anyio.move_on_after(delay):
                    await client.ask(big)
            stub.reset()
            return await client.ask("after")

    assert anyio.run(main, backend=backend) == "Echo: after"
    gc.collect()


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancelling_while_waiting_for_the_answer(stub: StubServer, backend: str) -> None:
    stub.enqueue(Fault.delay(30), Fault.delay(30))

    async def main() -> str:
        async with AsyncAichatClient(**options_for(stub)) as client:
            with anyio.move_on_after(0.2) as scope:
                await client.ask("slow")
            assert scope.cancelled_caught
            with anyio.fail_after(5):
                while stub.in_flight:
                    await anyio.sleep(0.01)
            stub.reset()
            return await client.ask("after")

    assert anyio.run(main, backend=backend) == "Echo: after"
    gc.collect()
