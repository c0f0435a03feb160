"""Scripted faults: what the stub answers instead of the echo, one per request."""

from __future__ import annotations

import json
import math
from http import HTTPStatus
from typing import Literal

import attrs

__all__ = ["CHALLENGE_PAGE", "JSON_HEADERS", "Fault", "FaultKind", "service_body"]

FaultKind = Literal[
    "status", "refuse", "challenge", "malformed", "redirect", "delay", "drop", "reply"
]

CHALLENGE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><h1>Just a moment...</h1>"
    b"<p>Checking your browser before accessing chat-gpt.org.</p></body></html>"
)

JSON = "application/json"
HTML = "text/html"
JSON_HEADERS = (("content-type", JSON),)


def service_body(ok: bool, message: str) -> bytes:
    """The service's JSON answer ``{"response": ok, "message": message}``."""
    if not isinstance(message, str):
        raise TypeError("the message must be a str")
    payload = {"response": ok, "message": message}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@attrs.frozen
class Fault:
    """One scripted answer of the stub server; build it with the named constructors.

    A fault is a canned response, except for ``delay`` (sleep, then answer as
    usual) and ``drop`` (close the connection without answering).

    Attributes:
        kind: Which constructor made it, e.g. ``"status"`` or ``"drop"``.
        status_code: The status of the canned response.
        headers: The headers of the canned response, lower-case names.
        body: The body of the canned response.
        seconds: How long ``delay`` sleeps.
    """

    kind: FaultKind
    status_code: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0

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
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise ValueError(f"status code must be an int in 200..599, not {code!r}")
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
        if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        return cls("delay", seconds=float(seconds))

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without sending a byte of response.

        httpx raises ``RemoteProtocolError("Server disconnected without sending a
        response.")``.
        """
        return cls("drop")


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
