"""Code that must FAIL type checking: every line marked ``# type error`` is a mistake.

``nox -s typecheck`` runs mypy on this file and checks that it reports an
error on each marked line and nowhere else (see ``noxfile.py``). mypy's own
run over ``src`` and ``tests`` excludes this folder.
"""

from __future__ import annotations

from aichat_adapters import AichatClient, AsyncAichatClient
from aichat_adapters.g4f import Aichat


def sync_calls(client: AichatClient) -> None:
    client.ask("Hi", temperature=0.2)  # fine
    client.ask("Hi", temprature=0.2)  # type error
    client.complete("Hi", top_k=5)  # type error
    client.ask("Hi", temperature="hot")  # type error
    client.conversation().ask("Hi", presense_penalty=1)  # type error


async def async_calls(client: AsyncAichatClient) -> None:
    await client.ask("Hi", frequency_penalty=0.5)  # fine
    await client.ask("Hi", frequency_penalti=0.5)  # type error
    await client.conversation().ask("Hi", modle="gpt-3.5-turbo")  # type error
    async with client.ask_many(["Hi"], concurrency=2, top_p=0.5) as results:  # fine
        async for _ in results:
            pass
    client.ask_many(["Hi"], concurency=2)  # type error
    client.ask_many(["Hi"], tempreature=1)  # type error


def g4f_calls() -> None:
    Aichat.create_completion("gpt-3.5-turbo", [], temperature=0.5)  # fine
    Aichat.create_completion("gpt-3.5-turbo", [], temprature=0.5)  # type error
