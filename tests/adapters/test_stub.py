"""The stub server, over real HTTP on loopback, with plain httpx."""

from __future__ import annotations

import contextlib
import errno
import gzip
import itertools
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import attrs
import httpx
import pytest

from aichat_adapters.stub import Fault, RecordedRequest, StubServer, create_app
from aichat_adapters.stub._faults import canned, gzip_bomb_body, service_body

BODY = {
    "message": "Hello",
    "temperature": 0.5,
    "presence_penalty": 0,
    "top_p": 1,
    "frequency_penalty": 0,
}


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


# --- Faults that need a real socket, seen on the wire ------------------------------------------

ECHO = b'{"response":true,"message":"Echo: Hello"}'


@attrs.frozen
class Raw:
    """An answer read from a raw socket: head, body bytes, and how the connection ended."""

    status: int
    headers: dict[str, list[str]]
    body: bytes
    error: OSError | None
    arrivals: list[tuple[float, int]]  # (monotonic time, body bytes received so far)


def raw_request(message: str = "Hello", cookie: str | None = None) -> bytes:
    body = json.dumps({**BODY, "message": message}).encode()
    lines = [
        "POST /api/text HTTP/1.1",
        "Host: stub",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if cookie is not None:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def connect(stub: StubServer) -> socket.socket:
    host, port = stub.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def raw_exchange(stub: StubServer, request: bytes | None = None) -> Raw:
    """Send one request and read until the server ends the connection (FIN or RST)."""
    data, error, arrivals = b"", None, []
    with connect(stub) as sock:
        sock.sendall(request or raw_request())
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError as exc:
                error = exc
                break
            if not chunk:
                break
            data += chunk
            arrivals.append((time.monotonic(), len(data)))
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    offset = len(head) + 4
    body_arrivals = [(at, size - offset) for at, size in arrivals if size > offset]
    return Raw(int(status_line.split()[1]), headers, body, error, body_arrivals)


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if the server (uvicorn, asyncio) logs a warning or an error meanwhile."""
    caplog.set_level(logging.WARNING)
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []


def test_trickle_sends_all_but_the_tail_at_once_then_a_byte_per_interval(
    stub: StubServer, no_errors_logged: None
) -> None:
    stub.enqueue(Fault.trickle(interval=0.2, tail=3))
    sent = time.monotonic()
    raw = raw_exchange(stub)
    assert (raw.status, raw.body, raw.error) == (200, ECHO, None)
    assert raw.headers["content-length"] == [str(len(ECHO))]
    # The first arrival holds all but the tail; then one byte arrives at a time, spaced.
    times = [at for at, _ in raw.arrivals]
    assert [size for _, size in raw.arrivals] == [
        len(ECHO) - 3,
        len(ECHO) - 2,
        len(ECHO) - 1,
        len(ECHO),
    ]
    assert times[0] - sent < 0.2
    assert all(later - earlier > 0.1 for earlier, later in itertools.pairwise(times))
    assert times[-1] - sent >= 0.55


def test_a_tail_longer_than_the_body_trickles_all_of_it(stub: StubServer) -> None:
    stub.enqueue(Fault.trickle(interval=0, tail=1000))
    raw = raw_exchange(stub)
    assert (raw.status, raw.body) == (200, ECHO)


def test_trickle_stops_when_the_client_goes_away(stub: StubServer, no_errors_logged: None) -> None:
    stub.enqueue(Fault.trickle(interval=30, tail=5))
    with connect(stub) as sock:
        sock.sendall(raw_request())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        wait_until(lambda: stub.in_flight == 1)
    wait_until(lambda: stub.in_flight == 0)  # long before the 150 s of trickling


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_large_sends_size_bytes_of_a_valid_answer(
    stub: StubServer, client: httpx.Client, content_length: bool
) -> None:
    size = 3 * 65536 + 7
    stub.enqueue(Fault.large(size, content_length=content_length))
    response = post(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    if content_length:
        assert response.headers["content-length"] == str(size)
        assert "transfer-encoding" not in response.headers
    else:
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
    assert len(response.content) == size
    assert response.json() == {"response": True, "message": "a" * (size - 30)}


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_64_mib_are_streamed_without_being_held(
    stub: StubServer, client: httpx.Client, content_length: bool
) -> None:
    size = 64 << 20
    stub.enqueue(Fault.large(size, content_length=content_length))
    received = 0
    tracemalloc.start()
    try:
        with client.stream("POST", "/api/text", json=BODY) as response:
            for chunk in response.iter_raw():
                received += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received == size
    assert peak < 8 << 20  # server and client together held a few chunks, not 64 MiB


def test_large_stops_when_the_client_goes_away(stub: StubServer, no_errors_logged: None) -> None:
    stub.enqueue(Fault.large(1 << 30))
    with connect(stub) as sock:
        sock.sendall(raw_request())
        received = 0
        while received < 1 << 20:
            received += len(sock.recv(65536))
    wait_until(lambda: stub.in_flight == 0)  # long before a GiB is sent


def inflate(compressed: bytes) -> tuple[int, bytes, bytes]:
    """Inflate a gzip member 1 MiB at a time: (size, first bytes, last bytes); checks the CRC."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size, first, last, data = 0, b"", b"", compressed
    while not decompressor.eof:
        out = decompressor.decompress(data, 1 << 20)
        assert out or decompressor.eof, "the stream ended early"
        data = decompressor.unconsumed_tail
        first = first or out[:40]
        last = (last + out)[-40:]
        size += len(out)
    assert decompressor.unused_data == b""
    return size, first, last


@pytest.mark.parametrize("inflated", [None, 3 * 2**20 + 5], ids=["1GiB", "3MiB+5"])
def test_gzip_bomb_is_small_and_inflates_to_its_size(
    stub: StubServer, client: httpx.Client, inflated: int | None
) -> None:
    stub.enqueue(Fault.gzip_bomb() if inflated is None else Fault.gzip_bomb(inflated))
    expected = 1 << 30 if inflated is None else inflated
    with client.stream("POST", "/api/text", json=BODY) as response:
        compressed = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str(len(compressed))
    assert expected / 1100 < len(compressed) < expected / 900 + 200
    size, first, last = inflate(compressed)
    assert size == expected
    assert first.startswith(b'{"response":true,"message":"aaaa')
    assert last.endswith(b'aaaa"}')


def test_gzip_bomb_is_built_once_per_size() -> None:
    Fault.gzip_bomb(2**20)
    assert gzip_bomb_body(2**20) is gzip_bomb_body(2**20)
    assert (
        gzip.decompress(gzip_bomb_body(2**20))
        == b'{"response":true,"message":"' + b"a" * (2**20 - 30) + b'"}'
    )


@pytest.mark.parametrize("after", [0, 10, 40])
def test_cut_closes_with_a_fin_after_some_body_bytes(
    stub: StubServer, after: int, no_errors_logged: None
) -> None:
    stub.enqueue(Fault.cut(after))
    raw = raw_exchange(stub)
    assert raw.status == 200
    assert raw.headers["content-length"] == [str(len(ECHO))]
    assert raw.body == ECHO[:after]
    assert raw.error is None  # an orderly end of stream: a FIN


@pytest.mark.parametrize("after", [0, 10])
def test_cut_with_reset_sends_a_rst(stub: StubServer, after: int, no_errors_logged: None) -> None:
    stub.enqueue(Fault.cut(after, reset=True))
    raw = raw_exchange(stub)
    assert raw.status == 200
    assert raw.headers["content-length"] == [str(len(ECHO))]
    assert raw.body == ECHO[:after]
    assert isinstance(raw.error, ConnectionResetError)


def test_cut_never_sends_the_whole_body(stub: StubServer) -> None:
    stub.enqueue(Fault.cut(10_000))
    assert raw_exchange(stub).body == ECHO[:-1]


def test_cut_as_httpx_sees_it(stub: StubServer, client: httpx.Client) -> None:
    stub.enqueue(Fault.cut(10), Fault.cut(10, reset=True))
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        post(client)
    with pytest.raises(httpx.ReadError):
        post(client)
    assert post(client).json()["message"] == "Echo: Hello"


def test_set_cookie_answers_the_echo_with_one_header_per_value(
    stub: StubServer, client: httpx.Client
) -> None:
    values = ("session=new; Path=/; HttpOnly", "cf_clearance=x; Max-Age=0")
    stub.enqueue(Fault.set_cookie(*values), Fault.set_cookie("a=1", text="scripted"))
    first = post(client, "Hi")
    assert first.status_code == 200
    assert first.headers.get_list("set-cookie") == list(values)
    assert first.json() == {"response": True, "message": "Echo: Hi"}
    second = post(client)
    assert second.headers.get_list("set-cookie") == ["a=1"]
    assert second.json() == {"response": True, "message": "scripted"}
    assert post(client).headers.get_list("set-cookie") == []


def test_echo_cookie_quotes_the_cookie_header_verbatim(
    stub: StubServer, client: httpx.Client
) -> None:
    stub.enqueue(Fault.echo_cookie(), Fault.echo_cookie(403), Fault.echo_cookie())
    response = post(client, headers={"cookie": "sid=s3cret; cf_clearance=a=b"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain"
    assert "Cookie: sid=s3cret; cf_clearance=a=b" in response.text
    assert post(client, headers={"cookie": "x=1"}).status_code == 403
    assert post(client).text.endswith("Cookie: ")


def test_faults_hide_set_cookie_values_in_repr() -> None:
    fault = Fault.set_cookie("session=s3cr3t-value; Path=/")
    assert "s3cr3t" not in repr(fault)
    assert "set-cookie" in repr(fault)


def test_require_cookies_changes_at_run_time_and_reset_restores_it() -> None:
    with (
        StubServer(require_cookies={"sid": "a"}) as stub,
        httpx.Client(base_url=stub.url) as client,
    ):
        assert post(client).status_code == 403
        stub.require_cookies(None)
        assert post(client).status_code == 200
        stub.require_cookies({"sid": "b"})
        assert post(client, headers={"cookie": "sid=a"}).status_code == 403
        assert post(client, headers={"cookie": "sid=b"}).status_code == 200
        stub.reset()
        assert post(client, headers={"cookie": "sid=b"}).status_code == 403
        assert post(client, headers={"cookie": "sid=a"}).status_code == 200
        stub.app.require_cookies({})
        assert post(client).status_code == 200


@pytest.mark.parametrize("cookies", [{"sid": 1}, [("sid", "a")], "sid=a"])
def test_require_cookies_takes_a_mapping_of_str(stub: StubServer, cookies: object) -> None:
    with pytest.raises(TypeError, match="mapping"):
        stub.require_cookies(cookies)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.trickle(interval=30),
        Fault.large(64 << 20),
        Fault.large(64 << 20, content_length=False),
        Fault.gzip_bomb(64 << 20),
        Fault.cut(),
        Fault.cut(reset=True),
        Fault.delay(30),
        Fault.set_cookie("a=1"),
        Fault.echo_cookie(),
        Fault.drop(),
    ],
    ids=lambda fault: f"{fault.kind}-{fault.size}-{fault.content_length}-{fault.reset}",
)
def test_in_flight_returns_to_zero_when_the_client_leaves_mid_answer(
    stub: StubServer, fault: Fault, no_errors_logged: None
) -> None:
    stub.enqueue(fault)
    with connect(stub) as sock:
        sock.sendall(raw_request())
        wait_until(lambda: len(stub.requests) == 1)
        sock.settimeout(0.1)
        with contextlib.suppress(OSError):  # some faults send nothing before the client leaves
            sock.recv(1)
    wait_until(lambda: stub.in_flight == 0)
    assert post_ok(stub)


def post_ok(stub: StubServer) -> bool:
    with httpx.Client(base_url=stub.url) as client:
        return bool(post(client).json() == {"response": True, "message": "Echo: Hello"})


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.trickle(interval=-1),
        lambda: Fault.trickle(interval=float("nan")),
        lambda: Fault.trickle(tail=-1),
        lambda: Fault.trickle(tail=1.5),  # type: ignore[arg-type]
        lambda: Fault.large(29),
        lambda: Fault.large(True),
        lambda: Fault.gzip_bomb(10),
        lambda: Fault.gzip_bomb(1 << 40),
        lambda: Fault.cut(-1),
        lambda: Fault.set_cookie("a=1\r\nx-injected: 1"),
        lambda: Fault.set_cookie("a=café"),
        lambda: Fault.echo_cookie(700),
    ],
)
def test_bad_new_fault_options_are_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.large(100, content_length=1),  # type: ignore[arg-type]
        lambda: Fault.cut(reset="yes"),  # type: ignore[arg-type]
        lambda: Fault.set_cookie(b"a=1"),  # type: ignore[arg-type]
    ],
)
def test_new_fault_options_of_the_wrong_type_are_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        make()


def test_canned_has_no_answer_for_socket_faults() -> None:
    for fault in (Fault.drop(), Fault.large(100), Fault.gzip_bomb(100)):
        with pytest.raises(ValueError, match="no canned answer"):
            canned(fault, {"message": "x"}, "")


def test_the_echo_of_a_lone_surrogate_is_json_escaped(client: httpx.Client) -> None:
    response = client.post("/api/text", content=b'{"message": "x\\ud83d"}')
    assert response.status_code == 200
    assert response.content == b'{"response":true,"message":"Echo: x\\ud83d"}'


@pytest.mark.parametrize("message", ["", "plain", 'q"uo\\te', "é\u2028\x00\t\n", "😀", "x\ud83d"])
def test_service_body_is_compact_json(message: str) -> None:
    for ok in (True, False):
        body = service_body(ok, message)
        assert json.loads(body) == {"response": ok, "message": message}
        assert body.startswith(b'{"response":%s,"message":"' % str(ok).lower().encode())


@pytest.mark.parametrize("read", [0, 4 << 20], ids=["headers-only", "4MiB"])
@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_a_client_that_stops_reading_a_large_body_leaves_no_noise(
    stub: StubServer, client: httpx.Client, content_length: bool, read: int, no_errors_logged: None
) -> None:
    # As a body cap does: close the connection with the body unread (the server gets a RST).
    for _ in range(3):
        stub.enqueue(Fault.large(64 << 20, content_length=content_length))
        with client.stream("POST", "/api/text", json=BODY) as response:
            received = 0
            for chunk in response.iter_raw() if read else ():
                received += len(chunk)
                if received > read:
                    break
        wait_until(lambda: stub.in_flight == 0)
    assert post_ok(stub)


def test_a_recorded_request_hides_its_cookie_in_repr(
    stub: StubServer, client: httpx.Client
) -> None:
    post(client, headers={"cookie": "sid=s3cret-value", "x-custom": "shown"})
    (request,) = stub.requests
    assert request.cookies == {"sid": "s3cret-value"}
    assert "s3cret" not in repr(request)
    assert "shown" in repr(request)
