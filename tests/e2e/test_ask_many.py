"""``ask_many`` against the stub, asyncio and trio: lazy input, bounded work, safe early exits."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from aichat_adapters import AichatError, AskResult, AsyncAichatClient, InvalidRequestError
from aichat_adapters.stub import Fault, StubServer
from aichat_core import MessagesInput
from tests.support import options_for

pytestmark = pytest.mark.anyio


async def wait_until_idle(stub: StubServer) -> None:
    """The stub's in-flight count back to 0 (it notices a client leaving within moments)."""
    with anyio.fail_after(5):
        while stub.in_flight:
            await anyio.sleep(0.01)


class Counted:
    """A generator of prompts that counts how many were pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    def __iter__(self) -> Iterator[str]:
        for n in range(self.total):
            self.pulled += 1
            yield f"p{n}"


async def test_each_prompt_is_answered_once_within_the_limit(stub: StubServer) -> None:
    prompts = [f"p{n}" for n in range(12)]
    stub.enqueue(*[Fault.delay(0.05)] * len(prompts))

    async with (
        AsyncAichatClient(**options_for(stub)) as client,
        client.ask_many(prompts, concurrency=3) as results,
    ):
        got = [result async for result in results]

    assert sorted(r.index for r in got) == list(range(12))
    assert all(r.ok and r.text == f"Echo: {r.prompt}" for r in got)
    assert sorted(r.json["message"] for r in stub.requests) == sorted(prompts)  # type: ignore[index]
    assert stub.max_in_flight == 3


async def test_prompts_are_pulled_lazily(stub: StubServer) -> None:
    prompts = Counted(200)

    async with (
        AsyncAichatClient(**options_for(stub)) as client,
        client.ask_many(prompts, concurrency=4) as results,
    ):
        first = await results.__anext__()
        pulled_at_first = prompts.pulled
        rest = [r async for r in results]

    assert first.ok
    assert pulled_at_first < 20  # a few per worker, not the whole input
    assert len(rest) == 199
    assert prompts.pulled == 200


async def test_an_async_generator_of_prompts(stub: StubServer) -> None:
    async def prompts() -> AsyncIterator[str]:
        for n in range(10):
            await anyio.sleep(0)
            yield f"a{n}"

    async with (
        AsyncAichatClient(**options_for(stub)) as client,
        client.ask_many(prompts(), concurrency=3) as results,
    ):
        texts = sorted([r.text or "" async for r in results])

    assert texts == sorted(f"Echo: a{n}" for n in range(10))


async def test_each_failure_is_its_own_result(stub: StubServer) -> None:
    prompts: list[object] = [
        "fine",
        [{"role": "robot", "content": "bad"}],  # unknown role
        "x\ud83d",  # a lone surrogate
        42,  # not a prompt at all
        "",  # empty
        "refused",
    ]
    stub.enqueue(Fault.reply("first"), Fault.refuse("moderated"))

    async with (
        AsyncAichatClient(**options_for(stub)) as client,
        client.ask_many(prompts, concurrency=1) as results,  # type: ignore[arg-type]
    ):
        got = sorted([r async for r in results], key=lambda r: r.index)

    assert [r.index for r in got] == list(range(6))
    assert [r.ok for r in got] == [True, False, False, False, False, False]
    assert all(type(r.error) is InvalidRequestError for r in got[1:5])
    assert "surrogate" in str(got[2].error)
    assert type(got[5].error).__name__ == "ServiceError"
    assert len(stub.requests) == 2  # the four bad prompts never reached the wire


async def test_an_unexpected_exception_in_one_prompt_is_that_prompts_result(
    stub: StubServer,
) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        def get_cookies(self) -> dict[str, str]:
            self.calls += 1
            if self.calls == 2:
                raise KeyError("a bug in the user's cookie source")
            return {"session": "s"}

    async with (
        AsyncAichatClient(base_url=stub.url, cookie_source=Flaky()) as client,
        client.ask_many(["a", "b", "c"], concurrency=1) as results,
    ):
        got = sorted([r async for r in results], key=lambda r: r.index)

    assert [r.ok for r in got] == [True, False, True]
    assert isinstance(got[1].error, AichatError)
    assert isinstance(got[1].error.__cause__, KeyError)


async def test_break_leaves_nothing_in_flight(stub: StubServer) -> None:
    stub.enqueue(Fault.reply("fast"), *[Fault.delay(30)] * 4)

    async with AsyncAichatClient(**options_for(stub)) as client:
        with anyio.fail_after(5):
            async with client.ask_many(["a"] * 5, concurrency=5) as results:
                first = await results.__anext__()
        assert first.text == "fast"
        await wait_until_idle(stub)
        stub.reset()  # faults of requests that never left are not for the next call
        assert await client.ask("after") == "Echo: after"  # the caller's task goes on


async def test_an_exception_in_the_loop_body_comes_out_as_it_is(stub: StubServer) -> None:
    stub.enqueue(Fault.reply("first"), *[Fault.delay(30)] * 3)

    async def fail_inside_the_loop(client: AsyncAichatClient) -> None:
        async with client.ask_many(["a"] * 4, concurrency=4) as results:
            async for _ in results:
                raise LookupError("the caller's own")

    async with AsyncAichatClient(**options_for(stub)) as client:
        with pytest.raises(LookupError, match="the caller's own") as caught:
            await fail_inside_the_loop(client)
        assert type(caught.value) is LookupError  # never wrapped in an ExceptionGroup
        await wait_until_idle(stub)
        stub.reset()  # faults of requests that never left are not for the next call
        assert await client.ask("after") == "Echo: after"


async def test_outside_cancellation_leaves_nothing_in_flight(stub: StubServer) -> None:
    stub.enqueue(*[Fault.delay(30)] * 3)
    seen: list[AskResult] = []

    async with AsyncAichatClient(**options_for(stub)) as client:
        started = time.monotonic()
        with anyio.move_on_after(0.3) as scope:
            async with client.ask_many(["a"] * 3, concurrency=3) as results:
                seen.extend([r async for r in results])
        assert scope.cancelled_caught
        assert time.monotonic() - started < 5
        assert seen == []
        await wait_until_idle(stub)
        stub.reset()  # faults of requests that never left are not for the next call
        assert await client.ask("after") == "Echo: after"


async def test_a_failing_prompt_iterable_ends_the_iteration_with_a_typed_error(
    stub: StubServer,
) -> None:
    def prompts() -> Iterator[str]:
        yield "one"
        yield "two"
        raise OSError("the input file went away")

    got: list[AskResult] = []

    async def collect(client: AsyncAichatClient) -> None:
        async with client.ask_many(prompts(), concurrency=2) as results:
            async for result in results:
                got.append(result)

    async with AsyncAichatClient(**options_for(stub)) as client:
        with pytest.raises(InvalidRequestError, match="after 2 of them: OSError") as caught:
            await collect(client)

    assert sorted(r.text or "" for r in got) == ["Echo: one", "Echo: two"]  # none lost
    assert isinstance(caught.value.__cause__, OSError)


@pytest.mark.parametrize(
    ("prompts", "concurrency", "message"),
    [
        pytest.param(["a"], 0, "concurrency", id="zero"),
        pytest.param(["a"], True, "concurrency", id="bool"),
        pytest.param("one prompt", 2, "iterable", id="a-str"),
        pytest.param(7, 2, "iterable", id="an-int"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    stub: StubServer, prompts: object, concurrency: int, message: str
) -> None:
    async with AsyncAichatClient(**options_for(stub)) as client:
        with pytest.raises(InvalidRequestError, match=message):
            client.ask_many(prompts, concurrency=concurrency)  # type: ignore[arg-type]
    assert stub.requests == []


async def test_iterating_without_the_block_says_how(stub: StubServer) -> None:
    prompts: list[MessagesInput] = ["a"]
    async with AsyncAichatClient(**options_for(stub)) as client:
        with pytest.raises(InvalidRequestError, match=r"async with client\.ask_many"):
            async for _ in client.ask_many(prompts):
                pass
    assert stub.requests == []
