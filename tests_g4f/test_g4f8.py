"""``aichat_adapters.g4f.Aichat`` as ``provider=`` of real g4f 8.x, against the stub on loopback."""

from __future__ import annotations

import copy
import logging
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import g4f
import pytest
from g4f.client import AsyncClient, Client
from g4f.errors import StreamNotSupportedError
from g4f.providers.helper import format_prompt

from aichat_adapters import CookiesNotFoundError, InvalidRequestError, ServiceError
from aichat_adapters.g4f import Aichat
from aichat_adapters.stub import Fault, StubServer

from .conftest import is_loopback

COOKIES = {"cookie_name": "cookie_value"}
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Привет"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "What is 2+2?\nJust the number."},
]


def history() -> list[dict[str, str]]:
    """A fresh copy: g4f 8.x may rewrite the list it is given, in place."""
    return copy.deepcopy(HISTORY)


def echo_of(messages: list[dict[str, str]]) -> str:
    """The stub's answer to g4f's own ``format_prompt`` of the messages."""
    return f"Echo: {format_prompt(copy.deepcopy(messages))}"


def body(messages: list[dict[str, str]], **params: Any) -> dict[str, Any]:
    """The body the old g4f provider posted."""
    return {
        "message": format_prompt(copy.deepcopy(messages)),
        "temperature": params.get("temperature", 0.5),
        "presence_penalty": 0,
        "top_p": params.get("top_p", 1),
        "frequency_penalty": 0,
    }


def typed(value: object) -> list[tuple[str, str, object]]:
    """Keys in order, with each value's JSON type: ``1`` and ``1.0`` differ on the wire."""
    assert isinstance(value, dict)
    return [(key, type(item).__name__, item) for key, item in value.items()]


def g4f_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("g4f Aichat")]


def test_g4f_is_8x() -> None:
    assert int(g4f.__version__.split(".")[0]) == 8


# --------------------------------------------------------------------------- Client


def test_client_returns_the_echo_of_format_prompt(stub: StubServer) -> None:
    client = Client(provider=Aichat)

    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=history(),
        cookies=COOKIES,
        temperature=0.2,
        base_url=stub.url,
    )

    expected = echo_of(HISTORY)
    assert expected.startswith("Echo: System: Be brief.\nUser: Привет\nAssistant: Hello!\n")
    assert expected.endswith("\nAssistant:")
    assert completion.choices[0].message.content == expected
    assert completion.choices[0].finish_reason == "stop"
    [request] = stub.requests
    assert request.path == "/api/text"
    assert typed(request.json) == typed(body(HISTORY, temperature=0.2))
    assert request.headers["cookie"] == "cookie_name=cookie_value"


def test_client_base_url_and_string_messages(stub: StubServer) -> None:
    client = Client(provider=Aichat, base_url=stub.url)

    completion = client.chat.completions.create(messages="Hi", cookies="a=1; b=2")

    assert completion.choices[0].message.content == "Echo: Hi"
    assert stub.requests[0].cookies == {"a": "1", "b": "2"}


@pytest.mark.anyio
async def test_async_client_returns_the_echo_of_format_prompt(stub: StubServer) -> None:
    client = AsyncClient(provider=Aichat)

    completion = await client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=history(),
        cookies=COOKIES,
        top_p=0.5,
        base_url=stub.url,
    )

    assert completion.choices[0].message.content == echo_of(HISTORY)
    assert completion.provider == "Aichat"
    [request] = stub.requests
    assert typed(request.json) == typed(body(HISTORY, top_p=0.5))
    assert request.headers["cookie"] == "cookie_name=cookie_value"


def test_a_refusal_is_our_service_error(stub: StubServer) -> None:
    stub.enqueue(Fault.refuse("quota exceeded"))
    client = Client(provider=Aichat)

    with pytest.raises(ServiceError) as caught:
        client.chat.completions.create(messages="Hi", cookies=COOKIES, base_url=stub.url)

    assert caught.value.payload == {"response": False, "message": "quota exceeded"}
    assert len(stub.requests) == 1  # a refusal is not retried


@pytest.mark.anyio
async def test_a_refusal_is_our_service_error_async(stub: StubServer) -> None:
    stub.enqueue(Fault.refuse("moderation"))
    client = AsyncClient(provider=Aichat)

    with pytest.raises(ServiceError, match="moderation") as caught:
        await client.chat.completions.create(messages="Hi", cookies=COOKIES, base_url=stub.url)

    assert caught.value.payload == {"response": False, "message": "moderation"}
    assert len(stub.requests) == 1


def test_no_cookies_is_our_cookies_not_found_error(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(tmp_path / "nowhere.txt"))
    monkeypatch.setenv("HOME", str(tmp_path))

    with pytest.raises(CookiesNotFoundError, match="AICHAT_COOKIES"):
        Client(provider=Aichat).chat.completions.create(messages="Hi", base_url=stub.url)

    assert stub.requests == []


# --------------------------------------------------------------------------- keyword arguments


def test_g4f_s_own_arguments_are_accepted_and_ignored(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aichat")
    client = Client(provider=Aichat, api_key="sk-never-logged")

    completion = client.chat.completions.create(
        messages="Hi", cookies=COOKIES, base_url=stub.url, max_tokens=100
    )

    assert completion.choices[0].message.content == "Echo: Hi"
    assert typed(stub.requests[0].json) == typed(body([{"role": "user", "content": "Hi"}]))
    [line] = g4f_lines(caplog)
    assert line.startswith("g4f Aichat ignores provider, api_key, max_tokens: ")
    assert "sk-never-logged" not in caplog.text


def test_stop_is_applied_by_g4f_s_client(stub: StubServer) -> None:
    client = Client(provider=Aichat)

    completion = client.chat.completions.create(
        messages="Hi there", cookies=COOKIES, base_url=stub.url, stop=" there"
    )

    assert completion.choices[0].message.content == "Echo: Hi"
    assert completion.choices[0].finish_reason == "stop"
    assert typed(stub.requests[0].json) == typed(body([{"role": "user", "content": "Hi there"}]))


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        pytest.param({"temprature": 0.2}, "temprature", id="misspelt"),
        pytest.param({"verify": False}, "verify", id="verify"),
        pytest.param({"image": b"\x89PNG"}, "media", id="image"),
    ],
)
def test_unknown_arguments_are_an_invalid_request_not_a_type_error(
    stub: StubServer, extra: dict[str, Any], name: str
) -> None:
    client = Client(provider=Aichat)

    with pytest.raises(InvalidRequestError, match=f"argument\\(s\\): {name};"):
        client.chat.completions.create(messages="Hi", cookies=COOKIES, base_url=stub.url, **extra)

    assert stub.requests == []


@pytest.mark.parametrize("model", ["gpt-4o", "auto"])
def test_another_model_is_an_invalid_request(stub: StubServer, model: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"gpt-3\.5-turbo"):
        Client(provider=Aichat).chat.completions.create(
            model=model, messages="Hi", cookies=COOKIES, base_url=stub.url
        )

    assert stub.requests == []


def test_timeout_reaches_our_client(stub: StubServer) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        Client(provider=Aichat).chat.completions.create(
            messages="Hi", cookies=COOKIES, base_url=stub.url, timeout=-1
        )

    assert stub.requests == []


# --------------------------------------------------------------------------- streaming


def test_stream_gives_one_chunk(stub: StubServer) -> None:
    chunks = list(
        Client(provider=Aichat).chat.completions.create(
            messages="Hi", cookies=COOKIES, base_url=stub.url, stream=True
        )
    )

    assert [chunk.choices[0].delta.content for chunk in chunks] == ["Echo: Hi", None]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len(stub.requests) == 1


@pytest.mark.anyio
async def test_stream_gives_one_chunk_async(stub: StubServer) -> None:
    stream = AsyncClient(provider=Aichat).chat.completions.create(
        messages="Hi", cookies=COOKIES, base_url=stub.url, stream=True
    )

    contents = [chunk.choices[0].delta.content async for chunk in stream]

    assert contents == ["Echo: Hi", None]
    assert len(stub.requests) == 1


# --------------------------------------------------------------------------- legacy ChatCompletion


def test_legacy_chat_completion_create(stub: StubServer) -> None:
    reply = g4f.ChatCompletion.create(
        "gpt-3.5-turbo", history(), provider=Aichat, cookies=COOKIES, base_url=stub.url
    )

    assert reply == echo_of(HISTORY)
    assert typed(stub.requests[0].json) == typed(body(HISTORY))
    # g4f's version check (a request to PyPI) is off: no thread was started for it.
    assert not [t for t in threading.enumerate() if "check_version" in t.name]


@pytest.mark.anyio
async def test_legacy_chat_completion_create_async(stub: StubServer) -> None:
    reply = await g4f.ChatCompletion.create_async(
        "gpt-3.5-turbo", "Hi", provider=Aichat, cookies=COOKIES, base_url=stub.url
    )

    assert reply == "Echo: Hi"
    assert len(stub.requests) == 1


def test_legacy_stream_is_refused_by_g4f_before_any_request(stub: StubServer) -> None:
    with pytest.raises(StreamNotSupportedError, match="Aichat"):
        g4f.ChatCompletion.create(
            "gpt-3.5-turbo", "Hi", provider=Aichat, stream=True, cookies=COOKIES
        )

    assert stub.requests == []


def test_legacy_refusal_is_our_service_error(stub: StubServer) -> None:
    stub.enqueue(Fault.refuse())

    with pytest.raises(ServiceError):
        g4f.ChatCompletion.create(
            "gpt-3.5-turbo", "Hi", provider=Aichat, cookies=COOKIES, base_url=stub.url
        )


def test_g4f_rewrites_long_histories_in_place(stub: StubServer) -> None:
    """What the migration page says g4f 8.x does to the messages before the provider."""
    messages = [{"role": "system", "content": "S"}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(45)
    ]
    messages += [
        {"role": "assistant", "content": ""},  # empty: dropped
        {"role": "user", "content": "m44"},  # a duplicate: dropped
    ]
    client = Client(provider=Aichat, base_url=stub.url)

    client.chat.completions.create(messages=messages, cookies=COOKIES)

    kept = [{"role": "system", "content": "S"}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(5, 45)
    ]
    assert messages == kept
    assert stub.requests[0].json == body(kept)


# --------------------------------------------------------------------------- the migration page

MIGRATION_PAGE = Path(__file__).resolve().parents[1] / "docs" / "migrating-from-g4f.md"


def test_the_migration_page_s_g4f_example_passes_as_written(tmp_path: Path) -> None:
    page = MIGRATION_PAGE.read_text(encoding="utf-8")
    [example] = [
        e
        for e in re.findall(r"```python\n(.*?)```", page, re.S)
        if "Client(provider=Aichat, base_url=stub.url)" in e
    ]
    (tmp_path / "test_as_written.py").write_text(example, encoding="utf-8")
    wrong = example.replace("User: Hi", "User: Bye")
    assert wrong != example
    (tmp_path / "test_wrong_expectation.py").write_text(wrong, encoding="utf-8")

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "-rA"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "PASSED test_as_written.py::test_my_app_with_g4f" in run.stdout, run.stdout + run.stderr
    assert "FAILED test_wrong_expectation.py::test_my_app_with_g4f" in run.stdout
    assert "1 failed, 1 passed" in run.stdout


# --------------------------------------------------------------------------- the class, to g4f


def test_models_and_provider_info() -> None:
    client = Client(provider=Aichat)

    assert client.models.get_all() == ["gpt-3.5-turbo"]
    assert Aichat.get_dict()["name"] == "Aichat"


def test_the_network_guard_tells_loopback_from_the_rest() -> None:
    inside: list[object] = ["127.0.0.1", "127.8.9.10", "::1", "localhost", None, b"127.0.0.1"]
    outside: list[object] = ["pypi.org", "10.0.0.1", "192.0.2.1", "::ffff:192.0.2.1", "", 80]
    assert [host for host in inside if not is_loopback(host)] == []
    assert [host for host in outside if is_loopback(host)] == []
