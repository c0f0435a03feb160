"""The ``aichat`` command. Needs the ``cli`` extra (click and rich)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``aichat`` command (and of ``python -m aichat_adapters.cli``)."""
    from aichat_adapters._extras import import_extra
    from aichat_core import InvalidRequestError

    try:
        for module in ("click", "rich"):
            import_extra(module, "cli", "The aichat command")
    except InvalidRequestError as error:
        print(error.message, file=sys.stderr)
        sys.exit(1)
    from aichat_adapters.cli._commands import run

    # A reply may hold text stdout's encoding cannot carry (a lone surrogate from
    # the server, or any non-ASCII text under a legacy locale): print it escaped
    # (\udc80, \xe9), as stderr does, rather than fail.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if callable(reconfigure):
        reconfigure(errors="backslashreplace")
    sys.exit(run())
