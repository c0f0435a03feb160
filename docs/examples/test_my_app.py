"""A user's own tests of code that uses aichat-client, with its test kit.

Needs, in the virtual environment the tests run in: aichat-client with the
``stub`` extra, pytest, and trio for the trio runs (``pip install pytest trio``).
The fixtures come from aichat-client's pytest plugin, loaded by itself.
``nox -s build`` runs this file against the built wheel.
"""

from __future__ import annotations

import json

import pytest
from myapp import greet

from aichat_adapters import AichatClient, AsyncAichatClient, ServerError
from aichat_adapters.stub import Fault, StubServer
from aichat_adapters.testing import FakeTransport


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each async test on asyncio and on trio."""
    return str(request.param)


def test_app_code_reaches_the_stub(aichat_stub: StubServer) -> None:
    # greet() builds its own AichatClient(): AICHAT_BASE_URL and AICHAT_COOKIES lead it here.
    assert greet("Ann") == "Echo: Write a one-line greeting for Ann."
    (request,) = aichat_stub.requests
    assert request.json == {
        "message": "Write a one-line greeting for Ann.",
        "temperature": 0.5,
        "presence_penalty": 0,
        "top_p": 1,
        "frequency_penalty": 0,
    }


def test_a_scripted_server_error(aichat_stub: StubServer) -> None:
    aichat_stub.enqueue(Fault.status(500))
    with AichatClient(max_retries=0) as client, pytest.raises(ServerError) as excinfo:
        client.ask("Hi")
    assert excinfo.value.status_code == 500
    assert excinfo.value.attempts == 1


def test_the_client_fixture(aichat_client: AichatClient, aichat_stub: StubServer) -> None:
    aichat_stub.enqueue(Fault.status(503))
    reply = aichat_client.complete("Hi")
    assert (reply.text, reply.attempts) == ("Echo: Hi", 2)  # retried past the 503


@pytest.mark.anyio
async def test_the_async_client_fixture(
    aichat_async_client: AsyncAichatClient, aichat_stub: StubServer
) -> None:
    aichat_stub.enqueue(Fault.reply("Hello from the stub"))
    assert await aichat_async_client.ask("Hi") == "Hello from the stub"
    assert await aichat_async_client.ask("again") == "Echo: again"


def test_without_a_socket() -> None:
    fake = FakeTransport("A scripted reply", Fault.status(500))
    with AichatClient(transport=fake, cookies="session=test", max_retries=0) as client:
        assert client.ask("one") == "A scripted reply"
        with pytest.raises(ServerError):
            client.ask("two")
        assert client.ask("three") == "Echo: three"  # the script is done: the echo
    assert [json.loads(r.body)["message"] for r in fake.requests] == ["one", "two", "three"]
    assert dict(fake.requests[0].headers)["cookie"] == "session=test"
