"""Chat messages, and turning what users pass into a tuple of `Message`."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import attrs

from aichat_core._errors import InvalidRequestError

__all__ = ["Conversation", "Message", "MessagesInput", "Role", "to_messages"]


class Role(str, enum.Enum):
    """Who says a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


def _to_role(value: object) -> Role:
    if isinstance(value, Role):
        return value
    if isinstance(value, str):
        try:
            return Role(value.lower())
        except ValueError:
            pass
    allowed = ", ".join(repr(role.value) for role in Role)
    raise InvalidRequestError(f"unknown message role {value!r}; use one of {allowed}")


def _check_content(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"message content must be text, not {type(value).__name__}; "
            "images and other parts are not supported by chat-gpt.org"
        )


@attrs.frozen
class Message:
    """One chat message: a [`Role`][aichat_core.Role] and its text."""

    role: Role = attrs.field(converter=_to_role)
    content: str = attrs.field(validator=_check_content)

    @classmethod
    def system(cls, content: str) -> Message:
        """A system message."""
        return cls(Role.SYSTEM, content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user message."""
        return cls(Role.USER, content)

    @classmethod
    def assistant(cls, content: str) -> Message:
        """An assistant message."""
        return cls(Role.ASSISTANT, content)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """Build from a g4f/OpenAI-style ``{"role": ..., "content": ...}`` dict.

        ``content`` may be text or a list of ``{"type": "text", "text": ...}``
        parts, which are joined.
        """
        if not isinstance(data, Mapping):
            raise InvalidRequestError(
                f"a message must be a Message, a dict or a string, not {type(data).__name__}"
            )
        if "role" not in data or "content" not in data:
            raise InvalidRequestError(
                'a message dict needs "role" and "content" keys, e.g. '
                '{"role": "user", "content": "Hi"}'
            )
        return cls(data["role"], _join_parts(data["content"]))

    def to_dict(self) -> dict[str, str]:
        """The g4f-style dict form."""
        return {"role": self.role.value, "content": self.content}


def _join_parts(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    texts: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif (
            isinstance(part, Mapping)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ):
            texts.append(part["text"])
        else:
            kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
            raise InvalidRequestError(
                f"message part of type {kind!r} is not supported; chat-gpt.org takes text only"
            )
    return "".join(texts)


MessagesInput: TypeAlias = str | Message | Mapping[str, Any] | Iterable[Message | Mapping[str, Any]]
"""What the clients accept as messages: a string (one user message), a
[`Message`][aichat_core.Message], a dict, or a sequence of messages and dicts."""


def to_messages(messages: MessagesInput) -> tuple[Message, ...]:
    """Normalise any accepted input into a non-empty tuple of messages.

    Raises [`InvalidRequestError`][aichat_core.InvalidRequestError] for anything else.
    """
    if isinstance(messages, str):
        return (Message.user(messages),)
    if isinstance(messages, Message):
        return (messages,)
    if isinstance(messages, Mapping):
        return (Message.from_dict(messages),)
    if isinstance(messages, (bytes, bytearray)) or not isinstance(messages, Iterable):  # type: ignore[unreachable]
        raise InvalidRequestError(
            f"messages must be a string, a Message, a dict or a list of them, "
            f"not {type(messages).__name__}"
        )
    result = tuple(_list_item(item) for item in messages)
    if not result:
        raise InvalidRequestError("messages is empty; give at least one message")
    return result


def _list_item(item: object) -> Message:
    if isinstance(item, Message):
        return item
    if isinstance(item, Mapping):
        return Message.from_dict(item)
    raise InvalidRequestError(
        "each item of a message list must be a Message or a dict like "
        f'{{"role": "user", "content": "Hi"}}, not {type(item).__name__}'
    )


@attrs.frozen
class Conversation:
    """An immutable message history. Each ``with_*`` method returns a new one."""

    messages: tuple[Message, ...] = ()

    @classmethod
    def start(cls, system: str | None = None) -> Conversation:
        """A new conversation, optionally opened by a system message."""
        return cls((Message.system(system),) if system is not None else ())

    def with_user(self, content: str) -> Conversation:
        """This history plus one user message."""
        return Conversation((*self.messages, Message.user(content)))

    def with_assistant(self, content: str) -> Conversation:
        """This history plus one assistant message."""
        return Conversation((*self.messages, Message.assistant(content)))

    def __len__(self) -> int:
        return len(self.messages)
