"""The ``aichat`` command group: its commands, and how their errors end the process."""

from __future__ import annotations

import logging
from typing import Any

import click

from aichat_adapters.cli._ask import ask
from aichat_adapters.cli._batch import batch
from aichat_adapters.cli._chat import chat
from aichat_adapters.cli._cookies import cookies
from aichat_adapters.cli._exit import EXIT_CODES_HELP, INTERRUPTED, OTHER, fail, one_line
from aichat_adapters.cli._stub import stub
from aichat_core import AichatError

__all__ = ["cli"]


class AichatGroup(click.Group):
    """A group whose commands end expected errors with one line on stderr and an exit code.

    An :class:`~aichat_core.AichatError` exits with its family's code (see
    ``aichat --help``), Ctrl-C with 130, a missing optional dependency or a
    file that cannot be read or written with 1. click's own usage errors
    keep their exit code, 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AichatError as error:
            fail(error)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise SystemExit(INTERRUPTED) from None
        except ImportError as error:
            click.echo(f"error: {one_line(str(error))}", err=True)
            raise SystemExit(OTHER) from None
        except OSError as error:
            if isinstance(error, BrokenPipeError):
                raise  # click reports a closed stdout itself
            click.echo(f"error: {_os_error(error)}", err=True)
            raise SystemExit(OTHER) from None


def _os_error(error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    return one_line(f"{error.filename}: {reason}" if error.filename else reason)


@click.group(
    cls=AichatGroup,
    help="Talk to chat-gpt.org (or the local stub) from the command line.",
    epilog=EXIT_CODES_HELP,
)
@click.version_option(package_name="aichat-client")
@click.option(
    "-v", "--verbose", is_flag=True, help="Log each request on stderr (never cookie values)."
)
def cli(verbose: bool) -> None:
    """The ``aichat`` command group."""
    if verbose:
        logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("aichat").setLevel(logging.DEBUG)


for _command in (ask, chat, batch, stub, cookies):
    cli.add_command(_command)
