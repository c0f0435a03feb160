"""Serve the stub app with uvicorn on loopback, in a thread of its own."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from aichat_adapters.stub._app import RecordedRequest, StubApp
from aichat_adapters.stub._challenge import ChallengeGate
from aichat_adapters.stub._faults import Fault

if TYPE_CHECKING:
    import uvicorn

__all__ = ["StubServer"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


class StubServer:
    """A local stand-in for chat-gpt.org: the ASGI app
    [`StubApp`][aichat_adapters.stub.StubApp] served by uvicorn.

    Use it as a context manager, sync or async (asyncio and trio); it binds a
    free loopback port and serves from a daemon thread with its own asyncio
    loop. Needs the ``stub`` extra (uvicorn).

    Args:
        script: Faults to play, one per request, first in first out.
        require_cookies: Cookies (name to value) every request must carry.
        latency: Seconds added before each answer.
        fail_rate: Probability (0..1) of a 503 when the script is empty.
        seed: Seed of the random failures.
        host: Address to bind.
        port: Port to bind; 0 picks a free one.
        challenge: Challenge mode: ``True`` for a default
            [`ChallengeGate`][aichat_adapters.stub.ChallengeGate], or a gate of
            your own (a difficulty, a short ``max_age``...). Loopback only.

    Attributes:
        app: The ASGI app being served, with the script and the records.

    Raises:
        ValueError: challenge mode on an address that is not loopback.
    """

    def __init__(
        self,
        *,
        script: Iterable[Fault] = (),
        require_cookies: Mapping[str, str] | None = None,
        latency: float = 0.0,
        fail_rate: float = 0.0,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        challenge: ChallengeGate | bool | None = None,
    ) -> None:
        gate = ChallengeGate() if challenge is True else challenge or None
        if gate is not None and not _is_loopback(host):
            raise ValueError(
                f"challenge mode serves loopback only (127.0.0.1, ::1, localhost), not {host!r}"
            )
        self.app = StubApp(
            script=script,
            require_cookies=require_cookies,
            latency=latency,
            fail_rate=fail_rate,
            seed=seed,
            challenge=gate,
        )
        self._host = host
        self._port = port
        self._url: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``"http://127.0.0.1:54321"`` (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("the stub server is not running")
        return self._url

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        return self.app.requests

    @property
    def challenge(self) -> ChallengeGate | None:
        """The challenge gate, with its counts (``None`` outside challenge mode)."""
        return self.app.challenge

    def revoke_clearances(self) -> int:
        """Revoke every clearance issued so far (challenge mode); how many were valid.

        Raises:
            RuntimeError: the server is not in challenge mode.
        """
        if self.app.challenge is None:
            raise RuntimeError("the stub server is not in challenge mode (challenge=True)")
        return self.app.challenge.revoke()

    @property
    def in_flight(self) -> int:
        """How many requests are being handled right now."""
        return self.app.in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at the same time."""
        return self.app.max_in_flight

    def enqueue(self, *faults: Fault) -> None:
        """Append faults to the end of the script."""
        self.app.enqueue(*faults)

    def require_cookies(self, cookies: Mapping[str, str] | None) -> None:
        """Change which cookies (name to value) every request must carry from now on.

        A request without them gets the anti-bot page. ``None`` or an empty
        mapping requires none; [`reset`][aichat_adapters.stub.StubServer.reset]
        restores the constructor's value.
        """
        self.app.require_cookies(cookies)

    def reset(self) -> None:
        """Clear the script, the records and ``max_in_flight``; restore the
        constructor's ``require_cookies``; reset the challenge gate."""
        self.app.reset()

    def start(self) -> None:
        """Bind the port and serve in a daemon thread; return once serving."""
        if self._server is not None:
            raise RuntimeError("the stub server is already running")
        server = self._uvicorn(log_level="warning", log_config=None, access_log=False)
        sock = self._bind()
        self._server, self._error = server, None
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"aichat-stub {self._url}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the stub server did not start") from self._error
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread (at most a few seconds)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.should_exit = True
        if thread is not None:
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(_STOP_TIMEOUT)
        self._server = self._thread = self._url = None
        if thread is not None and thread.is_alive():
            raise RuntimeError("the stub server thread did not stop")

    def serve_forever(self, *, on_start: Callable[[str], None] | None = None) -> None:
        """Serve in the calling thread (the foreground) until Ctrl-C, then return.

        uvicorn logs each request at info level; it prints no start-up line,
        so use ``on_start`` to show the URL.

        Args:
            on_start: Called with [`url`][aichat_adapters.stub.StubServer.url] once
                the port listens.
        """
        if self._server is not None:
            raise RuntimeError("the stub server is already running")
        server = self._uvicorn(log_level="info", access_log=True)
        sock = self._bind()
        self._server = server
        try:
            if on_start is not None:
                on_start(self.url)
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
            self._server = self._url = None

    def __enter__(self) -> StubServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> StubServer:
        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio then sets TCP_NODELAY on accepted connections
        # (else Nagle holds the body behind the headers for a delayed ACK, ~40 ms).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen()  # connections wait in the backlog until uvicorn accepts them
        except OSError:
            sock.close()
            raise
        host, port = sock.getsockname()[:2]
        self._url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        return sock

    def _uvicorn(self, **options: Any) -> uvicorn.Server:
        from aichat_adapters._extras import import_extra

        module: Any = import_extra("uvicorn", "stub", "the stub server")
        config = module.Config(
            self.app,
            interface="asgi3",
            http="h11",
            ws="none",
            loop="asyncio",
            lifespan="off",
            proxy_headers=False,
            timeout_graceful_shutdown=1,
            **options,
        )
        server: uvicorn.Server = module.Server(config)
        return server

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            sock.close()


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
