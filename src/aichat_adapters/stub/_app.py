"""The stub's ASGI 3 app: chat-gpt.org's ``POST /api/text``, scripted faults, a record."""

from __future__ import annotations

import json
import math
import random
import socket
import struct
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import anyio
import anyio.lowlevel
import attrs

from aichat_adapters.stub._challenge import SOLVE_PATH, ChallengeGate
from aichat_adapters.stub._faults import (
    JSON_HEADERS,
    Canned,
    Fault,
    canned,
    gzip_bomb_body,
    large_body,
    service_body,
)

__all__ = ["PATH", "RecordedRequest", "StubApp", "create_app"]

PATH = "/api/text"

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_UNAVAILABLE = Fault.status(503, retry_after=1)
_CHALLENGE = Fault.challenge()


def _headers_repr(headers: Mapping[str, str]) -> str:
    return repr({n: "<hidden>" if n == "cookie" else v for n, v in headers.items()})


@attrs.frozen
class RecordedRequest:
    """One request as the stub received it.

    Attributes:
        method: The HTTP method, e.g. ``"POST"``.
        path: The path, without the query string.
        headers: The headers, names in lower case; repeated headers joined
            (``repr`` hides the ``Cookie`` value).
        body: The raw body.
        json: The body parsed as JSON, or ``None`` when it is not JSON.
    """

    method: str
    path: str
    headers: Mapping[str, str] = attrs.field(repr=_headers_repr)
    body: bytes
    json: object | None

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies of the ``Cookie`` header (parts without ``=`` are skipped)."""
        cookies: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.partition("=")
            if sep and name.strip():
                cookies[name.strip()] = value.strip()
        return cookies


class StubApp:
    """The ASGI 3 application behind [`StubServer`][aichat_adapters.stub.StubServer].

    Thread-safe to inspect.

    Requests to ``POST /api/text`` get, in this order: the anti-bot page when
    ``require_cookies`` are missing (no fault is used up), else the next
    scripted fault, else (with probability ``fail_rate``) a 503 with
    ``Retry-After: 1``, else the echo. Other paths get 404, other methods 405.

    In challenge mode (``challenge=``), a gate stands in front of all that:
    a request without a clearance for its User-Agent gets ``403`` and the
    challenge page, whatever its path; a cleared browser gets a small page
    for any ``GET``. See [`ChallengeGate`][aichat_adapters.stub.ChallengeGate].

    Args:
        script: Faults to play, one per request, first in first out.
        require_cookies: Cookies (name to value) every request must carry.
        latency: Seconds added before each answer.
        fail_rate: Probability (0..1) of a 503 when the script is empty.
        seed: Seed of the random failures, for a repeatable run.
        challenge: The challenge gate, or ``None`` for no challenge mode.

    Attributes:
        challenge: The challenge gate (``None`` outside challenge mode).
    """

    def __init__(
        self,
        *,
        script: Iterable[Fault] = (),
        require_cookies: Mapping[str, str] | None = None,
        latency: float = 0.0,
        fail_rate: float = 0.0,
        seed: int | None = None,
        challenge: ChallengeGate | None = None,
    ) -> None:
        if not math.isfinite(latency) or latency < 0:
            raise ValueError(f"latency must be a finite number >= 0, not {latency!r}")
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be within 0..1, not {fail_rate!r}")
        if challenge is not None and not isinstance(challenge, ChallengeGate):
            raise TypeError(f"challenge must be a ChallengeGate, not {type(challenge).__name__}")
        self.challenge = challenge
        self._initial_cookies = _cookie_dict(require_cookies)
        self._require_cookies = self._initial_cookies
        self._latency = latency
        self._fail_rate = fail_rate
        self._seed = seed
        self._lock = threading.Lock()
        self._script: deque[Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._random = random.Random(seed)
        self.enqueue(*script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def in_flight(self) -> int:
        """How many requests are being handled right now."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at the same time since the start (or reset)."""
        with self._lock:
            return self._max_in_flight

    def enqueue(self, *faults: Fault) -> None:
        """Append faults to the end of the script."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected a Fault, not {type(fault).__name__}")
        with self._lock:
            self._script.extend(faults)

    def require_cookies(self, cookies: Mapping[str, str] | None) -> None:
        """Change which cookies (name to value) every request must carry from now on.

        ``None`` or an empty mapping requires none;
        [`reset`][aichat_adapters.stub.StubApp.reset] restores the constructor's
        ``require_cookies``.
        """
        required = _cookie_dict(cookies)
        with self._lock:
            self._require_cookies = required

    def reset(self) -> None:
        """Clear the script, the records and ``max_in_flight``; reseed; restore the
        constructor's ``require_cookies``; reset the challenge gate, if any."""
        if self.challenge is not None:
            self.challenge.reset()
        with self._lock:
            self._require_cookies = self._initial_cookies
            self._script.clear()
            self._requests.clear()
            self._max_in_flight = self._in_flight
            self._random.seed(self._seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope (``http`` only)."""
        if scope["type"] != "http":
            # ASGI: raising tells the server that lifespan and websockets are unsupported.
            raise RuntimeError(f"the stub serves HTTP only, not {scope['type']!r}")
        with self._tracked():
            body = await _read_body(receive)
            if body is None:
                return
            request = _record(scope, body)
            with self._lock:
                self._requests.append(request)
            if self._latency and not await _sleep(receive, self._latency):
                return
            await self._answer(request, receive, send)

    async def _answer(self, request: RecordedRequest, receive: Receive, send: Send) -> None:
        if self.challenge is not None and not await _gate(self.challenge, request, send):
            return
        if request.path != PATH:
            await _respond(send, 404, JSON_HEADERS, service_body(False, "not found"))
            return
        if request.method != "POST":
            headers = (*JSON_HEADERS, ("allow", "POST"))
            await _respond(send, 405, headers, service_body(False, "method not allowed"))
            return
        with self._lock:
            required = self._require_cookies
        cookies = request.cookies
        if any(cookies.get(k) != v for k, v in required.items()):
            fault: Fault | None = _CHALLENGE
        else:
            fault = self._next_fault()
        await _play(fault, request, receive, send)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self._fail_rate and self._random.random() < self._fail_rate:
                return _UNAVAILABLE
            return None

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1


def create_app(
    *,
    script: Iterable[Fault] = (),
    require_cookies: Mapping[str, str] | None = None,
    latency: float = 0.0,
    fail_rate: float = 0.0,
    seed: int | None = None,
    challenge: ChallengeGate | None = None,
) -> StubApp:
    """Build the stub's ASGI app, to serve with any ASGI server.

    See [`StubApp`][aichat_adapters.stub.StubApp] for the options.
    """
    return StubApp(
        script=script,
        require_cookies=require_cookies,
        latency=latency,
        fail_rate=fail_rate,
        seed=seed,
        challenge=challenge,
    )


_HTML_HEADERS = (("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store"))


async def _gate(gate: ChallengeGate, request: RecordedRequest, send: Send) -> bool:
    """Play the challenge gate; ``True`` when the request is cleared and goes on to the site."""
    user_agent = request.headers.get("user-agent", "")
    if request.path == SOLVE_PATH and request.method == "POST":
        status, body, cookie = gate.solve(request.body, user_agent)
        headers = [*JSON_HEADERS, ("cache-control", "no-store")]
        if cookie is not None:
            headers.append(("set-cookie", cookie))
        await _respond(send, status, headers, body)
        return False
    if not gate.is_cleared(request.cookies, user_agent):
        await _respond(send, 403, _HTML_HEADERS, gate.page())
        return False
    if request.method == "GET" and request.path != PATH:
        await _respond(send, 200, _HTML_HEADERS, gate.cleared_page())
        return False
    return True


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or ``None`` when the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _record(scope: Scope, body: bytes) -> RecordedRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in headers:
            value = headers[name] + ("; " if name == "cookie" else ", ") + value
        headers[name] = value
    try:
        parsed: object | None = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        parsed = None
    return RecordedRequest(scope["method"], scope["path"], MappingProxyType(headers), body, parsed)


def _cookie_dict(cookies: Mapping[str, str] | None) -> Mapping[str, str]:
    if cookies is None:
        return MappingProxyType({})
    if not isinstance(cookies, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in cookies.items()
    ):
        raise TypeError("require_cookies must be a mapping of cookie names to values (str)")
    return MappingProxyType(dict(cookies))


async def _play(
    fault: Fault | None, request: RecordedRequest, receive: Receive, send: Send
) -> None:
    """Answer one request as ``fault`` says (``None``: the echo)."""
    kind = None if fault is None else fault.kind
    if fault is None or kind not in _PLAYED:
        answer = canned(fault, request.json, request.headers.get("cookie", ""))
        await _respond(send, answer.status_code, answer.headers, answer.body)
    elif kind == "drop":
        await _drop(receive, send)
    elif kind == "large":
        await _until_disconnect(receive, lambda: _large(send, fault))
    elif kind == "gzip_bomb":
        await _respond(send, 200, fault.headers, gzip_bomb_body(fault.size))
    else:  # delay, trickle, cut: the echo, played slowly or cut short
        echo = canned(fault, request.json, "")
        if kind == "trickle":
            await _until_disconnect(receive, lambda: _trickle(send, echo, fault))
        elif kind == "cut":
            await _cut(receive, send, echo, fault)
        elif await _sleep(receive, fault.seconds):
            await _respond(send, echo.status_code, echo.headers, echo.body)


_PLAYED = frozenset({"drop", "delay", "large", "gzip_bomb", "trickle", "cut"})


async def _wait_disconnect(receive: Receive) -> None:
    """Return once the client has gone (or the answer is complete)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _sleep(receive: Receive, seconds: float) -> bool:
    """Sleep; ``False`` when the client disconnected meanwhile (nobody to answer)."""
    with anyio.move_on_after(seconds):
        await _wait_disconnect(receive)
        return False
    return True


async def _until_disconnect(receive: Receive, play: Callable[[], Awaitable[None]]) -> None:
    """Run ``play``, cancelled as soon as the client goes away."""
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            await _wait_disconnect(receive)
            group.cancel_scope.cancel()

        group.start_soon(watch)
        await play()
        group.cancel_scope.cancel()


def _transport_of(send: Send, fault: str) -> Any:
    # uvicorn's ``send`` is a bound method of the request's cycle, which holds
    # the asyncio transport.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if not callable(getattr(transport, "close", None)):
        raise RuntimeError(f"{fault} needs a server exposing its transport, as uvicorn does")
    return transport


async def _drop(receive: Receive, send: Send) -> None:
    # Closing the transport before the answer starts sends nothing at all.
    _transport_of(send, "Fault.drop()").close()
    # Wait until the server has seen the disconnect, or it would answer 500 for us.
    with anyio.move_on_after(1.0):
        await _wait_disconnect(receive)


async def _cut(receive: Receive, send: Send, answer: Canned, fault: Fault) -> None:
    transport = _transport_of(send, "Fault.cut()")
    body = answer.body
    await _start(send, answer.status_code, answer.headers, len(body))
    sent = body[: min(fault.size, len(body) - 1)]
    await send({"type": "http.response.body", "body": sent, "more_body": True})
    if fault.reset:
        # Linger on, with a zero timeout: close() sends a RST instead of a FIN.
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    with anyio.move_on_after(1.0):
        await _wait_disconnect(receive)


async def _trickle(send: Send, answer: Canned, fault: Fault) -> None:
    body = answer.body
    at_once = max(0, len(body) - fault.size)
    await _start(send, answer.status_code, answer.headers, len(body))
    await _body(send, body[:at_once], more=at_once < len(body))
    for end in range(at_once + 1, len(body) + 1):
        await anyio.sleep(fault.seconds)
        await _body(send, body[end - 1 : end], more=end < len(body))


async def _large(send: Send, fault: Fault) -> None:
    await _start(send, 200, fault.headers, fault.size if fault.content_length else None)
    for chunk in large_body(fault.size):
        await _body(send, chunk, more=True)
        # Let the loop see a lost connection: without a pause to write (backpressure),
        # uvicorn's send never yields, and asyncio warns of every write after the loss.
        await anyio.lowlevel.checkpoint()
    await _body(send, b"", more=False)


async def _start(
    send: Send, status: int, headers: Iterable[tuple[str, str]], length: int | None
) -> None:
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})


async def _body(send: Send, chunk: bytes, *, more: bool) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": more})


async def _respond(
    send: Send, status: int, headers: Iterable[tuple[str, str]], body: bytes
) -> None:
    if status in (204, 304):
        body = b""
    await _start(send, status, headers, None if status in (204, 304) else len(body))
    await _body(send, body, more=False)
