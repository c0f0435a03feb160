"""Properties of the core on arbitrary input (hypothesis): only AichatErrors escape."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import given
from hypothesis import strategies as st

from aichat_core import (
    AichatError,
    HttpResponse,
    InvalidRequestError,
    Reply,
    check_base_url,
    format_cookie_header,
    format_prompt,
    parse_cookie_header,
    parse_response,
    to_messages,
)
from tests.support import g4f_format_prompt

NOW = 1_750_000_000.0

T = TypeVar("T")


def attempt(call: Callable[[], T]) -> T | AichatError:
    """The call's result, or the AichatError it raised; anything else propagates."""
    try:
        return call()
    except AichatError as exc:
        return exc


# --------------------------------------------------------------------------- strategies

ROLES = ["system", "user", "assistant", "System", "USER", "Assistant", "robot", "", "tool"]

json_like: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from(ROLES),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["role", "content", "type", "text", "name"]) | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)

text_parts = st.lists(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=10)})
    | st.fixed_dictionaries({"type": st.sampled_from(["image_url", "text"]), "text": json_like})
    | json_like,
    max_size=3,
)

# Near-valid message dicts, so the deeper checks are reached too.
message_like = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(ROLES) | json_like,
        "content": st.text(max_size=10) | text_parts | json_like,
    },
)

messages_input = json_like | message_like | st.lists(message_like | json_like, max_size=4)


def role_spellings(role: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(role), max_size=len(role)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(role, upper, strict=True))
    )


valid_dicts = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["system", "user", "assistant"]).flatmap(role_spellings),
            "content": st.text(),
        }
    ),
    min_size=1,
    max_size=6,
)

# --------------------------------------------------------------------------- messages, prompt


@given(messages_input)
def test_to_messages_and_format_prompt_raise_only_aichat_errors(data: Any) -> None:
    messages = attempt(lambda: to_messages(data))
    if isinstance(messages, AichatError):
        assert isinstance(messages, InvalidRequestError)
        return
    assert messages
    prompt = format_prompt(messages)
    assert isinstance(prompt, str)


@given(valid_dicts)
def test_format_prompt_equals_g4f(dicts: list[dict[str, str]]) -> None:
    assert format_prompt(to_messages(dicts)) == g4f_format_prompt(dicts)


# --------------------------------------------------------------------------- parse_response

header_names = st.sampled_from(
    ["retry-after", "Retry-After", "content-type", "Content-Type", "location"]
) | st.text(max_size=10)
header_values = (
    st.text(max_size=40)
    | st.sampled_from(["text/html", "application/json", "text/html; charset=utf-8"])
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
    | st.integers().map(str)
    | st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
)
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
).map(lambda value: json.dumps(value).encode())
reply_like = st.fixed_dictionaries(
    {}, optional={"response": json_like, "message": json_like | st.text(max_size=10)}
).map(lambda value: json.dumps(value).encode())
bodies = st.binary(max_size=200) | json_bodies | reply_like


@given(
    st.integers(min_value=100, max_value=599),
    st.dictionaries(header_names, header_values, max_size=4),
    bodies,
)
def test_parse_response_raises_only_aichat_errors(
    status: int, headers: dict[str, str], body: bytes
) -> None:
    response = HttpResponse(status_code=status, headers=headers, body=body)
    reply = attempt(lambda: parse_response(response, now=NOW))
    if isinstance(reply, AichatError):
        assert str(reply)
        if 200 <= status < 300:
            assert not hasattr(reply, "status_code")
        else:
            assert getattr(reply, "status_code", None) == status
            retry_after = getattr(reply, "retry_after", None)
            assert retry_after is None or retry_after >= 0
        return
    assert type(reply) is Reply
    assert 200 <= status < 300
    assert isinstance(reply.text, str)


# --------------------------------------------------------------------------- cookies, base_url

cookie_ish = st.text(
    alphabet=st.sampled_from(string.ascii_letters[:6] + '=; \t\n\r"é_-.\x00') | st.characters(),
    max_size=30,
)


@given(st.text() | cookie_ish)
def test_parse_cookie_header_raises_only_aichat_errors(text: str) -> None:
    cookies = attempt(lambda: parse_cookie_header(text))
    if isinstance(cookies, AichatError):
        assert isinstance(cookies, InvalidRequestError)
        return
    # What parses can be sent, and reads back the same.
    assert parse_cookie_header(format_cookie_header(cookies)) == cookies


@given(st.text(max_size=40) | st.from_regex(r"\Ahttps?://[\[\]a-z0-9.:@?#/-]{0,20}\Z"))
def test_check_base_url_raises_only_aichat_errors(text: str) -> None:
    base_url = attempt(lambda: check_base_url(text))
    if isinstance(base_url, AichatError):
        assert isinstance(base_url, InvalidRequestError)
        return
    assert base_url.startswith(("http://", "https://"))
    assert not base_url.endswith("/")
