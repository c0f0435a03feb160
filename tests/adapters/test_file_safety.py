"""The file source opens regular files only, never blocks, and warns about open permissions."""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aichat_adapters.cookies import FileCookieSource
from aichat_core import CookiesNotFoundError

HEADER = "# Netscape HTTP Cookie File\n"
SECRET = "f1leS3cretV4lue"
LINE = f".chat-gpt.org\tTRUE\t/\tTRUE\t0\tsid\t{SECRET}\n"
WAIT = 10.0
"""Seconds a read may take before the test calls it hung (it takes milliseconds)."""


def outcome_within(seconds: float, call: Callable[[], object], unblock: Path) -> object:
    """Run ``call`` in a thread; if it hangs (a regression), unblock the FIFO and fail."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(call())
        except Exception as exc:
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # A writer lets a blocked open() return, so the thread ends and the test fails cleanly.
        fd = os.open(unblock, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(seconds)
        raise AssertionError(f"reading {unblock} blocked for more than {seconds} s")
    (value,) = result
    return value


def reason_of(error: object) -> str:
    assert isinstance(error, CookiesNotFoundError), error
    ((_, reason),) = error.tried
    return reason


def test_a_fifo_is_refused_at_once_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "cookies.txt"
    os.mkfifo(fifo)
    source = FileCookieSource(fifo)
    for call in (source.get_cookies, source.refresh_cookies):
        error = outcome_within(WAIT, call, fifo)
        assert reason_of(error).startswith("is a FIFO (named pipe), not a regular file")


def test_a_fifo_swapped_in_after_the_check_does_not_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The path is a regular file when stat() looks, and a FIFO when open() runs.
    regular = tmp_path / "regular.txt"
    regular.write_text(HEADER + LINE)
    fifo = tmp_path / "cookies.txt"
    os.mkfifo(fifo)
    real_stat = Path.stat

    def stale_stat(self: Path, **kwargs: Any) -> os.stat_result:
        return real_stat(regular if self == fifo else self, **kwargs)

    monkeypatch.setattr(Path, "stat", stale_stat)
    error = outcome_within(WAIT, FileCookieSource(fifo).get_cookies, fifo)
    assert reason_of(error).startswith("is a FIFO (named pipe), not a regular file")


def test_a_fifo_in_a_folder_is_skipped_with_its_reason(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "a.txt")
    (tmp_path / "b.txt").write_text(HEADER + LINE)
    source = FileCookieSource(tmp_path)
    assert outcome_within(WAIT, source.get_cookies, tmp_path / "a.txt") == {"sid": SECRET}
    (tmp_path / "b.txt").unlink()
    error = outcome_within(WAIT, source.get_cookies, tmp_path / "a.txt")
    assert "a.txt: is a FIFO (named pipe)" in reason_of(error)


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom"])
def test_a_device_is_refused(device: str) -> None:
    path = Path(device)
    assert stat.S_ISCHR(path.stat().st_mode)
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource(path).get_cookies()
    assert caught.value.tried == (
        (
            f"file {device}",
            "is a character device, not a regular file; give the path of an exported file",
        ),
    )


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "cookies.txt"
    link.symlink_to("/dev/zero")
    with pytest.raises(CookiesNotFoundError, match="is a character device"):
        FileCookieSource(link).get_cookies()


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(CookiesNotFoundError, match="is a socket, not a regular file"):
            FileCookieSource(path).get_cookies()


def test_a_link_to_a_regular_file_is_read(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text(HEADER + LINE)
    link = tmp_path / "cookies.txt"
    link.symlink_to(target)
    assert FileCookieSource(link).get_cookies() == {"sid": SECRET}


@pytest.mark.parametrize(
    ("mode", "warned"),
    [(0o600, False), (0o400, False), (0o640, True), (0o604, True), (0o620, True)],
)
def test_a_file_open_to_other_users_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, warned: bool
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(HEADER + LINE)
    path.chmod(mode)
    caplog.set_level(logging.DEBUG)
    source = FileCookieSource(path)
    for _ in range(3):
        assert source.get_cookies() == {"sid": SECRET}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    expected = (
        f"cookies file {path} is accessible by other users (mode {mode:03o}); they can read "
        f"your session: run chmod 600 {path}"
    )
    assert warnings == ([expected] if warned else [])  # parsed once, so warned once
    assert SECRET not in caplog.text
