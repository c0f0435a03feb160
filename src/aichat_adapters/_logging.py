"""Logging: ``AICHAT_LOG`` switches the ``aichat`` logger on; no cookie value reaches a log.

The ``aichat`` logger logs one line per attempt at INFO (method, URL, status,
milliseconds) and retries and cookie events; never a cookie value. httpcore's
DEBUG lines carry raw headers, so a filter hides the values of ``Cookie`` and
``Set-Cookie`` there too.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aichat_core import HttpRequest, HttpResponse
    from aichat_core._engine import Sleep

__all__ = ["LOG_VARIABLE", "configure_logging", "log_exchange", "log_retry"]

logger = logging.getLogger("aichat")

LOG_VARIABLE = "AICHAT_LOG"
"""``debug`` or ``info``: log the ``aichat`` logger to stderr at that level."""

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_HTTPCORE_LOGGERS = ("httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy")
_COOKIE_PAIR = re.compile(r"""(\(b'(?:set-)?cookie', )b(?:'[^']*'|"[^"]*")""", re.IGNORECASE)


class _HideCookies(logging.Filter):
    """Blank the values of cookie headers in httpcore's DEBUG lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "cookie" in message.lower():
            record.msg, record.args = _COOKIE_PAIR.sub(r"\1b'<hidden>'", message), None
        return True


_configured = False


def configure_logging() -> None:
    """Apply ``AICHAT_LOG`` and hide cookies from httpcore's logs; once per process."""
    global _configured  # noqa: PLW0603 - one-time set-up, idempotent
    if _configured:
        return
    _configured = True
    hide = _HideCookies()
    for name in _HTTPCORE_LOGGERS:
        logging.getLogger(name).addFilter(hide)
    level = _LEVELS.get(os.environ.get(LOG_VARIABLE, "").strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s aichat %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


def log_exchange(request: HttpRequest, response: HttpResponse, sent_at: float) -> None:
    """One INFO line per attempt: method, URL, status and milliseconds (never a header)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "%s %s -> %d in %.1f ms",
            request.method,
            request.url,
            response.status_code,
            (time.monotonic() - sent_at) * 1000,
        )


def log_retry(sleep: Sleep) -> None:
    """One INFO line before a retry's wait: which attempt failed, how, and the wait."""
    error = sleep.error
    logger.info(
        "attempt %d failed (%s: %s); retrying in %.2f s",
        sleep.attempt,
        type(error).__name__,
        error,
        sleep.seconds,
    )
