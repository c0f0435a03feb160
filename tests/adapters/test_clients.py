"""The clients with fakes at the port boundary: a scripted transport, scripted cookie sources."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

import pytest

from aichat_adapters import (
    AichatClient,
    AsyncAichatClient,
    ConnectError,
    CookiesNotFoundError,
    InvalidRequestError,
    RetryPolicy,
    ServerError,
)
from aichat_core import HttpRequest, HttpResponse

OK = HttpResponse(200, {"content-type": "application/json"}, b'{"response": true, "message": "hi"}')
FAIL = HttpResponse(503, {}, b"busy")
NO_WAIT = RetryPolicy(initial_wait=0, jitter=0)


class FakeTransport:
    """Answers from a script; records what it was sent and whether it was closed."""

    def __init__(self, *script: HttpResponse | Exception) -> None:
        self.script = list(script)
        self.sent: list[tuple[HttpRequest, float]] = []
        self.closed = False

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        self.sent.append((request, timeout))
        answer = self.script.pop(0) if self.script else OK
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        self.closed = True


class AsyncFakeTransport(FakeTransport):
    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:  # type: ignore[override]
        return FakeTransport.send(self, request, timeout=timeout)

    async def aclose(self) -> None:
        self.closed = True


def test_sync_client_uses_the_given_transport_and_closes_it() -> None:
    fake = FakeTransport(FAIL, ConnectError("reset"))
    with AichatClient(cookies="sid=1", transport=fake, retry_policy=NO_WAIT, timeout=7) as client:
        reply = client.complete("Hello")

    assert reply.text == "hi"
    assert reply.attempts == 3
    assert fake.closed
    request, timeout = fake.sent[0]
    assert timeout == 7
    assert json.loads(request.body)["message"] == "Hello"
    assert dict(request.headers)["cookie"] == "sid=1"


@pytest.mark.anyio
async def test_async_client_uses_the_given_transport_and_closes_it() -> None:
    fake = AsyncFakeTransport(FAIL)
    async with AsyncAichatClient(cookies="sid=1", transport=fake, retry_policy=NO_WAIT) as client:
        reply = await client.complete("Hello")

    assert (reply.text, reply.attempts) == ("hi", 2)
    assert fake.closed


@pytest.mark.parametrize(
    ("max_retries", "expected_attempts"), [(None, 5), (0, 1), (1, 2)], ids=["policy", "0", "1"]
)
def test_max_retries_overrides_the_policy(max_retries: int | None, expected_attempts: int) -> None:
    fake = FakeTransport(*[FAIL] * 10)
    policy = RetryPolicy(max_retries=4, initial_wait=0, jitter=0)
    client = AichatClient(
        cookies="a=b", transport=fake, retry_policy=policy, max_retries=max_retries
    )

    with pytest.raises(ServerError) as caught:
        client.ask("Hi")

    assert caught.value.attempts == expected_attempts == len(fake.sent)


def test_default_retry_policy_is_designs() -> None:
    client = AichatClient(cookies="a=b", transport=FakeTransport())

    assert client.retry_policy == RetryPolicy(max_retries=2, initial_wait=0.5, max_wait=8.0)
    assert client.timeout == 60.0
    assert client.base_url == "https://chat-gpt.org"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"cookies": "a=b", "cookie_source": object()}, "not both"),
        ({"cookies": "a=b", "transport": FakeTransport(), "proxy": "http://p:1"}, "transport"),
        ({"cookies": "a=b", "headers": {"x": 1}}, "headers"),
        ({"cookies": "a=b", "timeout": True}, "timeout"),
    ],
)
def test_conflicting_or_bad_options(options: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidRequestError, match=needle):
        AichatClient(**options)  # type: ignore[arg-type]


class Source:
    def __init__(self, cookies: object) -> None:
        self.cookies = cookies
        self.threads: list[int] = []

    def get_cookies(self) -> Mapping[str, str]:
        self.threads.append(threading.get_ident())
        return self.cookies  # type: ignore[return-value]


def test_a_source_that_gives_nothing() -> None:
    client = AichatClient(cookie_source=Source({}), transport=(fake := FakeTransport()))

    with pytest.raises(CookiesNotFoundError, match="gave no cookies"):
        client.ask("Hi")
    assert fake.sent == []


def test_a_source_that_gives_a_non_mapping() -> None:
    client = AichatClient(cookie_source=Source(["a"]), transport=FakeTransport())

    with pytest.raises(InvalidRequestError, match="mapping"):
        client.ask("Hi")


@pytest.mark.anyio
@pytest.mark.parametrize("blocking", [True, False])
async def test_blocking_sources_run_in_a_worker_thread(blocking: bool) -> None:
    source = Source({"a": "b"})
    source.blocking = blocking  # type: ignore[attr-defined]
    async with AsyncAichatClient(cookie_source=source, transport=AsyncFakeTransport()) as client:
        await client.ask("Hi")

    ran_here = source.threads == [threading.get_ident()]
    assert ran_here is not blocking


def test_repr_names_the_source_but_no_value() -> None:
    client = AichatClient(cookies={"sid": "s3cr3t-v4lue"}, transport=FakeTransport())

    text = repr(client)
    assert "sid" in text
    assert "s3cr3t-v4lue" not in text
    assert "https://chat-gpt.org" in text


def test_chat_keeps_the_history_and_conversation_is_its_former_name() -> None:
    from aichat_adapters.testing import FakeTransport as ScriptedTransport

    transport = ScriptedTransport("first answer", "second answer")
    with AichatClient(cookies={"a": "b"}, transport=transport) as client:
        chat = client.chat(system="Be brief.")
        assert chat.ask("one") == "first answer"
        assert chat.ask("two") == "second answer"
        assert type(client.conversation()) is type(chat)
    last = transport.requests[-1].body.decode()
    assert "System: Be brief.\\nUser: one\\nAssistant: first answer\\nUser: two" in last
