"""``GET /health``: the server is up, and the credentials its client would send (names only)."""

from __future__ import annotations

import datetime
from typing import Any

import anyio

from aichat_core import AichatError

__all__ = ["SOURCE_TIMEOUT", "credentials_report", "health"]

SOURCE_TIMEOUT = 10.0
"""Seconds a health check waits for an async cookie source (a browser can be slow)."""


def _label(source: object) -> str:
    describe = getattr(source, "describe", None)
    return str(describe()) if callable(describe) else type(source).__name__


def _utc(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


async def credentials_report(client: Any) -> dict[str, Any]:
    """Whether the client's source gives credentials: its label, the cookie names, the
    User-Agent they are bound to and when they expire (the earliest known expiry).

    Never a value.
    """
    report: dict[str, Any] = {
        "found": False,
        "source": _label(client.cookie_source),
        "cookies": [],
        "user_agent": None,
        "expires": None,
    }
    try:
        with anyio.fail_after(SOURCE_TIMEOUT):
            credentials = await client.credentials()
    except TimeoutError:
        report["error"] = f"the cookie source gave no answer in {SOURCE_TIMEOUT:g} s"
        return report
    except Exception as error:  # a user's source may put values in its messages: typed ones only
        report["error"] = str(error) if isinstance(error, AichatError) else type(error).__name__
        return report
    report["found"] = True
    report["cookies"] = sorted(credentials.cookies)
    report["user_agent"] = credentials.user_agent
    report["expires"] = _utc(credentials.expires_at())
    return report


async def health(client: Any) -> dict[str, Any]:
    """The body of ``GET /health``."""
    return {"status": "ok", "credentials": await credentials_report(client)}
