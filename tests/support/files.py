"""Files the code under test cannot write: a read-only folder, for a user and for root."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["read_only"]


@contextlib.contextmanager
def read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make creating files in ``folder`` fail, as a user, as root, or by patching if need be."""
    folder.chmod(0o555)
    immutable = False
    probe = folder / "probe"
    try:
        probe.touch()
    except OSError:
        pass
    else:  # root ignores the mode: try the immutable attribute, else fail mkstemp itself
        probe.unlink()
        chattr = shutil.which("chattr")
        if chattr is not None:
            immutable = subprocess.run([chattr, "+i", str(folder)], check=False).returncode == 0
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            if immutable:
                subprocess.run([chattr or "chattr", "-i", str(folder)], check=True)
                immutable = False

            def denied(*args: Any, **kwargs: Any) -> Any:
                raise PermissionError(13, "Permission denied", str(folder))

            monkeypatch.setattr(tempfile, "mkstemp", denied)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)
