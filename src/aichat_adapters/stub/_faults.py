"""Scripted faults: what the stub answers instead of the echo, one per request.

This module is pure (no I/O): it builds the faults, the bodies they answer and
the canned answer for a request, which the ASGI app plays over a socket and
``aichat_adapters.testing`` turns into responses without one.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Iterator
from http import HTTPStatus
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Literal

import attrs

__all__ = [
    "CHALLENGE_PAGE",
    "JSON_HEADERS",
    "SOCKET_KINDS",
    "Canned",
    "Fault",
    "FaultKind",
    "canned",
    "gzip_bomb_body",
    "large_body",
    "service_body",
]

FaultKind = Literal[
    "status",
    "refuse",
    "challenge",
    "malformed",
    "redirect",
    "delay",
    "drop",
    "reply",
    "trickle",
    "large",
    "gzip_bomb",
    "cut",
    "set_cookie",
    "echo_cookie",
]

SOCKET_KINDS = frozenset({"trickle", "large", "gzip_bomb", "cut"})
"""Faults that only a server on a real socket can play."""

CHALLENGE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><h1>Just a moment...</h1>"
    b"<p>Checking your browser before accessing chat-gpt.org.</p></body></html>"
)

JSON = "application/json"
HTML = "text/html"
JSON_HEADERS = (("content-type", JSON),)
TEXT_HEADERS = (("content-type", "text/plain"),)

BAD_BODY = 'the body must be a JSON object with a string "message"'

_OK = b'{"response":true,"message":'
_NOT_OK = b'{"response":false,"message":'
# The smallest body of large() and gzip_bomb(): an answer whose message is padded with "a".
_PREFIX = b'{"response":true,"message":"'
_SUFFIX = b'"}'
_MIN_SIZE = len(_PREFIX) + len(_SUFFIX)
_CHUNK = 1 << 20
_MAX_INFLATED = 1 << 36


def service_body(ok: bool, message: str) -> bytes:
    """The service's JSON answer ``{"response": ok, "message": message}``, compact."""
    if not isinstance(message, str):
        raise TypeError("the message must be a str")
    # json's own string encoders, the fast path for the echo: UTF-8, or escapes for
    # what UTF-8 cannot hold (a lone surrogate the client sent as "\\ud83d").
    try:
        text = encode_basestring(message).encode()
    except UnicodeEncodeError:
        text = encode_basestring_ascii(message).encode()
    return (_OK if ok else _NOT_OK) + text + b"}"


def _headers_repr(headers: tuple[tuple[str, str], ...]) -> str:
    return repr([(n, "<hidden>" if n == "set-cookie" else v) for n, v in headers])


@attrs.frozen
class Fault:
    """One scripted answer of the stub server; build it with the named constructors.

    A fault is a canned response, except for ``delay`` (sleep, then answer as
    usual), ``drop`` (close the connection without answering) and the faults
    that need a real socket: ``trickle``, ``large``, ``gzip_bomb`` and ``cut``.

    Attributes:
        kind: Which constructor made it, e.g. ``"status"`` or ``"drop"``.
        status_code: The status of the answer.
        headers: The headers of the answer, lower-case names (a ``Set-Cookie``
            value is never shown by ``repr``).
        body: The body of a canned answer; empty when the answer is the echo.
        seconds: How long ``delay`` sleeps; the ``trickle`` interval.
        size: A count of bytes: the ``trickle`` tail, the ``large`` body, the
            ``gzip_bomb`` inflated size, the bytes sent before a ``cut``.
        content_length: Whether ``large`` sends a ``Content-Length``.
        reset: Whether ``cut`` resets the connection (RST) instead of closing it (FIN).
    """

    kind: FaultKind
    status_code: int = 200
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=_headers_repr)
    body: bytes = b""
    seconds: float = 0.0
    size: int = 0
    content_length: bool = True
    reset: bool = False

    @classmethod
    def status(
        cls,
        code: int,
        *,
        retry_after: str | int | None = None,
        body: str | bytes | None = None,
        content_type: str = JSON,
    ) -> Fault:
        """Answer with HTTP status ``code`` (200..599).

        Args:
            code: The status code.
            retry_after: A ``Retry-After`` header: seconds, or a raw string such
                as an HTTP date.
            body: The body; by default a ``{"response": false, ...}`` JSON object
                naming the status (plain text when ``content_type`` is not JSON).
            content_type: The ``Content-Type`` header.
        """
        _check_status(code)
        headers = [("content-type", content_type)]
        if retry_after is not None:
            if isinstance(retry_after, bool) or not isinstance(retry_after, (int, str)):
                raise TypeError("retry_after must be an int (seconds) or a str")
            headers.append(("retry-after", str(retry_after)))
        if body is None:
            phrase = _phrase(code)
            body = service_body(False, phrase) if content_type.startswith(JSON) else phrase
        return cls("status", code, tuple(headers), _bytes(body))

    @classmethod
    def refuse(cls, message: str = "quota exceeded") -> Fault:
        """Answer 200 ``{"response": false, "message": message}``, a refusal by the service."""
        return cls("refuse", 200, JSON_HEADERS, service_body(False, message))

    @classmethod
    def reply(cls, text: str) -> Fault:
        """Answer 200 ``{"response": true, "message": text}`` instead of the echo."""
        return cls("reply", 200, JSON_HEADERS, service_body(True, text))

    @classmethod
    def challenge(cls) -> Fault:
        """Answer 403 with the anti-bot HTML page ("Just a moment...")."""
        return cls("challenge", 403, (("content-type", HTML),), CHALLENGE_PAGE)

    @classmethod
    def malformed(cls, body: bytes | str = b"{not json") -> Fault:
        """Answer 200 ``application/json`` with a body that is not valid JSON."""
        return cls("malformed", 200, JSON_HEADERS, _bytes(body))

    @classmethod
    def redirect(cls, location: str = "http://127.0.0.1:9/elsewhere", status: int = 302) -> Fault:
        """Answer a redirect (3xx) to ``location``, with an empty body."""
        if isinstance(status, bool) or not isinstance(status, int) or not 300 <= status <= 399:
            raise ValueError(f"a redirect status is in 300..399, not {status!r}")
        return cls("redirect", status, (("location", location),))

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Sleep ``seconds``, then answer as usual (the echo).

        The sleep ends early when the client goes away.
        """
        return cls("delay", seconds=_seconds("seconds", seconds))

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without sending a byte of response.

        httpx raises ``RemoteProtocolError("Server disconnected without sending a
        response.")``.
        """
        return cls("drop")

    @classmethod
    def trickle(cls, *, interval: float = 1.0, tail: int = 10) -> Fault:
        """Answer the echo slowly: all but the last ``tail`` body bytes at once, then
        one byte every ``interval`` seconds.

        The ``Content-Length`` is correct, so only a bound on the whole attempt
        (not on each read) stops a client early. The server stops trickling when
        the client goes away.

        Args:
            interval: Seconds before each of the last bytes.
            tail: How many bytes are trickled (at most the whole body).
        """
        return cls(
            "trickle",
            seconds=_seconds("interval", interval),
            size=_count("tail", tail),
        )

    @classmethod
    def large(cls, size: int, *, content_length: bool = True) -> Fault:
        """Answer 200 ``application/json`` with a body of ``size`` bytes.

        The body is a valid answer (its message is ``"aaa..."``), generated in
        chunks as it is sent, so a client without a body cap would accept it.

        Args:
            size: The body size in bytes, at least 30 (e.g. ``64 << 20``).
            content_length: Send a ``Content-Length`` header; ``False`` sends
                the body chunked, without one.
        """
        if not isinstance(content_length, bool):
            raise TypeError("content_length must be a bool")
        size = _count("size", size, minimum=_MIN_SIZE)
        return cls("large", 200, JSON_HEADERS, size=size, content_length=content_length)

    @classmethod
    def gzip_bomb(cls, inflated: int = 1 << 30) -> Fault:
        """Answer 200 ``application/json`` with ``content-encoding: gzip``: a small
        body (about ``inflated / 1000`` bytes) that inflates to ``inflated`` bytes.

        The inflated body is a valid answer (its message is ``"aaa..."``). The
        compressed bytes are built once per process and size (cached): building
        them for the default 1 GiB takes about half a second, here.

        Args:
            inflated: The decompressed size in bytes, 30 to 64 GiB.
        """
        inflated = _count("inflated", inflated, minimum=_MIN_SIZE)
        if inflated > _MAX_INFLATED:
            raise ValueError(f"inflated must be at most {_MAX_INFLATED}, not {inflated!r}")
        gzip_bomb_body(inflated)  # built now, in the caller's thread, not in the server's loop
        headers = (*JSON_HEADERS, ("content-encoding", "gzip"))
        return cls("gzip_bomb", 200, headers, size=inflated)

    @classmethod
    def cut(cls, after: int = 10, *, reset: bool = False) -> Fault:
        """Send the echo's headers, with its full ``Content-Length``, then only
        ``after`` body bytes, then close the connection.

        Args:
            after: Body bytes sent before the cut (at most all but the last one).
            reset: Reset the connection (a TCP RST: ``SO_LINGER`` 0, then close)
                instead of closing it normally (a FIN).
        """
        if not isinstance(reset, bool):
            raise TypeError("reset must be a bool")
        return cls("cut", size=_count("after", after), reset=reset)

    @classmethod
    def set_cookie(cls, *values: str, text: str | None = None) -> Fault:
        """Answer 200 with one ``Set-Cookie`` header per value.

        Args:
            values: The raw header values, e.g. ``"sid=new; Path=/; HttpOnly"``.
            text: The reply's text; ``None`` answers the echo.
        """
        headers = [*JSON_HEADERS]
        for value in values:
            if not isinstance(value, str):
                raise TypeError(f"a Set-Cookie value is a str, not {type(value).__name__}")
            if any(c in value for c in "\r\n\0") or not value.isascii():
                raise ValueError("a Set-Cookie value must be ASCII without CR, LF or NUL")
            headers.append(("set-cookie", value))
        body = b"" if text is None else service_body(True, text)
        return cls("set_cookie", 200, tuple(headers), body)

    @classmethod
    def echo_cookie(cls, status: int = 500) -> Fault:
        """Answer ``status`` with a ``text/plain`` body quoting the request's
        ``Cookie`` header verbatim: a hostile server, to test that no cookie
        value leaks into errors or logs.
        """
        _check_status(status)
        return cls("echo_cookie", status, TEXT_HEADERS)


@attrs.frozen
class Canned:
    """A complete answer: status, headers (without ``Content-Length``) and body."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = attrs.field(repr=False)


def canned(fault: Fault | None, payload: object, cookie: str) -> Canned:
    """The answer to a request for ``fault`` (``None``: the echo).

    Args:
        fault: The fault to play; ``drop``, ``large`` and ``gzip_bomb`` have no
            canned answer (``ValueError``). ``delay``, ``trickle`` and ``cut``
            answer the echo (the caller plays their timing).
        payload: The request body parsed as JSON (``None`` when it is not).
        cookie: The request's ``Cookie`` header (``""`` when absent).
    """
    if fault is None or fault.kind in ("delay", "trickle", "cut"):
        return _echo(payload, JSON_HEADERS)
    if fault.kind == "set_cookie" and not fault.body:
        return _echo(payload, fault.headers)
    if fault.kind == "echo_cookie":
        text = f"invalid session; the request carried Cookie: {cookie}"
        return Canned(fault.status_code, fault.headers, text.encode("latin-1", "replace"))
    if fault.kind in ("drop", "large", "gzip_bomb"):
        raise ValueError(f"Fault.{fault.kind}() has no canned answer")
    return Canned(fault.status_code, fault.headers, fault.body)


def _echo(payload: object, headers: tuple[tuple[str, str], ...]) -> Canned:
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(message, str):
        return Canned(400, JSON_HEADERS, service_body(False, BAD_BODY))
    return Canned(200, headers, service_body(True, "Echo: " + message))


def large_body(size: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """The body of ``Fault.large(size)``, in chunks of at most ``chunk`` bytes."""
    yield _PREFIX
    left = size - _MIN_SIZE
    filler = b"a" * chunk
    while left > 0:
        part = filler if left >= chunk else filler[:left]
        left -= len(part)
        yield part
    yield _SUFFIX


@functools.lru_cache(maxsize=4)
def gzip_bomb_body(inflated: int) -> bytes:
    """A gzip member that inflates to ``inflated`` bytes of a valid answer (cached).

    Each 1 MiB of ``"a"`` compresses on its own (a full flush resets the
    compressor), so one compressed MiB is built once and repeated: only the
    CRC-32 reads every inflated byte.
    """
    block = b"a" * _CHUNK
    middle, rest = divmod(inflated - _MIN_SIZE, _CHUNK)
    crc = zlib.crc32(_PREFIX)
    for _ in range(middle):
        crc = zlib.crc32(block, crc)
    tail = block[:rest] + _SUFFIX
    crc = zlib.crc32(tail, crc)
    parts = [
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff",  # gzip header: deflate, no name, mtime 0
        _deflate(_PREFIX, zlib.Z_FULL_FLUSH),
        _deflate(block, zlib.Z_FULL_FLUSH) * middle,
        _deflate(tail, zlib.Z_FINISH),
        crc.to_bytes(4, "little"),
        (inflated & 0xFFFFFFFF).to_bytes(4, "little"),
    ]
    return b"".join(parts)


def _deflate(data: bytes, mode: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(mode)


def _check_status(code: object) -> None:
    if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
        raise ValueError(f"status code must be an int in 200..599, not {code!r}")


def _seconds(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return float(value)


def _count(name: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, not {value!r}")
    return value


def _phrase(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _bytes(body: str | bytes) -> bytes:
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes):
        return body
    raise TypeError(f"a body is str or bytes, not {type(body).__name__}")
