"""The optional parts of aichat-client the command needs for some options, checked up front.

A missing extra ends the command with exit code 1 and the line that installs
it (for the way aichat-client was installed: see ``aichat_adapters._extras``),
before anything is read or sent.
"""

from __future__ import annotations

from aichat_adapters._extras import import_extra, install_hint
from aichat_core import InvalidRequestError

__all__ = ["MissingExtraError", "install_hint", "require_extra"]


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
        import_extra(module, extra, what)
    except InvalidRequestError as error:  # exit code 1, as any missing part of the install
        raise MissingExtraError(error.message) from None
