"""``aichat batch``: many prompts from a JSON Lines file, answers appended as they complete.

The output file is the run's journal: each result is one line, written,
flushed and fsync'd as soon as its answer arrives. A rerun reads it first and
skips every id that already has a ``"reply"``, so an interrupted or crashed
run loses nothing that was answered and never asks it again; ids that failed
are asked again.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import attrs
import click

from aichat_adapters._async_client import AsyncAichatClient
from aichat_adapters._base import BaseClient
from aichat_adapters._cookies import StaticCookieSource
from aichat_adapters.cli._exit import (
    COOKIES,
    EXIT_CODES_HELP,
    INTERRUPTED,
    OK,
    OTHER,
    describe,
    exit_code,
    one_line,
)
from aichat_adapters.cli._options import (
    ServiceOptions,
    generation_options,
    make_client,
    service_options,
    serving,
)
from aichat_core import AichatError, InvalidRequestError, MessagesInput, check_params, prepare_call

__all__ = ["Item", "Journal", "Tally", "batch", "read_items", "read_journal"]

Id = str | int


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


def id_key(value: Id) -> str:
    """A hashable key for an id, the same for the input and the output file."""
    return json.dumps(value, ensure_ascii=False)


def _is_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


# --------------------------------------------------------------------------- input


def read_items(path: Path | None, params: Mapping[str, Any]) -> list[Item]:
    """Read and check every input line; nothing is sent before all of them are valid.

    Args:
        path: The JSON Lines file, or ``None`` for stdin.
        params: Generation parameters, checked with each line's messages.

    Raises:
        InvalidRequestError: a line is not a valid item (the message names its number),
            two lines have the same id, or there is no item at all.
    """
    name = "stdin" if path is None else str(path)
    try:
        if path is None:
            text = sys.stdin.buffer.read().decode("utf-8-sig")
        else:
            text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"{name}: not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = _parse_item(line, number, params)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{name} line {number}: {exc.message}") from None
        if item.key in seen:
            raise InvalidRequestError(
                f"{name} line {number}: id {item.key} is also the id of line {seen[item.key]}; "
                "ids must be unique"
            )
        seen[item.key] = number
        items.append(item)
    if not items:
        raise InvalidRequestError(f"{name} holds no prompts")
    return items


def _parse_item(line: str, number: int, params: Mapping[str, Any]) -> Item:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except (ValueError, RecursionError):
        raise InvalidRequestError("not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequestError(
            f'expected a JSON object {{"id": ..., "prompt": ...}}, got {_json_kind(data)}'
        )
    item_id = data.get("id", number)
    if not _is_id(item_id):
        raise InvalidRequestError(f'"id" must be a string or an integer, not {_json_kind(item_id)}')
    has_prompt, has_messages = "prompt" in data, "messages" in data
    if has_prompt == has_messages:
        raise InvalidRequestError('give exactly one of "prompt" (a string) or "messages" (a list)')
    prompt: MessagesInput
    if has_prompt:
        prompt = data["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequestError('"prompt" must be a non-empty string')
    else:
        prompt = data["messages"]
        if not isinstance(prompt, list):
            raise InvalidRequestError(
                '"messages" must be a list of {"role": ..., "content": ...} objects'
            )
    prepare_call(prompt, **params)  # checks messages and parameters, sends nothing
    return Item(item_id, number, prompt)


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return kinds.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- journal


@attrs.frozen
class Journal:
    """What an earlier run left in the output file.

    Attributes:
        answered: Keys of the ids that have a ``"reply"`` line.
        kept: The lines to keep (each ending with a line break).
        dirty: The file holds lines that are not kept (failures about to be
            retried, a line cut short by a crash, blank lines): rewrite it.
    """

    answered: frozenset[str] = frozenset()
    kept: tuple[bytes, ...] = ()
    dirty: bool = False


def read_journal(path: Path, retried: frozenset[str]) -> Journal:
    """Read the output file of earlier runs.

    Reply lines are kept; error lines of ids in ``retried`` (or answered
    since) are dropped, since they are asked again; a last line cut short by
    a crash is dropped.

    Raises:
        InvalidRequestError: a line (other than a cut-short last one) is not a
            result line: this is not an output file of ``aichat batch``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Journal()
    lines = data.splitlines(keepends=True)
    parsed: list[tuple[bytes, str, bool]] = []  # (line, key, is_reply)
    dirty = False
    for number, raw in enumerate(lines, start=1):
        complete = raw.endswith(b"\n")
        if not raw.strip():
            dirty = True
            continue
        record = _result_record(raw)
        if record is None:
            if number == len(lines) and not complete:
                dirty = True  # written halfway when the process died: never answered
                continue
            raise InvalidRequestError(
                f"{path} line {number} is not a result line of aichat batch "
                '({"id": ..., "reply": ...} or {"id": ..., "error": ...}); '
                "fix it, or choose another output file"
            )
        key, is_reply = record
        if not complete:
            dirty = True
        parsed.append((raw if complete else raw + b"\n", key, is_reply))
    answered = frozenset(key for _, key, is_reply in parsed if is_reply)
    kept: list[bytes] = []
    replied: set[str] = set()
    for raw, key, is_reply in parsed:
        if is_reply and key not in replied:
            replied.add(key)
            kept.append(raw)
        elif not is_reply and key not in answered and key not in retried:
            kept.append(raw)
        else:
            dirty = True
    return Journal(answered=answered, kept=tuple(kept), dirty=dirty)


def _result_record(raw: bytes) -> tuple[str, bool] | None:
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not _is_id(record.get("id")):
        return None
    if isinstance(record.get("reply"), str):
        return id_key(record["id"]), True
    if isinstance(record.get("error"), dict):
        return id_key(record["id"]), False
    return None


def rewrite(path: Path, lines: tuple[bytes, ...]) -> None:
    """Replace the file's content atomically (a crash leaves the old or the new file)."""
    temporary = path.with_name(f".{path.name}.aichat-tmp")
    with temporary.open("wb") as file:
        file.writelines(lines)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


class ResultWriter:
    """Appends result lines to the output file, each one flushed to disk before the next."""

    def __init__(self, path: Path) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o644)

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one JSON line and fsync it."""
        data = memoryview((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
        os.fsync(self._fd)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


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
    items: list[Item],
    *,
    concurrency: int,
    params: Mapping[str, Any],
    writer: ResultWriter,
    tally: Tally,
    progress: Any,
) -> None:
    task = progress.add_task("asking", total=len(items))
    async with (
        client,
        contextlib.aclosing(
            client.ask_many([item.prompt for item in items], concurrency=concurrency, **params)
        ) as results,
    ):
        async for result in results:
            item = items[result.index]
            if result.error is None:
                writer.write({"id": item.id, "reply": result.text})
                tally.answered += 1
            else:
                error = result.error
                writer.write(
                    {
                        "id": item.id,
                        "error": {"type": type(error).__name__, "message": one_line(str(error))},
                    }
                )
                tally.record(error)
                if exit_code(error) == COOKIES:
                    # Every other prompt would be refused the same way: stop asking.
                    tally.stopped = describe(error)
                    return
            progress.update(
                task, advance=1, description=f"{tally.answered} ok, {tally.failures} failed"
            )


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    ) as progress:
        yield progress


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
    with 2, naming its number). Results are appended, flushed and fsync'd as
    they arrive. Run the same command again after Ctrl-C, a crash or
    failures: ids already answered in OUT.jsonl are skipped, failed ones
    asked again. A cookies or authentication error stops the run. The exit
    code is 0 only when every id is answered.

    \b
    Example:
      aichat batch questions.jsonl -o answers.jsonl --concurrency 8
    """
    params: dict[str, Any] = {"temperature": temperature, "top_p": top_p}
    check_params(**params)  # bad parameters: exit 2 before reading anything
    source_path = None if str(input_path) == "-" else input_path
    if source_path is not None and source_path.resolve() == output.resolve():
        raise InvalidRequestError("the output file must not be the input file")
    items = read_items(source_path, params)
    journal = read_journal(output, frozenset(item.key for item in items))
    if journal.dirty:
        rewrite(output, journal.kept)
    todo = [item for item in items if item.key not in journal.answered]
    tally = Tally(todo=len(todo), skipped=len(items) - len(todo))
    if todo:
        try:
            with serving(service) as resolved:
                source = resolved.cookie_source()
                # Read once, before the output file is opened: every request of the run
                # sends the same cookies, and with none nothing is sent at all.
                cookies = BaseClient.checked_cookies(source, source.get_cookies())
                client = make_client(
                    resolved, AsyncAichatClient, cookie_source=StaticCookieSource(dict(cookies))
                )
                writer = ResultWriter(output)
                try:
                    with _progress(progress) as bar:
                        anyio.run(
                            lambda: _ask_all(
                                client,
                                todo,
                                concurrency=concurrency,
                                params=params,
                                writer=writer,
                                tally=tally,
                                progress=bar,
                            )
                        )
                finally:
                    writer.close()
        except KeyboardInterrupt:
            tally.interrupted = True
    click.echo(tally.summary(output), err=True)
    raise SystemExit(tally.exit_code())
