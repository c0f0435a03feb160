"""Pure cookie helpers: the ``Cookie`` header's format and the site-domain rule."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aichat_core._errors import InvalidRequestError

__all__ = ["domain_matches", "format_cookie_header", "parse_cookie_header"]

# RFC 6265: a name is a token; a value is visible ASCII without ';' (inner
# spaces, which browsers tolerate, are kept). Anything else would break the
# header, smuggle another one, or fail later inside the HTTP library.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"(?:[\x21-\x3a\x3c-\x7e](?:[\x20-\x3a\x3c-\x7e]*[\x21-\x3a\x3c-\x7e])?)?")


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

    Raises :class:`InvalidRequestError` for a part with no ``=`` or an empty
    name. The message names the part's position, never its value.
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
    """Render cookies as one ``Cookie`` header value, checking every name and value."""
    return "; ".join(
        f"{_check_name(name)}={_checked_value(name, value)}" for name, value in cookies.items()
    )


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
