"""Transports at the port that answer from a script, as the stub would, with no socket."""

from __future__ import annotations

import json
import time
from collections import deque

import anyio

from aichat_adapters.stub._faults import SOCKET_KINDS, Canned, Fault, canned
from aichat_core import (
    ConnectError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    RequestTimeoutError,
)

__all__ = ["Answer", "AsyncFakeTransport", "FakeTransport"]

Answer = str | Fault
"""One scripted answer: a reply text, or a stub [`Fault`][aichat_adapters.stub.Fault]."""

# Faults played at each request: they raise, sleep, or answer from the request.
_PLAYED = frozenset({"drop", "delay", "echo_cookie"})


class _Script:
    """The script and the record that both fake transports keep."""

    def __init__(self, *answers: Answer, record: bool = True) -> None:
        self._script: deque[Fault | HttpResponse] = deque(_prepare(a) for a in answers)
        self._record = record
        self.requests: list[HttpRequest] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(left={len(self._script)}, requests={len(self.requests)})"

    def _next(self, request: HttpRequest) -> Fault | HttpResponse | None:
        if self._record:
            self.requests.append(request)
        try:
            return self._script.popleft()
        except IndexError:  # the script is done: the echo, like the stub
            return None


class FakeTransport(_Script):
    """A [`Transport`][aichat_core.Transport] that answers from a script, with no socket.

    Give it to a client as ``AichatClient(transport=FakeTransport(...))``.
    Each request takes the next answer; once the script is done, every
    request gets the echo (``"Echo: " + message``), as the stub server does.

    An answer is a reply text, or a stub [`Fault`][aichat_adapters.stub.Fault]:
    a status (with ``Retry-After``), a refusal, the challenge page, a malformed
    body, a redirect, ``set_cookie`` and ``echo_cookie`` give the same
    response the stub sends; ``Fault.drop()`` raises
    [`ConnectError`][aichat_core.ConnectError]; ``Fault.delay(s)`` sleeps,
    then echoes (or sleeps ``timeout`` and raises
    [`RequestTimeoutError`][aichat_core.RequestTimeoutError] when ``s`` is
    longer). The faults that need a socket (``trickle``, ``large``,
    ``gzip_bomb``, ``cut``) are refused: use the stub server for those.

    Args:
        answers: The script, one answer per request, first in first out.
        record: Keep every request in ``requests``. Turn it off for long
            benchmarks: each kept request holds about 1 KB.

    Attributes:
        requests: The [`HttpRequest`][aichat_core.HttpRequest]s received, oldest first.
        closed: Whether [`close`][aichat_adapters.testing.FakeTransport.close] was called.
    """

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Answer the next scripted answer (the echo once the script is done)."""
        answer = self._next(request)
        if isinstance(answer, HttpResponse):
            return answer
        if answer is not None and answer.kind == "delay":
            time.sleep(min(answer.seconds, timeout))
        return _respond(request, answer, timeout)

    def close(self) -> None:
        """Mark the transport closed (there is nothing to release)."""
        self.closed = True


class AsyncFakeTransport(_Script):
    """The async twin of [`FakeTransport`][aichat_adapters.testing.FakeTransport]
    (an [`AsyncTransport`][aichat_core.AsyncTransport]), for asyncio and trio.

    Takes the same arguments; ``Fault.delay(s)`` sleeps with ``anyio.sleep``.

    Attributes:
        requests: The [`HttpRequest`][aichat_core.HttpRequest]s received, oldest first.
        closed: Whether [`aclose`][aichat_adapters.testing.AsyncFakeTransport.aclose] was called.
    """

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Answer the next scripted answer (the echo once the script is done)."""
        answer = self._next(request)
        if isinstance(answer, HttpResponse):
            return answer
        if answer is not None and answer.kind == "delay":
            await anyio.sleep(min(answer.seconds, timeout))
        return _respond(request, answer, timeout)

    async def aclose(self) -> None:
        """Mark the transport closed (there is nothing to release)."""
        self.closed = True


def _prepare(answer: object) -> Fault | HttpResponse:
    """Check one answer; a response that does not depend on the request is built now."""
    if isinstance(answer, str):
        answer = Fault.reply(answer)
    if not isinstance(answer, Fault):
        raise InvalidRequestError(
            f"a scripted answer is a reply text (str) or a stub Fault, not {type(answer).__name__}"
        )
    if answer.kind in SOCKET_KINDS:
        raise InvalidRequestError(
            f"Fault.{answer.kind}() needs a real socket, which a fake transport has not: "
            "script it on the stub server instead (StubServer, or the aichat_stub fixture)"
        )
    if answer.kind in _PLAYED or (answer.kind == "set_cookie" and not answer.body):
        return answer  # (a set_cookie without text answers the echo)
    return _response(canned(answer, None, ""))


def _respond(request: HttpRequest, fault: Fault | None, timeout: float) -> HttpResponse:
    if fault is not None:
        if fault.kind == "drop":
            raise ConnectError(
                f"connection to {request.url} failed: "
                "Server disconnected without sending a response."
            )
        if fault.kind == "delay" and fault.seconds > timeout:
            raise RequestTimeoutError(
                f"timed out talking to {request.url}: no answer within {timeout} s "
                f"(the script's Fault.delay({fault.seconds}))"
            )
    try:
        payload: object = json.loads(request.body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        payload = None
    cookie = ""
    if fault is not None and fault.kind == "echo_cookie":
        cookie = "; ".join(v for n, v in request.headers if n.lower() == "cookie")
    return _response(canned(fault, payload, cookie))


def _response(answer: Canned) -> HttpResponse:
    """The response a transport reads from the stub's answer (``Set-Cookie`` values apart)."""
    headers = {n: v for n, v in answer.headers if n != "set-cookie"}
    headers["content-length"] = str(len(answer.body))
    set_cookies = tuple(v for n, v in answer.headers if n == "set-cookie")
    return HttpResponse(answer.status_code, headers, answer.body, set_cookies)
