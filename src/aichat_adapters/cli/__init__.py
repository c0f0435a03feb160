"""The ``aichat`` command. Needs the ``cli`` extra (click and rich)."""

from __future__ import annotations

import sys

__all__ = ["main"]

INSTALL_HINT = (
    "The aichat command needs the 'cli' extra. Install it with:\n"
    '    pip install "aichat-client[cli]"'
)


def main() -> None:
    """Entry point of the ``aichat`` command."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        sys.exit(1)
    from aichat_adapters.cli._commands import cli

    cli()
