"""The test kit's fake transports: every answer kind, alone and behind the real clients."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import anyio
import httpx
import pytest

from aichat_adapters import AichatClient, AsyncAichatClient, RetryPolicy
from aichat_adapters.stub import Fault, StubServer
from aichat_adapters.testing import Answer, AsyncFakeTransport, FakeTransport
from aichat_core import (
    ConnectError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    RequestTimeoutError,
    ServerError,
    ServiceError,
)

URL = "http://fake.test/api/text"
FAST = RetryPolicy(initial_wait=0.01, max_wait=0.05)


def request(message: str = "Hello", *, cookie: str | None = "sid=s3cret") -> HttpRequest:
    headers = [("content-type", "application/json")]
    if cookie is not None:
        headers.append(("Cookie", cookie))
    body = json.dumps({"message": message, "temperature": 0.5}).encode()
    return HttpRequest("POST", URL, tuple(headers), body)


def answer_of(response: HttpResponse) -> object:
    return json.loads(response.body)


# Every answer a fake transport can give, with the stub's own answer as the oracle.
CANNED: list[Answer | None] = [
    None,
    "Scripted reply",
    Fault.reply("Also scripted"),
    Fault.status(429, retry_after=7),
    Fault.status(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
    Fault.status(502, body="<h1>Bad gateway</h1>", content_type="text/html"),
    Fault.status(500),
    Fault.refuse(),
    Fault.challenge(),
    Fault.malformed(),
    Fault.redirect(),
    Fault.set_cookie("session=new; Path=/; HttpOnly", "cf_clearance=x; Max-Age=0"),
    Fault.set_cookie("a=1", text="with a cookie"),
    Fault.echo_cookie(),
    Fault.echo_cookie(403),
    Fault.delay(0),
]


def canned_id(answer: Answer | None) -> str:
    if answer is None:
        return "echo"
    if isinstance(answer, str):
        return "text"
    return f"{answer.kind}-{answer.status_code}-{len(answer.headers)}"


@pytest.mark.parametrize("answer", CANNED, ids=canned_id)
def test_the_fake_answers_what_the_stub_sends(stub: StubServer, answer: Answer | None) -> None:
    stub.reset()
    fake = FakeTransport() if answer is None else FakeTransport(answer)
    got = fake.send(request(), timeout=5)
    if answer is not None:
        stub.enqueue(Fault.reply(answer) if isinstance(answer, str) else answer)
    wire = httpx.post(
        f"{stub.url}/api/text", content=request().body, headers=dict(request().headers)
    )
    assert got.status_code == wire.status_code
    assert got.body == wire.content
    for name in ("content-type", "content-length", "retry-after", "location"):
        assert got.headers.get(name) == wire.headers.get(name), name
    assert list(got.set_cookies) == wire.headers.get_list("set-cookie")
    assert "set-cookie" not in got.headers  # values only in set_cookies, never in a repr
    assert "s3cret" not in repr(got)


def test_a_reply_text_and_the_echo() -> None:
    fake = FakeTransport("Hi there")
    first = fake.send(request(), timeout=5)
    assert (first.status_code, first.content_type) == (200, "application/json")
    assert answer_of(first) == {"response": True, "message": "Hi there"}
    for message in ("one", "two"):
        echo = fake.send(request(message), timeout=5)
        assert answer_of(echo) == {"response": True, "message": f"Echo: {message}"}


def test_the_script_is_first_in_first_out() -> None:
    fake = FakeTransport("first", Fault.status(503), "third")
    statuses = [fake.send(request(), timeout=5) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 503, 200, 200]
    assert [answer_of(r)["message"] for r in statuses] == [  # type: ignore[index]
        "first",
        "503 Service Unavailable",
        "third",
        "Echo: Hello",
    ]


def test_a_body_without_a_string_message_is_400_like_the_stub() -> None:
    fake = FakeTransport()
    for body in (b"{nope", b"[1]", b'{"message": 1}', b"\xff"):
        response = fake.send(HttpRequest("POST", URL, (), body), timeout=5)
        assert response.status_code == 400
        assert answer_of(response)["response"] is False  # type: ignore[index]


def test_echo_cookie_quotes_the_cookie_headers() -> None:
    fake = FakeTransport(Fault.echo_cookie(), Fault.echo_cookie())
    assert (
        b"Cookie: sid=s3cret; cf=1" in fake.send(request(cookie="sid=s3cret; cf=1"), timeout=5).body
    )
    assert fake.send(request(cookie=None), timeout=5).body.endswith(b"Cookie: ")


def test_requests_lists_what_was_sent_in_order() -> None:
    fake = FakeTransport(Fault.drop())
    sent = [request("one"), request("two"), request("three")]
    with pytest.raises(ConnectError):
        fake.send(sent[0], timeout=5)
    for item in sent[1:]:
        fake.send(item, timeout=5)
    assert fake.requests == sent
    assert all(isinstance(r, HttpRequest) for r in fake.requests)


def test_drop_raises_connect_error_naming_the_url() -> None:
    fake = FakeTransport(Fault.drop())
    with pytest.raises(ConnectError, match=r"fake\.test.*without sending a response"):
        fake.send(request(), timeout=5)
    assert fake.send(request(), timeout=5).status_code == 200


def test_delay_sleeps_then_echoes() -> None:
    fake = FakeTransport(Fault.delay(0.2))
    started = time.monotonic()
    response = fake.send(request(), timeout=5)
    assert time.monotonic() - started >= 0.2
    assert answer_of(response) == {"response": True, "message": "Echo: Hello"}


def test_a_delay_longer_than_the_timeout_times_out_after_the_timeout() -> None:
    fake = FakeTransport(Fault.delay(30))
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError, match=r"Fault\.delay"):
        fake.send(request(), timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 10  # it slept the timeout, not 30 s


@pytest.mark.parametrize(
    "fault",
    [Fault.trickle(), Fault.large(100), Fault.gzip_bomb(1000), Fault.cut(), Fault.cut(reset=True)],
    ids=lambda fault: fault.kind,
)
@pytest.mark.parametrize("kind", [FakeTransport, AsyncFakeTransport])
def test_faults_that_need_a_socket_are_refused_up_front(
    fault: Fault, kind: type[FakeTransport | AsyncFakeTransport]
) -> None:
    with pytest.raises(InvalidRequestError, match=rf"Fault\.{fault.kind}\(\).*stub"):
        kind("fine", fault)


@pytest.mark.parametrize("answer", [b"bytes", 42, None, {"message": "x"}])
def test_an_answer_is_a_text_or_a_fault(answer: object) -> None:
    with pytest.raises(InvalidRequestError, match="reply text"):
        FakeTransport(answer)  # type: ignore[arg-type]


def test_close_and_repr() -> None:
    fake = FakeTransport("a", "b")
    fake.send(request(), timeout=5)
    assert repr(fake) == "FakeTransport(left=1, requests=1)"
    assert not fake.closed
    fake.close()
    assert fake.closed


@pytest.mark.anyio
async def test_async_fake_answers_every_kind(anyio_backend: str) -> None:
    fake = AsyncFakeTransport(
        "text", Fault.status(429, retry_after=3), Fault.drop(), Fault.delay(0.05), Fault.refuse()
    )
    assert answer_of(await fake.send(request(), timeout=5))["message"] == "text"  # type: ignore[index]
    limited = await fake.send(request(), timeout=5)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    with pytest.raises(ConnectError):
        await fake.send(request(), timeout=5)
    started = anyio.current_time()
    delayed = await fake.send(request("late"), timeout=5)
    assert anyio.current_time() - started >= 0.05
    assert answer_of(delayed)["message"] == "Echo: late"  # type: ignore[index]
    assert answer_of(await fake.send(request(), timeout=5))["response"] is False  # type: ignore[index]
    assert answer_of(await fake.send(request("x"), timeout=5))["message"] == "Echo: x"  # type: ignore[index]
    assert len(fake.requests) == 6
    await fake.aclose()
    assert fake.closed


@pytest.mark.anyio
async def test_async_delay_longer_than_the_timeout_times_out(anyio_backend: str) -> None:
    fake = AsyncFakeTransport(Fault.delay(30))
    with anyio.fail_after(10), pytest.raises(RequestTimeoutError):
        await fake.send(request(), timeout=0.05)


def test_behind_the_sync_client() -> None:
    fake = FakeTransport(Fault.status(503), "recovered", Fault.refuse("no"))
    with AichatClient(transport=fake, cookies="sid=1", retry_policy=FAST) as client:
        reply = client.complete("Hi")
        assert (reply.text, reply.attempts) == ("recovered", 2)
        with pytest.raises(ServiceError):
            client.ask("Hi")
        assert client.ask("Hi") == "Echo: Hi"
    assert [json.loads(r.body)["message"] for r in fake.requests] == ["Hi"] * 4
    assert all(r.url.endswith("/api/text") for r in fake.requests)
    assert fake.closed


def test_a_scripted_500_is_a_server_error_without_retries() -> None:
    fake = FakeTransport(Fault.status(500))
    with (
        AichatClient(transport=fake, cookies="sid=1", max_retries=0) as client,
        pytest.raises(ServerError) as excinfo,
    ):
        client.ask("Hi")
    assert (excinfo.value.status_code, len(fake.requests)) == (500, 1)


@pytest.mark.anyio
async def test_behind_the_async_client(anyio_backend: str) -> None:
    fake = AsyncFakeTransport(Fault.status(500), "after a retry")
    async with AsyncAichatClient(transport=fake, cookies="sid=1", retry_policy=FAST) as client:
        reply = await client.complete("Hi")
        assert (reply.text, reply.attempts) == ("after a retry", 2)
        assert await client.ask("again") == "Echo: again"
    assert len(fake.requests) == 3
    assert dict(fake.requests[0].headers)["cookie"] == "sid=1"


@pytest.mark.anyio
@pytest.mark.parametrize("answer", CANNED, ids=canned_id)
async def test_the_async_fake_answers_as_the_sync_one(
    anyio_backend: str, answer: Answer | None
) -> None:
    script = () if answer is None else (answer,)
    expected = FakeTransport(*script).send(request(), timeout=5)
    assert await AsyncFakeTransport(*script).send(request(), timeout=5) == expected


@pytest.mark.parametrize("kind", [FakeTransport, AsyncFakeTransport])
def test_record_false_keeps_no_requests(kind: type[FakeTransport | AsyncFakeTransport]) -> None:
    fake = kind("a", record=False)
    if isinstance(fake, FakeTransport):
        fake.send(request(), timeout=5)
    else:
        anyio.run(lambda: fake.send(request(), timeout=5))
    assert fake.requests == []
    assert repr(fake) == f"{kind.__name__}(left=0, requests=0)"


def test_importing_the_kit_imports_no_pytest_no_server_and_starts_nothing() -> None:
    code = (
        "import sys, threading\n"
        "from aichat_adapters.testing import AsyncFakeTransport, FakeTransport\n"
        "print(sorted(m for m in ('pytest', 'uvicorn', 'httpx') if m in sys.modules))\n"
        "import aichat_adapters.testing.plugin\n"
        "print(sorted(m for m in ('uvicorn', 'httpx') if m in sys.modules))\n"
        "print(threading.active_count())\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["[]", "[]", "1"]
