"""Every client kind (sync, async on asyncio, async on trio) against the stub over loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aichat_adapters import Message
from aichat_adapters.stub import StubServer
from tests.support import COOKIES, Complete, call, g4f_format_prompt, options_for


def test_string_prompt_round_trip(complete: Complete, stub: StubServer) -> None:
    reply = complete("Hello, how are you?")

    assert reply.text == "Echo: Hello, how are you?"
    assert reply.attempts == 1
    assert reply.raw == {"response": True, "message": "Echo: Hello, how are you?"}
    [request] = stub.requests
    assert request.method == "POST"
    assert request.path == "/api/text"
    assert request.json == {
        "message": "Hello, how are you?",
        "temperature": 0.5,
        "presence_penalty": 0,
        "top_p": 1,
        "frequency_penalty": 0,
    }
    assert request.cookies == COOKIES
    assert request.headers["origin"] == stub.url
    assert request.headers["referer"] == f"{stub.url}/chat"
    assert "Chrome/" in request.headers["user-agent"]


def test_multi_turn_message_is_g4f_format_prompt(complete: Complete, stub: StubServer) -> None:
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "What is 2+2?\nJust the number."},
    ]

    reply = complete(history)

    expected = g4f_format_prompt(history)
    assert expected.startswith("System: Be brief.\nUser: Hi\nAssistant: Hello!\nUser: What")
    assert stub.requests[0].json == {
        "message": expected,
        "temperature": 0.5,
        "presence_penalty": 0,
        "top_p": 1,
        "frequency_penalty": 0,
    }
    assert reply.text == f"Echo: {expected}"


def test_parameters_travel_in_the_json_body(complete: Complete, stub: StubServer) -> None:
    complete(
        [Message.user("Hi")],
        temperature=0.2,
        top_p=0.9,
        presence_penalty=-1.5,
        frequency_penalty=2,
    )

    body: Any = json.loads(stub.requests[0].body)
    assert body == {
        "message": "Hi",
        "temperature": 0.2,
        "presence_penalty": -1.5,
        "top_p": 0.9,
        "frequency_penalty": 2,
    }
    assert list(body) == [
        "message",
        "temperature",
        "presence_penalty",
        "top_p",
        "frequency_penalty",
    ]


def test_extra_headers_are_sent(complete: Complete, stub: StubServer) -> None:
    complete("Hi", client={"headers": {"X-Trace": "abc", "User-Agent": "mine/1.0"}})

    headers = stub.requests[0].headers
    assert headers["x-trace"] == "abc"
    assert headers["user-agent"] == "mine/1.0"


def test_required_cookies_pass_with_the_right_ones(kind: str, stub: StubServer) -> None:
    stub.require_cookies({"session": "s3cr3t-session"})
    reply = call(kind, options_for(stub), "Hi")
    [request] = stub.requests

    assert reply.text == "Echo: Hi"
    assert request.cookies["session"] == "s3cr3t-session"


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param(
            [{"role": "user", "content": [{"type": "text", "text": "a"}, "b"]}], id="parts"
        ),
        pytest.param(Message.user("ab"), id="message"),
        pytest.param({"role": "USER", "content": "ab"}, id="dict"),
    ],
)
def test_message_shapes_send_the_same_prompt(
    complete: Complete, stub: StubServer, messages: Any
) -> None:
    complete(messages)

    assert stub.requests[0].json["message"] == "ab"  # type: ignore[index]
