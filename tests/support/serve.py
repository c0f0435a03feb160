"""What the serve tests share: the app on uvicorn in a thread, or ``aichat serve`` as a process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from aichat_adapters import AsyncAichatClient
from aichat_adapters.serve import ServeApp, create_app
from aichat_adapters.stub import StubServer

from .clients import COOKIES, FAST

KEY = "sk-test-0123456789"


def client_for(stub: StubServer, **options: Any) -> AsyncAichatClient:
    """An async client for ``stub``, with the test cookies and fast retries by default."""
    defaults: dict[str, Any] = {"base_url": stub.url, "cookies": COOKIES, "retry_policy": FAST}
    return AsyncAichatClient(**{**defaults, **options})


class LiveServer:
    """``create_app`` served by uvicorn on a free loopback port, in a thread with its own loop.

    The client is closed in that loop once the server stops. ``url`` ends with ``/v1``.
    """

    def __init__(self, app: ServeApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(1024)
        port = self._sock.getsockname()[1]
        self.origin = f"http://127.0.0.1:{port}"
        self.url = f"{self.origin}/v1"
        config = uvicorn.Config(
            app,
            lifespan="off",
            ws="none",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="aichat-serve-test", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            try:
                await self.server.serve(sockets=[self._sock])
            finally:
                await self.app.client.aclose()

        asyncio.run(main())

    def tasks(self) -> int:
        """How many tasks the server's loop has besides uvicorn's own main task."""
        loop = self.loop
        assert loop is not None
        done = threading.Event()
        count = [0]

        def read() -> None:
            count[0] = len(asyncio.all_tasks(loop)) - 1
            done.set()

        loop.call_soon_threadsafe(read)
        assert done.wait(5)
        return count[0]

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self._thread.is_alive(), "the server thread died"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(10)
        self._sock.close()
        assert not self._thread.is_alive(), "the server thread did not stop"


@contextlib.contextmanager
def live(
    stub: StubServer, *, client: dict[str, Any] | None = None, **options: Any
) -> Iterator[LiveServer]:
    """``create_app(client_for(stub, **client), **options)`` served in a thread."""
    app = create_app(client_for(stub, **(client or {})), **options)
    with LiveServer(app) as server:
        yield server


class Process:
    """``aichat serve`` in a subprocess; ``url`` is the first line it printed (ends with /v1)."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, str]:
        """Send ``sig``, wait for the exit; the exit code and everything on stderr."""
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise AssertionError(f"aichat serve did not stop within {timeout} s") from None
        return self.proc.returncode, err


def serve_env(**extra: str) -> dict[str, str]:
    """The environment for ``aichat serve``: no cookies or keys of the machine's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@contextlib.contextmanager
def process(*args: str, env: dict[str, str] | None = None) -> Iterator[Process]:
    """``aichat serve --port 0 ARGS`` started; stopped with SIGTERM if still running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aichat_adapters", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or serve_env(),
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"aichat serve did not start: {url!r} {err!r}")
    running = Process(proc, url)
    try:
        yield running
    finally:
        if proc.poll() is None:
            running.stop()
