"""``aichat chat``: a multi-turn conversation, interactive or scripted through stdin."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import attrs
import click

from aichat_adapters import Chat
from aichat_adapters.cli._exit import EXIT_CODES_HELP, describe, one_line
from aichat_adapters.cli._factory import open_client
from aichat_adapters.cli._files import replace_atomically
from aichat_adapters.cli._options import ServiceOptions, generation_options, service_options
from aichat_adapters.cli._text import (
    MAX_INPUT_BYTES,
    TEXT,
    check_decoded,
    decode,
    json_text,
    stdin_bytes,
)
from aichat_core import AichatError, InvalidRequestError, check_params

__all__ = ["DISCARDED", "ChatSession", "chat"]

PROMPT = "you> "
COMMANDS_HELP = "/reset forgets the history, /save FILE writes it as JSON, /exit ends (or Ctrl-D)"
DISCARDED = "(line discarded; /exit or Ctrl-D ends the chat)"


@attrs.define
class ChatSession:
    """One ``aichat chat`` run: the conversation and how it is shown.

    Attributes:
        chat: The conversation (it keeps the history).
        temperature: Passed with every turn.
        top_p: Passed with every turn.
        as_json: Print each reply as one JSON line.
        interactive: Talking to a person at a terminal (notes on stderr,
            errors do not end the session).
        waiting: Shown while a reply is awaited (a spinner at a terminal); the
            reply is printed once it is gone, never beside it.
    """

    chat: Chat
    temperature: float | None = None
    top_p: float | None = None
    as_json: bool = False
    interactive: bool = False
    waiting: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext

    def handle(self, line: str) -> bool:
        """Run one input line (a prompt or a command); ``False`` once the session should end."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/") and not text.startswith("//"):
            return self.command(text)
        self.turn(text[1:] if text.startswith("//") else text)
        return True

    def command(self, text: str) -> bool:
        """Run a ``/command``; ``False`` for ``/exit``.

        Raises:
            InvalidRequestError: an unknown command, or ``/save`` without a file.
        """
        name, _, argument = text.partition(" ")
        if name in ("/exit", "/quit"):
            return False
        if name == "/reset":
            self.chat.reset()
            self.note("history cleared")
        elif name == "/save":
            if not argument.strip():
                raise InvalidRequestError("/save needs a file name: /save FILE")
            count = self.save(Path(argument.strip()).expanduser())
            self.note(f"saved {count} messages to {argument.strip()}")
        elif name == "/help":
            self.note(COMMANDS_HELP)
        else:
            raise InvalidRequestError(
                f"unknown command {name!r}: {COMMANDS_HELP}; start a prompt with '//' "
                "to send a line that begins with '/'"
            )
        return True

    def turn(self, text: str) -> None:
        """Ask ``text`` with the history and print the reply."""
        with self.waiting():
            reply = self.chat.ask(text, temperature=self.temperature, top_p=self.top_p)
        click.echo(json_text({"reply": reply}) if self.as_json else reply)

    def save(self, path: Path) -> int:
        """Write the history as a JSON list of ``{"role", "content"}`` messages.

        The file is replaced atomically; a new one is created ``0600``, an
        existing one keeps its mode, and a symbolic link is refused.
        """
        messages = [message.to_dict() for message in self.chat.history.messages]
        document = json_text(messages, indent=2) + "\n"
        replace_atomically(path, [document.encode("utf-8")], "/save FILE")
        return len(messages)

    def note(self, text: str) -> None:
        """A remark for the person at the terminal (stderr, interactive sessions only)."""
        if self.interactive:
            click.echo(text, err=True)

    def scripted(self, lines: Iterable[str]) -> None:
        """Read one prompt per line, print one reply per prompt; the first error ends the run."""
        for line in lines:
            if not self.handle(line):
                return

    def interactive_loop(self, stdin: TextIO) -> None:
        """Prompt, answer, repeat: errors are shown and the session goes on.

        As in Python's REPL, Ctrl-C at the prompt discards the line typed so
        far; while waiting for a reply it drops that turn. Ctrl-D or ``/exit``
        ends the session; the history is kept until then.
        """
        from rich.console import Console

        # A byte that is not UTF-8 reaches the line as a lone surrogate, named below.
        reconfigure = getattr(stdin, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(errors="surrogateescape")
        console = Console(stderr=True)
        console.print(f"[bold]aichat chat[/bold]: type a message. {COMMANDS_HELP}.")
        self.waiting = functools.partial(console.status, "waiting for the reply...")
        while True:
            try:
                line = check_decoded(_read_line(stdin), "the line")
            except EOFError:
                click.echo(err=True)
                return
            except KeyboardInterrupt:
                click.echo(f"\n{DISCARDED}", err=True)
                continue
            except InvalidRequestError as error:
                click.echo(f"error: {describe(error)}", err=True)
                continue
            try:
                going_on = self.handle(line)
            except KeyboardInterrupt:
                click.echo("(cancelled)", err=True)
                continue
            except AichatError as error:
                click.echo(f"error: {describe(error)}", err=True)
                continue
            except OSError as error:
                click.echo(f"error: {one_line(str(error))}", err=True)
                continue
            if not going_on:
                return


def stdin_lines() -> Iterator[str]:
    """stdin's lines, each decoded as UTF-8.

    Raises:
        InvalidRequestError: a line is not UTF-8 text, or longer than `MAX_INPUT_BYTES`
            (raised when that line is reached: the lines before it were handled).
    """
    stream = stdin_bytes()
    number = 0
    while raw := stream.readline(MAX_INPUT_BYTES + 1):
        number += 1
        if len(raw) > MAX_INPUT_BYTES:
            raise InvalidRequestError(
                f"stdin line {number} is longer than {MAX_INPUT_BYTES // 2**20} MiB; "
                "a prompt that long cannot be sent"
            )
        yield decode(raw, f"stdin line {number}")


def _read_line(stdin: TextIO) -> str:
    if sys.stdout.isatty():
        with contextlib.suppress(ImportError):  # no readline on Windows
            import readline  # noqa: F401  (line editing and history for input())
        return input(PROMPT)
    click.echo(PROMPT, nl=False, err=True)
    line = stdin.readline()
    if not line:
        raise EOFError
    return line


@click.command(
    short_help="A conversation with history, interactive or scripted.", epilog=EXIT_CODES_HELP
)
@click.option(
    "--system", type=TEXT, metavar="TEXT", help="A system message that opens the conversation."
)
@generation_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print each reply as one JSON line {"reply": ...}, even when it spans lines.',
)
@service_options
def chat(
    system: str | None,
    temperature: float | None,
    top_p: float | None,
    as_json: bool,
    service: ServiceOptions,
) -> None:
    """A conversation that keeps its history: each turn sends all the previous ones.

    At a terminal it prompts for each message. With stdin piped it reads one
    prompt per line and prints one reply per prompt on stdout, and nothing
    else, so that it can be scripted; the first error ends it with its exit
    code.

    \b
    Commands (a line that starts with '/'):
      /reset       forget the history (the --system message stays)
      /save FILE   write the history as a JSON list of {"role", "content"}
      /exit        end the session (so does Ctrl-D)
    A line starting with '//' is sent as a prompt without its first '/'.
    At a terminal, Ctrl-C discards the line being typed, or the reply
    being waited for; the history stays.

    \b
    Examples:
      aichat chat --system "Be brief."
      printf 'Hi\\nAnd then?\\n/save chat.json\\n' | aichat chat --stub
    """
    check_params(temperature=temperature, top_p=top_p)  # bad ones: exit 2 now
    interactive = sys.stdin is not None and sys.stdin.isatty()
    with open_client(service) as client:
        session = ChatSession(
            client.chat(system=system),
            temperature=temperature,
            top_p=top_p,
            as_json=as_json,
            interactive=interactive,
        )
        if interactive:
            session.interactive_loop(sys.stdin)
        else:
            session.scripted(stdin_lines())
