"""Generation parameters and the model name, checked before anything is sent."""

from __future__ import annotations

import math
from typing import Any

import attrs

from aichat_core._errors import InvalidRequestError

__all__ = ["MODEL", "GenerationParams", "check_model"]

MODEL = "gpt-3.5-turbo"
"""The only model chat-gpt.org serves. The wire carries no model name."""


def _in_range(low: float, high: float) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or math.isnan(value)
            or not low <= value <= high
        ):
            raise InvalidRequestError(
                f"{attribute.name} must be a number from {low:g} to {high:g}, got {value!r}"
            )

    return check


@attrs.frozen
class GenerationParams:
    """Sampling parameters sent with every request, with their ranges checked.

    Numbers keep the type they were given in (``1`` stays ``1``), so the JSON
    body matches g4f's byte for byte.
    """

    temperature: float = attrs.field(default=0.5, validator=_in_range(0, 2))
    top_p: float = attrs.field(default=1, validator=_in_range(0, 1))
    presence_penalty: float = attrs.field(default=0, validator=_in_range(-2, 2))
    frequency_penalty: float = attrs.field(default=0, validator=_in_range(-2, 2))

    def merged(self, **overrides: float | None) -> GenerationParams:
        """A copy with the given parameters replaced; ``None`` values are ignored.

        Raises [`InvalidRequestError`][aichat_core.InvalidRequestError] for an unknown
        parameter name.
        """
        names = {field.name for field in attrs.fields(GenerationParams)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise InvalidRequestError(
                f"unknown parameter(s) {', '.join(unknown)}; supported: {', '.join(sorted(names))}"
            )
        given = {name: value for name, value in overrides.items() if value is not None}
        return attrs.evolve(self, **given) if given else self


def check_model(model: str | None) -> None:
    """Accept ``None``, ``""`` and ``"gpt-3.5-turbo"``; raise for anything else."""
    if model is None or model in ("", MODEL):
        return
    raise InvalidRequestError(
        f"model {model!r} is not served by chat-gpt.org; the only supported model is {MODEL!r}"
    )
