"""The ``aichat`` command. Needs the ``cli`` extra (click and rich)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``aichat`` command (and of ``python -m aichat_adapters.cli``)."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError as exc:
        from aichat_adapters._extras import missing_extra

        module = exc.name if exc.name in ("click", "rich") else "click or rich"
        print(missing_extra(module, "cli", "The aichat command"), file=sys.stderr)
        sys.exit(1)
    from aichat_adapters.cli._commands import run

    # A reply may hold text stdout's encoding cannot carry (a lone surrogate from
    # the server, or any non-ASCII text under a legacy locale): print it escaped
    # (\udc80, \xe9), as stderr does, rather than fail.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if callable(reconfigure):
        reconfigure(errors="backslashreplace")
    sys.exit(run())
