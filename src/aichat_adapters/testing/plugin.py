"""The pytest plugin of aichat-client: a shared stub server and clients bound to it.

pytest loads it by itself (entry point ``aichat`` in the ``pytest11`` group);
without plugin autoloading, add ``-p aichat_adapters.testing.plugin``. It
imports the stub and the clients only when a fixture is used, and starts the
stub server (once per session) only when a test asks for it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aichat_adapters import AichatClient, AsyncAichatClient, RetryPolicy
    from aichat_adapters.stub import StubServer

__all__ = [
    "TEST_COOKIES",
    "aichat_async_client",
    "aichat_client",
    "aichat_stub",
]

TEST_COOKIES = "aichat_test=1"
"""The dummy cookies that ``aichat_stub`` puts in ``AICHAT_COOKIES`` and the clients send."""

_SETTLE = 2.0  # seconds to let a previous test's last answer finish before a reset


@pytest.fixture(scope="session")
def _aichat_stub_server() -> Iterator[StubServer]:
    from aichat_adapters.stub import StubServer

    with StubServer() as server:
        yield server


@pytest.fixture
def aichat_stub(_aichat_stub_server: StubServer, monkeypatch: pytest.MonkeyPatch) -> StubServer:
    """The session's stub server, reset, and the environment pointing at it.

    For the test's duration, ``AICHAT_BASE_URL`` is the stub's URL and
    ``AICHAT_COOKIES`` a dummy cookie (``AICHAT_PROXY`` is unset), so code
    that builds its own ``AichatClient()`` talks to the stub unchanged.
    Script it with ``aichat_stub.enqueue(Fault...)``; read what it received
    in ``aichat_stub.requests``.
    """
    server = _aichat_stub_server
    deadline = time.monotonic() + _SETTLE
    while server.in_flight and time.monotonic() < deadline:
        time.sleep(0.005)
    server.reset()
    monkeypatch.setenv("AICHAT_BASE_URL", server.url)
    monkeypatch.setenv("AICHAT_COOKIES", TEST_COOKIES)
    monkeypatch.delenv("AICHAT_PROXY", raising=False)
    return server


def _fast_retries() -> RetryPolicy:
    from aichat_adapters import RetryPolicy

    return RetryPolicy(initial_wait=0.01, max_wait=0.1)


@pytest.fixture
def aichat_client(aichat_stub: StubServer) -> Iterator[AichatClient]:
    """An [`AichatClient`][aichat_adapters.AichatClient] bound to ``aichat_stub``.

    It sends the dummy cookies and retries as usual, with short waits
    (10 ms to 100 ms) so that tests stay fast; closed after the test.
    """
    from aichat_adapters import AichatClient

    with AichatClient(
        base_url=aichat_stub.url, cookies=TEST_COOKIES, retry_policy=_fast_retries()
    ) as client:
        yield client


@pytest.fixture
async def aichat_async_client(aichat_stub: StubServer) -> AsyncIterator[AsyncAichatClient]:
    """An [`AsyncAichatClient`][aichat_adapters.AsyncAichatClient] bound to ``aichat_stub``.

    For tests marked ``@pytest.mark.anyio`` (asyncio and trio); otherwise as
    ``aichat_client``.
    """
    from aichat_adapters import AsyncAichatClient

    async with AsyncAichatClient(
        base_url=aichat_stub.url, cookies=TEST_COOKIES, retry_policy=_fast_retries()
    ) as client:
        yield client
