"""The SDK's cost per call against a bare httpx POST, over loopback, in the same run.

Run with ``nox -s bench`` (or ``python benchmarks/bench_client.py [N]``). Prints
the median time per call of each variant and its ratio to raw httpx; nothing is
asserted: speed is measured here, never in the tests.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from aichat_adapters import AichatClient, AsyncAichatClient
from aichat_adapters.stub import StubServer

BODY = {
    "message": "Hi",
    "temperature": 0.5,
    "presence_penalty": 0,
    "top_p": 1,
    "frequency_penalty": 0,
}
HEADERS = {"content-type": "application/json", "cookie": "session=bench"}


def per_call(fn: Callable[[], object], calls: int, rounds: int = 5) -> float:
    """The median over ``rounds`` of the mean seconds per call."""
    fn()  # warm the pool
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - started) / calls)
    return statistics.median(samples)


async def per_call_async(fn: Callable[[], Awaitable[object]], calls: int, rounds: int = 5) -> float:
    await fn()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await fn()
        samples.append((time.perf_counter() - started) / calls)
    return statistics.median(samples)


def main(calls: int) -> None:
    results: dict[str, float] = {}
    with StubServer() as stub:
        url = f"{stub.url}/api/text"
        payload = json.dumps(BODY).encode()

        with httpx.Client() as raw:
            results["sync raw httpx"] = per_call(
                lambda: raw.post(url, content=payload, headers=HEADERS).json(), calls
            )
        with AichatClient(base_url=stub.url, cookies="session=bench") as client:
            results["sync AichatClient.ask"] = per_call(lambda: client.ask("Hi"), calls)

        async def run_async() -> None:
            async with httpx.AsyncClient() as raw:

                async def raw_post() -> object:
                    return (await raw.post(url, content=payload, headers=HEADERS)).json()

                results["async raw httpx"] = await per_call_async(raw_post, calls)
            async with AsyncAichatClient(base_url=stub.url, cookies="session=bench") as client:
                results["async AsyncAichatClient.ask"] = await per_call_async(
                    lambda: client.ask("Hi"), calls
                )

        anyio.run(run_async)

    print(f"{'variant':32} {'µs/call':>10} {'ratio':>7}")
    for name, seconds in results.items():
        floor = results[f"{name.split()[0]} raw httpx"]
        print(f"{name:32} {seconds * 1e6:10.0f} {seconds / floor:7.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
