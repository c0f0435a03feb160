"""Files the command reads and writes: regular files only, no symlink followed on write.

- Reading never hangs: a file is opened non-blocking and refused unless it
  is a regular file (a FIFO, a device, a socket or a folder is named as such).
- Writing never goes through a symbolic link: a link where the command
  writes is refused with a clear message.
- A new file is created ``0600`` (it may hold private text); a rewritten file
  keeps its mode. A rewrite goes through a ``tempfile.mkstemp`` file in the
  same folder, then an atomic rename; the temporary file is removed on any
  failure.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from aichat_adapters._files import write_atomically
from aichat_core import InvalidRequestError

__all__ = [
    "PRIVATE_MODE",
    "open_append",
    "open_regular",
    "replace_atomically",
]

#: The mode of every file the command creates.
PRIVATE_MODE = 0o600

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _not_regular(path: Path, what: str, mode: int, hint: str = "") -> InvalidRequestError:
    return InvalidRequestError(f"{what} {path} is {_kind(mode)}, not a regular file{hint}")


def _is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _symlink_refused(path: Path, what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"{what} {path} is a symbolic link; aichat does not write through links "
        "(a planted link could point anywhere): give the path of the file itself"
    )


def _open(path: Path, flags: int, what: str, *, follow: bool, hint: str = "") -> int:
    """``os.open`` that refuses a symlink (unless ``follow``) and any file but a regular one."""
    flags |= _NONBLOCK | _CLOEXEC | _BINARY | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags, PRIVATE_MODE)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and not follow and _is_symlink(path):
            raise _symlink_refused(path, what) from None
        if exc.errno == errno.ENXIO:  # opening a FIFO with no reader for writing
            raise InvalidRequestError(
                f"{what} {path} is a named pipe (FIFO), not a regular file{hint}"
            ) from None
        raise
    try:
        file_mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(file_mode):
            raise _not_regular(path, what, file_mode, hint)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: Path, what: str, *, follow: bool = True, hint: str = "") -> BinaryIO | None:
    """Open a regular file for reading, or ``None`` when there is none at ``path``.

    Args:
        path: The file.
        what: What it is, for messages (``"IN.jsonl"``).
        follow: Whether a symbolic link at ``path`` is followed (else refused).
        hint: Appended to the message that refuses a file that is not a regular one.

    Raises:
        InvalidRequestError: ``path`` is a FIFO, a device, a socket or a folder
            (checked without blocking), or a symbolic link when ``follow`` is false.
        OSError: it cannot be read.
    """
    try:
        fd = _open(path, os.O_RDONLY, what, follow=follow, hint=hint)
    except FileNotFoundError:
        return None
    return os.fdopen(fd, "rb")


def open_append(path: Path, what: str) -> int:
    """A file descriptor appending to ``path``, created ``0600`` if missing.

    Raises:
        InvalidRequestError: ``path`` is a symbolic link or not a regular file.
        OSError: it cannot be created or written.
    """
    return _open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, what, follow=False)


def replace_atomically(path: Path, chunks: Iterable[bytes], what: str) -> None:
    """Replace ``path``'s content: a crash leaves either the old file or the new one.

    The new content goes to a ``tempfile.mkstemp`` file in the same folder
    (created ``0600`` and exclusively, so nothing planted there is followed),
    is fsync'd, then renamed over ``path``. The file keeps the mode it had;
    a new one is ``0600``. The temporary file is removed on any failure.

    Raises:
        InvalidRequestError: ``path`` is a symbolic link or not a regular file.
        OSError: the folder cannot be written.
    """
    try:
        current = os.lstat(path)
    except FileNotFoundError:
        current = None
    if current is not None and stat.S_ISLNK(current.st_mode):
        raise _symlink_refused(path, what)
    if current is not None and not stat.S_ISREG(current.st_mode):
        raise _not_regular(path, what, current.st_mode)
    write_atomically(path, chunks, keep_mode=True)
