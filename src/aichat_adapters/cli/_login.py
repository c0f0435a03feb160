"""``aichat login``: earn a clearance once with a real browser and save the bundle."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import click

from aichat_adapters.cli._cookies import describe_expiry
from aichat_adapters.cli._exit import COOKIES, EXIT_CODES_HELP, one_line
from aichat_adapters.cli._extras import require_extra
from aichat_adapters.cli._factory import browser_clearance
from aichat_adapters.cli._text import TEXT
from aichat_adapters.cookies import default_credentials_path
from aichat_core import (
    DEFAULT_BASE_URL,
    AichatError,
    CookiesNotFoundError,
    InvalidRequestError,
)

__all__ = ["login"]

_HEADLESS_TIMEOUT = 60.0
_WINDOW_TIMEOUT = 300.0  # a person passes the challenge (and logs in) in the window


@click.command(
    short_help="Earn a clearance with a real browser; save the cookies and User-Agent.",
    epilog=EXIT_CODES_HELP,
)
@click.option(
    "--url",
    type=TEXT,
    metavar="URL",
    help="The page to open [default: the origin of AICHAT_BASE_URL, else https://chat-gpt.org/].",
)
@click.option(
    "--browser-path",
    type=TEXT,
    metavar="PATH",
    help="The Chromium to run [default: AICHAT_BROWSER, else chromium, google-chrome... on PATH].",
)
@click.option(
    "--show",
    is_flag=True,
    help="Open a visible window (needs a display), so that you can pass a challenge or log in.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds to wait for the clearance [default: 60, or 300 with --show].",
)
@click.option(
    "--save",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Where to save the bundle [default: credentials.json beside the cookies file].",
)
@click.option(
    "--proxy",
    type=TEXT,
    envvar="AICHAT_PROXY",
    show_envvar=True,
    metavar="URL",
    help="The proxy the browser goes out through: use the one 'aichat ask' will use.",
)
def login(
    url: str | None,
    browser_path: str | None,
    show: bool,
    timeout: float | None,
    save: Path | None,
    proxy: str | None,
) -> None:
    """Open the site in Chromium until it sets its clearance (cf_clearance), then save the
    cookies with the browser's User-Agent as a credentials bundle (mode 0600).

    A clearance works only with the User-Agent (and the IP) that earned it:
    the bundle keeps both, and 'aichat ask' (whose default cookie sources
    read the default bundle first) sends them together. The command prints
    the cookie names, the User-Agent and the expiry, never a cookie value.
    Needs the 'clearance' extra and a Chromium (apt-get install chromium).

    \b
    Examples:
      aichat login
      aichat login --show --timeout 600
      aichat stub --challenge --port 8000 &
      aichat login --url http://127.0.0.1:8000/ --save /tmp/credentials.json
    """
    require_extra("pydoll", "clearance", "aichat login")
    from aichat_adapters.clearance._chromium import check_display

    check_display(headless=not show)
    target = _target(url)
    path = save if save is not None else default_credentials_path()
    _check_writable(path)
    wait = timeout if timeout is not None else _WINDOW_TIMEOUT if show else _HEADLESS_TIMEOUT
    source = browser_clearance(
        "aichat login",
        url=target,
        executable=browser_path,
        headless=not show,
        timeout=wait,
        save_to=path,
        proxy=proxy or None,
    )
    if show:
        click.echo(
            f"aichat login: opening {target} in a browser window; pass the challenge there "
            f"(waiting up to {wait:g} s for the cf_clearance cookie)",
            err=True,
        )
    try:
        credentials = source.refresh_credentials()
    except CookiesNotFoundError as error:  # no browser, or it did not start: its own words
        click.echo(f"error: {one_line(str(error))}", err=True)
        raise SystemExit(COOKIES) from None
    host = source.domain
    assert host is not None
    if not _saved(path, host, credentials.cookies):
        raise click.ClickException(f"the credentials could not be written to {path}")
    click.echo(f"saved the credentials for {host} to {path} (mode 0600)")
    click.echo(f"  cookies:    {', '.join(sorted(credentials.cookies))}")
    click.echo(f"  user agent: {credentials.user_agent}")
    now = time.time()
    for name in source.cookie_names:
        click.echo(f"  {name}: {describe_expiry(credentials.expires.get(name), now)}")


def _target(url: str | None) -> str:
    """``--url``, else the origin of ``AICHAT_BASE_URL`` or of chat-gpt.org."""
    from aichat_adapters.clearance._common import check_url, origin_of
    from aichat_core import check_base_url

    if url is not None:
        checked = check_url(url)
        assert checked is not None
        return checked
    base_url = os.environ.get("AICHAT_BASE_URL", "").strip() or DEFAULT_BASE_URL
    return origin_of(check_base_url(base_url))


def _check_writable(path: Path) -> None:
    """Refuse, before a browser starts, a path the bundle cannot be written to.

    The folder is made (``0700``) if missing, and a temporary file is made in it and removed.
    """
    if path.is_dir():
        raise InvalidRequestError(f"--save {path} is a folder; give a file path")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InvalidRequestError(
            f"cannot write the credentials to {path} ({reason}); give --save FILE in a "
            "folder you can write to"
        ) from None


def _saved(path: Path, host: str, cookies: Mapping[str, str]) -> bool:
    """Whether the file now holds these cookies (the source only warns when a save fails)."""
    from aichat_adapters.cookies import FileCookieSource

    try:
        return FileCookieSource(path, domain=host).get_cookies() == dict(cookies)
    except AichatError:  # unreadable or malformed: not saved
        return False
