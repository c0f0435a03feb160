"""``aichat stub``: the local stand-in for chat-gpt.org, in the foreground."""

from __future__ import annotations

import click

from aichat_adapters.cli._exit import EXIT_CODES_HELP, OTHER
from aichat_adapters.cli._extras import require_extra
from aichat_adapters.cli._text import TEXT
from aichat_core import InvalidRequestError, parse_cookie_header

__all__ = ["stub"]


def _cookie_pairs(
    _context: click.Context, _parameter: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        try:
            parsed = parse_cookie_header(value)
        except InvalidRequestError as error:
            raise click.BadParameter(f"expected NAME=VALUE: {error}") from None
        if len(parsed) != 1:
            raise click.BadParameter(f"expected one NAME=VALUE, got {value!r}")
        pairs.update(parsed)
    return pairs


@click.command(short_help="Run the local stub server until Ctrl-C.", epilog=EXIT_CODES_HELP)
@click.option(
    "--host", type=TEXT, default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--require-cookie",
    "require_cookies",
    type=TEXT,
    multiple=True,
    metavar="NAME=VALUE",
    callback=_cookie_pairs,
    help="A cookie every request must carry, else it gets the anti-bot page (repeatable).",
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Probability of a 503 (with Retry-After: 1) for each request.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds added before each answer.",
)
@click.option("--seed", type=int, help="Seed of the random failures, for a repeatable run.")
@click.option(
    "--challenge",
    is_flag=True,
    help=(
        "Challenge mode: a page like Cloudflare's that a real browser passes (a proof of work), "
        "setting a cf_clearance bound to its User-Agent (loopback only)."
    ),
)
@click.option(
    "--challenge-bits",
    type=click.IntRange(0, 32),
    default=12,
    show_default=True,
    help="Leading zero bits of the challenge's proof of work.",
)
@click.option(
    "--clearance-max-age",
    type=click.IntRange(min=1),
    default=1800,
    show_default=True,
    help="Seconds a clearance lasts.",
)
def stub(
    host: str,
    port: int,
    require_cookies: dict[str, str],
    fail_rate: float,
    latency: float,
    seed: int | None,
    challenge: bool,
    challenge_bits: int,
    clearance_max_age: int,
) -> None:
    """Serve the stub server in the foreground until Ctrl-C (needs the 'stub' extra).

    It answers POST /api/text with an echo ("Echo: " + the prompt), as
    chat-gpt.org would answer with a reply. Its URL is the first line on
    stdout; requests are logged on stdout as they come.

    With --challenge, every request first meets a challenge page like
    Cloudflare's, which a real browser passes: try it with 'aichat login'.

    \b
    Examples:
      aichat stub --port 8000 --require-cookie session=test &
      aichat ask --base-url http://127.0.0.1:8000 --cookies session=test "Hi"
      aichat stub --port 8000 --challenge &
      aichat login --url http://127.0.0.1:8000/ --save /tmp/stub-credentials.json
    """
    require_extra("uvicorn", "stub", "aichat stub")
    from aichat_adapters.stub import ChallengeGate, StubServer

    gate = ChallengeGate(difficulty=challenge_bits, max_age=clearance_max_age)
    try:
        server = StubServer(
            host=host,
            port=port,
            require_cookies=require_cookies,
            fail_rate=fail_rate,
            latency=latency,
            seed=seed,
            challenge=gate if challenge else None,
        )
    except ValueError as error:
        raise click.UsageError(str(error), click.get_current_context(silent=True)) from None

    def started(url: str) -> None:
        click.echo(url)  # click.echo flushes: a script can read the URL at once
        click.echo(f"aichat stub: serving {url}/api/text; Ctrl-C to stop", err=True)

    try:
        server.serve_forever(on_start=started)
    except OSError as error:
        reason = error.strerror or str(error)
        click.echo(f"error: cannot serve on {host}:{port}: {reason}", err=True)
        raise SystemExit(OTHER) from None
    click.echo("aichat stub: stopped", err=True)
