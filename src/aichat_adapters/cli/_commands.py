"""The ``aichat`` command group: its commands, and how their errors end the process.

Every error ends as one line on stderr and an exit code (see ``EXIT_CODES_HELP``):
click's usage errors included, and an unexpected exception too (a bug: its
type is named, never a traceback).
"""

from __future__ import annotations

import logging
from typing import Any

import click

from aichat_adapters.cli._ask import ask
from aichat_adapters.cli._batch import batch
from aichat_adapters.cli._chat import chat
from aichat_adapters.cli._cookies import cookies
from aichat_adapters.cli._exit import (
    EXIT_CODES_HELP,
    INTERRUPTED,
    OTHER,
    USAGE,
    fail,
    one_line,
)
from aichat_adapters.cli._login import login
from aichat_adapters.cli._serve import serve
from aichat_adapters.cli._stub import stub
from aichat_core import AichatError

__all__ = ["cli", "run"]


class AichatGroup(click.Group):
    """A group whose commands end expected errors with one line on stderr and an exit code.

    An ``AichatError`` exits with its family's code (see ``aichat --help``),
    Ctrl-C with 130, a missing optional dependency or a file that cannot be
    read or written with 1, click's usage errors with 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn every error into one line and an exit code."""
        try:
            return super().invoke(ctx)
        except AichatError as error:
            fail(error)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # reported by run()
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
        except Exception as error:  # a bug: say so in one line, never a traceback
            name = type(error).__name__
            click.echo(
                f"error: internal error ({name}) in {ctx.command_path} "
                f"{ctx.invoked_subcommand or ''}".rstrip()
                + "; this is a bug in aichat, please report it with the command that caused it",
                err=True,
            )
            raise SystemExit(OTHER) from None


def _os_error(error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    return one_line(f"{error.filename}: {reason}" if error.filename else reason)


def _verbose(_context: click.Context, _parameter: click.Parameter, value: bool) -> None:
    if value:
        logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("aichat").setLevel(logging.DEBUG)


def verbose_option() -> click.Option:
    """``-v/--verbose``, accepted before the command name and after it."""
    return click.Option(
        ["-v", "--verbose"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_verbose,
        help="Log each request on stderr (never cookie values).",
    )


@click.group(
    cls=AichatGroup,
    help="Talk to chat-gpt.org (or the local stub) from the command line.",
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,  # bare "aichat": the help as --help shows it, below
    subcommand_metavar="COMMAND [ARGS]...",
)
@click.version_option(package_name="aichat-client")
@click.pass_context
def cli(context: click.Context) -> None:
    """The ``aichat`` command group; with no command, its help (and exit code 2: nothing done)."""
    if context.invoked_subcommand is None:
        click.echo(context.get_help())
        context.exit(USAGE)


cli.params.append(verbose_option())
for _command in (ask, chat, batch, stub, cookies, login, serve):
    _command.params.append(verbose_option())
    cli.add_command(_command)


def run(args: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    A usage error is one line too (``error: ...``, then where to find help),
    with exit code 2.
    """
    try:
        result = cli.main(args=args, prog_name="aichat", standalone_mode=False)
    except click.UsageError as error:
        where = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        click.echo(f"error: {one_line(error.format_message())}{where}", err=True)
        return USAGE
    except click.ClickException as error:
        click.echo(f"error: {one_line(error.format_message())}", err=True)
        return error.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        return INTERRUPTED
    return result if isinstance(result, int) else 0
