"""The batch journal and the command's file helpers, in process: fsync off the loop, safe files."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from aichat_adapters.cli._files import open_append, open_regular, replace_atomically
from aichat_adapters.cli._journal import ResultWriter, load_journal
from aichat_core import InvalidRequestError

BACKENDS = ["asyncio", "trio"]


class FsyncSpy:
    """Counts ``os.fsync`` calls and the threads they ran in."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[int] = []
        real = os.fsync

        def spy(fd: int) -> None:
            self.threads.append(threading.get_ident())
            real(fd)

        monkeypatch.setattr(os, "fsync", spy)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsync_runs_in_a_worker_thread_every_n_results(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = FsyncSpy(monkeypatch)
    path = tmp_path / "out.jsonl"
    writer = ResultWriter(path, every=10, interval=3600)

    async def main() -> int:
        for index in range(95):
            await writer.write({"id": index, "reply": f"r{index}"})
        return threading.get_ident()

    loop_thread = anyio.run(main, backend=backend)

    assert len(spy.threads) == 9  # after results 10, 20, ..., 90
    assert loop_thread not in spy.threads
    writer.close()
    assert len(spy.threads) == 10  # the last five, when the run ends
    assert path.read_text().count("\n") == 95


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsync_runs_when_the_interval_has_passed(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = FsyncSpy(monkeypatch)
    now = [0.0]
    writer = ResultWriter(tmp_path / "out.jsonl", every=1000, interval=1.0, clock=lambda: now[0])

    async def main() -> None:
        for index in range(9):
            now[0] += 0.4  # a result every 0.4 s: the interval passes at every third
            await writer.write({"id": index, "reply": "r"})

    anyio.run(main, backend=backend)
    writer.close()

    assert len(spy.threads) == 3  # after results 3, 6 and 9; nothing left for close()


def test_a_new_output_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    os.close(open_append(path, "the output file"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_rewrite_keeps_the_mode_and_drops_retried_errors(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(
        b'{"id": 1, "reply": "one"}\n'
        b'{"id": 2, "error": {"type": "ServiceError", "message": "busy"}}\n'
        b'{"id": 9, "error": {"type": "ServiceError", "message": "not in this input"}}\n'
        b"\n"
        b'{"id": 1, "reply": "one again"}\n'
        b'{"id": 3, "rep'
    )
    path.chmod(0o640)

    answered = load_journal(path, {"1", "2", "3"})

    assert answered == {"1"}
    assert path.read_bytes() == (
        b'{"id": 1, "reply": "one"}\n'
        b'{"id": 9, "error": {"type": "ServiceError", "message": "not in this input"}}\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temporary left


def test_a_clean_journal_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": 1, "reply": "one"}\n')
    inode = path.stat().st_ino

    assert load_journal(path, {"1", "2"}) == {"1"}
    assert path.stat().st_ino == inode


def test_a_failed_rewrite_removes_its_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b"old\n")

    def chunks() -> Iterator[bytes]:
        yield b"new, half"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        replace_atomically(path, chunks(), "the output file")

    assert path.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


@pytest.mark.parametrize("operation", ["load", "append", "replace"])
def test_writing_never_follows_a_symlink(operation: str, tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_bytes(b"keep me\n")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)

    operations: dict[str, Callable[[], object]] = {
        "load": lambda: load_journal(link, set()),
        "append": lambda: open_append(link, "the output file"),
        "replace": lambda: replace_atomically(link, [b"new\n"], "the output file"),
    }

    with pytest.raises(InvalidRequestError, match="is a symbolic link"):
        operations[operation]()

    assert target.read_bytes() == b"keep me\n"
    assert link.is_symlink()


def test_reading_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "in.fifo"
    os.mkfifo(path)

    with pytest.raises(InvalidRequestError, match=r"is a named pipe \(FIFO\), not a regular file"):
        open_regular(path, "IN.jsonl")


def test_a_missing_file_reads_as_none(tmp_path: Path) -> None:
    assert open_regular(tmp_path / "missing", "IN.jsonl") is None
