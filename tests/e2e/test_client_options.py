"""Client options end to end: with_options, closed clients, the retry budget, bad options."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from aichat_adapters import (
    AichatClient,
    AsyncAichatClient,
    InvalidRequestError,
    RetryPolicy,
    ServerError,
)
from aichat_adapters.stub import Fault, StubServer
from tests.support import FAST, call, options_for


def test_with_options_changes_a_copy_and_shares_the_pool(stub: StubServer) -> None:
    with AichatClient(**options_for(stub)) as client:
        once = client.with_options(max_retries=0, headers={"x-run": "fast"})
        stub.enqueue(Fault.status(503))
        with pytest.raises(ServerError) as caught:
            once.ask("one attempt")
        stub.enqueue(Fault.status(503))
        reply = client.complete("the original retries")

        assert caught.value.attempts == 1
        assert reply.attempts == 2
        assert client.retry_policy.max_retries == 2
        assert once.transport is client.transport  # one pool
        assert once.timeout == client.timeout

    assert stub.requests[0].headers["x-run"] == "fast"
    assert "x-run" not in stub.requests[1].headers


@pytest.mark.anyio
async def test_async_with_options(stub: StubServer) -> None:
    async with AsyncAichatClient(**options_for(stub)) as client:
        quick = client.with_options(timeout=0.2, max_retries=0)
        stub.enqueue(Fault.delay(2))
        with pytest.raises(Exception, match="timed out"):
            await quick.ask("slow")
        assert await client.ask("normal") == "Echo: normal"
        assert quick.transport is client.transport
        assert client.timeout == 60.0


def test_with_options_checks_what_it_is_given(stub: StubServer) -> None:
    with AichatClient(**options_for(stub)) as client:
        with pytest.raises(InvalidRequestError, match="timeout"):
            client.with_options(timeout=-1)
        with pytest.raises(InvalidRequestError, match="header"):
            client.with_options(headers={"x": "a\r\nb"})
        with pytest.raises(TypeError):
            client.with_options(base_url="http://elsewhere")  # type: ignore[call-arg]


def test_a_closed_client_says_so(kind: str, stub: StubServer) -> None:
    message = "this client is closed"
    if kind == "sync":
        client = AichatClient(**options_for(stub))
        client.ask("before")
        client.close()
        with pytest.raises(InvalidRequestError, match=message):
            client.ask("after")
        with pytest.raises(InvalidRequestError, match=message):
            client.with_options(max_retries=0).ask("a copy")
    else:

        async def main() -> None:
            client = AsyncAichatClient(**options_for(stub))
            await client.ask("before")
            await client.aclose()
            with pytest.raises(InvalidRequestError, match=message):
                await client.ask("after")

        anyio.run(main, backend=kind)
    assert len(stub.requests) == 1


def test_the_retry_budget_stops_retrying_a_failing_server(stub: StubServer) -> None:
    policy = RetryPolicy(initial_wait=0, max_wait=0, jitter=0)
    with AichatClient(**options_for(stub, retry_policy=policy, max_retries=2)) as client:
        stub.enqueue(*[Fault.status(503)] * 1000)
        for _ in range(200):
            with pytest.raises(ServerError):
                client.ask("down")
        failing = len(stub.requests)
        stub.reset()  # the server recovers
        replies = [client.ask(f"up {n}") for n in range(5)]

    # 500 tokens at 5 per retry: 100 retries, then every call fails fast after one attempt.
    assert failing == 200 + 100
    assert replies == [f"Echo: up {n}" for n in range(5)]
    assert len(stub.requests) == 5


def test_without_a_budget_every_retry_is_spent(stub: StubServer) -> None:
    policy = RetryPolicy(initial_wait=0, max_wait=0, jitter=0, budget=None)
    with AichatClient(**options_for(stub, retry_policy=policy, max_retries=2)) as client:
        stub.enqueue(*[Fault.status(503)] * 90)
        for _ in range(30):
            with pytest.raises(ServerError):
                client.ask("down")
    assert len(stub.requests) == 90


def test_a_success_refills_the_budget(stub: StubServer) -> None:
    policy = RetryPolicy(initial_wait=0, max_wait=0, jitter=0, budget=10, retry_cost=5)
    with AichatClient(**options_for(stub, retry_policy=policy)) as client:
        stub.enqueue(Fault.status(503), Fault.status(503))
        assert client.complete("two retries").attempts == 3  # spends 10, gets 10 back
        stub.enqueue(Fault.status(503), Fault.status(503))
        assert client.complete("two retries again").attempts == 3


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"headers": {"x-user": "José"}}, id="non-ascii-header"),
        pytest.param({"headers": {"x-a": "b\r\nx-injected: 1"}}, id="crlf-header"),
        pytest.param({"headers": {"bad name": "v"}}, id="bad-header-name"),
        pytest.param({"base_url": "http://exa mple.com"}, id="space-in-base-url"),
        pytest.param({"base_url": "http://h/\ud800"}, id="surrogate-in-base-url"),
        pytest.param({"timeout": float("inf")}, id="infinite-timeout"),
        pytest.param({"retry_policy": "fast"}, id="policy-not-a-policy"),
        pytest.param({"verify": "/no/such/ca.pem"}, id="missing-ca-file"),
        pytest.param({"proxy": "ftp://proxy:21"}, id="proxy-scheme"),
    ],
)
def test_bad_options_are_refused_before_any_request(
    kind: str, stub: StubServer, options: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequestError):
        call(kind, options_for(stub, **options), "Hi")
    assert stub.requests == []


def test_a_non_ascii_host_is_sent_idna_encoded(stub: StubServer) -> None:
    client = AichatClient(base_url="http://bücher.example:8080/", cookies="a=b", retry_policy=FAST)
    assert client.base_url == "http://xn--bcher-kva.example:8080"
    client.close()
