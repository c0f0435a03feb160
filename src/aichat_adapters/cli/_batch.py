"""``aichat batch``: many prompts from a JSON Lines file, answers appended as they complete.

The input is read line by line, never whole, in two passes. The first checks
every line (UTF-8, JSON, id, prompt or messages, parameters, text UTF-8 can
carry) before anything is sent; the second hands the prompts still to ask to
``AsyncAichatClient.ask_many`` as a generator, so that only the prompts in
flight are held in memory. Lines are split on ``\\n`` only: a JSON string may
hold U+2028 or U+0085. Input from stdin is first copied to an unnamed
temporary file beside the output. The output file is the run's journal (see
``_journal``): a rerun skips what is answered and asks the rest.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import attrs
import click

from aichat_adapters import AsyncAichatClient
from aichat_adapters.cli._exit import (
    COOKIES,
    EXIT_CODES_HELP,
    INTERRUPTED,
    OK,
    OTHER,
    describe,
    exit_code,
    message,
)
from aichat_adapters.cli._factory import make_client, service_source, serving
from aichat_adapters.cli._files import open_regular
from aichat_adapters.cli._journal import Id, ResultWriter, id_key, is_id, load_journal
from aichat_adapters.cli._options import ServiceOptions, generation_options, service_options
from aichat_adapters.cli._text import MAX_INPUT_BYTES, decode, stdin_bytes
from aichat_core import (
    AichatError,
    InvalidRequestError,
    MessagesInput,
    check_params,
    check_text,
    prepare_call,
)

__all__ = ["Item", "Tally", "batch", "check_items", "read_items", "time_left", "time_left_column"]

# JSON's own whitespace; str.strip() would also strip U+2028, U+0085...
_JSON_SPACE = " \t\r\n"


@attrs.frozen
class Item:
    """One input line: its id, the line it came from, and what to ask."""

    id: Id
    line: int
    prompt: MessagesInput = attrs.field(repr=False)

    @property
    def key(self) -> str:
        """The id as JSON: ``1`` and ``"1"`` are different ids."""
        return id_key(self.id)


# --------------------------------------------------------------------------- input


@contextlib.contextmanager
def _open_input(path: Path | None, spool_folder: Path) -> Iterator[BinaryIO]:
    """The input file, checked to be a regular one; stdin is copied to a temporary file."""
    if path is None:
        with tempfile.TemporaryFile(dir=spool_folder) as spool:
            shutil.copyfileobj(stdin_bytes(), spool)
            spool.seek(0)
            yield spool
        return
    file = open_regular(
        path, "IN.jsonl", hint="; to pipe the prompts in, give '-' and write them to stdin"
    )
    if file is None:
        raise InvalidRequestError(f"IN.jsonl {path} does not exist")
    with file:
        yield file


def _lines(file: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """``(number, text)`` of every line, split on ``\\n`` only, each decoded as UTF-8."""
    number = 0
    while raw := file.readline(MAX_INPUT_BYTES + 1):
        number += 1
        if len(raw) > MAX_INPUT_BYTES:
            raise InvalidRequestError(
                f"{name} line {number} is longer than {MAX_INPUT_BYTES // 2**20} MiB; "
                "a prompt that long cannot be sent"
            )
        text = decode(raw, f"{name} line {number}")
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def read_items(file: BinaryIO, name: str, params: Mapping[str, Any]) -> Iterator[Item]:
    """Each input line as an [`Item`][], checked; blank lines are skipped.

    Args:
        file: The JSON Lines input, read from where it stands.
        name: The input's name in messages (its path, or ``"stdin"``).
        params: Generation parameters, checked with each line's messages.

    Raises:
        InvalidRequestError: a line is not a valid item (the message names its number).
    """
    for number, line in _lines(file, name):
        if not line.strip(_JSON_SPACE):
            continue
        try:
            item = _parse_item(line, number, params)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{name} line {number}: {exc.message}") from None
        yield item


def check_items(file: BinaryIO, name: str, params: Mapping[str, Any]) -> dict[str, int]:
    """Check every line before anything is sent; return each id's key and line number.

    Raises:
        InvalidRequestError: a line is invalid, two lines have the same id, or
            there is no item at all.
    """
    seen: dict[str, int] = {}
    for item in read_items(file, name, params):
        if item.key in seen:
            raise InvalidRequestError(
                f"{name} line {item.line}: id {item.key} is also the id of line "
                f"{seen[item.key]}; ids must be unique"
            )
        seen[item.key] = item.line
    if not seen:
        raise InvalidRequestError(f"{name} holds no prompts")
    return seen


def _parse_item(line: str, number: int, params: Mapping[str, Any]) -> Item:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except (ValueError, RecursionError):  # e.g. an integer of more than 4,300 digits
        raise InvalidRequestError("not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequestError(
            f'expected a JSON object {{"id": ..., "prompt": ...}}, got {_json_kind(data)}'
        )
    item_id = data.get("id", number)
    if not is_id(item_id):
        raise InvalidRequestError(f'"id" must be a string or an integer, not {_json_kind(item_id)}')
    if isinstance(item_id, str):
        check_text(item_id, '"id"')
    has_prompt, has_messages = "prompt" in data, "messages" in data
    if has_prompt == has_messages:
        raise InvalidRequestError('give exactly one of "prompt" (a string) or "messages" (a list)')
    prompt: MessagesInput
    if has_prompt:
        prompt = data["prompt"]
        if not isinstance(prompt, str):
            raise InvalidRequestError(f'"prompt" must be a string, not {_json_kind(prompt)}')
    else:
        prompt = data["messages"]
        if not isinstance(prompt, list):
            raise InvalidRequestError(
                '"messages" must be a list of {"role": ..., "content": ...} objects'
            )
    prepare_call(prompt, **params)  # messages, parameters, empty text, surrogates; sends nothing
    return Item(item_id, number, prompt)


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return kinds.get(type(value), type(value).__name__)


def _rewind(file: BinaryIO, name: str, before: os.stat_result) -> None:
    """Go back to the start for the second pass, unless the file changed since it was checked."""
    now = os.fstat(file.fileno())
    if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise InvalidRequestError(f"{name} changed while it was being read; run the command again")
    file.seek(0)


def _check_folder(output: Path) -> None:
    if not output.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder for OUT.jsonl", str(output.parent))


def _check_not_input(output: Path, source: BinaryIO) -> None:
    with contextlib.suppress(OSError):
        existing = os.stat(output)
        given = os.fstat(source.fileno())
        if (existing.st_dev, existing.st_ino) == (given.st_dev, given.st_ino):
            raise InvalidRequestError("the output file must not be the input file")


# --------------------------------------------------------------------------- run


@attrs.define
class Tally:
    """What a run did, for the summary line and the exit code."""

    todo: int
    skipped: int
    answered: int = 0
    failed: Counter[str] = attrs.field(factory=Counter)
    codes: set[int] = attrs.field(factory=set)
    stopped: str | None = None
    interrupted: bool = False

    @property
    def failures(self) -> int:
        """How many prompts failed in this run."""
        return sum(self.failed.values())

    def record(self, error: AichatError) -> None:
        """Count a failure."""
        self.failed[type(error).__name__] += 1
        self.codes.add(exit_code(error))

    def exit_code(self) -> int:
        """0 when every prompt is answered; else 130, or the failures' family code, or 1."""
        if self.interrupted:
            return INTERRUPTED
        if self.stopped is not None:
            return COOKIES
        if not self.codes:
            return OK
        return next(iter(self.codes)) if len(self.codes) == 1 else OTHER

    def summary(self, output: Path) -> str:
        """One line for stderr."""
        left = self.todo - self.answered - self.failures
        parts = [f"{self.answered} answered"]
        if self.failures:
            kinds = ", ".join(f"{count} {name}" for name, count in self.failed.most_common())
            parts.append(f"{self.failures} failed ({kinds})")
        if self.skipped:
            parts.append(f"{self.skipped} already answered before")
        if left:
            parts.append(f"{left} left")
        if self.interrupted:
            head = "batch interrupted"
        elif self.stopped is not None:
            head = f"batch stopped at a cookies or authentication error ({self.stopped})"
        else:
            head = "batch done"
        line = f"{head}: {', '.join(parts)}; results in {output}"
        if self.interrupted or self.stopped is not None or self.failures:
            line += "; run the same command again to ask what is missing"
        return line


async def _ask_all(
    client: AsyncAichatClient,
    items: Iterator[Item],
    *,
    concurrency: int,
    params: Mapping[str, Any],
    writer: ResultWriter,
    tally: Tally,
    progress: Any,
) -> None:
    task = progress.add_task("asking", total=tally.todo)
    pending: dict[int, Item] = {}  # the items handed to ask_many and not answered yet

    def prompts() -> Iterator[MessagesInput]:
        for index, item in enumerate(items):
            pending[index] = item
            yield item.prompt

    async with client, client.ask_many(prompts(), concurrency=concurrency, **params) as results:
        async for result in results:
            item = pending.pop(result.index)
            if result.error is None:
                await writer.write({"id": item.id, "reply": result.text})
                tally.answered += 1
            else:
                error = result.error
                failure = {"type": type(error).__name__, "message": message(error)}
                await writer.write({"id": item.id, "error": failure})
                tally.record(error)
                if exit_code(error) == COOKIES:
                    # Every other prompt would be refused the same way: stop asking.
                    tally.stopped = describe(error)
                    return
            progress.update(
                task, advance=1, description=f"{tally.answered} ok, {tally.failures} failed"
            )


def time_left(elapsed: float | None, completed: float, remaining: float | None) -> float | None:
    """Seconds left at the average pace since the start; ``None`` before the first result.

    With N prompts in flight, results come in bursts of N. rich's own estimate
    divides by the time between the first and the last result it saw, a few
    milliseconds within a burst: after the first 8 results of 3 s each, it
    showed 0:00:01 for 16 prompts left (6 s at 8 at a time). The average pace
    since the start counts the time the first burst took.
    """
    if not elapsed or not completed or remaining is None:
        return None
    return elapsed / completed * remaining


def time_left_column() -> Any:
    """A rich progress column that shows [`time_left`][] as ``H:MM:SS``."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class TimeLeft(ProgressColumn):
        def render(self, task: Task) -> Text:
            seconds = time_left(task.elapsed, task.completed, task.remaining)
            if seconds is None:
                return Text("-:--:--", style="progress.remaining")
            shown = datetime.timedelta(seconds=math.ceil(seconds))
            return Text(str(shown), style="progress.remaining")

    return TimeLeft()


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        time_left_column(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    ) as progress:
        yield progress


def _run(
    service: ServiceOptions,
    items: Iterator[Item],
    output: Path,
    *,
    concurrency: int,
    params: Mapping[str, Any],
    progress: bool,
    tally: Tally,
) -> None:
    with serving(service) as resolved:
        source = service_source(resolved)
        # Read before the output file is opened: with no cookies nothing is sent at all
        # (exit 3). The client then reads the same source for each request.
        source.get_cookies()
        client = make_client(resolved, AsyncAichatClient, cookie_source=source)
        writer = ResultWriter(output)
        try:
            with _progress(progress) as bar:
                anyio.run(
                    lambda: _ask_all(
                        client,
                        items,
                        concurrency=concurrency,
                        params=params,
                        writer=writer,
                        tally=tally,
                        progress=bar,
                    )
                )
        finally:
            writer.close()


@click.command(short_help="Ask a JSONL file of prompts; resumable.", epilog=EXIT_CODES_HELP)
@click.argument(
    "input_path",
    metavar="IN.jsonl",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    metavar="OUT.jsonl",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Results, one JSON line each, appended as they complete; read first to resume.",
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Requests in flight at once.",
)
@generation_options
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show a progress bar on stderr.",
)
@service_options
def batch(
    input_path: Path,
    output: Path,
    concurrency: int,
    temperature: float | None,
    top_p: float | None,
    progress: bool,
    service: ServiceOptions,
) -> None:
    """Ask every prompt of IN.jsonl, writing each result to OUT.jsonl as it completes.

    \b
    Each input line is {"id": ..., "prompt": "..."} or
    {"id": ..., "messages": [{"role": ..., "content": ...}, ...]};
    the id (a string or an integer) defaults to the line's number.
    Each output line is {"id": ..., "reply": "..."} or
    {"id": ..., "error": {"type": ..., "message": ...}}.

    Every line is checked before anything is sent (an invalid one exits
    with 2, naming its number). '-' reads stdin; IN.jsonl must be a
    regular file (not a FIFO). Results are appended as they arrive. Run the
    same command again after Ctrl-C, a crash or failures: ids already
    answered in OUT.jsonl are skipped, failed ones asked again. OUT.jsonl
    is created 0600 and never written through a symbolic link. A cookies or
    authentication error stops the run. The exit code is 0 only when every
    id is answered.

    \b
    Example:
      aichat batch questions.jsonl -o answers.jsonl --concurrency 8
    """
    params: dict[str, Any] = {"temperature": temperature, "top_p": top_p}
    check_params(**params)  # bad parameters: exit 2 before reading anything
    source_path = None if str(input_path) == "-" else input_path
    name = "stdin" if source_path is None else str(source_path)
    _check_folder(output)
    with _open_input(source_path, output.parent) as file:
        _check_not_input(output, file)
        opened = os.fstat(file.fileno())
        keys = check_items(file, name, params)
        answered = load_journal(output, keys)
        todo = sum(1 for key in keys if key not in answered)
        tally = Tally(todo=todo, skipped=len(keys) - todo)
        del keys
        if todo:
            _rewind(file, name, opened)
            items = (item for item in read_items(file, name, params) if item.key not in answered)
            try:
                _run(
                    service,
                    items,
                    output,
                    concurrency=concurrency,
                    params=params,
                    progress=progress,
                    tally=tally,
                )
            except KeyboardInterrupt:
                tally.interrupted = True
    click.echo(tally.summary(output), err=True)
    raise SystemExit(tally.exit_code())
