"""Cookies given as text: in code (`StaticCookieSource`) or in a variable (`EnvCookieSource`).

Such cookies carry no domain: they go to the ``base_url`` they were given with.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import ClassVar

import attrs

from aichat_adapters.cookies._formats import load_json
from aichat_adapters.cookies._select import Unusable, checked, log_found, not_found
from aichat_core import InvalidRequestError, parse_cookie_header

__all__ = ["COOKIES_VARIABLE", "EnvCookieSource", "StaticCookieSource"]

#: The variable `EnvCookieSource` reads by default.
COOKIES_VARIABLE = "AICHAT_COOKIES"


def _static_pairs(cookies: Mapping[str, str] | str) -> tuple[tuple[str, str], ...]:
    if isinstance(cookies, str):
        parsed = parse_cookie_header(cookies)
    elif isinstance(cookies, Mapping):
        parsed = checked(cookies)
    else:
        raise InvalidRequestError(
            "cookies must be a mapping of names to values or a "
            f'"name=value; other=value2" string, not {type(cookies).__name__}'
        )
    if not parsed:
        raise InvalidRequestError("cookies is empty; give at least one cookie")
    return tuple(parsed.items())


@attrs.frozen
class StaticCookieSource:
    """Fixed cookies given in code: a mapping or a ``"a=b; c=d"`` header string.

    ``StaticCookieSource({"sid": "..."})`` or
    ``StaticCookieSource("sid=...; cf_clearance=...")``; the repr shows the
    names only. It cannot refresh: when the site rejects these cookies, the
    call fails.

    Raises:
        InvalidRequestError: the cookies are empty, or a part, name or value is malformed.
    """

    _pairs: tuple[tuple[str, str], ...] = attrs.field(converter=_static_pairs, alias="cookies")
    blocking: ClassVar[bool] = False

    @property
    def names(self) -> list[str]:
        """The cookie names, in order."""
        return [name for name, _ in self._pairs]

    def describe(self) -> str:
        """The label used in errors and logs."""
        return "static cookies"

    def get_cookies(self) -> dict[str, str]:
        """Return a copy of the cookies."""
        cookies = dict(self._pairs)
        log_found(self.describe(), cookies)
        return cookies

    @classmethod
    def from_text(cls, text: str, *, origin: str = "cookies") -> StaticCookieSource:
        """Cookies typed as text: ``"a=b; c=d"``, or a JSON object ``{"a": "b"}``.

        Args:
            text: The text.
            origin: Where it came from, named in errors (e.g. ``"--cookies"``).

        Raises:
            InvalidRequestError: the text is empty or malformed (its values are never quoted).
        """
        try:
            return cls(parse_cookie_text(origin, text.strip()))
        except Unusable as exc:
            raise InvalidRequestError(exc.reason) from None

    def __repr__(self) -> str:
        return f"StaticCookieSource(names={self.names!r})"


@attrs.frozen
class EnvCookieSource:
    """Cookies from an environment variable, read at each call.

    The value is a ``"a=b; c=d"`` header string, or a JSON object
    ``{"name": "value"}`` when it starts with ``{``.

    Attributes:
        variable: The variable's name.
        environ: The environment to read; ``os.environ`` by default.
    """

    variable: str = COOKIES_VARIABLE
    environ: Mapping[str, str] | None = attrs.field(default=None, eq=False)
    blocking: ClassVar[bool] = False

    def describe(self) -> str:
        """The label used in errors and logs, e.g. ``env AICHAT_COOKIES``."""
        return f"env {self.variable}"

    def get_cookies(self) -> dict[str, str]:
        """Read and parse the variable.

        Raises:
            CookiesNotFoundError: the variable is unset, empty or malformed.
        """
        environ = os.environ if self.environ is None else self.environ
        try:
            cookies = self._parse(environ.get(self.variable))
        except Unusable as exc:
            raise not_found(self.describe(), exc.reason) from None
        log_found(self.describe(), cookies)
        return cookies

    def _parse(self, raw: str | None) -> dict[str, str]:
        name = self.variable
        if raw is None:
            raise Unusable(f"{name} is not set")
        text = raw.strip()
        if not text:
            raise Unusable(f"{name} is set but empty")
        if text.startswith("["):
            raise Unusable(
                f"{name} holds a JSON list; it takes a 'name=value; ...' string or a JSON "
                "object; put a Cookie-Editor export in a file (AICHAT_COOKIES_FILE)"
            )
        cookies = parse_cookie_text(name, text)
        if not cookies:
            raise Unusable(f"{name} holds no cookies")
        return cookies

    def __repr__(self) -> str:
        # ``environ`` is left out: it holds the cookies themselves.
        return f"EnvCookieSource(variable={self.variable!r})"


def parse_cookie_text(name: str, text: str) -> dict[str, str]:
    """A ``"a=b; c=d"`` string, or a JSON object when it starts with ``{``.

    Raises:
        Unusable: naming ``name`` (where the text came from), never a value.
    """
    try:
        if not text.startswith("{"):
            return parse_cookie_header(text)
        try:
            data = load_json(text)
        except Unusable as exc:
            raise Unusable(f"{name} starts with '{{' but is {exc.reason}") from None
        # Valid JSON that starts with "{" is an object; the values are checked here.
        assert isinstance(data, dict)
        return checked(data)
    except InvalidRequestError as exc:
        raise Unusable(f"{name} is malformed: {exc.message}") from None
