"""Every class of the error tree, from the matching stub scenario, for every client kind."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from aichat_adapters import (
    AichatError,
    APIStatusError,
    AsyncHttpxTransport,
    AuthenticationError,
    ChallengeError,
    ConnectError,
    CookiesNotFoundError,
    HttpxTransport,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
    ServiceError,
    TransportError,
)
from aichat_adapters.stub import Fault, StubServer

from .conftest import Complete
from .helpers import COOKIES, FAST, call, options_for

NO_RETRY = {"max_retries": 0}


@pytest.mark.parametrize(
    ("fault", "error_type", "status"),
    [
        pytest.param(Fault.refuse("quota exceeded"), ServiceError, None, id="refusal"),
        pytest.param(Fault.challenge(), ChallengeError, 403, id="challenge"),
        pytest.param(Fault.status(403), AuthenticationError, 403, id="403-json"),
        pytest.param(Fault.status(401), AuthenticationError, 401, id="401"),
        pytest.param(Fault.status(429), RateLimitError, 429, id="429"),
        pytest.param(Fault.status(500), ServerError, 500, id="500"),
        pytest.param(Fault.status(418), APIStatusError, 418, id="418"),
        pytest.param(Fault.redirect(), APIStatusError, 302, id="redirect"),
        pytest.param(Fault.malformed(), ResponseFormatError, None, id="not-json"),
        pytest.param(Fault.drop(), ConnectError, None, id="dropped"),
    ],
)
def test_fault_raises_its_error_class(
    complete: Complete,
    stub: StubServer,
    fault: Fault,
    error_type: type[AichatError],
    status: int | None,
) -> None:
    stub.enqueue(fault)

    with pytest.raises(error_type) as caught:
        complete("Hi", client=NO_RETRY)

    assert type(caught.value) is error_type
    assert caught.value.attempts == 1
    assert len(stub.requests) == 1
    if status is not None:
        assert isinstance(caught.value, APIStatusError)
        assert caught.value.status_code == status


def test_refusal_carries_the_payload(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.refuse("quota exceeded"))

    with pytest.raises(ServiceError) as caught:
        complete("Hi")

    assert caught.value.payload == {"response": False, "message": "quota exceeded"}
    assert "quota exceeded" in str(caught.value)
    assert len(stub.requests) == 1  # a refusal is never retried


def test_redirect_is_not_followed(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.redirect(location=f"{stub.url}/elsewhere"))

    with pytest.raises(APIStatusError) as caught:
        complete("Hi")

    assert caught.value.status_code == 302
    assert "/elsewhere" in str(caught.value)
    assert [r.path for r in stub.requests] == ["/api/text"]


def test_timeout_shorter_than_the_delay(complete: Complete, stub: StubServer) -> None:
    stub.enqueue(Fault.delay(2.0))

    with pytest.raises(RequestTimeoutError) as caught:
        complete("Hi", client={"timeout": 0.2, "max_retries": 0})

    assert isinstance(caught.value, TimeoutError)
    assert caught.value.attempts == 1


def test_connection_refused_is_a_connect_error(kind: str) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {"base_url": f"http://127.0.0.1:{port}", "cookies": COOKIES, "max_retries": 1}
    with pytest.raises(ConnectError) as caught:
        call(kind, {**options, "retry_policy": FAST}, "Hi")

    assert isinstance(caught.value, TransportError)
    assert caught.value.attempts == 2


def test_answer_larger_than_the_cap(kind: str, stub: StubServer) -> None:
    stub.enqueue(Fault.reply("x" * 5000))
    if kind == "sync":
        transport: Any = HttpxTransport(max_body_size=1000)
    else:
        transport = AsyncHttpxTransport(max_body_size=1000)

    with pytest.raises(ResponseFormatError, match="larger than 1000 bytes"):
        call(kind, options_for(stub, transport=transport), "Hi")


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


def test_wrong_cookies_meet_the_challenge(kind: str) -> None:
    with StubServer(require_cookies={"session": "the-right-one"}) as guarded:
        with pytest.raises(ChallengeError) as caught:
            call(kind, options_for(guarded), "Hi")
        assert len(guarded.requests) == 1

    assert "fresh cookies" in str(caught.value)


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
