"""``ask_many`` over 300,000 generated prompts: peak memory, every answer, the first result.

Run with ``python benchmarks/bench_memory.py [PROMPTS]`` (``nox -s bench`` runs it with
the others). Each case runs in a fresh subprocess: prompts from a generator or an async
generator, on asyncio and on trio, at concurrency 50, through a transport at the port
that echoes each prompt with no socket (so the figure is the SDK's, not a server's).
Measured in the child: the growth of peak RSS (``ru_maxrss``) from just before the call
to its end, whether every prompt was answered exactly once with its own echo, and which
prompt the input was at when the first result came out.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import anyio
from _support import COOKIES, Target, heading, print_table

from aichat_adapters import AsyncAichatClient
from aichat_core import HttpRequest, HttpResponse

CONCURRENCY = 50
PROMPTS = 300_000
LIMIT_MB = 60  # the target's bound on peak RSS growth
FIRST_BEFORE = 1_000  # the first result must arrive before this prompt is read
CASES = ("asyncio generator", "asyncio async-generator", "trio generator", "trio async-generator")
# The same prompts held in a list, with no call: shows that the measure sees growth.
CONTROL = "control: the prompts in a list"


class EchoTransport:
    """An [`AsyncTransport`][aichat_core.AsyncTransport] with no socket: answers the echo.

    Unlike the test kit's ``AsyncFakeTransport`` it keeps no record of the requests
    (a record of 300,000 requests would be the very growth measured here).
    """

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        message = json.loads(request.body)["message"]
        body = json.dumps({"response": True, "message": f"Echo: {message}"}).encode()
        return HttpResponse(200, {"content-type": "application/json"}, body)

    async def aclose(self) -> None:
        pass


_STATUS = "/proc/self/status"


def reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux 4.0+); False where it cannot.

    Why not ``ru_maxrss`` alone: Linux keeps it across ``execve``, so a child started
    by a bigger parent begins with the parent's peak, and growth below that peak does
    not show. A transient peak while importing would hide growth the same way.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def rss_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) from ``/proc/self/status``, in KiB."""
    with open(_STATUS, encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in {_STATUS}")


def peak_kib(exact: bool) -> int:
    """The peak RSS in KiB: ``VmHWM`` after a reset, else ``ru_maxrss`` (KiB on Linux)."""
    if exact:
        return rss_kib("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _child(case: str, count: int) -> dict[str, object]:
    """One case, in this (fresh) process: the figures as a dict."""
    read = 0  # prompts pulled from the input so far
    first_at: int | None = None

    def prompts() -> Iterator[str]:
        nonlocal read
        for i in range(count):
            read += 1
            yield f"prompt {i}"

    async def async_prompts() -> AsyncIterator[str]:
        for prompt in prompts():
            yield prompt

    seen = bytearray(count)  # allocated before the baseline: 1 byte per prompt
    answered = duplicates = wrong = failed = 0
    client = AsyncAichatClient(
        base_url="http://127.0.0.1:9", cookies=COOKIES, transport=EchoTransport()
    )
    exact = reset_peak()
    before = rss_kib("VmRSS") if exact else peak_kib(exact)
    if case == CONTROL:  # the prompts held in a list: what reading the input whole costs
        held = list(prompts())
        return {
            "case": case,
            "prompts": len(held),
            "growth_mb": (peak_kib(exact) - before) / 1024,
            "baseline_mb": before / 1024,
            "measure": "VmHWM after a reset" if exact else "ru_maxrss",
        }
    source = async_prompts() if case.endswith("async-generator") else prompts()
    async with client.ask_many(source, concurrency=CONCURRENCY) as results:
        async for result in results:
            if first_at is None:
                first_at = read - 1  # the index of the prompt being read
            if not result.ok:
                failed += 1
                continue
            if seen[result.index]:
                duplicates += 1
            seen[result.index] = 1
            answered += 1
            if result.prompt != f"prompt {result.index}" or result.text != f"Echo: {result.prompt}":
                wrong += 1
    after = peak_kib(exact)
    await client.aclose()
    return {
        "case": case,
        "prompts": count,
        "answered": answered,
        "missing": seen.count(0),
        "duplicates": duplicates,
        "wrong": wrong,
        "failed": failed,
        "first_at": first_at,
        "baseline_mb": before / 1024,
        "growth_mb": (after - before) / 1024,
        "measure": "VmHWM after a reset" if exact else "ru_maxrss",
    }


@dataclass
class Outcome:
    case: str
    figures: dict[str, object] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Every prompt answered once, right, and none failed."""
        f = self.figures
        return (
            f is not None
            and f["answered"] == f["prompts"]
            and f["missing"] == f["duplicates"] == f["wrong"] == f["failed"] == 0
        )


def run_case(case: str, count: int) -> Outcome:
    """Run one case in a fresh subprocess."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", case, str(count)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return Outcome(case, None, last[0])
    return Outcome(case, json.loads(done.stdout.strip().splitlines()[-1]))


def main(count: int, cases: Sequence[str] = CASES) -> list[Target]:
    heading(f"ask_many memory: {count:,} prompts at c={CONCURRENCY}, socket-free, fresh processes")
    # Two processes at a time (memory is not time); the control runs last, apart.
    with ThreadPoolExecutor(max_workers=2) as pool:
        every = list(pool.map(run_case, [*cases, CONTROL], [count] * (len(cases) + 1)))
    outcomes, control = every[:-1], every[-1]
    rows = []
    for outcome in every:
        f = outcome.figures
        if f is None:
            rows.append([outcome.case, "failed", "", "", "", "", str(outcome.error)])
            continue
        if outcome is control:
            rows.append(
                [
                    outcome.case,
                    "",
                    "",
                    "",
                    f"{f['baseline_mb']:.1f}",
                    f"{f['growth_mb']:.1f}",
                    str(f["measure"]),
                ]
            )
            continue
        rows.append(
            [
                outcome.case,
                f"{f['answered']:,}",
                f"{f['missing']}/{f['duplicates']}/{f['wrong']}/{f['failed']}",
                f"{f['first_at']}",
                f"{f['baseline_mb']:.1f}",
                f"{f['growth_mb']:.1f}",
                str(f["measure"]),
            ]
        )
    print_table(
        [
            "input",
            "answered",
            "missing/dup/wrong/failed",
            "reading # at 1st result",
            "RSS before MB",
            "peak growth MB",
            "measured by",
        ],
        rows,
    )
    print(
        "(the control only holds the prompts in a list, as ask_many did before it streamed, "
        "and asks nothing: it shows that the measure sees growth)"
    )
    measured = [o.figures for o in outcomes if o.figures is not None]
    everyone = len(measured) == len(outcomes)
    worst = max((float(str(f["growth_mb"])) for f in measured), default=float("nan"))
    latest = max((int(str(f["first_at"])) for f in measured), default=-1)
    answered_once = everyone and all(o.ok for o in outcomes)
    asynchronous = [o for o in outcomes if o.case.endswith("async-generator")]
    return [
        Target(
            f"ask_many {count:,} prompts: peak RSS growth < {LIMIT_MB} MB",
            f"{worst:.1f} MB (the worst of {len(measured)} of {len(outcomes)} cases)",
            everyone and worst < LIMIT_MB,
        ),
        Target(
            "ask_many: every prompt answered once, with its own answer",
            "yes, in every case" if answered_once else "NO: see the table",
            answered_once,
        ),
        Target(
            f"ask_many: first result before prompt #{FIRST_BEFORE:,} is read",
            f"while reading prompt #{latest} (the latest of the cases)",
            everyone and 0 <= latest < FIRST_BEFORE,
        ),
        Target(
            "ask_many: an async generator of prompts accepted",
            f"{sum(o.ok for o in asynchronous)} of {len(asynchronous)} cases answered in full",
            bool(asynchronous) and all(o.ok for o in asynchronous),
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_case, child_count = sys.argv[2], int(sys.argv[3])
        backend = "trio" if child_case.startswith("trio") else "asyncio"
        figures = anyio.run(_child, child_case, child_count, backend=backend)
        print(json.dumps(figures))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else PROMPTS)
