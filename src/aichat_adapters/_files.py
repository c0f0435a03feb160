"""Replacing a file atomically: the one way the cookie files and the CLI's outputs are written."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, chunks: Iterable[bytes], *, keep_mode: bool = False) -> None:
    """Replace ``path``'s content: a crash leaves either the old file or the new one.

    The new content goes to a `tempfile.mkstemp` file in the same folder (a
    random name, created exclusively and ``0600``, so nothing planted there is
    followed), is fsync'd, then renamed over ``path`` with `os.replace`; the
    folder is fsync'd after. The file is ``0600``, or keeps the mode it had
    with ``keep_mode``. The temporary file is removed on any failure.

    Raises:
        OSError: the folder is not writable, the disk is full...
    """
    mode = None
    if keep_mode:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(os.stat(path).st_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable where the system allows it (not on Windows)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
