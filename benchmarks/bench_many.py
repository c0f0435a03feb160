"""``ask_many`` at concurrency 50 on each async transport, against raw httpx and raw aiohttp.

Run with ``python benchmarks/bench_many.py [REQUESTS] [ROUNDS]`` (``nox -s bench`` runs it
with the others). Each variant sends REQUESTS requests through 50 workers to the stub
server, which runs in its own process. Variants are interleaved round by round; each
round builds fresh clients and warms their pools with 50 untimed requests. Reported:
throughput (requests per second of wall time, min and median round) and the client
process's CPU per request; ratios are the median of the ratios within each round. Every
answer is checked; a variant with a failed request is reported as failed, not timed.

The stub server has one core of the two here and is the bottleneck for the fast
clients, so throughput ratios between them understate the gaps; the client's CPU per
request does not depend on the server.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from _support import COOKIES, Samples, Target, heading, print_table, stub_process

from aichat_adapters import (
    AiohttpTransport,
    AsyncAichatClient,
    AsyncCurlTransport,
    AsyncHttpxTransport,
)
from aichat_core import AsyncTransport, GenerationParams, build_request

CONCURRENCY = 50

# A variant sends ``count`` requests through ``CONCURRENCY`` workers; it returns the
# number of answers that were right.
Runner = Callable[[int], Awaitable[int]]


@dataclass
class Variant:
    name: str
    backend: str  # "asyncio" or "trio"
    # Called inside the event loop: an async context manager that yields the runner.
    open: Callable[[], Any]


async def _workers(count: int, one: Callable[[int], Awaitable[bool]]) -> int:
    """Call ``one(i)`` for i in range(count) with CONCURRENCY workers; count the True."""
    numbers = iter(range(count))
    right = 0

    async def worker() -> None:
        nonlocal right
        for number in numbers:  # one shared iterator: each number is taken once
            if await one(number):
                right += 1

    async with anyio.create_task_group() as group:
        for _ in range(CONCURRENCY):
            group.start_soon(worker)
    return right


def _prompts(count: int) -> Iterator[str]:
    return (f"prompt {i}" for i in range(count))


class _RawHttpx:
    """``httpx.AsyncClient.post`` with the body and headers the SDK sends (httpx defaults)."""

    def __init__(self, url: str) -> None:
        request = build_request("Hi", GenerationParams(), base_url=url, cookies=COOKIES)
        self.url, self.body, self.headers = request.url, request.body, dict(request.headers)
        self.client = httpx.AsyncClient()

    async def __aenter__(self) -> Runner:
        async def one(_: int) -> bool:
            response = await self.client.post(self.url, content=self.body, headers=self.headers)
            return bool(response.status_code == 200 and response.json()["message"])

        return lambda count: _workers(count, one)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


class _RawAiohttp:
    """``aiohttp.ClientSession.post`` (a connector of 100, as the SDK's transport).

    ``trust_env=True`` (proxy settings and ``.netrc`` read from the environment, as the
    SDK's transport asks) is a variant of its own: aiohttp then looks both up in a worker
    thread on every request.
    """

    def __init__(self, url: str, *, trust_env: bool = False) -> None:
        request = build_request("Hi", GenerationParams(), base_url=url, cookies=COOKIES)
        self.url, self.body, self.headers = request.url, request.body, dict(request.headers)
        self.trust_env = trust_env

    async def __aenter__(self) -> Runner:
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), trust_env=self.trust_env
        )

        async def one(_: int) -> bool:
            async with self.session.post(self.url, data=self.body, headers=self.headers) as r:
                payload = await r.json(content_type=None)
                return bool(r.status == 200 and payload["message"])

        return lambda count: _workers(count, one)

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()


class _Sdk:
    """``AsyncAichatClient.ask_many(prompts, concurrency=50)`` over one transport."""

    def __init__(self, url: str, transport: Callable[[], AsyncTransport]) -> None:
        self.client = AsyncAichatClient(base_url=url, cookies=COOKIES, transport=transport())

    async def __aenter__(self) -> Runner:
        async def run(count: int) -> int:
            right = 0
            async with self.client.ask_many(_prompts(count), concurrency=CONCURRENCY) as results:
                async for result in results:
                    if result.text == f"Echo: {result.prompt}":
                        right += 1
            return right

        return run

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


class _SdkWorkers(_Sdk):
    """``AsyncAichatClient.ask`` from 50 plain workers: the client without ``ask_many``."""

    async def __aenter__(self) -> Runner:
        async def one(number: int) -> bool:
            return await self.client.ask(f"prompt {number}") == f"Echo: prompt {number}"

        return lambda count: _workers(count, one)


def variants(url: str) -> list[Variant]:
    return [
        Variant("raw httpx", "asyncio", lambda: _RawHttpx(url)),
        Variant("raw aiohttp", "asyncio", lambda: _RawAiohttp(url)),
        Variant("raw aiohttp, trust_env=True", "asyncio", lambda: _RawAiohttp(url, trust_env=True)),
        Variant("ask_many httpx", "asyncio", lambda: _Sdk(url, AsyncHttpxTransport)),
        Variant("ask_many aiohttp", "asyncio", lambda: _Sdk(url, AiohttpTransport)),
        Variant("ask_many curl", "asyncio", lambda: _Sdk(url, AsyncCurlTransport)),
        Variant("ask, 50 workers, aiohttp", "asyncio", lambda: _SdkWorkers(url, AiohttpTransport)),
    ]


@dataclass
class Figures:
    rate: Samples  # requests per second
    cpu: Samples  # client CPU seconds per request
    error: str | None = None


def _one_round(variant: Variant, count: int) -> tuple[float, float]:
    """One timed run of ``count`` requests: (requests per second, CPU seconds per request)."""

    async def run() -> tuple[float, float]:
        async with variant.open() as runner:
            warm = await runner(CONCURRENCY)
            if warm != CONCURRENCY:
                raise RuntimeError(f"{CONCURRENCY - warm} of {CONCURRENCY} warm-up answers wrong")
            wall, cpu = time.perf_counter(), time.process_time()
            right = await runner(count)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if right != count:
                raise RuntimeError(f"{count - right} of {count} answers missing or wrong")
            return count / wall, cpu / count

    result: tuple[float, float] = anyio.run(run, backend=variant.backend)
    return result


def measure(url: str, count: int, rounds: int) -> dict[str, Figures]:
    figures: dict[str, Figures] = {}
    chosen = variants(url)
    for variant in chosen:
        figures[variant.name] = Figures(Samples([]), Samples([]))
    for _ in range(rounds):
        for variant in chosen:
            figure = figures[variant.name]
            if figure.error is not None:
                continue
            try:
                rate, cpu = _one_round(variant, count)
            except Exception as exc:  # reported, never hidden
                figure.error = f"{type(exc).__name__}: {exc}"
                continue
            figure.rate.values.append(rate)
            figure.cpu.values.append(cpu)
    return figures


def report(figures: dict[str, Figures]) -> list[Target]:
    """Print the table; return the throughput targets."""
    floor = figures["raw httpx"]
    rows = []
    for name, figure in figures.items():
        if figure.error is not None or not figure.rate.values:
            rows.append([name, "failed", "", "", "", figure.error or ""])
            continue
        rows.append(
            [
                name,
                f"{figure.rate.min:,.0f}",
                f"{figure.rate.median:,.0f}",
                f"{figure.rate.paired(floor.rate):.2f}x",
                f"{figure.cpu.min * 1e6:,.0f}",
                f"{figure.cpu.median * 1e6:,.0f}",
            ]
        )
    print_table(
        ["variant (c=50)", "req/s min", "req/s median", "vs raw httpx", "CPU µs min", "median"],
        rows,
    )
    sdk, raw_aiohttp = figures["ask_many aiohttp"], figures["raw aiohttp"]
    names = (
        "aiohttp transport c=50 >= 4x raw httpx throughput",
        "aiohttp transport c=50 within 1.3x of raw aiohttp throughput",
        "aiohttp transport c=50 CPU per request within 1.3x of raw aiohttp's (stricter)",
    )
    if any(f.error is not None or not f.rate.values for f in (sdk, raw_aiohttp, floor)):
        return [Target(name, "not measured", None) for name in names]
    versus_httpx = sdk.rate.paired(floor.rate)
    behind_aiohttp = raw_aiohttp.rate.paired(sdk.rate)
    cpu_ratio = sdk.cpu.paired(raw_aiohttp.cpu)
    return [
        Target(
            names[0],
            f"{versus_httpx:.2f}x ({sdk.rate.median:,.0f} vs {floor.rate.median:,.0f} req/s)",
            versus_httpx >= 4,
        ),
        Target(
            names[1],
            f"raw aiohttp {behind_aiohttp:.2f}x faster "
            f"({raw_aiohttp.rate.median:,.0f} vs {sdk.rate.median:,.0f} req/s)",
            behind_aiohttp <= 1.3,
        ),
        Target(
            names[2],
            f"{cpu_ratio:.2f}x ({sdk.cpu.median * 1e6:,.0f} vs "
            f"{raw_aiohttp.cpu.median * 1e6:,.0f} µs)",
            cpu_ratio <= 1.3,
        ),
    ]


def main(url: str, count: int, rounds: int) -> list[Target]:
    heading(f"ask_many at c={CONCURRENCY}: {count:,} requests a round, {rounds} rounds")
    return report(measure(url, count, rounds))


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    count, rounds = (arguments + [2000, 5][len(arguments) :])[:2]
    with stub_process() as stub_url:
        main(stub_url, count, rounds)
