"""An application that uses aichat-client: it builds its own client."""

from __future__ import annotations

from aichat_adapters import AichatClient


def greet(name: str) -> str:
    """Ask for a one-line greeting; the client reads AICHAT_BASE_URL and AICHAT_COOKIES."""
    with AichatClient() as client:
        return client.ask(f"Write a one-line greeting for {name}.")
