"""Reading an answer's body: the size cap, applied to the decoded bytes, chunk by chunk.

Every transport that receives raw bytes feeds them here, so a gzip bomb is
refused after at most ``limit`` decoded bytes and one chunk of inflation.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from aichat_core import ResponseFormatError

__all__ = ["ACCEPT_ENCODING", "DEFAULT_MAX_BODY_SIZE", "BodyReader", "check_max_body_size"]

DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
"""Answers larger than this (10 MiB, after decoding) raise ``ResponseFormatError``."""

ACCEPT_ENCODING = "gzip, deflate"
"""The encodings a transport that decodes with [`BodyReader`][] asks for."""

_GZIP = zlib.MAX_WBITS | 16
_SLICE = 64 * 1024  # decoded bytes per step: no large buffer, whatever the ratio
_IDENTITY = frozenset({"", "identity"})


def check_max_body_size(value: object) -> int:
    """Return ``value`` if it is a positive int, else raise ``InvalidRequestError``."""
    from aichat_core import InvalidRequestError

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"max_body_size must be a positive int, got {value!r}")
    return value


class BodyReader:
    """Collects one answer's body, decoding gzip or deflate as it comes.

    Raises ``ResponseFormatError`` as soon as the declared or decoded size
    passes ``limit``, or for an encoding it cannot decode.
    """

    def __init__(self, headers: Mapping[str, str], url: str, limit: int) -> None:
        self._url = url
        self._limit = limit
        self._body = bytearray()
        encoding = headers.get("content-encoding", "").strip().lower()
        self._decoder: zlib._Decompress | None = None
        self._deflate = False
        if encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(_GZIP)
        elif encoding == "deflate":
            self._deflate = True  # zlib-wrapped or raw: decided by the first bytes
        elif encoding not in _IDENTITY:
            raise ResponseFormatError(
                f"the answer from {url} uses content-encoding {encoding[:40]!r}, "
                "which aichat-client cannot decode"
            )
        declared = headers.get("content-length", "")
        encoded = self._decoder is not None or self._deflate
        if declared.isdigit() and not encoded and int(declared) > limit:
            raise self._too_large()

    def _too_large(self) -> ResponseFormatError:
        # Let the bytes go now: the error's traceback keeps this reader alive,
        # maybe in a reference cycle that only the garbage collector breaks.
        self._body = bytearray()
        return ResponseFormatError(
            f"the answer from {self._url} is larger than {self._limit} bytes"
        )

    def feed(self, chunk: bytes) -> None:
        """Add raw bytes as received."""
        if self._deflate and self._decoder is None and chunk:
            zlib_header = (
                len(chunk) > 1
                and (chunk[0] & 0x0F) == 8
                and int.from_bytes(chunk[:2], "big") % 31 == 0
            )
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        if self._decoder is None:
            self._add(chunk)
            return
        try:
            while chunk:
                room = self._limit - len(self._body) + 1
                self._add(self._decoder.decompress(chunk, min(room, _SLICE)))
                chunk = self._decoder.unconsumed_tail
        except zlib.error as exc:
            raise ResponseFormatError(
                f"the answer from {self._url} is not validly compressed: {exc}"
            ) from None

    def _add(self, data: bytes) -> None:
        self._body += data
        if len(self._body) > self._limit:
            raise self._too_large()

    def finish(self) -> bytes:
        """The whole decoded body."""
        if self._decoder is not None:
            try:
                self._add(self._decoder.flush())
            except zlib.error as exc:
                raise ResponseFormatError(
                    f"the answer from {self._url} is not validly compressed: {exc}"
                ) from None
        return bytes(self._body)
