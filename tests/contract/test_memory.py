"""Gzip bombs cost at most the body cap in memory, on every transport (issue 8).

A stub in its own process answers with a 1 MiB gzip body that inflates to
1 GiB. A client in another fresh process makes one small call (the warm-up:
imports, pool, first connection), reads its resident size, makes three bomb
calls, and reads its peak resident size. The growth must stay below twice
the body cap, whatever the transport. Memory, not time.

The peak is the kernel's ``VmHWM``, reset after the warm-up, not
``getrusage().ru_maxrss``: on Linux a child's ``ru_maxrss`` starts at its
parent's peak (it survives ``exec``), so under pytest it hides any growth
smaller than the test runner itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_adapters.transports import DEFAULT_MAX_BODY_SIZE

from .rows import WORKING, Row

ROOT = Path(__file__).resolve().parents[2]
BOMBS = 3
WAIT = 120

STUB = """
import sys
from aichat_adapters.stub import Fault, StubServer

bomb = Fault.gzip_bomb()  # 1 GiB inflated
with StubServer() as stub:
    print(stub.url, flush=True)
    for line in sys.stdin:
        stub.reset()
        stub.enqueue(Fault.reply("warm"), *[bomb] * int(line))
        print("ready", flush=True)
"""

CLIENT = """
import json, sys
import anyio
from aichat_adapters import AichatClient, AsyncAichatClient, ResponseFormatError
from tests.contract.rows import WORKING

name, url, bombs = sys.argv[1], sys.argv[2], int(sys.argv[3])
[row] = [row for row in WORKING if row.name == name]
options = {"base_url": url, "cookies": "a=b", "max_retries": 0, "timeout": 30}


def status(field):
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # VmHWM := VmRSS (Linux >= 4.0)
    except OSError:
        pass  # the peak then includes start-up's: the check is only stricter


figures = {}


def before():
    reset_peak()
    figures["resident_before"], figures["peak_before"] = status("VmRSS"), status("VmHWM")


def after(errors):
    figures["peak_after"], figures["errors"] = status("VmHWM"), errors


if row.backend == "sync":
    with AichatClient(transport=row.transport(), **options) as client:
        assert client.ask("warm") == "warm"
        before()
        errors = []
        for _ in range(bombs):
            try:
                client.ask("bomb")
            except ResponseFormatError as error:
                errors.append(type(error).__name__)
        after(errors)
else:
    async def main():
        async with AsyncAichatClient(transport=row.transport(), **options) as client:
            assert await client.ask("warm") == "warm"
            before()
            errors = []
            for _ in range(bombs):
                try:
                    await client.ask("bomb")
                except ResponseFormatError as error:
                    errors.append(type(error).__name__)
            after(errors)

    anyio.run(main, backend=row.backend)
print(json.dumps(figures))
"""


class BombServer:
    """The stub in a process of its own; ``load(n)`` scripts a warm-up answer then n bombs."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", STUB],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def load(self, bombs: int) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{bombs}\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "ready"

    def close(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(WAIT)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def bomb_server() -> Iterator[BombServer]:
    server = BombServer()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("row", WORKING, ids=lambda row: row.name)
def test_gzip_bombs_grow_peak_memory_by_less_than_twice_the_cap(
    row: Row, bomb_server: BombServer
) -> None:
    bomb_server.load(BOMBS)

    result = subprocess.run(
        [sys.executable, "-c", CLIENT, row.name, bomb_server.url, str(BOMBS)],
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["errors"] == ["ResponseFormatError"] * BOMBS
    growth = figures["peak_after"] - figures["resident_before"]
    shown = f"{row.name}: peak grew {growth / 2**20:.1f} MiB over {BOMBS} gzip bombs"
    print(shown)  # the figure, with pytest -s
    assert growth < 2 * DEFAULT_MAX_BODY_SIZE, shown
