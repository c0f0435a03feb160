"""The output file of ``aichat batch``, which is the run's journal: read, cleaned, appended to.

Each result is one JSON line, ``{"id": ..., "reply": ...}`` or
``{"id": ..., "error": {"type": ..., "message": ...}}``, written as soon as it
arrives. A rerun reads the file first (`load_journal`): ids with a reply
are skipped, failed ones are asked again (their error lines are removed by an
atomic rewrite), and a last line cut short by a crash is dropped. The file is
read line by line, never whole, and never through a symbolic link.

`ResultWriter` appends the new results. Each line is handed to the
operating system at once (a crash of the process loses nothing written);
``fsync`` runs in a worker thread, at most every `SYNC_EVERY` results or
`SYNC_INTERVAL` seconds, and when the run ends.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import anyio

from aichat_adapters.cli._files import open_append, open_regular, replace_atomically
from aichat_adapters.cli._text import json_text
from aichat_core import InvalidRequestError

__all__ = [
    "MAX_RESULT_LINE",
    "SYNC_EVERY",
    "SYNC_INTERVAL",
    "Id",
    "ResultWriter",
    "id_key",
    "is_id",
    "load_journal",
]

Id = str | int

#: The longest line of an output file (a reply is at most 10 MiB before JSON escapes).
MAX_RESULT_LINE = 256 * 1024 * 1024
#: fsync the output file after this many results...
SYNC_EVERY = 64
#: ...or when this many seconds passed since the last fsync, whichever comes first.
SYNC_INTERVAL = 1.0

_WHAT = "the output file"


def is_id(value: object) -> bool:
    """Whether a JSON value can be an id: a string or an integer (not a boolean)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def id_key(value: Id) -> str:
    """A hashable key for an id, the same for the input and the output file.

    ``1`` and ``"1"`` are different ids, and so are their keys.
    """
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- reading


def load_journal(path: Path, retried: Collection[str]) -> frozenset[str]:
    """Read the output file of earlier runs, clean it, and return the keys of the ids answered.

    Reply lines are kept (the first one of each id); error lines of ids in
    ``retried`` or answered since are dropped, as are blank lines and a last
    line cut short by a crash. When something is dropped the file is
    rewritten atomically, keeping its mode.

    Args:
        path: The output file; a missing one is an empty journal.
        retried: Keys of the ids about to be asked (the input's).

    Raises:
        InvalidRequestError: a line (other than a cut-short last one) is not a
            result line, so this is not an output file of ``aichat batch``; or
            the path is a symbolic link, a FIFO, a device or a folder.
    """
    file = open_regular(path, _WHAT, follow=False)
    if file is None:
        return frozenset()
    with file:
        answered: set[str] = set()
        failed: set[str] = set()
        dirty = False
        for raw, key, is_reply in _lines(file, path):
            if key is None or not raw.endswith(b"\n"):
                dirty = True
            if key is None:
                continue
            if is_reply:
                dirty = dirty or key in answered
                answered.add(key)
            else:
                failed.add(key)
        dirty = dirty or any(key in answered or key in retried for key in failed)
        if dirty:
            file.seek(0)
            replace_atomically(path, _kept(file, path, answered, retried), _WHAT)
    return frozenset(answered)


def _kept(
    file: BinaryIO, path: Path, answered: Collection[str], retried: Collection[str]
) -> Iterator[bytes]:
    replied: set[str] = set()
    for raw, key, is_reply in _lines(file, path):
        if key is None:
            continue
        line = raw if raw.endswith(b"\n") else raw + b"\n"
        if is_reply:
            if key not in replied:
                replied.add(key)
                yield line
        elif key not in answered and key not in retried:
            yield line


def _lines(file: BinaryIO, path: Path) -> Iterator[tuple[bytes, str | None, bool]]:
    """Each line as ``(bytes, key, is_reply)``; the key is ``None`` for a blank or cut line."""
    number = 0
    while raw := file.readline(MAX_RESULT_LINE + 1):
        number += 1
        if not raw.strip():
            yield raw, None, False
            continue
        record = _result_record(raw) if len(raw) <= MAX_RESULT_LINE else None
        if record is not None:
            yield raw, *record
        elif not raw.endswith(b"\n"):
            yield raw, None, False  # written halfway when the process died: never answered
        else:
            raise InvalidRequestError(
                f"{path} line {number} is not a result line of aichat batch "
                '({"id": ..., "reply": ...} or {"id": ..., "error": ...}); '
                "fix it, or choose another output file"
            )


def _result_record(raw: bytes) -> tuple[str, bool] | None:
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not is_id(record.get("id")):
        return None
    if isinstance(record.get("reply"), str):
        return id_key(record["id"]), True
    if isinstance(record.get("error"), dict):
        return id_key(record["id"]), False
    return None


# --------------------------------------------------------------------------- writing


class ResultWriter:
    """Appends result lines to the output file; ``fsync`` runs off the event loop, batched.

    Args:
        path: The output file, created ``0600`` if missing (never through a symlink).
        every: fsync after this many results...
        interval: ...or once this many seconds passed since the last fsync.
        clock: The time in seconds, for ``interval``.
    """

    def __init__(
        self,
        path: Path,
        *,
        every: int = SYNC_EVERY,
        interval: float = SYNC_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fd = open_append(path, _WHAT)
        self._every = every
        self._interval = interval
        self._clock = clock
        self._unsynced = 0
        self._synced_at = clock()

    async def write(self, record: Mapping[str, Any]) -> None:
        """Append one JSON line; fsync when `SYNC_EVERY` lines or `SYNC_INTERVAL` are due."""
        data = memoryview((json_text(record) + "\n").encode("utf-8"))
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
        self._unsynced += 1
        if self._unsynced >= self._every or self._clock() - self._synced_at >= self._interval:
            await self.sync()

    async def sync(self) -> None:
        """fsync what was written since the last time, in a worker thread."""
        if self._unsynced:
            self._unsynced = 0  # a cancelled wait still lets the thread's fsync finish
            await anyio.to_thread.run_sync(os.fsync, self._fd)
            self._synced_at = self._clock()

    def close(self) -> None:
        """fsync what is not yet, and close the file; call it off the event loop."""
        try:
            if self._unsynced:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)
