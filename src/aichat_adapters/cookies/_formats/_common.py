"""What every cookie format shares: decoding a file, JSON with reasons, the cookie check.

No file I/O and no value in any reason: text goes in, cookies or reasons come out.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Callable

from aichat_adapters.cookies._select import CookieEntry, ParsedCookies, Unusable, select_entries
from aichat_core import CookiesNotFoundError, InvalidRequestError, format_cookie_header

__all__ = [
    "check_cookie",
    "decode",
    "is_winner",
    "json_kind",
    "load_json",
    "not_empty",
    "parse_public",
]


def decode(data: bytes) -> tuple[str, str]:
    """Decode a cookie file: UTF-8 (with or without a BOM) or UTF-16 with a BOM.

    Returns:
        The text, and the encoding to write it back with (``utf-8``,
        ``utf-8-sig`` when it had a BOM, or ``utf-16``).

    Raises:
        Unusable: the bytes are not text in one of those encodings.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # PowerShell's ">" writes this.
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        name = encoding.upper().replace("-SIG", "")
        raise Unusable(f"not {name} text (bad byte at offset {exc.start})") from None


def not_empty(text: str) -> str:
    """The text without a BOM; raises `Unusable` when it is blank."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise Unusable("empty")
    return text


def load_json(text: str) -> object:
    """Parse JSON, with a reason that quotes nothing of the document.

    Raises:
        Unusable: not valid JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg is the decoder's fixed wording; the document is not quoted.
        raise Unusable(
            f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        raise Unusable("not valid JSON (too deeply nested or a number too long)") from None


def json_kind(value: object) -> str:
    """``object``, ``list``, ``string``... : a JSON value's type, for reasons."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def check_cookie(name: str, value: str) -> None:
    """Check a cookie can go in a ``Cookie`` header; raises `Unusable` naming it, not its value."""
    if not name:
        raise Unusable("empty cookie name")
    try:
        format_cookie_header({name: value})
    except InvalidRequestError as exc:
        raise Unusable(exc.message) from None


def is_winner(entry: CookieEntry | None, domain: str, path: str, name: str) -> bool:
    """Whether a file's cookie (domain, path, name) is the one the file gives for its name."""
    return entry is not None and (entry.domain, entry.path, entry.name) == (domain, path, name)


def parse_public(
    label: str,
    reader: Callable[[str, str], ParsedCookies],
    text: str,
    domain: str,
    now: float | None,
) -> dict[str, str]:
    """Run a reader and select the cookies, as the public ``parse_*`` functions do.

    Reads the clock when ``now`` is ``None``.
    """
    try:
        parsed = reader(text, domain)
        entries = select_entries(parsed, domain, time.time() if now is None else now)
    except Unusable as exc:
        raise CookiesNotFoundError.from_tried(((label, exc.reason),)) from None
    return {name: entry.value for name, entry in entries.items()}
