"""Arbitrary input through the public API: nothing but AichatErrors comes out.

The clients run on a socket-free transport at the port, so hypothesis can try
thousands of inputs; what the wire would carry is checked where it matters.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aichat_adapters import AichatClient, AichatError, AsyncAichatClient
from aichat_adapters.testing import AsyncFakeTransport, FakeTransport

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(max_size=40)  # every code point, lone surrogates and controls included
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.binary(max_size=10),
    st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=3),
)
message = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.one_of(st.sampled_from(["user", "system"]), anything),
            "content": st.one_of(text, anything),
        }
    ),
    anything,
)
messages = st.one_of(text, st.lists(message, max_size=4), message)
params = st.dictionaries(
    st.one_of(
        st.sampled_from(["model", "temperature", "top_p", "presence_penalty", "frequency_penalty"]),
        text,
    ),
    anything,
    max_size=3,
)
options = st.fixed_dictionaries(
    {},
    optional={
        "base_url": st.one_of(
            text,
            st.builds(lambda host: f"http://{host}", text),
            st.builds(lambda host, path: f"https://{host}:8080/{path}", text, text),
        ),
        "headers": st.one_of(
            st.dictionaries(st.sampled_from(["x-app", "user-agent", "cookie"]), text, max_size=2),
            st.dictionaries(text, text, max_size=2),
            anything,
        ),
        "cookies": st.one_of(text, st.dictionaries(text, text, max_size=2), anything),
        "timeout": anything,
        "max_retries": anything,
        "deadline": anything,
    },
)


def assert_ascii_on_the_wire(transport: FakeTransport) -> None:
    """What an HTTP library would have to encode: the URL and every header, as ASCII."""
    for request in transport.requests:
        request.url.encode("ascii")
        for name, value in request.headers:
            (name + value).encode("ascii")
            assert "\r" not in value
            assert "\n" not in value


def ask(transport: FakeTransport, opts: dict[str, Any], prompt: Any, **call: Any) -> None:
    """One ask through the public API; an AichatError is a fine answer to bad input."""
    try:
        with AichatClient(transport=transport, **{"cookies": "a=b", **opts}) as client:
            client.ask(prompt, **call)
    except AichatError:
        pass
    assert_ascii_on_the_wire(transport)


@SETTINGS
@given(opts=options)
def test_client_options(opts: dict[str, Any]) -> None:
    ask(FakeTransport(), opts, "Hi")


@SETTINGS
@given(headers=st.dictionaries(st.sampled_from(["x-app", "user-agent", "cookie"]), text))
def test_header_values(headers: dict[str, str]) -> None:
    ask(FakeTransport(), {"headers": headers}, "Hi")


@SETTINGS
@given(base_url=st.builds(lambda host, path: f"http://{host}/{path}", text, text))
def test_base_urls(base_url: str) -> None:
    ask(FakeTransport(), {"base_url": base_url}, "Hi")


@SETTINGS
@given(prompt=messages, call_params=params)
def test_prompts_messages_and_parameters(prompt: Any, call_params: dict[str, Any]) -> None:
    ask(FakeTransport(), {}, prompt, **call_params)


@SETTINGS
@given(prompt=messages, call_params=params, cookie=st.one_of(text, anything))
def test_what_reaches_the_wire_is_what_was_asked(
    prompt: Any, call_params: dict[str, Any], cookie: Any
) -> None:
    transport = FakeTransport()
    try:
        with AichatClient(transport=transport, cookies=cookie) as client:
            answer = client.ask(prompt, **call_params)
    except AichatError:
        return
    [request] = transport.requests
    sent = json.loads(request.body)
    assert answer == "Echo: " + sent["message"]
    assert sent["message"].strip()  # never an empty prompt
    assert_ascii_on_the_wire(transport)


@SETTINGS
@given(prompts=st.lists(messages, max_size=8), concurrency=st.integers(1, 4))
def test_ask_many_gives_one_result_per_prompt(prompts: list[Any], concurrency: int) -> None:
    async def main() -> list[int]:
        async with AsyncAichatClient(transport=AsyncFakeTransport(), cookies="a=b") as client:
            many = client.ask_many(prompts, concurrency=concurrency)
            async with many as results:
                return sorted([result.index async for result in results])

    assert anyio.run(main) == list(range(len(prompts)))


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ask_many_with_hostile_prompts_on_each_backend(backend: str) -> None:
    prompts: list[Any] = ["ok", "x\ud83d", 42, None, b"bytes", {"role": 1}, [], "", "fine"]

    async def main() -> list[bool]:
        async with AsyncAichatClient(transport=AsyncFakeTransport(), cookies="a=b") as client:
            many = client.ask_many(prompts, concurrency=3)
            async with many as results:
                got = sorted([r async for r in results], key=lambda r: r.index)
        return [r.ok for r in got]

    assert anyio.run(main, backend=backend) == [True] + [False] * 7 + [True]
