"""Generation parameters: defaults, ranges, ``merged`` and the model check."""

from __future__ import annotations

import json
import math
from typing import Any

import attrs
import pytest

from aichat_core import MODEL, GenerationParams, InvalidRequestError, check_model

# --------------------------------------------------------------------------- defaults

# DESIGN §1: {"temperature": 0.5, "presence_penalty": 0, "top_p": 1, "frequency_penalty": 0},
# the numbers g4f sends, with their JSON spelling (``1`` and ``0``, never ``1.0`` / ``0.0``).
DEFAULTS = [
    pytest.param("temperature", 0.5, "0.5", id="temperature"),
    pytest.param("top_p", 1, "1", id="top_p"),
    pytest.param("presence_penalty", 0, "0", id="presence_penalty"),
    pytest.param("frequency_penalty", 0, "0", id="frequency_penalty"),
]


@pytest.mark.parametrize(("name", "value", "json_text"), DEFAULTS)
def test_default(name: str, value: float, json_text: str) -> None:
    actual = getattr(GenerationParams(), name)
    assert actual == value
    assert type(actual) is type(value)
    assert json.dumps(actual) == json_text


def test_the_four_fields_and_nothing_else() -> None:
    names = [field.name for field in attrs.fields(GenerationParams)]
    assert sorted(names) == sorted(
        ["temperature", "top_p", "presence_penalty", "frequency_penalty"]
    )


def test_given_number_types_are_kept() -> None:
    params = GenerationParams(temperature=1, top_p=0.25, presence_penalty=-1, frequency_penalty=2.0)
    assert json.dumps(attrs.asdict(params), sort_keys=True) == (
        '{"frequency_penalty": 2.0, "presence_penalty": -1, "temperature": 1, "top_p": 0.25}'
    )


def test_params_are_frozen() -> None:
    params = GenerationParams()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        params.temperature = 1.0  # type: ignore[misc]


# --------------------------------------------------------------------------- ranges

VALID = [
    pytest.param("temperature", 0, id="temperature-low-int"),
    pytest.param("temperature", 0.0, id="temperature-low-float"),
    pytest.param("temperature", 1.3, id="temperature-inside"),
    pytest.param("temperature", 2, id="temperature-high-int"),
    pytest.param("temperature", 2.0, id="temperature-high-float"),
    pytest.param("top_p", 0, id="top_p-low"),
    pytest.param("top_p", 0.9, id="top_p-inside"),
    pytest.param("top_p", 1.0, id="top_p-high"),
    pytest.param("presence_penalty", -2, id="presence-low"),
    pytest.param("presence_penalty", 2, id="presence-high"),
    pytest.param("presence_penalty", -0.5, id="presence-inside"),
    pytest.param("frequency_penalty", -2.0, id="frequency-low"),
    pytest.param("frequency_penalty", 2.0, id="frequency-high"),
    pytest.param("frequency_penalty", 1.5, id="frequency-inside"),
]


@pytest.mark.parametrize(("name", "value"), VALID)
def test_in_range_is_accepted(name: str, value: float) -> None:
    kwargs: dict[str, Any] = {name: value}
    params = GenerationParams(**kwargs)
    assert getattr(params, name) == value
    assert params.merged(**kwargs) == params
    assert GenerationParams().merged(**kwargs) == params


INVALID = [
    pytest.param("temperature", -0.001, id="temperature-below"),
    pytest.param("temperature", 2.001, id="temperature-above"),
    pytest.param("temperature", -1, id="temperature-negative-int"),
    pytest.param("temperature", 3, id="temperature-3"),
    pytest.param("top_p", -0.0001, id="top_p-below"),
    pytest.param("top_p", 1.0001, id="top_p-above"),
    pytest.param("top_p", 2, id="top_p-2"),
    pytest.param("presence_penalty", -2.0001, id="presence-below"),
    pytest.param("presence_penalty", 2.0001, id="presence-above"),
    pytest.param("frequency_penalty", -2.5, id="frequency-below"),
    pytest.param("frequency_penalty", 3, id="frequency-above"),
    pytest.param("temperature", math.nan, id="temperature-nan"),
    pytest.param("top_p", math.nan, id="top_p-nan"),
    pytest.param("presence_penalty", math.nan, id="presence-nan"),
    pytest.param("frequency_penalty", math.nan, id="frequency-nan"),
    pytest.param("temperature", math.inf, id="temperature-inf"),
    pytest.param("presence_penalty", -math.inf, id="presence-minus-inf"),
    pytest.param("temperature", True, id="temperature-true"),
    pytest.param("top_p", True, id="top_p-true"),
    pytest.param("presence_penalty", False, id="presence-false"),
    pytest.param("frequency_penalty", True, id="frequency-true"),
    pytest.param("temperature", "0.5", id="temperature-str"),
    pytest.param("top_p", "1", id="top_p-str"),
    pytest.param("presence_penalty", "0", id="presence-str"),
    pytest.param("frequency_penalty", [0], id="frequency-list"),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_out_of_range_or_wrong_type_is_rejected(name: str, value: Any) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(InvalidRequestError) as exc_info:
        GenerationParams(**kwargs)
    assert isinstance(exc_info.value, ValueError)
    assert name in str(exc_info.value)
    with pytest.raises(InvalidRequestError):
        GenerationParams().merged(**kwargs)


def test_explicit_none_in_the_constructor_is_rejected() -> None:
    kwargs: dict[str, Any] = {"temperature": None}
    with pytest.raises(InvalidRequestError):
        GenerationParams(**kwargs)


# --------------------------------------------------------------------------- merged

BASE = GenerationParams(temperature=0.7, top_p=0.8, presence_penalty=0.1, frequency_penalty=0.2)

MERGES = [
    pytest.param({}, BASE, id="nothing"),
    pytest.param(
        {"temperature": None, "top_p": None, "presence_penalty": None, "frequency_penalty": None},
        BASE,
        id="all-none-ignored",
    ),
    pytest.param(
        {"temperature": 0.2},
        GenerationParams(temperature=0.2, top_p=0.8, presence_penalty=0.1, frequency_penalty=0.2),
        id="one",
    ),
    pytest.param(
        {"temperature": 0.2, "top_p": None},
        GenerationParams(temperature=0.2, top_p=0.8, presence_penalty=0.1, frequency_penalty=0.2),
        id="one-and-a-none",
    ),
    pytest.param(
        {"top_p": 0, "presence_penalty": -2, "frequency_penalty": 2},
        GenerationParams(temperature=0.7, top_p=0, presence_penalty=-2, frequency_penalty=2),
        id="zero-is-not-none",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), MERGES)
def test_merged(overrides: dict[str, Any], expected: GenerationParams) -> None:
    before = attrs.asdict(BASE)
    assert BASE.merged(**overrides) == expected
    assert attrs.asdict(BASE) == before


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"temp": 0.5}, id="typo"),
        pytest.param({"max_tokens": 10}, id="unsupported"),
        pytest.param({"model": None}, id="unknown-even-if-none"),
        pytest.param({"temperature": 0.5, "stream": 1}, id="one-good-one-unknown"),
    ],
)
def test_merged_rejects_unknown_names(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        BASE.merged(**overrides)
    unknown = next(name for name in overrides if name not in attrs.asdict(BASE))
    assert unknown in str(exc_info.value)


# --------------------------------------------------------------------------- model


def test_model_constant() -> None:
    assert MODEL == "gpt-3.5-turbo"


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("gpt-3.5-turbo", id="gpt-3.5-turbo"),
    ],
)
def test_check_model_accepts(model: str | None) -> None:
    check_model(model)


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("gpt-4", id="gpt-4"),
        pytest.param("gpt-4o-mini", id="gpt-4o-mini"),
        pytest.param("gpt-3.5", id="prefix"),
        pytest.param("gpt-3.5-turbo-16k", id="longer"),
        pytest.param("claude", id="other"),
    ],
)
def test_check_model_rejects(model: str) -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        check_model(model)
    text = str(exc_info.value)
    assert "gpt-3.5-turbo" in text
    assert model in text
