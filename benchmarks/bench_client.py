"""The SDK's cost per call at c=1 against a bare httpx POST, over loopback, in the same run.

Run with ``python benchmarks/bench_client.py [CALLS] [ROUNDS]`` (``nox -s bench`` runs it
with the others). Three sides: sync, asyncio and trio. On each, raw httpx
(``httpx.Client.post`` / ``httpx.AsyncClient.post`` with the body and headers the SDK
sends, the JSON decoded) and the SDK's ``ask`` talk to the stub server, which runs in
its own process. The SDK's httpx transport is also timed alone (``send`` and the JSON
decoded), which splits the SDK's extra cost into the transport's and the client's.

The SDK's own cost is measured with a transport that answers at once with no I/O: in a
loop, and one call at a time right after a raw httpx call (the caches are then as cold
as in a real call, and the same code costs more).

Variants are interleaved round by round. Two figures per call: the client process's
CPU time (the target's measure: the server's time is not in it) and the wall time (the
server's time is). Min and median over the rounds; a ratio (to raw httpx on the same
side) is the median of the ratios within each round, which cancels most of what a busy
machine does to both.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx
from _support import (
    COOKIES,
    AsyncCannedTransport,
    CannedTransport,
    Samples,
    Target,
    heading,
    print_table,
    stub_process,
)

from aichat_adapters import AichatClient, AsyncAichatClient, AsyncHttpxTransport, HttpxTransport
from aichat_core import GenerationParams, build_request

RAW = "raw httpx"
SEND = "transport.send alone"
SDK = "ask"
OWN = "SDK's own cost (no I/O)"
AFTER = "own cost, right after a raw call"


@dataclass
class Figures:
    cpu: Samples  # client CPU seconds per call
    wall: Samples  # wall seconds per call


def _new() -> dict[str, Figures]:
    return {name: Figures(Samples([]), Samples([])) for name in (RAW, SEND, SDK, OWN, AFTER)}


def measure_sync(url: str, calls: int, rounds: int) -> dict[str, Figures]:
    request = build_request("Hi", GenerationParams(), base_url=url, cookies=COOKIES)
    headers = dict(request.headers)
    figures = _new()
    canned = AichatClient(base_url=url, cookies=COOKIES, transport=CannedTransport())
    with (
        httpx.Client() as raw,
        AichatClient(base_url=url, cookies=COOKIES) as client,
        contextlib.closing(HttpxTransport()) as transport,
    ):
        variants: dict[str, Callable[[], object]] = {
            RAW: lambda: raw.post(request.url, content=request.body, headers=headers).json(),
            SEND: lambda: json.loads(transport.send(request, timeout=60).body),
            SDK: lambda: client.ask("Hi"),
            OWN: lambda: canned.ask("Hi"),
        }
        for fn in variants.values():
            for _ in range(10):  # warm the pools and the lazy imports
                fn()
        for _ in range(rounds):
            for name, fn in variants.items():
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(calls):
                    fn()
                figures[name].cpu.values.append((time.process_time() - cpu) / calls)
                figures[name].wall.values.append((time.perf_counter() - wall) / calls)
            # The no-I/O call again, each one timed alone right after a raw call: the
            # caches are then as cold as they are for the SDK's code in a real call.
            wall = cpu = 0.0
            for _ in range(calls):
                variants[RAW]()
                started, cpu_started = time.perf_counter(), time.process_time()
                canned.ask("Hi")
                cpu += time.process_time() - cpu_started
                wall += time.perf_counter() - started
            figures[AFTER].cpu.values.append(cpu / calls)
            figures[AFTER].wall.values.append(wall / calls)
    return figures


async def measure_async(url: str, calls: int, rounds: int) -> dict[str, Figures]:
    request = build_request("Hi", GenerationParams(), base_url=url, cookies=COOKIES)
    headers = dict(request.headers)
    figures = _new()
    canned = AsyncAichatClient(base_url=url, cookies=COOKIES, transport=AsyncCannedTransport())
    transport = AsyncHttpxTransport()
    async with (
        httpx.AsyncClient() as raw,
        AsyncAichatClient(base_url=url, cookies=COOKIES) as client,
    ):

        async def raw_post() -> object:
            response = await raw.post(request.url, content=request.body, headers=headers)
            return response.json()

        async def send() -> object:
            response = await transport.send(request, timeout=60)
            return json.loads(response.body)

        variants: dict[str, Callable[[], Awaitable[object]]] = {
            RAW: raw_post,
            SEND: send,
            SDK: lambda: client.ask("Hi"),
            OWN: lambda: canned.ask("Hi"),
        }
        for fn in variants.values():
            for _ in range(10):
                await fn()
        for _ in range(rounds):
            for name, fn in variants.items():
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(calls):
                    await fn()
                figures[name].cpu.values.append((time.process_time() - cpu) / calls)
                figures[name].wall.values.append((time.perf_counter() - wall) / calls)
            wall = cpu = 0.0
            for _ in range(calls):
                await raw_post()
                started, cpu_started = time.perf_counter(), time.process_time()
                await canned.ask("Hi")
                cpu += time.process_time() - cpu_started
                wall += time.perf_counter() - started
            figures[AFTER].cpu.values.append(cpu / calls)
            figures[AFTER].wall.values.append(wall / calls)
    await transport.aclose()
    return figures


def report(sides: dict[str, dict[str, Figures]]) -> list[Target]:
    """Print the table; return the c=1 targets (the SDK's CPU per call against raw httpx).

    The verdict is on the median of the per-round ratios; the ratio of the minima is shown
    beside it.
    """
    rows = []
    targets = []
    for side, figures in sides.items():
        floor = figures[RAW]
        for name, figure in figures.items():
            io = name not in (OWN, AFTER)
            rows.append(
                [
                    f"{side} {name if name != SDK else f'{side_client(side)}.ask'}",
                    f"{figure.cpu.min * 1e6:.1f}",
                    f"{figure.cpu.median * 1e6:.1f}",
                    f"{figure.cpu.min / floor.cpu.min:.3f}x" if io else "",
                    f"{figure.cpu.paired(floor.cpu):.3f}x" if io else "",
                    f"{figure.wall.median * 1e6:.1f}",
                    f"{figure.wall.paired(floor.wall):.3f}x" if io else "",
                ]
            )
        sdk, own = figures[SDK], figures[OWN]
        by_round = sdk.cpu.paired(floor.cpu)
        by_min = sdk.cpu.min / floor.cpu.min
        targets.append(
            Target(
                f"{side} ask c=1 <= 1.10x raw httpx (client CPU)",
                f"{by_round:.3f}x ({by_min:.3f}x of the minima; {sdk.cpu.median * 1e6:.0f} vs "
                f"{floor.cpu.median * 1e6:.0f} µs; own cost {own.cpu.median * 1e6:.1f} µs)",
                by_round <= 1.10,
            )
        )
    print_table(
        [
            "variant (c=1)",
            "CPU µs min",
            "median",
            "vs raw: of minima",
            "per round",
            "wall µs median",
            "vs raw per round",
        ],
        rows,
    )
    return targets


def side_client(side: str) -> str:
    return "AichatClient" if side == "sync" else "AsyncAichatClient"


def main(url: str, calls: int, rounds: int) -> list[Target]:
    heading(f"ask at c=1 against raw httpx: {calls} calls a round, {rounds} rounds")
    sides = {"sync": measure_sync(url, calls, rounds)}
    for backend in ("asyncio", "trio"):
        sides[backend] = anyio.run(measure_async, url, calls, rounds, backend=backend)
    return report(sides)


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    count, rounds = (arguments + [100, 25][len(arguments) :])[:2]
    with stub_process() as stub_url:
        main(stub_url, count, rounds)
