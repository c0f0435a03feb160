"""The stub's ASGI 3 app: chat-gpt.org's ``POST /api/text``, scripted faults, a record."""

from __future__ import annotations

import json
import math
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import anyio
import attrs

from aichat_adapters.stub._faults import JSON_HEADERS, Fault, service_body

__all__ = ["PATH", "RecordedRequest", "StubApp", "create_app"]

PATH = "/api/text"

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_UNAVAILABLE = Fault.status(503, retry_after=1)
_CHALLENGE = Fault.challenge()
_BAD_BODY = 'the body must be a JSON object with a string "message"'


@attrs.frozen
class RecordedRequest:
    """One request as the stub received it.

    Attributes:
        method: The HTTP method, e.g. ``"POST"``.
        path: The path, without the query string.
        headers: The headers, names in lower case; repeated headers joined.
        body: The raw body.
        json: The body parsed as JSON, or ``None`` when it is not JSON.
    """

    method: str
    path: str
    headers: Mapping[str, str]
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
    """The ASGI 3 application behind :class:`StubServer`; thread-safe to inspect.

    Requests to ``POST /api/text`` get, in this order: the anti-bot page when
    ``require_cookies`` are missing (no fault is used up), else the next
    scripted fault, else (with probability ``fail_rate``) a 503 with
    ``Retry-After: 1``, else the echo. Other paths get 404, other methods 405.

    Args:
        script: Faults to play, one per request, first in first out.
        require_cookies: Cookies (name to value) every request must carry.
        latency: Seconds added before each answer.
        fail_rate: Probability (0..1) of a 503 when the script is empty.
        seed: Seed of the random failures, for a repeatable run.
    """

    def __init__(
        self,
        *,
        script: Iterable[Fault] = (),
        require_cookies: Mapping[str, str] | None = None,
        latency: float = 0.0,
        fail_rate: float = 0.0,
        seed: int | None = None,
    ) -> None:
        if not math.isfinite(latency) or latency < 0:
            raise ValueError(f"latency must be a finite number >= 0, not {latency!r}")
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be within 0..1, not {fail_rate!r}")
        self._require_cookies = dict(require_cookies or {})
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

    def reset(self) -> None:
        """Clear the script, the recorded requests and ``max_in_flight``; reseed."""
        with self._lock:
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
        if request.path != PATH:
            await _respond(send, 404, JSON_HEADERS, service_body(False, "not found"))
            return
        if request.method != "POST":
            headers = (*JSON_HEADERS, ("allow", "POST"))
            await _respond(send, 405, headers, service_body(False, "method not allowed"))
            return
        cookies = request.cookies
        if any(cookies.get(k) != v for k, v in self._require_cookies.items()):
            fault: Fault | None = _CHALLENGE
        else:
            fault = self._next_fault()
        if fault is None:
            await _echo(request, send)
        elif fault.kind == "drop":
            await _drop(receive, send)
        elif fault.kind == "delay":
            if await _sleep(receive, fault.seconds):
                await _echo(request, send)
        else:
            await _respond(send, fault.status_code, fault.headers, fault.body)

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
) -> StubApp:
    """Build the stub's ASGI app, to serve with any ASGI server (see :class:`StubApp`)."""
    return StubApp(
        script=script,
        require_cookies=require_cookies,
        latency=latency,
        fail_rate=fail_rate,
        seed=seed,
    )


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


async def _sleep(receive: Receive, seconds: float) -> bool:
    """Sleep; ``False`` when the client disconnected meanwhile (nobody to answer)."""
    with anyio.move_on_after(seconds):
        while (await receive())["type"] != "http.disconnect":
            pass
        return False
    return True


async def _drop(receive: Receive, send: Send) -> None:
    # uvicorn's ``send`` is a bound method of the request's cycle, which holds
    # the asyncio transport: closing it sends nothing at all.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    close = getattr(transport, "close", None)
    if not callable(close):
        raise RuntimeError("Fault.drop() needs a server exposing its transport, as uvicorn does")
    close()
    # Wait until the server has seen the disconnect, or it would answer 500 for us.
    with anyio.move_on_after(1.0):
        while (await receive())["type"] != "http.disconnect":
            pass


async def _echo(request: RecordedRequest, send: Send) -> None:
    payload = request.json
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(message, str):
        await _respond(send, 400, JSON_HEADERS, service_body(False, _BAD_BODY))
        return
    await _respond(send, 200, JSON_HEADERS, service_body(True, "Echo: " + message))


async def _respond(
    send: Send, status: int, headers: Iterable[tuple[str, str]], body: bytes
) -> None:
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if status in (204, 304):
        body = b""
    else:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
