"""A lock file shared by the processes that save their credentials to one file.

``fcntl.flock`` is polled with ``LOCK_NB`` so that the wait has a timeout and
can be cancelled; the kernel releases the lock if its holder dies. The lock
file (``credentials.json.lock`` beside ``credentials.json``) stays: removing
it would let two processes lock two different files of the same name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aichat_adapters._files import open_regular
from aichat_adapters.clearance._common import logger
from aichat_core import CookiesNotFoundError

__all__ = ["lock_path", "locked"]

_POLL = 0.05


def lock_path(path: Path) -> Path:
    """The lock file of a credentials file."""
    return path.with_name(path.name + ".lock")


@contextlib.asynccontextmanager
async def locked(path: Path, timeout: float) -> AsyncIterator[None]:
    """Hold the lock file of ``path`` (made ``0600`` if missing) for the block.

    Without ``fcntl`` (Windows), or when the lock file cannot be made (a
    read-only folder: the bundle cannot be saved there either), the block
    runs unlocked, with a warning.

    Raises:
        CookiesNotFoundError: another process held it for ``timeout`` seconds.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows has no flock
        yield
        return
    where = lock_path(path)
    try:
        where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A regular file only, no link followed, never blocking (a FIFO planted there).
        fd = open_regular(where, os.O_RDWR | os.O_CREAT, follow=False)
    except OSError as exc:
        logger.warning(
            "clearance: no lock file %s (%s): processes sharing %s are not kept apart",
            where,
            exc.strerror or type(exc).__name__,
            path,
        )
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CookiesNotFoundError(
                        f"another process has been earning a clearance for {path} for "
                        f"{timeout:g} s (it holds {where}); try again, or end that process",
                        tried=(("browser clearance", f"{where} stayed locked"),),
                    ) from None
                await asyncio.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
