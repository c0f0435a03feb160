"""Waits recorded instead of slept: for tests of how long a client waits, not of waiting.

    waits = Waits()
    with waits.attach(AichatClient(...)) as client:  # or an AsyncAichatClient
        client.complete("Hi")
    assert waits.seconds == [1.0]  # Retry-After: 1, not slept

A client sleeps through its family's ``sleep`` (``time.sleep``, or
``anyio.sleep`` for the async client), shared with its ``with_options``
copies; ``attach`` puts the recorder there. The clock does not move: a
deadline is not brought nearer by a recorded wait, so tests of deadlines
keep sleeping for real.
"""

from __future__ import annotations

from typing import TypeVar

import anyio.lowlevel

from aichat_adapters import AichatClient, AsyncAichatClient

__all__ = ["Waits"]

Client = TypeVar("Client", AichatClient, AsyncAichatClient)


class Waits:
    """The waits clients asked for, in seconds, oldest first (``seconds``)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def attach(self, client: Client) -> Client:
        """Make ``client`` and its copies record their waits here instead of sleeping."""
        if isinstance(client, AsyncAichatClient):
            client._family.sleep = self._sleep_async
        else:
            client._family.sleep = self._sleep
        return client

    def _sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)

    async def _sleep_async(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await anyio.lowlevel.checkpoint()  # still a point where the task may be cancelled
