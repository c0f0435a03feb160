"""What the benchmarks share: the stub in its own process, socket-free transports, timing.

Nothing here is part of the SDK; every figure is measured, never asserted.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from aichat_core import HttpRequest, HttpResponse

COOKIES = {"session": "bench"}
PACKAGES = (
    "aichat-client",
    "httpx",
    "aiohttp",
    "curl_cffi",
    "anyio",
    "trio",
    "tenacity",
    "attrs",
    "uvicorn",
    "httptools",
)

# The stub's app served by uvicorn in its own process, with httptools when installed
# (h11, the stub's own choice for tests, serves about a third fewer requests a second on
# this machine, and the server would be the bottleneck even sooner). SIGINT stops it.
_SERVE = """
import socket, sys, uvicorn
from aichat_adapters.stub import StubApp
http = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(1024)
print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
config = uvicorn.Config(
    StubApp(), http=http, loop="asyncio", ws="none", lifespan="off", interface="asgi3",
    access_log=False, log_level="warning",
)
try:
    uvicorn.Server(config).run(sockets=[sock])
except KeyboardInterrupt:
    pass
"""


def server_http() -> str:
    """The HTTP parser the stub process uses: httptools when installed, else h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


@contextlib.contextmanager
def stub_process() -> Iterator[str]:
    """The stub server in its own process (no GIL shared with the clients); yields its URL.

    What the server writes to stderr is kept and summed up at the end, never hidden.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVE, server_http()],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert server.stdout is not None
        try:
            url = server.stdout.readline().strip()
            if not url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"the stub server did not start (it printed {url!r})")
            yield url
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            errors.seek(0)
            lines = errors.read().splitlines()
            if lines:
                counts = collections.Counter(lines)
                print(f"\nthe stub server wrote {len(lines)} lines to stderr; the most common:")
                for line, count in counts.most_common(3):
                    print(f"  {count:6} x {line[:150]}")


CANNED = HttpResponse(
    200, {"content-type": "application/json"}, b'{"response":true,"message":"Hi"}'
)


class CannedTransport:
    """Answers at once without I/O: what is left of a call is the SDK's own cost."""

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        return CANNED

    def close(self) -> None:
        pass


class AsyncCannedTransport:
    """The async twin of [`CannedTransport`][]."""

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        return CANNED

    async def aclose(self) -> None:
        pass


@dataclass
class Samples:
    """Per-round figures of one variant (seconds per call, or any unit)."""

    values: list[float]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def paired(self, other: Samples) -> float:
        """The median over rounds of this round's figure divided by ``other``'s.

        Variants of one round run back to back, so a ratio within a round cancels
        what the machine's load did to both; the median drops the odd round.
        """
        return statistics.median(a / b for a, b in zip(self.values, other.values, strict=True))


@dataclass
class Target:
    """One target: what it asks, the figure measured, and whether it holds."""

    name: str
    figure: str
    ok: bool | None  # None: could not be measured


def cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def code_version() -> str:
    """The checkout's commit, marked when the work tree has changes of its own."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty=+uncommitted changes", "--abbrev=10"],
        capture_output=True,
        text=True,
        check=False,
        cwd=os.path.dirname(os.path.abspath(__file__)),
    )
    return done.stdout.strip() or "unknown (not a git checkout)"


def machine() -> list[str]:
    """Lines that say which machine, code and versions the figures come from."""
    versions = ", ".join(f"{name} {package_version(name)}" for name in PACKAGES)
    return [
        f"code:    {code_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"python:  {platform.python_implementation()} {platform.python_version()}",
        f"libs:    {versions}",
        f"stub:    StubApp under uvicorn ({server_http()}) in its own process, on loopback",
    ]


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [f"{first:<{widths[0]}}", *(f"{c:>{w}}" for c, w in zip(rest, widths[1:], strict=True))]
        )

    print(line(header))
    for row in rows:
        print(line(row))
    sys.stdout.flush()
