"""Every benchmark in one run, then the targets with PASS or MISS.

``nox -s bench`` runs this; ``nox -s bench -- --quick`` is a short run (fewer rounds,
30,000 prompts) to check that everything works, not to quote. Sizes can be set one by
one (``--help``). The order: the machine, ``ask`` at c=1, ``ask_many`` at c=50,
``aichat serve`` against a bare Starlette route, memory, import time, and the table of
targets. Nothing is asserted and the exit code is 0 even
when a target is missed: the figures are for people to read.
"""

from __future__ import annotations

import argparse
import os
import time

import bench_client
import bench_import
import bench_many
import bench_memory
import bench_serve
from _support import Target, machine, print_table, stub_process


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, not to quote")
    parser.add_argument("--calls", type=int, help="c=1: calls per variant a round (100)")
    parser.add_argument("--rounds", type=int, help="c=1: rounds (25)")
    parser.add_argument("--requests", type=int, help="c=50: requests per variant a round (2000)")
    parser.add_argument("--many-rounds", type=int, help="c=50: rounds (5)")
    parser.add_argument("--prompts", type=int, help="memory: prompts (300000)")
    parser.add_argument("--import-rounds", type=int, help="import time: rounds (30)")
    parser.add_argument("--serve-requests", type=int, help="serve c=64: requests a round (2000)")
    parser.add_argument("--serve-rounds", type=int, help="serve: rounds (5)")
    arguments = parser.parse_args()
    quick = arguments.quick
    defaults = {
        "calls": 50 if quick else 100,
        "rounds": 3 if quick else 25,
        "requests": 300 if quick else 2000,
        "many_rounds": 2 if quick else 5,
        "prompts": 30_000 if quick else bench_memory.PROMPTS,
        "import_rounds": 5 if quick else 30,
        "serve_requests": 300 if quick else 2000,
        "serve_rounds": 2 if quick else 5,
    }
    for name, value in defaults.items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, value)
    return arguments


def main() -> None:
    arguments = _arguments()
    started = time.perf_counter()
    print("aichat-client benchmarks" + (" (--quick: not to quote)" if arguments.quick else ""))
    for line in machine():
        print(line)
    print(f"start:   {_load()}", flush=True)
    targets: list[Target] = []
    with stub_process() as url:
        targets += bench_client.main(url, arguments.calls, arguments.rounds)
        targets += bench_many.main(url, arguments.requests, arguments.many_rounds)
        targets += bench_serve.main(url, arguments.serve_requests, arguments.serve_rounds)
    targets += bench_memory.main(arguments.prompts)
    targets += bench_import.main(arguments.import_rounds)

    print(f"\nend:     {_load()}; {time.perf_counter() - started:.0f} s in all")
    print("\n== targets ==")
    verdicts = {True: "PASS", False: "MISS", None: "NOT MEASURED"}
    print_table(
        ["target", "figure", "verdict"],
        [[target.name, target.figure, verdicts[target.ok]] for target in targets],
    )


if __name__ == "__main__":
    main()
