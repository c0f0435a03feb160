"""Text into and out of the command: UTF-8 only, and bytes that are not UTF-8 named clearly.

Python decodes arguments and environment variables with ``surrogateescape``
(a byte that is not UTF-8 becomes a lone surrogate); stdin and files are read
here as bytes and decoded strictly. Either way a bad byte is an
[`InvalidRequestError`][aichat_core.InvalidRequestError] (exit 2) that names
where it is, before anything is sent. JSON is written so that it is always
valid UTF-8, whatever a server answered.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, BinaryIO

import click
from click.core import ParameterSource

from aichat_core import InvalidRequestError

__all__ = [
    "MAX_INPUT_BYTES",
    "TEXT",
    "Text",
    "check_decoded",
    "decode",
    "json_text",
    "read_stdin",
    "stdin_bytes",
]

#: The most bytes read as one prompt or one input line (far beyond any context window).
MAX_INPUT_BYTES = 4 * 1024 * 1024

_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_utf8(what: str, byte: int, offset: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"{what} is not UTF-8 text (byte 0x{byte:02x} at offset {offset}); aichat reads UTF-8 only"
    )


def check_decoded(text: str, what: str) -> str:
    """Refuse text that holds undecodable bytes (or a lone surrogate); return it unchanged.

    Args:
        text: Text that Python decoded with ``surrogateescape`` (argv, the environment).
        what: What the text is, for the message (``"PROMPT"``, ``"AICHAT_BASE_URL"``).

    Raises:
        InvalidRequestError: the first bad byte, and its offset in bytes.
    """
    found = _SURROGATE.search(text)
    if found is None:
        return text
    char = found.group()
    offset = len(text[: found.start()].encode("utf-8"))
    if "\udc80" <= char <= "\udcff":  # a byte that surrogateescape carried
        raise _not_utf8(what, ord(char) - 0xDC00, offset)
    raise InvalidRequestError(
        f"{what} holds a lone surrogate (U+{ord(char):04X}) at offset {offset}, "
        "which UTF-8 cannot carry"
    )


def decode(data: bytes, what: str) -> str:
    """Decode UTF-8 bytes strictly.

    Raises:
        InvalidRequestError: the bytes are not UTF-8 (the message names the first bad one).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(what, data[exc.start], exc.start) from None


def stdin_bytes() -> BinaryIO:
    """stdin as bytes.

    Raises:
        InvalidRequestError: there is no stdin (it was closed).
    """
    stream = sys.stdin
    if stream is None:
        raise InvalidRequestError("stdin is closed; give the input another way")
    return stream.buffer


def read_stdin(what: str = "stdin") -> str:
    """All of stdin, decoded (without a leading byte order mark).

    Raises:
        InvalidRequestError: stdin is not UTF-8, or holds more than
            `MAX_INPUT_BYTES`.
    """
    data = stdin_bytes().read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidRequestError(
            f"{what} holds more than {MAX_INPUT_BYTES // 2**20} MiB; "
            "a prompt that long cannot be sent"
        )
    return decode(data, what).removeprefix("\ufeff")


def json_text(value: Any, **options: Any) -> str:
    """``value`` as JSON that UTF-8 can always encode.

    Text is kept as it is, unless it holds a lone surrogate (a server may
    send ``"\\ud800"``): then the whole document is written with ``\\u``
    escapes, which is still the same JSON.
    """
    text = json.dumps(value, ensure_ascii=False, **options)
    if _SURROGATE.search(text) is None:
        return text
    return json.dumps(value, ensure_ascii=True, **options)


class Text(click.ParamType):  # type: ignore[type-arg]  # generic in recent click only
    """A string option or argument that must be UTF-8: undecodable bytes exit with 2."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Check the value (the message names the option, or the variable it came from)."""
        if not isinstance(value, str):
            return value
        return check_decoded(value, _label(param, ctx))


def _label(param: click.Parameter | None, ctx: click.Context | None) -> str:
    if param is None:
        return "an argument"
    if (
        ctx is not None
        and param.name is not None
        and ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT
        and isinstance(param.envvar, str)
    ):
        return param.envvar
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


#: The type of every free-text option and argument of the command.
TEXT = Text()
