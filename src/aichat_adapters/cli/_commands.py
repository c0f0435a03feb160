"""The click commands of ``aichat``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from aichat_adapters._client import AichatClient
from aichat_adapters.cli._exit import EXIT_CODES_HELP, exit_code
from aichat_core import DEFAULT_BASE_URL, AichatError

__all__ = ["cli"]

STUB_COOKIES = {"stub": "1"}


@click.group(help=f"Talk to chat-gpt.org from the command line.\n\n{EXIT_CODES_HELP}")
@click.version_option(package_name="aichat-client")
def cli() -> None:
    """The ``aichat`` command group."""


@contextlib.contextmanager
def _client(stub: bool, **options: Any) -> Iterator[AichatClient]:
    if not stub:
        with AichatClient(**options) as client:
            yield client
        return
    from aichat_adapters.stub import StubServer

    with StubServer() as server:
        options.update(base_url=server.url, cookies=options["cookies"] or STUB_COOKIES)
        with AichatClient(**options) as client:
            yield client


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("prompt")
@click.option("--stub", is_flag=True, help="Start the local stub server and ask it (no network).")
@click.option("--base-url", envvar="AICHAT_BASE_URL", default=DEFAULT_BASE_URL, show_default=True)
@click.option("--cookies", envvar="AICHAT_COOKIES", help='Cookies as "name=value; other=value2".')
@click.option("--temperature", type=float, help="Sampling temperature, 0 to 2.")
@click.option("--top-p", type=float, help="Nucleus sampling, 0 to 1.")
@click.option("--max-retries", type=int, default=2, show_default=True)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per attempt.")
def ask(
    prompt: str,
    stub: bool,
    base_url: str,
    cookies: str | None,
    temperature: float | None,
    top_p: float | None,
    max_retries: int,
    timeout: float,
) -> None:
    """Ask one PROMPT and print the reply."""
    try:
        with _client(
            stub,
            base_url=base_url,
            cookies=cookies or None,
            max_retries=max_retries,
            timeout=timeout,
        ) as client:
            reply = client.ask(prompt, temperature=temperature, top_p=top_p)
    except AichatError as error:
        click.echo(f"error: {type(error).__name__}: {error}", err=True)
        raise SystemExit(exit_code(error)) from None
    click.echo(reply)
