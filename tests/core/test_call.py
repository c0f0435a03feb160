"""Checking a call before anything is sent: prepare_call, check_params, check_text."""

from __future__ import annotations

from typing import Any

import pytest

from aichat_core import (
    GenerationParams,
    InvalidRequestError,
    Message,
    PreparedCall,
    check_params,
    check_text,
    prepare_call,
)


@pytest.mark.parametrize(
    ("messages", "params", "expected"),
    [
        ("Hi", {}, PreparedCall("Hi", GenerationParams())),
        (
            [Message.system("Be brief."), Message.user("Hi")],
            {"temperature": 0.2},
            PreparedCall("System: Be brief.\nUser: Hi\nAssistant:", GenerationParams(0.2)),
        ),
        (
            "Hi",
            {"model": "gpt-3.5-turbo", "top_p": 0.5},
            PreparedCall("Hi", GenerationParams(top_p=0.5)),
        ),
        ("Hi", {"model": None, "temperature": None}, PreparedCall("Hi", GenerationParams())),
    ],
)
def test_prepare_call(messages: Any, params: dict[str, Any], expected: PreparedCall) -> None:
    assert prepare_call(messages, **params) == expected


@pytest.mark.parametrize(
    ("messages", "params", "message_part"),
    [
        ("", {}, "the prompt is empty"),
        ("  \n", {}, "the prompt is empty"),
        ([{"role": "user", "content": ""}], {}, "the prompt is empty"),
        ("x\ud83d", {}, "lone surrogate at position 1"),
        ([Message.system("ok"), Message.user("\udcff")], {}, "lone surrogate"),
        ("Hi", {"model": "gpt-4"}, "gpt-4"),
        ("Hi", {"temperature": 3}, "temperature"),
        ("Hi", {"temprature": 0.2}, "unknown parameter(s) temprature"),
    ],
)
def test_prepare_call_refuses(messages: Any, params: dict[str, Any], message_part: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        prepare_call(messages, **params)

    assert message_part in str(caught.value)


def test_check_params_without_a_prompt() -> None:
    assert check_params() is check_params(model=None)  # the shared default, not a copy
    assert check_params(frequency_penalty=1) == GenerationParams(frequency_penalty=1)
    with pytest.raises(InvalidRequestError, match="top_p"):
        check_params(top_p=2)


def test_check_text_names_what_it_checks() -> None:
    assert check_text("fine ✓") == "fine ✓"
    with pytest.raises(
        InvalidRequestError, match=r"^the header x has a lone surrogate at position 2"
    ):
        check_text("ab\ud800", "the header x")
