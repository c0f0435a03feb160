"""``aichat serve``'s cost per request against the thinnest pass-through, over loopback.

Run with ``python benchmarks/bench_serve.py [REQUESTS] [ROUNDS]`` (``nox -s bench`` runs it
with the others). Two servers run side by side, each in a process of its own under uvicorn,
each with its own ``AsyncAichatClient`` calling the stub (a third process):

- **floor**: a bare Starlette route that reads the JSON, calls ``client.complete(messages)``
  and answers a minimal ``chat.completion``: the thinnest server on the same client;
- **serve**: ``create_app(client)``, everything on (the guard, the checks, the gate with
  ``concurrency`` 64 so that it never queues at c=64, the disconnect watch, the access log
  line formatted and dropped).

The load comes from this process (aiohttp, else httpx), at c=1 and c=64; every answer is
checked. The measure is **the server process's CPU time per request** (``/proc/PID/stat``):
what the server itself costs, whatever the load generator and the stub cost. Rounds are
interleaved; a ratio is the median of the ratios within each round. Requests per second at
c=64 are the wall-clock figure of the same rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from _support import COOKIES, Samples, Target, heading, print_table, stub_process

FLOOR, SERVE = "floor (bare Starlette route)", "aichat serve (create_app)"
LEVELS = (1, 64)

_SERVER = """
import json, logging, socket, sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from aichat_adapters import AsyncAichatClient
from aichat_adapters.serve import create_app

kind, stub, cookies = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = AsyncAichatClient(base_url=stub, cookies=cookies)

async def chat(request):
    body = await request.json()
    reply = await client.complete(body["messages"])
    message = {"role": "assistant", "content": reply.text}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return JSONResponse({"object": "chat.completion", "choices": [choice]})

if kind == "floor":
    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
else:
    app = create_app(client, concurrency=64, queue=64)
    log = logging.getLogger("aichat.serve")  # each line is built, then dropped
    log.setLevel(logging.INFO)
    log.addHandler(logging.NullHandler())
    log.propagate = False
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(1024)
print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
config = uvicorn.Config(app, loop="asyncio", ws="none", lifespan="off", access_log=False,
                        log_level="warning")
try:
    uvicorn.Server(config).run(sockets=[sock])
except KeyboardInterrupt:
    pass
"""

BODY = b'{"model": "aichat", "messages": [{"role": "user", "content": "Hi"}]}'
ANSWER = "Echo: Hi"


@contextlib.contextmanager
def server_process(kind: str, stub_url: str) -> Iterator[tuple[str, int]]:
    """One server in its own process; yields its URL and its pid."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, kind, stub_url, json.dumps(COOKIES)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the {kind} server did not start (it printed {url!r})")
        yield url, server.pid
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    cpu: Samples = field(default_factory=lambda: Samples([]))  # server CPU s per request
    rate: Samples = field(default_factory=lambda: Samples([]))  # requests per second


async def _load(url: str, count: int, concurrency: int) -> None:
    """``count`` chat completions at ``concurrency`` at once, each answer checked."""
    try:
        import aiohttp
    except ImportError:
        aiohttp = None  # type: ignore[assignment]
    left = iter(range(count))
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    target = f"{url}/v1/chat/completions"

    def check(payload: bytes) -> None:
        text = json.loads(payload)["choices"][0]["message"]["content"]
        if text != ANSWER:
            raise RuntimeError(f"wrong answer {text!r}")

    if aiohttp is not None:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                for _ in left:
                    async with session.post(target, data=BODY, headers=headers) as response:
                        if response.status != 200:
                            raise RuntimeError(f"status {response.status}")
                        check(await response.read())

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return
    import httpx

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def httpx_worker() -> None:
            for _ in left:
                response = await client.post(target, content=BODY, headers=headers)
                response.raise_for_status()
                check(response.content)

        await asyncio.gather(*(httpx_worker() for _ in range(concurrency)))


def measure(stub_url: str, count: int, rounds: int) -> dict[tuple[str, int], Figures]:
    figures = {(kind, level): Figures() for kind in (FLOOR, SERVE) for level in LEVELS}
    with (
        server_process("floor", stub_url) as (floor_url, floor_pid),
        server_process("serve", stub_url) as (serve_url, serve_pid),
    ):
        servers = {FLOOR: (floor_url, floor_pid), SERVE: (serve_url, serve_pid)}
        for url, _ in servers.values():  # warm the pools, the imports, the caches
            asyncio.run(_load(url, 200, 8))
        for _ in range(rounds):
            for level in LEVELS:
                n = count if level > 1 else max(100, count // 5)
                for kind, (url, pid) in servers.items():
                    cpu, started = cpu_seconds(pid), time.perf_counter()
                    asyncio.run(_load(url, n, level))
                    wall = time.perf_counter() - started
                    figures[kind, level].cpu.values.append((cpu_seconds(pid) - cpu) / n)
                    figures[kind, level].rate.values.append(n / wall)
    return figures


def report(figures: dict[tuple[str, int], Figures]) -> list[Target]:
    rows = []
    targets = []
    for level in LEVELS:
        floor, serve = figures[FLOOR, level], figures[SERVE, level]
        for kind, f in ((FLOOR, floor), (SERVE, serve)):
            rows.append(
                [
                    f"{kind} c={level}",
                    f"{f.cpu.min * 1e6:.0f}",
                    f"{f.cpu.median * 1e6:.0f}",
                    f"{f.rate.median:,.0f}",
                ]
            )
        ratio = serve.cpu.paired(floor.cpu)
        targets.append(
            Target(
                f"serve c={level} <= 1.25x the bare Starlette route (server CPU per request)",
                f"{ratio:.3f}x ({serve.cpu.median * 1e6:.0f} vs {floor.cpu.median * 1e6:.0f} µs)",
                ratio <= 1.25,
            )
        )
    print_table(["server", "CPU µs/req min", "median", "req/s median"], rows)
    serve64 = figures[SERVE, 64]
    targets.append(
        Target(
            "serve c=64 against the stub: requests per second (reported)",
            f"{serve64.rate.median:,.0f} req/s (floor {figures[FLOOR, 64].rate.median:,.0f})",
            None if serve64.rate.median <= 0 else True,
        )
    )
    return targets


def main(stub_url: str, count: int, rounds: int) -> list[Target]:
    heading(
        f"aichat serve against a bare Starlette route: {count:,} requests (c=64), {rounds} rounds"
    )
    return report(measure(stub_url, count, rounds))


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    count, rounds = (arguments + [2000, 5][len(arguments) :])[:2]
    with stub_process() as stub:
        for target in main(stub, count, rounds):
            print(f"{target.name}: {target.figure}")
