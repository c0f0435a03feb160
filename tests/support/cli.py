"""The ``aichat`` command in a subprocess: run to completion, read line by line, or at a terminal.

    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b")
    code, out, err = at_a_terminal([AICHAT, "chat", ...], b"first\\n/exit\\n")

Every run gets the test's environment without any ``AICHAT_*`` variable (the
machine's cookies or base URL never leak in), plus what the test gives.
"""

from __future__ import annotations

import contextlib
import os
import pty
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "AICHAT",
    "WAIT",
    "at_a_terminal",
    "clean_env",
    "drain",
    "no_cookies_env",
    "run",
    "stdout_line",
    "visible",
]

AICHAT = str(Path(sys.executable).parent / "aichat")
"""The installed entry point, beside this interpreter."""
WAIT = 20.0
"""Upper bound, in seconds, of every wait on a subprocess."""


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any ``AICHAT_*`` variable, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
    return {**base, **extra}


def run(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = WAIT,
) -> subprocess.CompletedProcess[str]:
    """Run ``aichat ARGS`` to completion (stdin is empty unless given)."""
    return subprocess.run(
        [AICHAT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(**(env or {})),
        input=stdin if stdin is not None else "",
        cwd=cwd,
        check=False,
    )


def stdout_line(process: subprocess.Popen[str], timeout: float = WAIT) -> str:
    """The next line of a running process's stdout, waiting at most ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    stream: IO[str] | None = process.stdout
    assert stream is not None
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"no line on stdout within {timeout} s") from None


def no_cookies_env(tmp_path: Path) -> dict[str, str]:
    """An environment where no cookie source has anything: empty home, missing file."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "AICHAT_COOKIES_FILE": str(tmp_path / "missing-cookies.txt")}


def at_a_terminal(command: Sequence[str], typed: bytes, **env: str) -> tuple[int, bytes, bytes]:
    """Run ``command`` with a pseudo-terminal as stdin (interactive), ``typed`` at its prompt.

    Returns its exit code, stdout and stderr (pipes, not the terminal).
    """
    controller, terminal = pty.openpty()
    try:
        with subprocess.Popen(
            list(command),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(**env),
        ) as process:
            os.close(terminal)
            terminal = -1
            os.write(controller, typed)
            try:
                stdout, stderr = process.communicate(timeout=WAIT)
            finally:
                if process.poll() is None:
                    process.kill()
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    return process.returncode, stdout, stderr


def drain(controller: int, into: list[bytes]) -> None:
    """Read a pseudo-terminal's controller until its other end is closed."""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: no process holds the terminal any more
            return
        if not chunk:
            return
        into.append(chunk)


def visible(data: bytes) -> str:
    """What a terminal shows of ``data``, roughly: no escape sequences, each \\r a new line."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]", "", data.decode("utf-8", "replace"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def started(*args: Any, **options: Any) -> Iterator[subprocess.Popen[Any]]:
    """``subprocess.Popen(...)`` as a block that kills the process if the block fails.

    ``Popen``'s own exit waits for the process without a timeout: after a failed
    assertion, a command that waits for input would hang the test run.
    """
    with subprocess.Popen(*args, **options) as process:
        try:
            yield process
        except BaseException:
            process.kill()
            raise
