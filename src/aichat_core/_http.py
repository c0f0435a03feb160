"""Plain HTTP values that cross the transport port."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["HttpRequest", "HttpResponse"]

_SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


def _headers_repr(headers: tuple[tuple[str, str], ...]) -> str:
    shown = [
        (name, "<hidden>" if name.lower() in _SECRET_HEADERS else value) for name, value in headers
    ]
    return repr(shown)


@attrs.frozen
class HttpRequest:
    """One HTTP request, as the transports send it.

    ``headers`` is a tuple of ``(name, value)`` pairs; a ``Cookie`` value is
    never shown by ``repr``.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = attrs.field(repr=_headers_repr)
    body: bytes = attrs.field(repr=False)


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@attrs.frozen
class HttpResponse:
    """One complete HTTP response. ``headers`` keys are lower-case.

    ``set_cookies`` holds each ``Set-Cookie`` header's value on its own (a
    mapping cannot keep repeated headers apart); never shown by ``repr``.
    """

    status_code: int
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_lower_keys)
    body: bytes = attrs.field(default=b"", repr=False)
    set_cookies: tuple[str, ...] = attrs.field(default=(), repr=False)

    @property
    def content_type(self) -> str:
        """The media type, without parameters, lower-cased."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()
