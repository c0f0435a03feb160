"""Files, opened safely: the one place aichat-client opens, reads and replaces a file.

- Opening never blocks: the file is opened non-blocking, and anything but a
  regular file (a FIFO, a device, a socket, a folder) is refused by
  `NotRegularFileError`, checked on what was really opened (``fstat``).
- Where it writes, no symbolic link is followed: a link there is refused.
- Reading a whole file stops past a size limit (`FileTooLargeError`).
- Replacing a file is atomic: a ``tempfile.mkstemp`` file in the same folder,
  fsync'd, then ``os.replace``; a crash leaves the old file or the new one.
- A file it creates is ``0600``: it may hold cookies or prompts.

The errors are `OSError`s that carry what the caller needs to word its own
message (the cookie sources and the command each say it their way).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "PRIVATE_MODE",
    "FileTooLargeError",
    "NotRegularFileError",
    "open_regular",
    "read_regular",
    "replace_atomically",
    "write_atomically",
]

#: The mode of every file aichat-client creates.
PRIVATE_MODE = 0o600

# Flags that make open() return at once whatever the path is: a FIFO opened
# without O_NONBLOCK waits for a writer (or a reader) forever.
_ALWAYS = (
    getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 20


class NotRegularFileError(OSError):
    """What is at ``filename`` is not a regular file; ``mode`` (an ``st_mode``) says what it is.

    A symbolic link refused where one writes has the mode of a link (``stat.S_ISLNK``).
    """

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(errno.EINVAL, "not a regular file", str(path))
        self.mode = mode


class FileTooLargeError(OSError):
    """The file holds more than ``limit`` bytes (``size`` is what was seen, at least)."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, os.strerror(errno.EFBIG), str(path))
        self.size = size
        self.limit = limit


def open_regular(path: Path, flags: int = os.O_RDONLY, *, follow: bool = True) -> int:
    """``os.open`` of a regular file, without ever blocking; new files are made ``0600``.

    Args:
        path: The file.
        flags: ``os.O_RDONLY``, or the flags of a write (``O_WRONLY | O_APPEND | O_CREAT``...).
        follow: Whether a symbolic link at ``path`` is followed (else refused).

    Returns:
        The file descriptor (the caller closes it).

    Raises:
        NotRegularFileError: ``path`` is a FIFO, a device, a socket or a
            folder, or a symbolic link when ``follow`` is false.
        OSError: it cannot be opened (``FileNotFoundError``, ``PermissionError``...).
    """
    try:
        fd = os.open(path, flags | _ALWAYS | (0 if follow else _NOFOLLOW), PRIVATE_MODE)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and not follow:
            mode = _lstat_mode(path)
            if stat.S_ISLNK(mode):
                raise NotRegularFileError(path, mode) from None
        if exc.errno == errno.ENXIO:  # a FIFO with no reader, opened for writing
            raise NotRegularFileError(path, stat.S_IFIFO) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """The whole content of a regular file of at most ``limit`` bytes, and its ``fstat``.

    A symbolic link is followed (a reader names the file it means).

    Raises:
        NotRegularFileError: what was opened is not a regular file.
        FileTooLargeError: it holds more than ``limit`` bytes (it is never read past that).
        OSError: it cannot be opened or read.
    """
    fd = open_regular(path)
    try:
        status = os.fstat(fd)
        if status.st_size > limit:
            raise FileTooLargeError(path, status.st_size, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew since fstat()
            raise FileTooLargeError(path, size, limit)
        return b"".join(chunks), status
    finally:
        os.close(fd)


def write_atomically(path: Path, chunks: Iterable[bytes], *, keep_mode: bool = False) -> None:
    """Replace ``path``'s content: a crash leaves either the old file or the new one.

    The new content goes to a `tempfile.mkstemp` file in the same folder (a
    random name, created exclusively and ``0600``, so nothing planted there is
    followed), is fsync'd, then renamed over ``path`` with `os.replace` (which
    replaces a symbolic link at ``path`` rather than writing through it); the
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


def replace_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """`write_atomically`, keeping the file's mode, where a regular file (or nothing) is.

    Raises:
        NotRegularFileError: ``path`` is a symbolic link, or not a regular file.
        OSError: the folder cannot be written.
    """
    try:
        current = os.lstat(path)
    except FileNotFoundError:
        current = None
    if current is not None and not stat.S_ISREG(current.st_mode):
        raise NotRegularFileError(path, current.st_mode)
    write_atomically(path, chunks, keep_mode=True)


def _lstat_mode(path: Path) -> int:
    """The mode of ``path`` itself (a link's, not its target's); ``0`` when it cannot be read."""
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _sync_folder(folder: Path) -> None:
    """Make the rename durable where the system allows it (not on Windows)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
