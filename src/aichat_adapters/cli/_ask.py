"""``aichat ask``: one prompt, one reply."""

from __future__ import annotations

import click

from aichat_adapters.cli._exit import EXIT_CODES_HELP
from aichat_adapters.cli._factory import open_client
from aichat_adapters.cli._options import ServiceOptions, generation_options, service_options
from aichat_adapters.cli._text import TEXT, json_text, read_stdin
from aichat_core import InvalidRequestError, Message, MessagesInput

__all__ = ["ask", "read_prompt"]


def read_prompt(prompt: str) -> str:
    """The prompt itself, or all of stdin for ``-`` (without the final line break).

    Raises:
        InvalidRequestError: the prompt is empty, or stdin is not UTF-8 text.
    """
    text = read_stdin().rstrip("\r\n") if prompt == "-" else prompt
    if not text.strip():
        source = "stdin" if prompt == "-" else "PROMPT"
        # The library's wording, with where the prompt came from.
        raise InvalidRequestError(
            f"the prompt is empty (read from {source}); give some text to ask"
        )
    return text


@click.command(short_help="Ask one prompt and print the reply.", epilog=EXIT_CODES_HELP)
@click.argument("prompt", type=TEXT)
@click.option(
    "--system", type=TEXT, metavar="TEXT", help="A system message sent before the prompt."
)
@generation_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print one JSON object: {"reply", "attempts", "elapsed", "raw"}.',
)
@service_options
def ask(
    prompt: str,
    system: str | None,
    temperature: float | None,
    top_p: float | None,
    as_json: bool,
    service: ServiceOptions,
) -> None:
    """Ask one PROMPT and print the reply; '-' reads the prompt from stdin (UTF-8).

    \b
    Examples:
      aichat ask "Hello, how are you?"
      echo "Summarise: ..." | aichat ask - --system "Be brief."
      aichat ask --stub --json "Hi"
    """
    text = read_prompt(prompt)
    messages: MessagesInput = (
        text if system is None else [Message.system(system), Message.user(text)]
    )
    with open_client(service) as client:
        reply = client.complete(messages, temperature=temperature, top_p=top_p)
    if as_json:
        document = {
            "reply": reply.text,
            "attempts": reply.attempts,
            "elapsed": round(reply.elapsed, 6),
            "raw": dict(reply.raw),
        }
        click.echo(json_text(document))
    else:
        click.echo(reply.text)
