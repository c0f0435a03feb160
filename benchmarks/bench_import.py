"""Import time of the SDK against ``import httpx``, each in a fresh process.

Run with ``python benchmarks/bench_import.py [ROUNDS]`` (``nox -s bench`` runs it with the
others). Each round starts one fresh interpreter per statement, interleaved, and times
the statement alone (the interpreter's own start-up is not in the figure). Min and
median over the rounds; ratios are to ``import httpx``.
"""

from __future__ import annotations

import subprocess
import sys

from _support import Samples, Target, heading, print_table

HTTPX = "import httpx"
STATEMENTS = (
    HTTPX,
    "import aichat_adapters",
    "from aichat_adapters import AichatClient",
    "from aichat_adapters import AsyncAichatClient",
)
_TIMED = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def time_once(statement: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def measure(rounds: int) -> dict[str, Samples]:
    samples = {statement: Samples([]) for statement in STATEMENTS}
    for statement in STATEMENTS:
        time_once(statement)  # bytecode caches written, files in the page cache
    for _ in range(rounds):
        for statement in STATEMENTS:
            samples[statement].values.append(time_once(statement))
    return samples


def main(rounds: int) -> list[Target]:
    heading(f"import time, fresh processes: {rounds} rounds")
    samples = measure(rounds)
    floor = samples[HTTPX]
    rows = [
        [
            statement,
            f"{s.min * 1e3:.1f}",
            f"{s.median * 1e3:.1f}",
            f"{s.min / floor.min:.2f}x",
            f"{s.median / floor.median:.2f}x",
        ]
        for statement, s in samples.items()
    ]
    print_table(["statement", "ms min", "ms median", "vs httpx min", "median"], rows)
    targets = []
    for statement, note in (
        ("import aichat_adapters", ""),
        ("from aichat_adapters import AichatClient", " (stricter: what a user pays)"),
    ):
        s = samples[statement]
        by_min, by_median = s.min / floor.min, s.median / floor.median
        targets.append(
            Target(
                f"{statement} <= 1.3x import httpx{note}",
                f"{by_median:.2f}x median, {by_min:.2f}x min "
                f"({s.median * 1e3:.1f} vs {floor.median * 1e3:.1f} ms)",
                max(by_min, by_median) <= 1.3,
            )
        )
    return targets


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
