"""Concurrency, the queue, disconnects and load, over loopback with uvicorn in a thread."""

from __future__ import annotations

import random
import time
from functools import partial
from typing import Any

import anyio
import httpx
import pytest

from aichat_adapters.serve._gate import GRACE
from aichat_adapters.stub import Fault, StubServer
from tests.support import fd_count, live, wait_for

pytestmark = pytest.mark.anyio


def chat(text: str, *, stream: bool = False) -> dict[str, Any]:
    return {"model": "aichat", "messages": [{"role": "user", "content": text}], "stream": stream}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_60_calls_at_concurrency_8_all_answered_8_at_the_site(stub: StubServer) -> None:
    stub.enqueue(*[Fault.delay(0.3)] * 60)
    statuses: dict[int, int] = {}
    with live(stub, concurrency=8, queue=64) as server:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=100)
        ) as http:

            async def one(i: int) -> None:
                response = await http.post("/chat/completions", json=chat(f"p{i}"))
                statuses[i] = response.status_code
                assert response.json()["choices"][0]["message"]["content"] == f"Echo: p{i}"

            async with anyio.create_task_group() as group:
                for i in range(60):
                    group.start_soon(one, i)
    assert set(statuses.values()) == {200}
    assert len(statuses) == 60
    assert stub.max_in_flight == 8
    assert len(stub.requests) == 60


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_past_the_queue_calls_get_429_with_retry_after(stub: StubServer) -> None:
    # Each site call takes 2 s: the 60 calls all arrive while the first 12 hold the 8
    # places and the 4 queue slots, even on a loaded machine.
    stub.enqueue(*[Fault.delay(2.0)] * 60)
    results: list[httpx.Response] = []
    with live(stub, concurrency=8, queue=4) as server:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=100)
        ) as http:

            async def one(i: int) -> None:
                results.append(await http.post("/chat/completions", json=chat(f"p{i}")))

            async with anyio.create_task_group() as group:
                for i in range(60):
                    group.start_soon(one, i)
    ok = [r for r in results if r.status_code == 200]
    busy = [r for r in results if r.status_code == 429]
    assert len(ok) + len(busy) == 60
    assert len(ok) >= 12
    assert busy
    assert all(
        r.headers["retry-after"] == "1" and r.json()["error"]["code"] == "queue_full" for r in busy
    )
    assert stub.max_in_flight <= 8
    assert len(stub.requests) == len(ok)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_disconnect_cancels_the_site_call(stub: StubServer, stream: bool) -> None:
    stub.enqueue(Fault.delay(30))
    with live(stub, concurrency=1) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            async with anyio.create_task_group() as group:
                group.start_soon(
                    partial(http.post, "/chat/completions", json=chat("slow", stream=stream))
                )
                with anyio.fail_after(5):
                    while stub.in_flight == 0:
                        await anyio.sleep(0.01)
                group.cancel_scope.cancel()  # the client goes away mid-answer
            started = time.monotonic()
            with anyio.fail_after(5):  # the stub sees the disconnect long before its 30 s
                while stub.in_flight:
                    await anyio.sleep(0.01)
            assert time.monotonic() - started < 5
            # The one place at the site is free again.
            with anyio.fail_after(GRACE + 5):
                response = await http.post("/chat/completions", json=chat("next"))
    assert response.status_code == 200
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == [
        "slow",
        "next",
    ]


async def test_a_disconnect_in_the_queue_never_reaches_the_site(stub: StubServer) -> None:
    stub.enqueue(Fault.delay(1.0))
    with live(stub, concurrency=1) as server:
        first: list[httpx.Response] = []
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
            anyio.create_task_group() as group,
        ):

            async def slow() -> None:
                first.append(await http.post("/chat/completions", json=chat("first")))

            group.start_soon(slow)
            with anyio.fail_after(5):
                while stub.in_flight == 0:
                    await anyio.sleep(0.01)
            async with anyio.create_task_group() as queued:
                queued.start_soon(partial(http.post, "/chat/completions", json=chat("queued")))
                await anyio.sleep(0.2)
                queued.cancel_scope.cancel()
        assert server.app._gate.admitted <= 1
    assert first[0].status_code == 200
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == ["first"]
    assert server.app._gate.admitted == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_200_streaming_clients_a_third_leaving_mid_answer(stub: StubServer) -> None:
    concurrency, clients = 8, 200
    stub.enqueue(*[Fault.delay(0.2)] * clients)
    rng = random.Random(15)
    leavers = set(range(0, clients, 3))
    answers: dict[int, str] = {}
    fds = fd_count()
    with live(stub, concurrency=concurrency, queue=clients) as server:
        tasks_before = server.tasks()
        started = time.monotonic()
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:

            async def one(i: int) -> None:
                body = chat(f"prompt {i}", stream=True)
                async with http.stream("POST", "/chat/completions", json=body) as response:
                    assert response.status_code == 200
                    answers[i] = (await response.aread()).decode()

            def at_site() -> set[str]:
                return {r.json["message"] for r in stub.requests if isinstance(r.json, dict)}

            async def leaver(i: int) -> None:
                # Leaves while the site is answering it: once the stub has its prompt,
                # within the stub's 0.2 s delay.
                async with anyio.create_task_group() as group:
                    group.start_soon(one, i)
                    while f"prompt {i}" not in at_site():
                        await anyio.sleep(0.02)
                    await anyio.sleep(rng.uniform(0, 0.15))
                    group.cancel_scope.cancel()

            async with anyio.create_task_group() as group:
                for i in range(clients):
                    group.start_soon(leaver if i in leavers else one, i)
        took = time.monotonic() - started
        assert wait_for(lambda: stub.in_flight == 0)
        assert wait_for(lambda: server.tasks() == tasks_before)
        assert server.app._gate.admitted == 0
    survivors = [i for i in range(clients) if i not in leavers]
    for i in survivors:
        events = [line for line in answers[i].split("\n\n") if line]
        assert events[-1] == "data: [DONE]"
        assert f'"content":"Echo: prompt {i}"' in answers[i]
        assert '"finish_reason":"stop"' in events[-2]
    assert stub.max_in_flight <= concurrency
    assert wait_for(lambda: fd_count() <= fds)
    left_early = len(leavers) - len(leavers & set(answers))
    assert left_early >= len(leavers) // 2  # most of them really left mid-answer
    print(
        f"\n{clients} streaming clients, {len(leavers)} leaving mid-answer ({left_early} before "
        "it came): "
        f"{len(survivors)} survivors answered whole in {took:.1f} s; the site saw at most "
        f"{stub.max_in_flight} at once; {len(stub.requests)} calls reached it"
    )
