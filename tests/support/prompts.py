"""The oracle for the prompt on the wire: g4f's own ``format_prompt``."""

from __future__ import annotations

from typing import Any

__all__ = ["g4f_format_prompt"]


def g4f_format_prompt(messages: Any, add_special_tokens: bool = False) -> Any:
    """g4f's ``format_prompt`` (g4f/helper.py), verbatim but for the annotations: the oracle."""
    if not add_special_tokens and len(messages) <= 1:
        return messages[0]["content"]
    formatted = "\n".join(
        [f"{message['role'].capitalize()}: {message['content']}" for message in messages]
    )
    return f"{formatted}\nAssistant:"
