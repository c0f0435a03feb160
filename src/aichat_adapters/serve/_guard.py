"""Who may use the server: the Host (against DNS rebinding), the Origin (web pages), the key."""

from __future__ import annotations

import hmac

from aichat_adapters.serve._errors import Problem
from aichat_adapters.serve._settings import Settings

__all__ = ["LOOPBACK_NAMES", "Guard", "host_name"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
"""Host names that always reach this machine, whatever a DNS server says."""


def host_name(value: str) -> str | None:
    """A ``Host`` header's name, lower case, without its port; ``None`` when malformed."""
    value = value.lower()
    if value.startswith("["):
        end = value.find("]") + 1
        if not end:
            return None
        name, rest = value[:end], value[end:]
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
    if rest and not (
        rest[0] == ":" and (rest == ":" or (rest[1:].isascii() and rest[1:].isdigit()))
    ):
        return None
    return name or None


def _printable(value: str, limit: int = 100) -> str:
    """A header value an attacker chose, safe to quote in a message: escaped and short."""
    text = value[:limit].encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text + ("..." if len(value) > limit else "")


class Guard:
    """The checks every request passes before anything else, in this order.

    1. ``Host`` is a loopback name or an allowed host (DNS rebinding: a web page
       whose own name resolves to 127.0.0.1 sends its own name), else 403.
    2. A request that carries an ``Origin`` (a browser's) comes from an allowed
       CORS origin, else 403: a page cannot spend the cookies even with no key.
    3. The API key, when one is configured, compared in constant time, else 401.
    """

    def __init__(self, settings: Settings) -> None:
        self._hosts = LOOPBACK_NAMES | settings.allowed_hosts
        self._origins = frozenset(settings.cors_origins)
        key = settings.api_key
        self._key = None if key is None else key.encode("ascii")

    def host(self, value: str | None) -> Problem | None:
        """The 403 for a ``Host`` that is not allowed, else ``None``."""
        if value is not None and host_name(value) in self._hosts:
            return None
        shown = "no Host header" if value is None else f"Host {_printable(value)!r}"
        return Problem(
            403,
            f"{shown} is not a loopback name nor an allowed host, so the request was refused "
            "(a page on another site could reach this server through a DNS name of its own). "
            "If clients reach this server by that name, start it with --allow-host NAME "
            "(create_app(allowed_hosts=[...]))",
            "permission_error",
            "host_not_allowed",
        )

    def origin(self, value: str | None, *, preflight: bool = False) -> Problem | None:
        """The 403 for a web page's ``Origin`` that is not allowed, else ``None``."""
        if value is None or value.lower() in self._origins:
            return None
        what = "preflight request" if preflight else "request"
        return Problem(
            403,
            f"a {what} from a web page (Origin {_printable(value)!r}) was refused: this server "
            "spends your cookies, so no page may use it unless its origin is allowed with "
            "--cors-origin ORIGIN (create_app(cors_origins=[...]))",
            "permission_error",
            "origin_not_allowed",
        )

    def key(self, authorization: bytes | None) -> Problem | None:
        """The 401 for a missing or wrong API key, else ``None`` (any key when none is set)."""
        if self._key is None:
            return None
        if authorization is None:
            return Problem(
                401,
                "no API key: send the server's key as 'Authorization: Bearer KEY' "
                "(api_key= in OpenAI clients)",
                "invalid_request_error",
                "invalid_api_key",
            )
        scheme, _, token = authorization.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key):
            return None
        return Problem(
            401,
            "incorrect API key: send the key the server was started with "
            "(--api-key or AICHAT_SERVE_API_KEY) as 'Authorization: Bearer KEY'",
            "invalid_request_error",
            "invalid_api_key",
        )
