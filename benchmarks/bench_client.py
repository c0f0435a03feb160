"""The SDK's cost per call against a bare httpx POST, over loopback, in the same run.

Run with ``nox -s bench`` (or ``python benchmarks/bench_client.py [CALLS] [ROUNDS]``).
Variants are interleaved round by round so that drift on a busy machine hits
them alike; the median round is reported, with its ratio to raw httpx on the
same side (sync, asyncio, trio). Nothing is asserted: speed is measured here,
never in the tests.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator

import anyio
import httpx

from aichat_adapters import AichatClient, AsyncAichatClient
from aichat_core import GenerationParams, HttpRequest, HttpResponse, build_request

COOKIES = {"session": "bench"}
SERVE = "from aichat_adapters.stub import StubServer; StubServer(port={port}).serve_forever()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def stub_process() -> Iterator[str]:
    """The stub server in its own process, so it does not share the GIL with the clients."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(port=port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # up to 10 s for the server to listen
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url)
                break
            time.sleep(0.1)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


CANNED = HttpResponse(
    200, {"content-type": "application/json"}, b'{"response":true,"message":"Hi"}'
)


class CannedTransport:
    """Answers at once without I/O: what is left of a call is the SDK's own cost."""

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        return CANNED

    def close(self) -> None:
        pass


def measure_sync(
    variants: dict[str, Callable[[], object]], calls: int, rounds: int
) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for fn in variants.values():
        fn()  # warm the pools
    for _ in range(rounds):
        for name, fn in variants.items():
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - started) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


async def measure_async(
    variants: dict[str, Callable[[], Awaitable[object]]], calls: int, rounds: int
) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for fn in variants.values():
        await fn()
    for _ in range(rounds):
        for name, fn in variants.items():
            started = time.perf_counter()
            for _ in range(calls):
                await fn()
            samples[name].append((time.perf_counter() - started) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(side: str, results: dict[str, float]) -> None:
    floor = results["raw httpx"]
    for name, seconds in results.items():
        print(f"{side:8} {name:34} {seconds * 1e6:10.0f} {seconds / floor:7.2f}")


def main(calls: int, rounds: int) -> None:
    with stub_process() as url:
        request = build_request("Hi", GenerationParams(), base_url=url, cookies=COOKIES)
        headers = dict(request.headers)
        print(f"{'side':8} {'variant':34} {'µs/call':>10} {'ratio':>7}")

        canned = AichatClient(base_url=url, cookies=COOKIES, transport=CannedTransport())
        with httpx.Client() as raw, AichatClient(base_url=url, cookies=COOKIES) as client:
            sync_variants: dict[str, Callable[[], object]] = {
                "SDK's own cost (no I/O)": lambda: canned.ask("Hi"),
                "raw httpx": lambda: raw.post(
                    request.url, content=request.body, headers=headers
                ).json(),
                "AichatClient.ask": lambda: client.ask("Hi"),
            }
            report("sync", measure_sync(sync_variants, calls, rounds))

        async def run_async() -> dict[str, float]:
            async with (
                httpx.AsyncClient() as raw,
                AsyncAichatClient(base_url=url, cookies=COOKIES) as client,
            ):

                async def raw_post() -> object:
                    response = await raw.post(request.url, content=request.body, headers=headers)
                    return response.json()

                async def ask() -> object:
                    return await client.ask("Hi")

                return await measure_async(
                    {"raw httpx": raw_post, "AsyncAichatClient.ask": ask}, calls, rounds
                )

        for backend in ("asyncio", "trio"):
            report(backend, anyio.run(run_async, backend=backend))


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    main(*(arguments + [100, 7][len(arguments) :]))
