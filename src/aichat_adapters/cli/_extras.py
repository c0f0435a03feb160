"""The optional parts of aichat-client the command needs for some options, checked up front.

A missing extra ends the command with exit code 1 and the line that installs
it, before anything is read or sent.
"""

from __future__ import annotations

import importlib

__all__ = ["MissingExtraError", "install_hint", "require_extra"]


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` (there is no release on an index yet)."""
    return (
        f'pip install -e ".[{extra}]" (from a checkout of aichat-client, '
        "in the virtual environment aichat runs in)"
    )


class MissingExtraError(ImportError):
    """An option needs an optional dependency that is not installed."""


def require_extra(module: str, extra: str, what: str) -> None:
    """Import ``module``, or say which extra installs it.

    Args:
        module: The module to import (``"rookiepy"``).
        extra: The extra that installs it (``"browser"``).
        what: What needs it, for the message (``"--browser"``).

    Raises:
        MissingExtraError: ``module`` cannot be imported.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{what} needs the '{extra}' extra ({module} is not installed): {install_hint(extra)}"
        ) from None
