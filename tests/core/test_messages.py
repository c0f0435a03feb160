"""Messages: what ``to_messages`` accepts and rejects, and the immutable Conversation."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aichat_core import AichatError, Conversation, InvalidRequestError, Message, Role, to_messages

U = Role.USER
S = Role.SYSTEM
A = Role.ASSISTANT


def pairs(messages: tuple[Message, ...]) -> list[tuple[Role, str]]:
    return [(message.role, message.content) for message in messages]


# --------------------------------------------------------------------------- accepted input

ACCEPTED = [
    pytest.param("Hello", [(U, "Hello")], id="str-is-one-user-message"),
    pytest.param("", [(U, "")], id="empty-str"),
    pytest.param(Message.system("Be brief."), [(S, "Be brief.")], id="one-Message"),
    pytest.param({"role": "user", "content": "Hi"}, [(U, "Hi")], id="one-dict"),
    pytest.param({"role": "assistant", "content": "Yo"}, [(A, "Yo")], id="one-assistant-dict"),
    pytest.param(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        [(S, "Be brief."), (U, "Hi")],
        id="list-of-dicts",
    ),
    pytest.param(
        [Message.user("a"), Message.assistant("b"), Message.user("c")],
        [(U, "a"), (A, "b"), (U, "c")],
        id="list-of-Messages",
    ),
    pytest.param(
        [Message.system("s"), {"role": "user", "content": "u"}],
        [(S, "s"), (U, "u")],
        id="mixed-list",
    ),
    pytest.param(
        ({"role": "user", "content": "t"},),
        [(U, "t")],
        id="tuple-of-dicts",
    ),
    pytest.param(
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        [(U, "ab")],
        id="text-parts-joined",
    ),
    pytest.param(
        [{"role": "user", "content": [{"type": "text", "text": "only"}]}],
        [(U, "only")],
        id="one-text-part-in-list",
    ),
    pytest.param({"role": "User", "content": "x"}, [(U, "x")], id="role-capitalised"),
    pytest.param({"role": "SYSTEM", "content": "x"}, [(S, "x")], id="role-upper"),
    pytest.param({"role": "aSsIsTaNt", "content": "x"}, [(A, "x")], id="role-mixed-case"),
    pytest.param({"role": Role.USER, "content": "x"}, [(U, "x")], id="role-enum"),
    pytest.param(
        {"role": "user", "content": "x", "name": "bob"}, [(U, "x")], id="extra-keys-ignored"
    ),
    pytest.param(
        {"role": "user", "content": "línea\nzwei 字"},
        [(U, "línea\nzwei 字")],
        id="unicode-and-newline-kept",
    ),
]


@pytest.mark.parametrize(("given", "expected"), ACCEPTED)
def test_to_messages_accepts(given: Any, expected: list[tuple[Role, str]]) -> None:
    result = to_messages(given)
    assert isinstance(result, tuple)
    assert all(type(message) is Message for message in result)
    assert pairs(result) == expected


def test_to_messages_accepts_a_generator() -> None:
    source = (Message.user(text) for text in ["a", "b"])
    assert pairs(to_messages(source)) == [(U, "a"), (U, "b")]


def test_to_messages_keeps_a_message_as_is() -> None:
    message = Message.user("same")
    assert to_messages(message)[0] is message
    assert to_messages([message])[0] is message


# --------------------------------------------------------------------------- rejected input

IMAGE_PART = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}

REJECTED = [
    pytest.param([], id="empty-list"),
    pytest.param((), id="empty-tuple"),
    pytest.param({"role": "robot", "content": "x"}, id="unknown-role"),
    pytest.param([{"role": "robot", "content": "x"}], id="unknown-role-in-list"),
    pytest.param({"role": "", "content": "x"}, id="empty-role"),
    pytest.param({"role": 1, "content": "x"}, id="role-int"),
    pytest.param({"role": None, "content": "x"}, id="role-none"),
    pytest.param({"role": "user", "content": 5}, id="content-int"),
    pytest.param({"role": "user", "content": None}, id="content-none"),
    pytest.param({"role": "user", "content": b"x"}, id="content-bytes"),
    pytest.param({"role": "user", "content": {"text": "x"}}, id="content-dict"),
    pytest.param({"role": "user", "content": [IMAGE_PART]}, id="image-part"),
    pytest.param(
        {"role": "user", "content": [{"type": "text", "text": "a"}, IMAGE_PART]},
        id="text-then-image-part",
    ),
    pytest.param({"role": "user", "content": [{"type": "text", "text": 3}]}, id="part-text-int"),
    pytest.param({"role": "user", "content": [{"type": "text"}]}, id="part-without-text"),
    pytest.param({"role": "user", "content": [7]}, id="part-int"),
    pytest.param({"content": "x"}, id="dict-without-role"),
    pytest.param({"role": "user"}, id="dict-without-content"),
    pytest.param({}, id="empty-dict"),
    pytest.param([{"role": "user", "content": "ok"}, {"role": "user"}], id="second-bad"),
    pytest.param(b"Hello", id="bytes"),
    pytest.param(bytearray(b"Hello"), id="bytearray"),
    pytest.param(None, id="none"),
    pytest.param(42, id="int"),
    pytest.param(3.5, id="float"),
    pytest.param([1], id="list-of-int"),
    pytest.param(["Hi"], id="list-of-str"),
    pytest.param([None], id="list-of-none"),
    pytest.param([[{"role": "user", "content": "x"}]], id="nested-list"),
]


@pytest.mark.parametrize("given", REJECTED)
def test_to_messages_rejects(given: Any) -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        to_messages(given)
    assert isinstance(exc_info.value, ValueError)
    assert isinstance(exc_info.value, AichatError)
    assert str(exc_info.value)


def test_a_string_inside_a_list_is_explained() -> None:
    with pytest.raises(InvalidRequestError, match="each item of a message list") as exc_info:
        to_messages(["Hi"])  # type: ignore[list-item]
    assert "not str" in str(exc_info.value)


def test_unknown_role_message_names_the_allowed_roles() -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        to_messages({"role": "robot", "content": "x"})
    text = str(exc_info.value)
    assert "robot" in text
    for role in ("system", "user", "assistant"):
        assert role in text


# --------------------------------------------------------------------------- Message values


@pytest.mark.parametrize(
    ("factory", "role"),
    [
        pytest.param(Message.system, S, id="system"),
        pytest.param(Message.user, U, id="user"),
        pytest.param(Message.assistant, A, id="assistant"),
    ],
)
def test_message_factories(factory: Any, role: Role) -> None:
    message = factory("text")
    assert message.role is role
    assert message.content == "text"
    assert message.to_dict() == {"role": role.value, "content": "text"}
    assert Message.from_dict(message.to_dict()) == message


def test_role_values_are_the_wire_names() -> None:
    assert [role.value for role in Role] == ["system", "user", "assistant"]


def test_message_is_frozen() -> None:
    message = Message.user("x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        message.content = "y"  # type: ignore[misc]
    assert message.content == "x"


# --------------------------------------------------------------------------- Conversation


def test_conversation_start_without_system_is_empty() -> None:
    conv = Conversation.start()
    assert conv.messages == ()
    assert len(conv) == 0


def test_conversation_start_with_system() -> None:
    conv = Conversation.start(system="Be brief.")
    assert pairs(conv.messages) == [(S, "Be brief.")]
    assert len(conv) == 1


def test_conversation_start_with_empty_system_keeps_it() -> None:
    assert pairs(Conversation.start(system="").messages) == [(S, "")]


def test_conversation_with_methods_return_new_values() -> None:
    start = Conversation.start(system="sys")
    after_user = start.with_user("Hi")
    after_assistant = after_user.with_assistant("Hello")

    assert pairs(start.messages) == [(S, "sys")]
    assert pairs(after_user.messages) == [(S, "sys"), (U, "Hi")]
    assert pairs(after_assistant.messages) == [(S, "sys"), (U, "Hi"), (A, "Hello")]
    assert after_user is not start
    assert after_assistant is not after_user
    assert len(after_assistant) == 3


def test_conversation_branches_do_not_share_history() -> None:
    base = Conversation.start().with_user("q")
    left = base.with_assistant("L")
    right = base.with_assistant("R")
    assert pairs(base.messages) == [(U, "q")]
    assert pairs(left.messages) == [(U, "q"), (A, "L")]
    assert pairs(right.messages) == [(U, "q"), (A, "R")]


def test_conversation_is_frozen() -> None:
    conv = Conversation.start()
    assert isinstance(conv.messages, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        conv.messages = (Message.user("x"),)  # type: ignore[misc]
    assert conv.messages == ()


def test_conversation_messages_feed_to_messages() -> None:
    conv = Conversation.start(system="s").with_user("u")
    assert to_messages(conv.messages) == conv.messages


@pytest.mark.parametrize(
    ("method", "value"),
    [
        pytest.param("with_user", 1, id="with_user-int"),
        pytest.param("with_assistant", None, id="with_assistant-none"),
        pytest.param("with_user", ["a"], id="with_user-list"),
    ],
)
def test_conversation_rejects_non_text(method: str, value: Any) -> None:
    start = Conversation.start()
    with pytest.raises(InvalidRequestError):
        getattr(start, method)(value)
    assert start.messages == ()


def test_conversation_start_rejects_non_text_system() -> None:
    system: Any = b"x"
    with pytest.raises(InvalidRequestError):
        Conversation.start(system=system)
