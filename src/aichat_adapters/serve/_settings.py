"""The server's options, checked once when the app is built."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import attrs

from aichat_core import MODEL, InvalidRequestError

__all__ = ["DEFAULT_MODELS", "Settings"]

DEFAULT_MODELS = (MODEL, "aichat")
"""The model names the server answers as by default: the site's model and an alias."""

# A host name (RFC 1123 labels), an IPv4 address, or an IPv6 address in brackets.
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]")
_ORIGIN = re.compile(r"https?://([a-z0-9_.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")
_VISIBLE = re.compile(r"[\x21-\x7e]+")


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _names(
    what: str, values: Iterable[str] | str, pattern: re.Pattern[str], hint: str
) -> tuple[str, ...]:
    if isinstance(values, str):
        raise InvalidRequestError(f"{what} takes a list of strings, not one string")
    checked: list[str] = []
    for value in values:
        if not isinstance(value, str) or not pattern.fullmatch(value.lower()):
            raise InvalidRequestError(f"{what}: {value!r} is not {hint}")
        if value.lower() not in checked:
            checked.append(value.lower())
    return tuple(checked)


@attrs.frozen
class Settings:
    """What [`create_app`][aichat_adapters.serve.create_app] was given, checked."""

    api_key: str | None = attrs.field(repr=lambda key: "None" if key is None else "<hidden>")
    allowed_hosts: frozenset[str]
    cors_origins: tuple[str, ...]
    concurrency: int
    queue: int
    max_body: int
    models: tuple[str, ...]
    body_timeout: float

    @classmethod
    def check(
        cls,
        *,
        api_key: str | None,
        allowed_hosts: Iterable[str],
        cors_origins: Iterable[str],
        concurrency: int,
        queue: int,
        max_body: int,
        models: Iterable[str],
        body_timeout: float,
    ) -> Settings:
        """Check every option; ``InvalidRequestError`` names the one that is wrong."""
        if api_key is not None and (
            not isinstance(api_key, str) or not _VISIBLE.fullmatch(api_key)
        ):
            raise InvalidRequestError(
                "api_key must be a non-empty string of visible ASCII characters (no spaces), "
                "as it travels in an Authorization header"
            )
        hosts = _names("allowed_hosts", allowed_hosts, _HOST, "a host name (without a port)")
        origins = _names(
            "cors_origins",
            cors_origins,
            _ORIGIN,
            "an origin such as 'https://app.example.com' or 'http://localhost:3000' "
            "(scheme, host and port only; '*' is refused: name each origin)",
        )
        model_names = tuple(dict.fromkeys(models)) if not isinstance(models, str) else ()
        if not model_names or not all(
            isinstance(name, str) and _VISIBLE.fullmatch(name) for name in model_names
        ):
            raise InvalidRequestError(
                f"models must be a non-empty list of names without spaces, got {models!r}"
            )
        if (
            isinstance(body_timeout, bool)
            or not isinstance(body_timeout, (int, float))
            or not math.isfinite(body_timeout)
            or body_timeout <= 0
        ):
            raise InvalidRequestError(f"body_timeout must be a number > 0, got {body_timeout!r}")
        return cls(
            api_key=api_key,
            allowed_hosts=frozenset(hosts),
            cors_origins=origins,
            concurrency=_count("concurrency", concurrency, 1),
            queue=_count("queue", queue, 0),
            max_body=_count("max_body", max_body, 1),
            models=model_names,
            body_timeout=float(body_timeout),
        )
