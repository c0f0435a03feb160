"""The command's words for the files it reads and writes; the opening is `aichat_adapters._files`.

Each function names the file as the command's user knows it (``what``: ``IN.jsonl``,
``the output file``, ``/save FILE``) and turns a file it must not use (a FIFO, a
device, a socket, a folder, or a symbolic link where it writes) into an
``InvalidRequestError`` that says what the path is.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from aichat_adapters import _files
from aichat_adapters._files import NotRegularFileError
from aichat_core import InvalidRequestError

__all__ = ["open_append", "open_regular", "replace_atomically"]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _refused(
    error: NotRegularFileError, path: Path, what: str, hint: str = ""
) -> InvalidRequestError:
    if stat.S_ISLNK(error.mode):
        return InvalidRequestError(
            f"{what} {path} is a symbolic link; aichat does not write through links "
            "(a planted link could point anywhere): give the path of the file itself"
        )
    return InvalidRequestError(f"{what} {path} is {_kind(error.mode)}, not a regular file{hint}")


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
        fd = _files.open_regular(path, follow=follow)
    except FileNotFoundError:
        return None
    except NotRegularFileError as error:
        raise _refused(error, path, what, hint) from None
    return os.fdopen(fd, "rb")


def open_append(path: Path, what: str) -> int:
    """A file descriptor appending to ``path``, created ``0600`` if missing.

    Raises:
        InvalidRequestError: ``path`` is a symbolic link or not a regular file.
        OSError: it cannot be created or written.
    """
    try:
        return _files.open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, follow=False)
    except NotRegularFileError as error:
        raise _refused(error, path, what) from None


def replace_atomically(path: Path, chunks: Iterable[bytes], what: str) -> None:
    """Replace ``path``'s content atomically, keeping its mode (a new file is ``0600``).

    Raises:
        InvalidRequestError: ``path`` is a symbolic link or not a regular file.
        OSError: the folder cannot be written.
    """
    try:
        _files.replace_atomically(path, chunks)
    except NotRegularFileError as error:
        raise _refused(error, path, what) from None
