"""Pure cookie helpers: the ``Cookie`` header's format, the site-domain rule, ``Set-Cookie``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone

import attrs

from aichat_core._errors import InvalidRequestError

__all__ = [
    "SetCookie",
    "check_cookies",
    "domain_matches",
    "format_cookie_header",
    "parse_cookie_date",
    "parse_cookie_header",
    "parse_set_cookie",
]

# RFC 6265: a name is a token; a value is visible ASCII without ';' (inner
# spaces, which browsers tolerate, are kept). Anything else would break the
# header, smuggle another one, or fail later inside the HTTP library.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"(?:[\x21-\x3a\x3c-\x7e](?:[\x20-\x3a\x3c-\x7e]*[\x21-\x3a\x3c-\x7e])?)?")

# RFC 6265 section 6.1: browsers keep at least 4096 bytes of name and value,
# and refuse larger cookies; so does the jar (it also bounds its memory).
_MAX_COOKIE_SIZE = 4096
# A Max-Age beyond this many seconds (about 31,700 years) counts as this.
_MAX_AGE_CAP = 10**12
# RFC 6265 section 5.1.1: the cookie-date grammar.
_DATE_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9].*)?", re.DOTALL)
_DAY = re.compile(r"([0-9]{1,2})(?:[^0-9].*)?", re.DOTALL)
_YEAR = re.compile(r"([0-9]{2,4})(?:[^0-9].*)?", re.DOTALL)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MAX_AGE = re.compile(r"-?[0-9]+")


def domain_matches(cookie_domain: str, site: str) -> bool:
    """Whether a cookie of ``cookie_domain`` belongs to ``site`` or a subdomain of it.

    ``chat-gpt.org``, ``.chat-gpt.org`` and ``x.chat-gpt.org`` match
    ``chat-gpt.org``; ``notchat-gpt.org`` and ``chat-gpt.org.evil.com`` do not.
    """
    domain = cookie_domain.strip().lstrip(".").rstrip(".").lower()
    site = site.strip().lstrip(".").rstrip(".").lower()
    if not domain or not site:
        return False
    return domain == site or domain.endswith("." + site)


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse ``"a=b; c=d"`` into ``{"a": "b", "c": "d"}``.

    Raises:
        InvalidRequestError: a part with no ``=`` or an empty name; the message
            names the part's position, never its value.
    """
    cookies: dict[str, str] = {}
    for position, raw_part in enumerate(header.split(";"), start=1):
        part = raw_part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidRequestError(
                f"cookie string part {position} is not of the form name=value; "
                'give cookies as "name=value; other=value2"'
            )
        _check_name(name)
        cookies[name] = _checked_value(name, value.strip())
    return cookies


def format_cookie_header(cookies: Mapping[str, str]) -> str:
    """Render cookies as one ``Cookie`` header value, checking every name and value.

    Raises:
        InvalidRequestError: a name or value a ``Cookie`` header cannot carry
            (the message names the cookie, never its value).
    """
    return "; ".join(
        f"{_check_name(name)}={_checked_value(name, value)}" for name, value in cookies.items()
    )


def check_cookies(cookies: Mapping[str, str]) -> dict[str, str]:
    """A plain dict of ``cookies``, every name and value checked as a ``Cookie`` header needs.

    Raises:
        InvalidRequestError: naming the cookie, never its value.
    """
    return {_check_name(name): _checked_value(name, value) for name, value in cookies.items()}


@attrs.frozen
class SetCookie:
    """One ``Set-Cookie`` header, reduced to what a client's jar needs.

    ``Path``, ``Secure``, ``HttpOnly`` and ``SameSite`` are not kept: a client
    of one site sends its cookies to one path of one host.

    Attributes:
        name: The cookie's name.
        value: Its value (never shown by ``repr``).
        domain: The ``Domain`` attribute, lower case without its leading dot;
            ``None`` when the header has none (a host-only cookie).
        expires: When it expires, in seconds since 1970 (``Max-Age`` wins over
            ``Expires``); ``None`` for a session cookie.
        deletes: Whether the header deletes the cookie: ``Max-Age`` of 0 or
            less, or an ``Expires`` date that has passed.
    """

    name: str
    value: str = attrs.field(repr=False)
    domain: str | None = None
    expires: float | None = None
    deletes: bool = False


def parse_set_cookie(header_value: str, *, now: float) -> SetCookie | None:
    """Read one ``Set-Cookie`` header value as a browser does (RFC 6265 section 5.2).

    Args:
        header_value: The header's value, e.g. ``"sid=abc; Max-Age=3600; Path=/"``.
        now: The current time in seconds since 1970, for ``Max-Age`` and ``Expires``.

    Returns:
        The cookie, or ``None`` when a browser would ignore the header: no
        ``=``, an empty or invalid name, a value that a ``Cookie`` header
        cannot carry, or a cookie over 4096 bytes. Nothing is raised, and the
        value is never quoted anywhere.
    """
    given: object = header_value  # typed str, but it comes from the network: check
    if not isinstance(given, str):
        return None
    pair, _, attributes = given.partition(";")
    name, sep, value = pair.partition("=")
    name, value = name.strip(" \t"), value.strip(" \t")
    if not sep or not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
        return None
    if len(name) + len(value) > _MAX_COOKIE_SIZE:
        return None
    domain: str | None = None
    expires: float | None = None
    max_age: int | None = None
    for attribute in attributes.split(";"):
        key, _, argument = attribute.partition("=")
        key, argument = key.strip(" \t").lower(), argument.strip(" \t")
        if key == "expires":
            expires = parse_cookie_date(argument)
        elif key == "max-age" and _MAX_AGE.fullmatch(argument):
            max_age = _max_age(argument)
        elif key == "domain" and argument.strip("."):
            domain = argument.lstrip(".").lower()
    if max_age is not None:
        expires = None if max_age <= 0 else now + max_age
        return SetCookie(name, value, domain, expires, deletes=max_age <= 0)
    return SetCookie(name, value, domain, expires, deletes=expires is not None and expires <= now)


def _max_age(text: str) -> int:
    """A ``Max-Age`` of digits, capped (``int()`` refuses more than 4300 digits)."""
    digits = text.lstrip("-").lstrip("0")
    if not digits:
        return 0
    seconds = _MAX_AGE_CAP if len(digits) > len(str(_MAX_AGE_CAP)) else int(digits)
    return -min(seconds, _MAX_AGE_CAP) if text.startswith("-") else min(seconds, _MAX_AGE_CAP)


def parse_cookie_date(text: str) -> float | None:
    """Read a cookie's ``Expires`` date as browsers do (RFC 6265 section 5.1.1).

    Accepts the formats servers write (``Wed, 21 Oct 2015 07:28:00 GMT``,
    ``Wednesday, 21-Oct-15 07:28:00 GMT``, ``Wed Oct 21 07:28:00 2015``...).

    Returns:
        Seconds since 1970 (the date is in UTC), or ``None`` when it is not a date.
    """
    time: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _DATE_DELIMITERS.split(text[:256]):
        if not token:
            continue
        if time is None and (match := _TIME.fullmatch(token)):
            hour, minute, second = (int(part) for part in match.groups())
            time = (hour, minute, second)
        elif day is None and (match := _DAY.fullmatch(token)):
            day = int(match.group(1))
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (match := _YEAR.fullmatch(token)):
            year = int(match.group(1))
    if time is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time
    if year < 1601 or not 1 <= day <= 31 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:  # e.g. 31 February
        return None
    return moment.timestamp()


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRequestError(
            f"invalid cookie name {name!r}: a name is non-empty ASCII "
            'without spaces, control characters or any of ()<>@,;:\\"/[]?={}'
        )
    return name


def _checked_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"the value of cookie {name!r} must be text")
    if not _VALUE.fullmatch(value):
        raise InvalidRequestError(
            f"the value of cookie {name!r} has a character a Cookie header cannot carry "
            "(';', a control or non-ASCII character, or an outer space); copy it again"
        )
    return value
