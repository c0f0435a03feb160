"""The stub server, over real HTTP on loopback, with plain httpx."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from aichat_adapters.stub import Fault, RecordedRequest, StubServer, create_app

BODY = {
    "message": "Hello",
    "temperature": 0.5,
    "presence_penalty": 0,
    "top_p": 1,
    "frequency_penalty": 0,
}


@pytest.fixture(scope="module")
def shared_stub() -> Iterator[StubServer]:
    with StubServer() as stub:
        yield stub


@pytest.fixture
def stub(shared_stub: StubServer) -> StubServer:
    wait_until(lambda: shared_stub.in_flight == 0)  # the last answer may still be finishing
    shared_stub.reset()
    return shared_stub


@pytest.fixture
def client(stub: StubServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stub.url) as client:
        yield client


def post(
    client: httpx.Client,
    message: str = "Hello",
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> httpx.Response:
    body = {**BODY, "message": message}
    return client.post("/api/text", json=body, headers=headers, timeout=timeout)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def test_url_is_a_loopback_base_url(stub: StubServer) -> None:
    assert stub.url.startswith("http://127.0.0.1:")
    assert not stub.url.endswith("/")
    assert int(stub.url.rsplit(":", 1)[1]) > 0


def test_a_port_in_use_is_an_error(stub: StubServer) -> None:
    port = int(stub.url.rsplit(":", 1)[1])
    with pytest.raises(OSError) as excinfo, StubServer(port=port):  # noqa: PT011
        pass
    assert excinfo.value.errno == errno.EADDRINUSE


def test_url_before_start_raises() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = StubServer().url


def test_echo(client: httpx.Client) -> None:
    response = post(client, "Hi there")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"response": True, "message": "Echo: Hi there"}


@pytest.mark.parametrize(
    "content",
    [b"{nope", b"[1, 2]", b'"Hello"', b'{"msg": "Hello"}', b'{"message": 1}', b"\xff\xfe"],
)
def test_a_body_without_a_string_message_is_400(client: httpx.Client, content: bytes) -> None:
    response = client.post("/api/text", content=content)
    assert response.status_code == 400
    assert response.json()["response"] is False


def test_other_paths_are_404_and_other_methods_405(client: httpx.Client) -> None:
    assert client.post("/api/other", json=BODY).status_code == 404
    response = client.get("/api/text")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_required_cookies() -> None:
    with (
        StubServer(require_cookies={"sid": "s3cret", "cf": "ok"}) as stub,
        httpx.Client(base_url=stub.url) as client,
    ):
        for cookie in (None, "sid=s3cret", "sid=wrong; cf=ok"):
            headers = {"cookie": cookie} if cookie else {}
            response = post(client, headers=headers)
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("text/html")
            assert "Just a moment..." in response.text
        response = post(client, headers={"cookie": "other=1; sid=s3cret; cf=ok"})
        assert response.json() == {"response": True, "message": "Echo: Hello"}


def test_a_refused_request_uses_no_fault() -> None:
    with (
        StubServer(script=[Fault.reply("scripted")], require_cookies={"sid": "a"}) as stub,
        httpx.Client(base_url=stub.url) as client,
    ):
        assert post(client).status_code == 403
        assert post(client, headers={"cookie": "sid=a"}).json()["message"] == "scripted"


@pytest.mark.parametrize("retry_after", [7, "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_status_with_retry_after(
    stub: StubServer, client: httpx.Client, retry_after: int | str
) -> None:
    stub.enqueue(Fault.status(429, retry_after=retry_after))
    response = post(client)
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)
    assert response.json() == {"response": False, "message": "429 Too Many Requests"}


def test_status_with_a_body_and_no_retry_after(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.status(502, body="<h1>Bad gateway</h1>", content_type="text/html"))
    response = post(client)
    assert response.status_code == 502
    assert "retry-after" not in response.headers
    assert response.headers["content-type"] == "text/html"
    assert response.text == "<h1>Bad gateway</h1>"


def test_refuse_reply_challenge_malformed(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.refuse(), Fault.reply("Hi!"), Fault.challenge(), Fault.malformed())
    assert post(client).json() == {"response": False, "message": "quota exceeded"}
    assert post(client).json() == {"response": True, "message": "Hi!"}
    challenge = post(client)
    assert challenge.status_code == 403
    assert challenge.headers["content-type"] == "text/html"
    assert "Just a moment..." in challenge.text
    malformed = post(client)
    assert malformed.status_code == 200
    assert malformed.headers["content-type"] == "application/json"
    assert malformed.content == b"{not json"
    with pytest.raises(json.JSONDecodeError):
        malformed.json()


def test_redirect_is_not_followed_by_httpx(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.redirect(), Fault.redirect("https://example.com/", status=301))
    first, second = post(client), post(client)
    assert (first.status_code, first.headers["location"]) == (302, "http://127.0.0.1:9/elsewhere")
    assert (second.status_code, second.headers["location"]) == (301, "https://example.com/")


def test_drop_closes_the_connection_without_an_answer(
    stub: StubServer, client: httpx.Client
) -> None:
    stub.enqueue(Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        post(client)
    assert post(client).json()["message"] == "Echo: Hello"


def test_delay_then_echo(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.delay(0.01))
    assert post(client).json()["message"] == "Echo: Hello"


def test_a_long_delay_times_the_client_out(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.delay(30))
    with pytest.raises(httpx.ReadTimeout):
        post(client, timeout=0.2)
    # The stub stops waiting once the client has gone: no request is left in flight.
    wait_until(lambda: stub.in_flight == 0)
    assert post(client).status_code == 200


def test_the_script_is_fifo_then_echo() -> None:
    with (
        StubServer(script=[Fault.status(503), Fault.refuse("first")]) as stub,
        httpx.Client(base_url=stub.url) as client,
    ):
        stub.enqueue(Fault.reply("second"))
        assert post(client).status_code == 503
        assert post(client).json()["message"] == "first"
        assert post(client).json()["message"] == "second"
        assert post(client).json()["message"] == "Echo: Hello"
        assert post(client).json()["message"] == "Echo: Hello"


def test_requests_are_recorded(stub: StubServer, client: httpx.Client) -> None:
    post(client, "one", headers={"cookie": "sid=s3cret; cf_clearance=x=y", "X-Custom": "A"})
    client.post("/api/text", content=b"{broken")
    first, second = stub.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("POST", "/api/text")
    assert first.json == {**BODY, "message": "one"}
    assert json.loads(first.body) == first.json
    assert first.headers["x-custom"] == "A"
    assert first.headers["content-type"] == "application/json"
    assert first.cookies == {"sid": "s3cret", "cf_clearance": "x=y"}
    assert (second.body, second.json, second.cookies) == (b"{broken", None, {})


def test_requests_is_a_snapshot(stub: StubServer, client: httpx.Client) -> None:
    post(client)
    snapshot = stub.requests
    snapshot.clear()
    assert len(stub.requests) == 1


def test_reset_clears_script_records_and_counters(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.status(500))
    post(client)
    stub.enqueue(Fault.status(500))
    wait_until(lambda: stub.in_flight == 0)
    stub.reset()
    assert (stub.requests, stub.max_in_flight) == ([], 0)
    assert post(client).status_code == 200


def test_max_in_flight_counts_concurrent_requests(stub: StubServer) -> None:
    stub.enqueue(*[Fault.delay(0.5)] * 4)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=stub.url) as client:
            barrier.wait()
            statuses.append(post(client).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert stub.max_in_flight == 4
    wait_until(lambda: stub.in_flight == 0)


def test_fail_rate_is_seeded_and_answers_503_with_retry_after() -> None:
    with (
        StubServer(fail_rate=0.5, seed=3) as stub,
        httpx.Client(base_url=stub.url) as client,
    ):
        first = [post(client) for _ in range(16)]
        stub.reset()
        second = [post(client).status_code for _ in range(16)]
    assert [r.status_code for r in first] == second
    assert set(second) == {200, 503}
    assert all(r.headers["retry-after"] == "1" for r in first if r.status_code == 503)


def test_latency_delays_every_answer() -> None:
    with (
        StubServer(latency=30) as stub,
        httpx.Client(base_url=stub.url) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/anything", timeout=0.2)


@pytest.mark.anyio
async def test_async_with(anyio_backend: str) -> None:
    async with (
        StubServer(script=[Fault.refuse()]) as stub,
        httpx.AsyncClient(base_url=stub.url) as client,
    ):
        first = await client.post("/api/text", json=BODY)
        second = await client.post("/api/text", json=BODY)
        assert first.json() == {"response": False, "message": "quota exceeded"}
        assert second.json() == {"response": True, "message": "Echo: Hello"}
        assert len(stub.requests) == 2
    with pytest.raises(RuntimeError):
        _ = stub.url


@pytest.mark.anyio
async def test_the_app_in_process(anyio_backend: str) -> None:
    app = create_app(script=[Fault.delay(0.01), Fault.drop()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stub") as client:
        response = await client.post("/api/text", json=BODY)
        assert response.json() == {"response": True, "message": "Echo: Hello"}
        with pytest.raises(RuntimeError, match="transport"):
            await client.post("/api/text", json=BODY)
    assert [r.path for r in app.requests] == ["/api/text"] * 2


def test_serve_forever_in_a_fresh_process_until_ctrl_c() -> None:
    # A fresh process also shows that importing the stub does not import uvicorn.
    code = (
        "import sys\n"
        "from aichat_adapters.stub import StubServer\n"
        "print('uvicorn' in sys.modules, flush=True)\n"
        "StubServer().serve_forever(on_start=lambda url: print(url, flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "False\n"
            url = process.stdout.readline().strip()
            with httpx.Client(base_url=url) as client:
                assert post(client).json()["message"] == "Echo: Hello"
            process.send_signal(signal.SIGINT)
            assert process.wait(10) == 0
            assert process.stdout.read().endswith("stopped\n")
        finally:
            process.kill()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.status(99),
        lambda: Fault.status(600),
        lambda: Fault.redirect(status=200),
        lambda: Fault.delay(-1),
        lambda: Fault.delay(float("inf")),
        lambda: StubServer(fail_rate=1.5),
        lambda: StubServer(latency=-1),
    ],
)
def test_bad_options_are_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make()


def test_enqueue_takes_faults_only(stub: StubServer) -> None:
    with pytest.raises(TypeError):
        stub.enqueue("drop")  # type: ignore[arg-type]
