"""Threads, a running event loop, ask_many and conversations, against the stub."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from aichat_adapters import AichatClient, AsyncAichatClient, InvalidRequestError
from aichat_adapters.stub import Fault, StubServer
from aichat_core import MessagesInput

from .helpers import call, options_for


def test_sync_client_inside_a_running_event_loop(stub: StubServer) -> None:
    async def main() -> str:
        asyncio.get_running_loop()  # proves we are inside a loop, as in Jupyter
        with AichatClient(**options_for(stub)) as client:
            return client.ask("from inside a loop")

    assert asyncio.run(main()) == "Echo: from inside a loop"


def test_sync_client_shared_by_8_threads(stub: StubServer) -> None:
    prompts = [f"prompt number {n}" for n in range(40)]
    with AichatClient(**options_for(stub)) as client, ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(client.ask, prompts))

    assert replies == [f"Echo: {p}" for p in prompts]
    assert sorted(r.json["message"] for r in stub.requests) == sorted(prompts)  # type: ignore[index]


@pytest.mark.anyio
async def test_ask_many_answers_each_prompt_once_within_the_limit(stub: StubServer) -> None:
    prompts = [f"p{n}" for n in range(12)]
    stub.enqueue(*[Fault.delay(0.05)] * len(prompts))

    async with AsyncAichatClient(**options_for(stub)) as client:
        results = [result async for result in client.ask_many(prompts, concurrency=3)]

    assert sorted(r.index for r in results) == list(range(12))
    assert all(r.ok and r.text == f"Echo: {r.prompt}" for r in results)
    assert sorted(r.json["message"] for r in stub.requests) == sorted(prompts)  # type: ignore[index]
    assert stub.max_in_flight == 3


@pytest.mark.anyio
async def test_ask_many_reports_a_failed_prompt_without_stopping_the_others(
    stub: StubServer,
) -> None:
    prompts: list[MessagesInput] = ["ok one", [{"role": "robot", "content": "bad"}], "ok two"]
    stub.enqueue(Fault.refuse("moderated"))

    async with AsyncAichatClient(**options_for(stub)) as client:
        results = sorted(
            [r async for r in client.ask_many(prompts, concurrency=1)], key=lambda r: r.index
        )

    assert [r.index for r in results] == [0, 1, 2]
    assert type(results[1].error) is InvalidRequestError
    failures = [r for r in results if not r.ok]
    successes = [r for r in results if r.ok]
    assert len(failures) == 2  # the bad role, and whichever prompt met the refusal
    assert len(successes) == 1
    assert successes[0].text == f"Echo: {successes[0].prompt}"


@pytest.mark.anyio
async def test_ask_many_closed_early_cancels_the_rest(stub: StubServer) -> None:
    stub.enqueue(Fault.reply("fast"), *[Fault.delay(5)] * 4)

    async with AsyncAichatClient(**options_for(stub)) as client:
        with anyio.fail_after(3):
            async with contextlib.aclosing(client.ask_many(["a"] * 5, concurrency=5)) as results:
                first = await results.__anext__()

    assert first.text == "fast"


@pytest.mark.anyio
async def test_ask_many_rejects_a_bad_concurrency(stub: StubServer) -> None:
    async with AsyncAichatClient(**options_for(stub)) as client:
        with pytest.raises(InvalidRequestError, match="concurrency"):
            async for _ in client.ask_many(["a"], concurrency=0):
                pass
    assert stub.requests == []


def test_conversation_keeps_history(stub: StubServer) -> None:
    with AichatClient(**options_for(stub)) as client:
        chat = client.conversation(system="Be brief.")
        first = chat.ask("Hi")
        chat.ask("And again?")

    second_prompt = stub.requests[1].json["message"]  # type: ignore[index]
    assert second_prompt == (
        f"System: Be brief.\nUser: Hi\nAssistant: {first}\nUser: And again?\nAssistant:"
    )
    assert len(chat.history) == 5
    chat.reset()
    assert [m.content for m in chat.history.messages] == ["Be brief."]


@pytest.mark.anyio
async def test_async_conversation_keeps_history(stub: StubServer) -> None:
    async with AsyncAichatClient(**options_for(stub)) as client:
        chat = client.conversation()
        first = await chat.ask("Hi")
        await chat.ask("More")

    assert stub.requests[0].json["message"] == "Hi"  # type: ignore[index]
    assert stub.requests[1].json["message"] == (  # type: ignore[index]
        f"User: Hi\nAssistant: {first}\nUser: More\nAssistant:"
    )


@pytest.mark.anyio
async def test_async_cookie_source_is_awaited(stub: StubServer) -> None:
    class Vault:
        async def get_cookies(self) -> dict[str, str]:
            await anyio.sleep(0)
            return {"session": "from-vault"}

    async with AsyncAichatClient(base_url=stub.url, cookie_source=Vault()) as client:
        assert await client.ask("Hi") == "Echo: Hi"
    assert stub.requests[0].cookies == {"session": "from-vault"}


def test_sync_client_refuses_an_async_cookie_source(stub: StubServer) -> None:
    class Vault:
        async def get_cookies(self) -> dict[str, str]:
            return {}

    with pytest.raises(InvalidRequestError, match="AsyncAichatClient"):
        call("sync", {"base_url": stub.url, "cookie_source": Vault()}, "Hi")
