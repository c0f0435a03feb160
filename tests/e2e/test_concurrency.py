"""Threads, a running event loop and conversations, against the stub (ask_many: test_ask_many)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from aichat_adapters import AichatClient, AsyncAichatClient, InvalidRequestError
from aichat_adapters.stub import StubServer
from tests.support import call, options_for


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
