"""Credentials: cookies with the User-Agent, headers, expiry and proxy they are bound to.

Cloudflare binds a clearance to the User-Agent (and the IP) that earned it, so
the cookies alone are not enough: a source may give a
[`Credentials`][aichat_core.Credentials] value instead, and the client sends
its User-Agent and headers with its cookies. No value of a cookie or a header
ever appears in its ``repr``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from aichat_core._cookies import check_cookies
from aichat_core._errors import InvalidRequestError
from aichat_core._http import check_headers

__all__ = ["DIRECT", "Credentials", "mask_proxy", "public_proxy"]


def _names(value: Mapping[str, Any]) -> str:
    return repr(sorted(value))


DIRECT = "direct"
"""The ``proxy`` of credentials earned without a proxy."""


def mask_proxy(proxy: str) -> str:
    """A proxy URL with any user and password replaced by ``<hidden>`` (for messages)."""
    scheme, sep, rest = proxy.partition("://")
    _user, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{'<hidden>@' if at else ''}{host}"


def public_proxy(proxy: str | None) -> str | None:
    """The proxy URL without user and password (what a file may hold and a log may show)."""
    if proxy is None:
        return None
    scheme, sep, rest = proxy.partition("://")
    if not sep:
        return proxy.rpartition("@")[2]
    authority, slash, tail = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"


def _mask_proxy(proxy: str | None) -> str:
    return repr(proxy if proxy is None or proxy == DIRECT else mask_proxy(proxy))


def _cookies(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            f"Credentials.cookies must be a mapping of names to values, not {type(value).__name__}"
        )
    return check_cookies(value)


def _headers(value: object) -> Mapping[str, str]:
    headers = check_headers(value)
    if "cookie" in headers:
        raise InvalidRequestError("Credentials.headers must not hold a Cookie header; use cookies")
    return headers


def _expires(value: object) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            f"Credentials.expires must map cookie names to epoch seconds, not "
            f"{type(value).__name__}"
        )
    checked: dict[str, float] = {}
    for name, when in value.items():
        if isinstance(when, bool) or not isinstance(when, (int, float)) or math.isnan(when):
            raise InvalidRequestError(
                f"Credentials.expires[{name!r}] must be a number of epoch seconds"
            )
        checked[str(name)] = float(when)
    return checked


def _user_agent(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError("Credentials.user_agent must be a non-empty string or None")
    return check_headers({"user-agent": value})["user-agent"]


def _optional_time(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidRequestError("Credentials.obtained_at must be epoch seconds or None")
    return float(value)


def _optional_str(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"Credentials.proxy must be a URL or None, not {value!r}")
    return value


@attrs.frozen
class Credentials:
    """What the site needs to accept a request: cookies and what they are bound to.

    Attributes:
        cookies: Cookie names to values (checked as the ``Cookie`` header needs).
        user_agent: The User-Agent the cookies were earned with, if known; the
            client then sends exactly this one.
        headers: Other headers that must travel with the cookies (names lower-case).
        expires: Epoch seconds at which the cookies that matter stop working
            (a clearance), by name. A source lists here what ends the
            credentials, not every tracking cookie.
        obtained_at: Epoch seconds at which they were obtained, if known.
        proxy: The proxy URL they were earned through, ``"direct"`` when they
            were earned without one, ``None`` when it is not known. A clearance
            is bound to the IP that earned it: the client warns once when it
            sends them another way.
    """

    cookies: Mapping[str, str] = attrs.field(converter=_cookies, repr=_names)
    user_agent: str | None = attrs.field(default=None, converter=_user_agent)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers, repr=_names)
    expires: Mapping[str, float] = attrs.field(factory=dict, converter=_expires)
    obtained_at: float | None = attrs.field(default=None, converter=_optional_time)
    proxy: str | None = attrs.field(default=None, converter=_optional_str, repr=_mask_proxy)

    @classmethod
    def of(cls, value: Credentials | Mapping[str, str]) -> Credentials:
        """``value`` itself, or bare cookies made into credentials with nothing else known."""
        if isinstance(value, Credentials):
            return value
        return cls(value)

    def expires_at(self, names: Iterable[str] | None = None) -> float | None:
        """The earliest expiry in ``expires`` (of ``names`` only, when given); ``None`` if none."""
        wanted = self.expires if names is None else {n: self.expires.get(n) for n in names}
        known = [when for when in wanted.values() if when is not None]
        return min(known) if known else None

    def renew_at(self, margin: float, names: Iterable[str] | None = None) -> float | None:
        """When to renew: ``margin`` seconds before the earliest expiry (of ``names``), or
        half the credentials' life before it when that is shorter; ``None`` if none is known.

        The half-life cap keeps a site that gives clearances shorter than the
        margin from being asked for a new one at every call.
        """
        ends = self.expires_at(names)
        if ends is None:
            return None
        life = ends - self.obtained_at if self.obtained_at is not None else math.inf
        return ends - min(margin, max(life, 0.0) / 2)

    def with_cookies(self, cookies: Mapping[str, str]) -> Credentials:
        """The same credentials with other cookies (after the site rotated them)."""
        return attrs.evolve(self, cookies=cookies)
