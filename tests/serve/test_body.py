"""Request bodies: the cap (413 without reading), the time limit (408), hostile JSON (400)."""

from __future__ import annotations

import json
import time
from collections.abc import MutableMapping
from typing import Any

import anyio
import httpx
import pytest

from aichat_adapters.serve import create_app
from aichat_adapters.serve._chat import RequestProblem, parse_chat
from aichat_adapters.serve._settings import DEFAULT_MODELS
from aichat_adapters.stub import StubServer
from tests.support import client_for, live

CHUNK = 64 * 1024


class Peer:
    """An ASGI client that sends a body in chunks and counts what the app pulled."""

    def __init__(self, chunks: int, *, length: int | None = None, stall: bool = False) -> None:
        self.chunks, self.stall, self.pulled = chunks, stall, 0
        self.headers = [(b"host", b"localhost"), (b"content-type", b"application/json")]
        if length is not None:
            self.headers.append((b"content-length", str(length).encode()))
        self.sent: list[MutableMapping[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= self.chunks:
            await anyio.sleep_forever()
        self.pulled += 1
        if self.stall and self.pulled == 2:
            await anyio.sleep_forever()
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": True}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)

    def scope(self) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/chat/completions",
            "raw_path": b"/v1/chat/completions",
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8000),
        }

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


@pytest.mark.anyio
async def test_a_declared_length_over_the_cap_is_refused_without_reading(stub: StubServer) -> None:
    peer = Peer(chunks=10_000, length=32 << 20)
    async with client_for(stub) as client:
        await create_app(client)(peer.scope(), peer.receive, peer.send)
    assert peer.status == 413
    assert peer.pulled == 0
    assert stub.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("length", [b"9" * 5000, b"0" * 5000 + b"1048577"])
async def test_a_declared_length_of_thousands_of_digits_is_over_the_cap(
    stub: StubServer, length: bytes
) -> None:
    peer = Peer(chunks=3)
    peer.headers.append((b"content-length", length))
    async with client_for(stub) as client:
        await create_app(client, max_body=1 << 20)(peer.scope(), peer.receive, peer.send)
    assert peer.status == 413
    assert peer.pulled == 0
    assert stub.requests == []


@pytest.mark.anyio
async def test_a_chunked_body_over_the_cap_is_read_no_further(stub: StubServer) -> None:
    peer = Peer(chunks=512)  # 32 MiB, without a Content-Length
    async with client_for(stub) as client:
        await create_app(client, max_body=1 << 20)(peer.scope(), peer.receive, peer.send)
    assert peer.status == 413
    assert peer.pulled * CHUNK <= (1 << 20) + CHUNK
    assert stub.requests == []


@pytest.mark.anyio
async def test_a_body_that_stops_coming_gets_408(stub: StubServer) -> None:
    peer = Peer(chunks=100, stall=True)
    started = time.monotonic()
    async with client_for(stub) as client:
        app = create_app(client, body_timeout=0.3)
        with anyio.fail_after(5):
            await app(peer.scope(), peer.receive, peer.send)
    assert peer.status == 408
    assert time.monotonic() - started < 0.3 + 2
    assert stub.requests == []


def test_32_mib_gets_413_fast_and_the_server_keeps_serving(stub: StubServer) -> None:
    body = b'{"messages": [{"role": "user", "content": "' + b"a" * (32 << 20) + b'"}]}'
    with live(stub) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        started = time.monotonic()
        refused = http.post(
            "/chat/completions", content=body, headers={"content-type": "application/json"}
        )
        took = time.monotonic() - started
        chat = {"messages": [{"role": "user", "content": "still there?"}]}
        answered = http.post("/chat/completions", json=chat)
        chunked = http.post(
            "/chat/completions",
            content=iter([body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)]),
            headers={"content-type": "application/json"},
        )
        again = http.post("/chat/completions", json=chat)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "request_too_large"
    assert took < 10  # a hang bound, not a speed claim
    assert answered.status_code == 200
    assert chunked.status_code == 413
    assert again.status_code == 200
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == [
        "still there?"
    ] * 2


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"temperature": NaN, "messages": []}', "not valid JSON"),
        (b'{"temperature": Infinity, "messages": []}', "not valid JSON"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"{}", "messages must be"),
        (b'{"messages": []}', "messages must be"),
        (b'{"messages": "Hi"}', "messages must be"),
        (b'{"messages": ["Hi"]}', "messages[0] must be"),
        (b'{"messages": [{"role": "robot", "content": "Hi"}]}', "messages[0].role"),
        (b'{"messages": [{"role": "user"}]}', "messages[0].content is missing"),
        (b'{"messages": [{"role": "user", "content": 5}]}', "messages[0].content"),
        (b'{"messages": [{"role": "tool", "content": "x"}]}', "tool calling"),
        (b'{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}', "image_url"),
        (b'{"messages": [{"role": "user", "content": "\\ud800"}]}', "lone surrogate"),
        (b'{"messages": [{"role": "user", "content": "   "}]}', "empty"),
        (b'{"model": 5, "messages": [{"role": "user", "content": "Hi"}]}', "not served here"),
        (b'{"stream": "yes", "messages": [{"role": "user", "content": "Hi"}]}', "stream must be"),
        (
            b'{"stream_options": [], "messages": [{"role": "user", "content": "Hi"}]}',
            "stream_options",
        ),
        (b'{"top_p": "1", "messages": [{"role": "user", "content": "Hi"}]}', "top_p must be"),
        (
            b'{"presence_penalty": true, "messages": [{"role": "user", "content": "Hi"}]}',
            "presence_penalty",
        ),
        (b'{"n": true, "messages": [{"role": "user", "content": "Hi"}]}', "n="),
        (
            b'{"tool_choice": "required", "messages": [{"role": "user", "content": "Hi"}]}',
            "tool_choice",
        ),
        (
            b'{"functions": [{"name": "f"}], "messages": [{"role": "user", "content": "Hi"}]}',
            "functions",
        ),
        (
            b'{"response_format": {"type": "json_schema"}, "messages": []}',
            "json_schema",
        ),
        (b'{"top_logprobs": 2, "messages": [{"role": "user", "content": "Hi"}]}', "top_logprobs"),
        (
            b'{"modalities": ["audio"], "messages": [{"role": "user", "content": "Hi"}]}',
            "modalities",
        ),
    ],
)
def test_bad_bodies_get_400_naming_what_is_wrong(raw: bytes, words: str) -> None:
    with pytest.raises(RequestProblem) as raised:
        parse_chat(raw, DEFAULT_MODELS)
    problem = raised.value.problem
    assert problem.status == 400
    assert words in problem.message
    body = json.loads(problem.body())
    assert body["error"]["type"] == "invalid_request_error"
    assert "\n" not in body["error"]["message"]


def test_harmless_fields_are_accepted_and_change_nothing() -> None:
    base = {"model": "aichat", "messages": [{"role": "user", "content": "Hi"}]}
    extra = {
        "user": "u1",
        "seed": 3,
        "max_tokens": 5,
        "max_completion_tokens": 5,
        "stop": ["\n"],
        "n": 1,
        "logprobs": False,
        "response_format": {"type": "text"},
        "tool_choice": "none",
        "metadata": {"a": "b"},
        "temperature": None,
    }
    plain = parse_chat(json.dumps(base).encode(), DEFAULT_MODELS)
    assert parse_chat(json.dumps({**base, **extra}).encode(), DEFAULT_MODELS) == plain


def test_developer_is_a_system_message_and_parts_are_joined() -> None:
    raw = {
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            },
        ]
    }
    chat = parse_chat(json.dumps(raw).encode(), DEFAULT_MODELS)
    assert chat.prompt == "System: Be brief.\nUser: ab\nAssistant:"
    assert chat.model == "gpt-3.5-turbo"
    assert chat.stream is False
    assert chat.include_usage is False
