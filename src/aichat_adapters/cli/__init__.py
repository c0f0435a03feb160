"""The ``aichat`` command. Needs the ``cli`` extra (click and rich)."""

from __future__ import annotations

import sys

__all__ = ["main"]

INSTALL_HINT = (
    "The aichat command needs the 'cli' extra (click and rich). From a checkout of "
    'aichat-client, in the virtual environment aichat runs in: pip install -e ".[cli]"'
)


def main() -> None:
    """Entry point of the ``aichat`` command (and of ``python -m aichat_adapters.cli``)."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        sys.exit(1)
    from aichat_adapters.cli._commands import run

    # A reply may hold text stdout's encoding cannot carry (a lone surrogate from
    # the server, or any non-ASCII text under a legacy locale): print it escaped
    # (\udc80, \xe9), as stderr does, rather than fail.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if callable(reconfigure):
        reconfigure(errors="backslashreplace")
    sys.exit(run())
