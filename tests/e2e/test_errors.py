"""Errors beyond the transport contract (tests/contract): refusals, cookies, input, options."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from aichat_adapters import (
    ChallengeError,
    ConnectError,
    CookiesNotFoundError,
    InvalidRequestError,
    ServiceError,
    TransportError,
)
from aichat_adapters.stub import Fault, StubServer
from tests.support import COOKIES, FAST, Complete, call, options_for

NO_RETRY = {"max_retries": 0}


def test_refusal_carries_the_payload(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.refuse("quota exceeded"))

    with pytest.raises(ServiceError) as caught:
        complete("Hi")

    assert caught.value.payload == {"response": False, "message": "quota exceeded"}
    assert "quota exceeded" in str(caught.value)
    assert len(stub.requests) == 1  # a refusal is never retried


def test_connection_refused_is_a_connect_error(kind: str) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {"base_url": f"http://127.0.0.1:{port}", "cookies": COOKIES, "max_retries": 1}
    with pytest.raises(ConnectError) as caught:
        call(kind, {**options, "retry_policy": FAST}, "Hi")

    assert isinstance(caught.value, TransportError)
    assert caught.value.attempts == 2


def test_no_cookies_anywhere(
    kind: str, stub: StubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "cookies.txt"
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(missing))
    monkeypatch.setenv("HOME", str(tmp_path))  # no browser profile either

    with pytest.raises(CookiesNotFoundError) as caught:
        call(kind, {"base_url": stub.url}, "Hi")

    message = str(caught.value)
    assert "AICHAT_COOKIES" in message
    assert str(missing) in message
    assert isinstance(caught.value, RuntimeError)
    assert caught.value.attempts == 0
    assert stub.requests == []


def test_wrong_cookies_meet_the_challenge(kind: str, stub: StubServer) -> None:
    stub.require_cookies({"session": "the-right-one"})
    with pytest.raises(ChallengeError) as caught:
        call(kind, options_for(stub), "Hi")
    assert len(stub.requests) == 1
    site = stub.url

    assert "fresh cookies" in str(caught.value)
    # The hint names the site asked, not chat-gpt.org (issue 13).
    assert f"open {site} in a browser" in str(caught.value)
    assert "chat-gpt.org" not in str(caught.value)


@pytest.mark.parametrize(
    ("messages", "params", "needle"),
    [
        pytest.param("Hi", {"temperature": 3}, "temperature", id="temperature"),
        pytest.param("Hi", {"top_p": -0.1}, "top_p", id="top_p"),
        pytest.param([], {}, "empty", id="empty-messages"),
        pytest.param([{"role": "robot", "content": "Hi"}], {}, "robot", id="unknown-role"),
        pytest.param("Hi", {"model": "gpt-4"}, "gpt-3.5-turbo", id="unsupported-model"),
        pytest.param(
            [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}],
            {},
            "image_url",
            id="image-part",
        ),
    ],
)
def test_invalid_input_sends_nothing(
    complete: Complete, stub: StubServer, messages: Any, params: dict[str, Any], needle: str
) -> None:
    with pytest.raises(InvalidRequestError, match=needle) as caught:
        complete(messages, **params)

    assert isinstance(caught.value, ValueError)
    assert caught.value.attempts == 0
    assert stub.requests == []


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        pytest.param({"timeout": 0}, "timeout", id="timeout"),
        pytest.param({"base_url": "ftp://chat-gpt.org"}, "base_url", id="base-url"),
        pytest.param({"max_retries": -1}, "max_retries", id="max-retries"),
        pytest.param({"deadline": -5}, "deadline", id="deadline"),
        pytest.param(
            {"cookies": None, "cookie_source": object()}, "get_cookies", id="cookie-source"
        ),
        pytest.param({"cookies": "no-equals-sign"}, "name=value", id="cookie-string"),
    ],
)
def test_invalid_options_raise_before_any_request(
    kind: str, stub: StubServer, options: dict[str, Any], needle: str
) -> None:
    with pytest.raises(InvalidRequestError, match=needle):
        call(kind, options_for(stub, **options), "Hi")

    assert stub.requests == []
