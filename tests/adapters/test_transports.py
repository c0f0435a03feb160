"""The httpx transports' mapping, with httpx.MockTransport (the e2e tests use real sockets)."""

from __future__ import annotations

import gzip

import httpx
import pytest

from aichat_adapters import AsyncHttpxTransport, HttpxTransport
from aichat_adapters.transports._httpx import map_httpx_error
from aichat_core import (
    AichatError,
    ConnectError,
    HttpRequest,
    InvalidRequestError,
    RequestTimeoutError,
    ResponseFormatError,
    TransportError,
)

URL = "https://chat-gpt.org/api/text"
REQUEST = HttpRequest(
    method="POST",
    url=URL,
    headers=(("content-type", "application/json"), ("cookie", "sid=s3cr3t")),
    body=b'{"message": "Hi"}',
)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("t"), RequestTimeoutError),
        (httpx.ReadTimeout("t"), RequestTimeoutError),
        (httpx.WriteTimeout("t"), RequestTimeoutError),
        (httpx.PoolTimeout("t"), RequestTimeoutError),
        (httpx.ConnectError("refused"), ConnectError),
        (httpx.ReadError("reset"), ConnectError),
        (httpx.WriteError("broken pipe"), ConnectError),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            ConnectError,
        ),
        (httpx.ProxyError("407"), ConnectError),
        (httpx.DecodingError("bad gzip"), ResponseFormatError),
        (httpx.UnsupportedProtocol("ftp"), InvalidRequestError),
        (httpx.LocalProtocolError("bad header"), InvalidRequestError),  # never retried
        (httpx.NetworkError("?"), ConnectError),
        (httpx.TooManyRedirects("?"), TransportError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value.__name__,
)
def test_httpx_errors_map_to_core_errors(exc: httpx.HTTPError, expected: type[AichatError]) -> None:
    mapped = map_httpx_error(exc, URL)

    assert type(mapped) is expected
    assert URL in str(mapped)


def echo_handler(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, headers={"X-Thing": "1"}, json={"response": True, "message": "ok"}
        )

    return httpx.MockTransport(handle)


def test_sync_transport_sends_the_request_as_given() -> None:
    seen: list[httpx.Request] = []
    transport = HttpxTransport(httpx.Client(transport=echo_handler(seen)))

    response = transport.send(REQUEST, timeout=5)

    [sent] = seen
    assert (sent.method, str(sent.url), sent.content) == ("POST", URL, REQUEST.body)
    assert sent.headers["cookie"] == "sid=s3cr3t"
    assert sent.extensions["timeout"] == {"connect": 5, "read": 5, "write": 5, "pool": 5}
    assert response.status_code == 200
    assert response.headers["x-thing"] == "1"
    assert response.body == b'{"response":true,"message":"ok"}'


@pytest.mark.anyio
async def test_async_transport_sends_the_request_as_given() -> None:
    seen: list[httpx.Request] = []
    transport = AsyncHttpxTransport(httpx.AsyncClient(transport=echo_handler(seen)))

    response = await transport.send(REQUEST, timeout=5)

    [sent] = seen
    assert (sent.method, str(sent.url), sent.content) == ("POST", URL, REQUEST.body)
    assert response.headers["x-thing"] == "1"


def test_a_users_own_client_adds_its_headers_and_runs_its_hooks() -> None:
    seen: list[httpx.Request] = []
    hooked: list[str] = []
    client = httpx.Client(
        transport=echo_handler(seen),
        headers={"x-team": "blue"},
        event_hooks={"request": [lambda request: hooked.append(request.method)]},
    )

    HttpxTransport(client).send(REQUEST, timeout=5)

    [sent] = seen
    assert sent.headers["x-team"] == "blue"
    assert sent.headers["cookie"] == "sid=s3cr3t"
    assert hooked == ["POST"]


def test_a_client_built_here_sends_only_the_cookies_given() -> None:
    """httpx's cookie jar never adds what an answer set: the SDK's own jar decides.

    (A user's own client keeps its jar, as httpx's ``send`` does.)
    """
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"set-cookie": "sid=rotated; Path=/"}, json={})

    transport = HttpxTransport.from_httpx(httpx.MockTransport(handle))
    bare = HttpRequest(method="POST", url=URL, headers=(), body=b"{}")

    first = transport.send(bare, timeout=5)
    transport.send(bare, timeout=5)

    assert first.set_cookies == ("sid=rotated; Path=/",)
    assert [request.headers.get("cookie") for request in seen] == [None, None]


def test_redirects_are_returned_not_followed() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})

    client = httpx.Client(transport=httpx.MockTransport(handle), follow_redirects=True)

    response = HttpxTransport(client).send(REQUEST, timeout=5)

    assert response.status_code == 302
    assert len(seen) == 1


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(200, content=b"x" * 101), id="declared-length"),
        pytest.param(
            httpx.Response(200, content=iter([b"x" * 60, b"x" * 60])), id="streamed-no-length"
        ),
        pytest.param(
            httpx.Response(
                200, content=gzip.compress(b"x" * 10_000), headers={"content-encoding": "gzip"}
            ),
            id="decompressed",
        ),
    ],
)
def test_bodies_over_the_cap_are_refused(response: httpx.Response) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda _: response))

    with pytest.raises(ResponseFormatError, match="larger than 100 bytes"):
        HttpxTransport(client, max_body_size=100).send(REQUEST, timeout=5)


def test_body_at_the_cap_is_read() -> None:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, content=b"x" * 100))
    )

    assert HttpxTransport(client, max_body_size=100).send(REQUEST, timeout=5).body == b"x" * 100


def test_errors_raised_by_httpx_are_mapped() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = httpx.Client(transport=httpx.MockTransport(handle))

    with pytest.raises(RequestTimeoutError) as caught:
        HttpxTransport(client).send(REQUEST, timeout=5)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_close_leaves_a_users_client_open_and_closes_its_own() -> None:
    users = httpx.Client(transport=echo_handler([]))
    HttpxTransport(users).close()
    assert not users.is_closed

    own = HttpxTransport()
    own.close()
    assert own._client.is_closed
    users.close()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"proxy": "http://proxy:3128"}, "proxy"),
        ({"verify": False}, "verify"),
    ],
)
def test_options_that_conflict_with_a_users_client(kwargs: dict[str, object], needle: str) -> None:
    with httpx.Client() as users, pytest.raises(InvalidRequestError, match=needle):
        HttpxTransport(users, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -1, True, 1.5])
def test_max_body_size_must_be_a_positive_int(size: object) -> None:
    with pytest.raises(InvalidRequestError, match="max_body_size"):
        HttpxTransport(max_body_size=size)  # type: ignore[arg-type]
