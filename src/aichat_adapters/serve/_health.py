"""``GET /health``: the server is up, and what its cookie source gives (names, never values)."""

from __future__ import annotations

import inspect
from typing import Any

import anyio

from aichat_core import AichatError

__all__ = ["SOURCE_TIMEOUT", "credentials_report", "health"]

SOURCE_TIMEOUT = 10.0
"""Seconds a health check waits for the cookie source (a browser's database can be slow)."""


async def _cookies(source: Any) -> Any:
    """The source's cookies: awaited when async, else in a worker thread (sources may block)."""
    get = source.get_cookies
    if inspect.iscoroutinefunction(get):
        return await get()
    return await anyio.to_thread.run_sync(get, abandon_on_cancel=True)


async def credentials_report(client: Any) -> dict[str, Any]:
    """Whether the client's cookie source gives cookies, its label and the cookie names.

    Never a value. ``expires`` is ``None`` until sources give an expiry (the
    credentials bundle).
    """
    source = client.cookie_source
    describe = getattr(source, "describe", None)
    label = describe() if callable(describe) else type(source).__name__
    report: dict[str, Any] = {"found": False, "source": label, "cookies": [], "expires": None}
    try:
        with anyio.fail_after(SOURCE_TIMEOUT):
            cookies = await _cookies(source)
    except TimeoutError:
        report["error"] = f"the cookie source gave no answer in {SOURCE_TIMEOUT:g} s"
        return report
    except Exception as error:  # a user's source may put values in its messages: typed ones only
        report["error"] = str(error) if isinstance(error, AichatError) else type(error).__name__
        return report
    if isinstance(cookies, dict) or hasattr(cookies, "keys"):
        names = sorted(str(name) for name in cookies.keys())  # noqa: SIM118 (any mapping)
        report["found"] = bool(names)
        report["cookies"] = names
    return report


async def health(client: Any) -> dict[str, Any]:
    """The body of ``GET /health``."""
    return {"status": "ok", "credentials": await credentials_report(client)}
