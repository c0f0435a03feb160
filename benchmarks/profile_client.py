"""Where the SDK's own time per call goes: cProfile over many calls with no I/O.

Run with ``python benchmarks/profile_client.py [CALLS] [TOP]``. For the sync client, and
the async one on asyncio and on trio, with a transport that answers at once: first the
cost per call without the profiler (the true figure), then the TOP functions by their
own time and the SDK's functions by cumulative time, as shares of the profiled time and
as estimated microseconds per call (the share times the unprofiled cost). cProfile
weighs small functions more than they cost: read the estimates as a guide.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections.abc import Callable

import anyio
from _support import AsyncCannedTransport, CannedTransport, heading, print_table

from aichat_adapters import AichatClient, AsyncAichatClient

_URL = "http://127.0.0.1:9"  # never reached: the transports answer at once
_COOKIES = {"session": "bench"}


def _short(where: tuple[str, int, str]) -> str:
    path, line, name = where
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})" if line else name


def _table(profile: cProfile.Profile, calls: int, top: int, cost: float) -> None:
    """The top functions by own time, then the SDK's own functions by cumulative time.

    ``est. µs`` scales the profiled share to ``cost``, the call's CPU time measured
    without the profiler.
    """
    stats = pstats.Stats(profile)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tottime for _, _, tottime, _, _ in entries.values())
    rows = []
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)
    for where, (_, ncalls, tottime, _, _) in ranked[:top]:
        rows.append(
            [
                _short(where)[:80],
                f"{ncalls / calls:.1f}",
                f"{tottime / total:.1%}",
                f"{tottime / total * cost:.2f}",
            ]
        )
    print_table(["function (by own time)", "calls/ask", "share", "est. µs/ask"], rows)
    rows = []
    ours = [item for item in entries.items() if "aichat_" in item[0][0]]
    for where, (_, ncalls, _, cumtime, _) in sorted(ours, key=lambda item: -item[1][3])[:top]:
        rows.append(
            [
                _short(where)[:80],
                f"{ncalls / calls:.1f}",
                f"{cumtime / total:.1%}",
                f"{cumtime / total * cost:.2f}",
            ]
        )
    print()
    print_table(["SDK function (by cumulative time)", "calls/ask", "share", "est. µs/ask"], rows)


def _per_call(run: Callable[[], None], calls: int) -> float:
    started = time.process_time()
    run()
    return (time.process_time() - started) / calls * 1e6


def profile_sync(calls: int, top: int) -> None:
    client = AichatClient(base_url=_URL, cookies=_COOKIES, transport=CannedTransport())

    def run() -> None:
        for _ in range(calls):
            client.ask("Hi")

    run()  # warm: lazy imports, caches
    cost = _per_call(run, calls)
    heading(f"sync AichatClient.ask, no I/O: {cost:.1f} µs CPU per call")
    profile = cProfile.Profile()
    profile.runcall(run)
    _table(profile, calls, top, cost)


def profile_async(backend: str, calls: int, top: int) -> None:
    async def main() -> None:
        client = AsyncAichatClient(
            base_url=_URL, cookies=_COOKIES, transport=AsyncCannedTransport()
        )

        async def run() -> None:
            for _ in range(calls):
                await client.ask("Hi")

        await run()
        started = time.process_time()
        await run()
        cost = (time.process_time() - started) / calls * 1e6
        heading(f"{backend} AsyncAichatClient.ask, no I/O: {cost:.1f} µs CPU per call")
        profile = cProfile.Profile()
        profile.enable()
        await run()
        profile.disable()
        _table(profile, calls, top, cost)

    anyio.run(main, backend=backend)


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    count, top = (arguments + [20_000, 25][len(arguments) :])[:2]
    profile_sync(count, top)
    for name in ("asyncio", "trio"):
        profile_async(name, count, top)
