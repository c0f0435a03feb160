"""Plain HTTP values that cross the transport port, and the rules a header must follow."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from aichat_core._errors import InvalidRequestError

__all__ = ["HttpRequest", "HttpResponse", "check_headers"]

# RFC 9110: a field name is a token; a value is visible ASCII, spaces and tabs
# inside. No CR/LF (header injection) and no non-ASCII (httpx and h11 encode ASCII).
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*|")

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


def check_headers(headers: object) -> dict[str, str]:
    """Headers a user gives, checked: names are tokens, values visible ASCII.

    Names are lower-cased; a ``None`` gives ``{}``. Raises ``InvalidRequestError``
    naming the header, never quoting a value.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidRequestError(
            f"headers must be a mapping of str to str, not {type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise InvalidRequestError(
                f"invalid header name {name!r}: a name is ASCII letters, digits and !#$%&'*+-.^_`|~"
            )
        if not isinstance(value, str):
            raise InvalidRequestError(
                f"headers[{name!r}] must be a str, not {type(value).__name__}"
            )
        if not _FIELD_VALUE.fullmatch(value.strip(" \t")):
            raise InvalidRequestError(
                f"the value of header {name!r} has a character HTTP headers cannot carry "
                "(a line break, a control or a non-ASCII character); percent-encode "
                "non-ASCII text"
            )
        checked[name.lower()] = value.strip(" \t")
    return checked


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
