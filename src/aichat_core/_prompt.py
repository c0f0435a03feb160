"""The prompt formatter, identical to g4f's ``format_prompt``."""

from __future__ import annotations

from collections.abc import Sequence

from aichat_core._errors import InvalidRequestError
from aichat_core._messages import Message

__all__ = ["format_prompt"]


def format_prompt(messages: Sequence[Message]) -> str:
    """Flatten messages into the one text field chat-gpt.org takes.

    One message gives its content alone; several give one
    ``"Role: content"`` line each, then ``"Assistant:"``.
    """
    if not messages:
        raise InvalidRequestError("messages is empty; give at least one message")
    if len(messages) == 1:
        return messages[0].content
    lines = "\n".join(f"{m.role.value.capitalize()}: {m.content}" for m in messages)
    return f"{lines}\nAssistant:"
