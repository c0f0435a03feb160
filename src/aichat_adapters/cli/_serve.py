"""``aichat serve``: the OpenAI-compatible endpoint, on uvicorn, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from aichat_adapters import AsyncAichatClient
from aichat_adapters.cli._exit import EXIT_CODES_HELP, OTHER
from aichat_adapters.cli._extras import require_extra
from aichat_adapters.cli._factory import make_client, serving
from aichat_adapters.cli._options import ServiceOptions, service_options
from aichat_adapters.cli._text import TEXT

if TYPE_CHECKING:
    import uvicorn

__all__ = ["serve"]

_DEFAULT_MODELS = ("gpt-3.5-turbo", "aichat")


def _addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """What ``host`` resolves to (an address literal resolves to itself)."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        click.echo(f"error: cannot serve on {host!r}: {reason}", err=True)
        raise SystemExit(OTHER) from None


def _loopback(addresses: list[tuple[Any, ...]]) -> bool:
    import ipaddress

    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in addresses)


def _bind(address: tuple[Any, ...], host: str, port: int) -> socket.socket:
    family, kind, proto, _, where = address
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(where)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        click.echo(f"error: cannot serve on {host}:{port}: {error.strerror or error}", err=True)
        raise SystemExit(OTHER) from None
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _NoTraceback(logging.Filter):
    """uvicorn logs a malformed request with its traceback; one line is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("aichat serve: %(message)s"))
    handler.addFilter(_NoTraceback())
    for name, level in (("aichat.serve", logging.INFO), ("uvicorn.error", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False


def _server(config: uvicorn.Config) -> uvicorn.Server:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a stop asked by a signal is a success (exit 0).

        uvicorn raises the signal again once it has stopped, which ends the
        process as killed by SIGTERM.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            signals = (signal.SIGINT, signal.SIGTERM)
            originals = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
            try:
                yield
            finally:
                for sig, handler in originals.items():
                    signal.signal(sig, handler)

    return Server(config)


@click.command(
    short_help="Serve an OpenAI-compatible API (chat completions) on this machine.",
    epilog=EXIT_CODES_HELP,
)
@click.option(
    "--host",
    type=TEXT,
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback needs --api-key.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--api-key",
    type=TEXT,
    envvar="AICHAT_SERVE_API_KEY",
    show_envvar=True,
    metavar="KEY",
    help=(
        "The key clients must send (Authorization: Bearer KEY). Without one, on loopback, "
        "any key is accepted. Prefer the variable: a command line is visible to other users."
    ),
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Calls at the site at once.",
)
@click.option(
    "--queue",
    type=click.IntRange(min=0),
    default=64,
    show_default=True,
    help="Calls that may wait for a place; past that, 429 with Retry-After.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1),
    default=1 << 20,
    show_default=True,
    metavar="BYTES",
    help="The largest request body; a larger one gets 413.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    type=TEXT,
    multiple=True,
    metavar="NAME",
    help="A host name clients reach the server by, besides localhost (repeatable).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    type=TEXT,
    multiple=True,
    metavar="ORIGIN",
    help="A web origin allowed to call the server from a browser (repeatable; none by default).",
)
@click.option(
    "--model",
    "models",
    type=TEXT,
    multiple=True,
    metavar="NAME",
    help="A model name to answer as (repeatable) [default: gpt-3.5-turbo, aichat].",
)
@service_options
def serve(
    host: str,
    port: int,
    api_key: str | None,
    concurrency: int,
    queue: int,
    max_body: int,
    allowed_hosts: tuple[str, ...],
    cors_origins: tuple[str, ...],
    models: tuple[str, ...],
    service: ServiceOptions,
) -> None:
    """Serve an OpenAI-compatible API until SIGTERM or Ctrl-C (needs the 'serve' extra).

    POST /v1/chat/completions (streaming too), GET /v1/models and GET
    /health. Point any OpenAI client at the URL printed on stdout, e.g.
    base_url="http://127.0.0.1:8000/v1". One line per request is logged on
    stderr (never a body, a cookie or a key). SIGTERM lets the calls in
    flight finish (for at most --timeout seconds), then exits 0.

    \b
    Example:
      aichat serve --cookies-file cookies.txt
      AICHAT_SERVE_API_KEY=... aichat serve --host 0.0.0.0 --allow-host box.lan
    """
    require_extra("starlette", "serve", "aichat serve")
    require_extra("uvicorn", "serve", "aichat serve")
    import uvicorn

    from aichat_adapters.serve import create_app

    api_key = api_key or None  # an empty AICHAT_SERVE_API_KEY is no key
    addresses = _addresses(host, port)
    if api_key is None and not _loopback(addresses):
        raise click.UsageError(
            f"--host {host} listens beyond this machine, and without an API key anyone who "
            "reaches it could spend your cookies: give --api-key KEY (or set "
            "AICHAT_SERVE_API_KEY), or serve on 127.0.0.1",
            click.get_current_context(silent=True),
        )
    with serving(service) as resolved:
        client = make_client(resolved, AsyncAichatClient)
        app = create_app(
            client,
            api_key=api_key,
            allowed_hosts=allowed_hosts,
            cors_origins=cors_origins,
            concurrency=concurrency,
            queue=queue,
            max_body=max_body,
            models=models or _DEFAULT_MODELS,
        )
        sock = _bind(addresses[0], host, port)
        _configure_logging()
        config = uvicorn.Config(
            app,
            lifespan="off",
            ws="none",
            interface="asgi3",
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=math.ceil(service.timeout),
        )
        server = _server(config)

        async def run() -> None:
            try:
                await server.serve(sockets=[sock])
            finally:
                await client.aclose()

        url = _url(sock)
        click.echo(f"{url}/v1")  # the first line on stdout: a script can read it at once
        click.echo(
            f"aichat serve: OpenAI-compatible API at {url}/v1 for {resolved.base_url} "
            f"(concurrency {concurrency}, queue {queue}); Ctrl-C to stop",
            err=True,
        )
        import asyncio

        try:
            asyncio.run(run())
        finally:
            sock.close()
    click.echo("aichat serve: stopped", err=True)
