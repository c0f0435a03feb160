"""``format_prompt`` against a verbatim copy of g4f's ``format_prompt``."""

from __future__ import annotations

from typing import Any

import pytest

from aichat_core import InvalidRequestError, Message, format_prompt, to_messages
from tests.support import g4f_format_prompt


def test_design_example() -> None:
    messages = [Message.system("Be brief."), Message.user("Hi")]
    assert format_prompt(messages) == "System: Be brief.\nUser: Hi\nAssistant:"


CASES = [
    pytest.param([{"role": "user", "content": "Hello"}], "Hello", id="one-user"),
    pytest.param([{"role": "system", "content": "Be brief."}], "Be brief.", id="one-system"),
    pytest.param([{"role": "assistant", "content": "Sure."}], "Sure.", id="one-assistant"),
    pytest.param([{"role": "user", "content": ""}], "", id="one-empty"),
    pytest.param(
        [{"role": "user", "content": "two\nlines"}], "two\nlines", id="one-multiline-as-is"
    ),
    pytest.param(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "System: Be brief.\nUser: Hi\nAssistant:",
        id="system-user",
    ),
    pytest.param(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "How are you?"},
        ],
        "User: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant:",
        id="three-turns",
    ),
    pytest.param(
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
        "User: q\nAssistant: a\nAssistant:",
        id="ends-with-assistant",
    ),
    pytest.param(
        [{"role": "user", "content": ""}, {"role": "user", "content": ""}],
        "User: \nUser: \nAssistant:",
        id="two-empty",
    ),
    pytest.param(
        [{"role": "User", "content": "x"}, {"role": "ASSISTANT", "content": "y"}],
        "User: x\nAssistant: y\nAssistant:",
        id="role-case",
    ),
    pytest.param(
        [{"role": "system", "content": "a\nb"}, {"role": "user", "content": "ü 字"}],
        "System: a\nb\nUser: ü 字\nAssistant:",
        id="newline-and-unicode-in-content",
    ),
]


@pytest.mark.parametrize(("dicts", "expected"), CASES)
def test_format_prompt(dicts: list[dict[str, str]], expected: str) -> None:
    assert g4f_format_prompt(dicts) == expected  # the literal is g4f's own answer
    assert format_prompt(to_messages(dicts)) == expected


def test_text_parts_are_joined_before_formatting() -> None:
    dicts: list[dict[str, Any]] = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}],
        },
        {"role": "user", "content": "Hi"},
    ]
    assert format_prompt(to_messages(dicts)) == "System: Be brief.\nUser: Hi\nAssistant:"


@pytest.mark.parametrize(
    "messages",
    [pytest.param([], id="list"), pytest.param((), id="tuple")],
)
def test_empty_is_rejected(messages: Any) -> None:
    with pytest.raises(InvalidRequestError):
        format_prompt(messages)
