"""``aichat_adapters.g4f.Aichat``, g4f's provider swapped in, against the stub over loopback."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

import pytest

from aichat_adapters import CookiesNotFoundError, InvalidRequestError, ServiceError
from aichat_adapters import g4f as g4f_module
from aichat_adapters.g4f import Aichat
from aichat_adapters.stub import Fault, StubServer
from aichat_core import CallParams
from tests.support import COOKIES, g4f_format_prompt

SEED_COOKIES = {"cookie_name": "cookie_value"}


def g4f_json_data(messages: list[dict[str, str]], **kwargs: Any) -> dict[str, Any]:
    """The body g4f's ``Aichat.create_async`` posts, verbatim: the oracle for ours."""
    return {
        "message": g4f_format_prompt(messages),
        "temperature": kwargs.get("temperature", 0.5),
        "presence_penalty": 0,
        "top_p": kwargs.get("top_p", 1),
        "frequency_penalty": 0,
    }


def typed(body: object) -> list[tuple[str, str, object]]:
    """Keys in order, with each value's JSON type: ``1`` and ``1.0`` differ on the wire."""
    assert isinstance(body, dict)
    return [(key, type(value).__name__, value) for key, value in body.items()]


def no_cookies_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where the default cookie chain finds nothing."""
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(tmp_path / "nowhere" / "cookies.txt"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)


# --------------------------------------------------------------------------- the seed's examples


@pytest.mark.anyio
@pytest.mark.parametrize("content", ["Hello, how are you?", "Как дела?"])
async def test_seed_examples(stub: StubServer, content: str) -> None:
    messages = [{"role": "user", "content": content}]

    reply = await Aichat.create_async(
        model="gpt-3.5-turbo",
        messages=messages,
        cookies={"cookie_name": "cookie_value"},
        base_url=stub.url,
    )

    assert reply == f"Echo: {content}"
    [request] = stub.requests
    assert request.method == "POST"
    assert request.path == "/api/text"
    assert typed(request.json) == typed(g4f_json_data(messages))
    assert request.json == {
        "message": content,
        "temperature": 0.5,
        "presence_penalty": 0,
        "top_p": 1,
        "frequency_penalty": 0,
    }
    assert request.headers["cookie"] == "cookie_name=cookie_value"


@pytest.mark.anyio
async def test_temperature_and_top_p_travel_in_the_body(stub: StubServer) -> None:
    messages = [{"role": "user", "content": "Hi"}]

    await Aichat.create_async(
        "gpt-3.5-turbo",
        messages,
        cookies=SEED_COOKIES,
        temperature=0.2,
        top_p=0.9,
        base_url=stub.url,
    )

    body = stub.requests[0].json
    assert typed(body) == typed(g4f_json_data(messages, temperature=0.2, top_p=0.9))
    assert body == {
        "message": "Hi",
        "temperature": 0.2,
        "presence_penalty": 0,
        "top_p": 0.9,
        "frequency_penalty": 0,
    }


@pytest.mark.anyio
async def test_history_is_formatted_like_g4f(stub: StubServer) -> None:
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Привет"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "What is 2+2?\nJust the number."},
    ]

    reply = await Aichat.create_async("", history, cookies=SEED_COOKIES, base_url=stub.url)

    expected = g4f_format_prompt(history)
    assert expected.startswith("System: Be brief.\nUser: Привет\nAssistant: Hello!\nUser: ")
    assert expected.endswith("\nAssistant:")
    assert typed(stub.requests[0].json) == typed(g4f_json_data(history))
    assert reply == f"Echo: {expected}"


@pytest.mark.anyio
async def test_cookie_header_string(stub: StubServer) -> None:
    await Aichat.create_async(
        None, [{"role": "user", "content": "Hi"}], cookies="a=1; b=2", base_url=stub.url
    )

    assert stub.requests[0].cookies == {"a": "1", "b": "2"}


@pytest.mark.anyio
async def test_default_cookie_chain_is_used_without_cookies(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_COOKIES", "from_env=yes; other=1")

    await Aichat.create_async(
        "gpt-3.5-turbo", [{"role": "user", "content": "Hi"}], base_url=stub.url
    )

    assert stub.requests[0].cookies == {"from_env": "yes", "other": "1"}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "given", [pytest.param({}, id="absent"), pytest.param({"cookies": {}}, id="empty")]
)
@pytest.mark.anyio
async def test_no_cookies_is_a_runtime_error(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, given: dict[str, Any]
) -> None:
    no_cookies_anywhere(monkeypatch, tmp_path)
    messages = [{"role": "user", "content": "Hello, how are you?"}]

    # The message names the host asked (issue 13), not chat-gpt.org.
    with pytest.raises(RuntimeError, match=r"no cookies for 127\.0\.0\.1:") as caught:
        await Aichat.create_async("gpt-3.5-turbo", messages, base_url=stub.url, **given)

    assert isinstance(caught.value, CookiesNotFoundError)
    assert "AICHAT_COOKIES" in str(caught.value)
    assert caught.value.attempts == 0
    assert stub.requests == []


@pytest.mark.anyio
async def test_refusal_is_an_exception_with_the_payload(stub: StubServer) -> None:
    stub.enqueue(Fault.refuse("quota exceeded"))

    with pytest.raises(Exception, match="Error Response") as caught:
        await Aichat.create_async(
            "gpt-3.5-turbo", [{"role": "user", "content": "Hi"}], cookies=COOKIES, base_url=stub.url
        )

    assert isinstance(caught.value, ServiceError)
    assert str({"response": False, "message": "quota exceeded"}) in str(caught.value)
    assert caught.value.payload == {"response": False, "message": "quota exceeded"}
    assert len(stub.requests) == 1  # a refusal is not retried


@pytest.mark.parametrize("model", ["gpt-4", "GPT-3.5-TURBO"])
@pytest.mark.anyio
async def test_unsupported_model_is_a_value_error(stub: StubServer, model: str) -> None:
    with pytest.raises(ValueError, match=r"gpt-3\.5-turbo") as caught:
        await Aichat.create_async(
            model, [{"role": "user", "content": "Hi"}], cookies=COOKIES, base_url=stub.url
        )

    assert isinstance(caught.value, InvalidRequestError)
    assert repr(model) in str(caught.value)
    assert stub.requests == []


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"temprature": 0.2}, id="misspelt"),
        pytest.param({"verify": False}, id="verify"),
        pytest.param({"media": [("image.png", "image.png")]}, id="media"),
    ],
)
@pytest.mark.anyio
async def test_unknown_kwargs_are_refused_naming_the_supported_ones(
    stub: StubServer, extra: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await Aichat.create_async(
            "gpt-3.5-turbo",
            [{"role": "user", "content": "Hi"}],
            cookies=COOKIES,
            base_url=stub.url,
            **extra,
        )

    message = str(caught.value)
    assert f"argument(s): {next(iter(extra))};" in message
    for name in ("cookies", "temperature", "top_p", "presence_penalty", "timeout", "base_url"):
        assert name in message
    assert stub.requests == []


@pytest.mark.anyio
async def test_penalties_travel_in_the_body(stub: StubServer) -> None:
    await Aichat.create_async(
        "gpt-3.5-turbo",
        "Hi",
        cookies=COOKIES,
        presence_penalty=0.5,
        frequency_penalty=-1,
        base_url=stub.url,
    )

    assert stub.requests[0].json == {
        "message": "Hi",
        "temperature": 0.5,
        "presence_penalty": 0.5,
        "top_p": 1,
        "frequency_penalty": -1,
    }


G4F_OWN: dict[str, Any] = {
    "provider": Aichat,
    "api_key": "sk-not-for-logs",
    "max_tokens": 5,
    "stop": ["\n"],
    "conversation": object(),
    "ignore_stream": True,
    "stream_timeout": 9,
    "web_search": False,
}
"""What g4f 8.x may pass besides ours: accepted, ignored."""


@pytest.mark.anyio
async def test_g4f_s_own_kwargs_are_ignored_with_a_debug_line(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aichat")

    reply = await Aichat.create_async(
        "gpt-3.5-turbo", "Hi", cookies=COOKIES, base_url=stub.url, stream=True, **G4F_OWN
    )

    assert reply == "Echo: Hi"
    assert typed(stub.requests[0].json) == typed(g4f_json_data([{"role": "user", "content": "Hi"}]))
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("g4f Aichat")]
    # web_search=False asks for nothing, so it is not named.
    assert line.startswith(
        "g4f Aichat ignores stream, provider, api_key, max_tokens, stop, conversation, "
        "ignore_stream, stream_timeout: "
    )
    assert "sk-not-for-logs" not in caplog.text


@pytest.mark.anyio
async def test_nothing_is_logged_when_nothing_is_ignored(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aichat")

    await Aichat.create_async(
        "gpt-3.5-turbo", "Hi", None, False, cookies=COOKIES, base_url=stub.url, max_tokens=None
    )

    assert not [r for r in caplog.records if r.getMessage().startswith("g4f Aichat")]


@pytest.mark.anyio
async def test_stream_true_gives_the_reply_in_one_piece(stub: StubServer) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    options: dict[str, Any] = {"cookies": COOKIES, "base_url": stub.url}

    assert await Aichat.create_async("gpt-3.5-turbo", messages, stream=True, **options) == (
        "Echo: Hi"
    )
    chunks = [c async for c in Aichat.create_async_generator("", messages, stream=True, **options)]
    assert chunks == ["Echo: Hi"]
    assert list(Aichat.create_completion("", messages, True, **options)) == ["Echo: Hi"]
    assert len(stub.requests) == 3


@pytest.mark.anyio
async def test_timeout_reaches_the_client(stub: StubServer) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        await Aichat.create_async(
            "gpt-3.5-turbo", "Hi", cookies=COOKIES, timeout=-1, base_url=stub.url
        )
    assert stub.requests == []

    assert (
        await Aichat.create_async(
            "gpt-3.5-turbo", "Hi", cookies=COOKIES, timeout=5, base_url=stub.url
        )
        == "Echo: Hi"
    )


# --------------------------------------------------------------------------- create_completion


def test_create_completion_yields_the_reply_once(stub: StubServer) -> None:
    messages = [{"role": "user", "content": "Как дела?"}]

    chunks = list(
        Aichat.create_completion(
            "gpt-3.5-turbo", messages, cookies=SEED_COOKIES, temperature=1, base_url=stub.url
        )
    )

    assert chunks == ["Echo: Как дела?"]
    assert typed(stub.requests[0].json) == typed(g4f_json_data(messages, temperature=1))


@pytest.mark.anyio
async def test_create_completion_inside_a_running_event_loop(
    stub: StubServer, anyio_backend: str
) -> None:
    if anyio_backend == "asyncio":  # where g4f's own run_until_complete() fails
        assert asyncio.get_running_loop().is_running()

    chunks = list(
        Aichat.create_completion(
            "gpt-3.5-turbo",
            [{"role": "user", "content": "Hi"}],
            False,
            cookies=COOKIES,
            base_url=stub.url,
        )
    )

    assert chunks == ["Echo: Hi"]
    assert len(stub.requests) == 1


def test_create_completion_errors(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    with pytest.raises(InvalidRequestError, match="temprature"):
        next(Aichat.create_completion("gpt-3.5-turbo", messages, temprature=1, base_url=stub.url))  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="gpt-4"):
        next(Aichat.create_completion("gpt-4", messages, cookies=COOKIES, base_url=stub.url))

    no_cookies_anywhere(monkeypatch, tmp_path)
    with pytest.raises(RuntimeError, match="AICHAT_COOKIES"):
        next(Aichat.create_completion("gpt-3.5-turbo", messages, base_url=stub.url))

    stub.enqueue(Fault.refuse("moderation"))
    with pytest.raises(ServiceError, match="moderation"):
        next(
            Aichat.create_completion("gpt-3.5-turbo", messages, cookies=COOKIES, base_url=stub.url)
        )
    assert len(stub.requests) == 1


# --------------------------------------------------------------------------- create_async_generator


@pytest.mark.anyio
async def test_create_async_generator_yields_the_reply_once(stub: StubServer) -> None:
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Как дела?"},
    ]

    chunks = [
        chunk
        async for chunk in Aichat.create_async_generator(
            model="gpt-3.5-turbo",
            messages=history,
            cookies=SEED_COOKIES,
            top_p=0.5,
            base_url=stub.url,
        )
    ]

    assert chunks == [f"Echo: {g4f_format_prompt(history)}"]
    assert typed(stub.requests[0].json) == typed(g4f_json_data(history, top_p=0.5))


@pytest.mark.anyio
async def test_create_async_generator_errors_come_when_it_is_advanced(stub: StubServer) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    refused = Aichat.create_async_generator(
        "gpt-4",
        messages,
        cookies=COOKIES,
        base_url=stub.url,
        temprature=1,  # type: ignore[call-arg]
    )
    with pytest.raises(InvalidRequestError, match="temprature"):
        await refused.__anext__()

    stub.enqueue(Fault.refuse("quota exceeded"))
    generator = Aichat.create_async_generator(
        "gpt-3.5-turbo", messages, cookies=COOKIES, base_url=stub.url
    )
    assert stub.requests == []  # nothing is sent before the generator is advanced
    with pytest.raises(ServiceError) as caught:
        await generator.__anext__()
    assert caught.value.payload == {"response": False, "message": "quota exceeded"}
    assert len(stub.requests) == 1


# --------------------------------------------------------------------------- the class


def test_class_attributes_are_g4f_s() -> None:
    assert Aichat.url == "https://chat-gpt.org/chat"
    assert Aichat.working is True
    assert Aichat.supports_gpt_35_turbo is True
    assert Aichat.supports_stream is False
    assert Aichat.supports_message_history is True
    assert Aichat.supports_system_message is True
    assert Aichat.supports_gpt_4 is False
    assert Aichat.needs_auth is False
    assert Aichat.__name__ == "Aichat"


def test_what_g4f_8_reads_from_a_provider() -> None:
    assert Aichat.get_dict() == {
        "name": "Aichat",
        "url": "https://chat-gpt.org/chat",
        "label": "Aichat (aichat-client)",
    }
    assert Aichat.get_models() == ["gpt-3.5-turbo"]
    assert Aichat.get_models(api_key="ignored") == ["gpt-3.5-turbo"]
    assert Aichat.default_model == "gpt-3.5-turbo"
    assert Aichat.use_stream_timeout is False
    assert isinstance(Aichat.live, int)


def test_methods_are_callable_on_the_class() -> None:
    assert inspect.iscoroutinefunction(Aichat.create_async)
    assert inspect.isasyncgenfunction(Aichat.create_async_generator)
    assert inspect.isgeneratorfunction(Aichat.create_completion)
    # g4f 0.1.x passes ``stream`` third to create_completion; the rest goes by keyword.
    assert list(inspect.signature(Aichat.create_async).parameters) == [
        "model",
        "messages",
        "proxy",
        "stream",
        "kwargs",
    ]
    assert list(inspect.signature(Aichat.create_async_generator).parameters) == [
        "model",
        "messages",
        "proxy",
        "stream",
        "kwargs",
    ]
    assert list(inspect.signature(Aichat.create_completion).parameters) == [
        "model",
        "messages",
        "stream",
        "proxy",
        "kwargs",
    ]


def test_generation_keywords_are_the_core_s_call_params() -> None:
    ours = get_type_hints(g4f_module._Options)
    core = get_type_hints(CallParams)
    assert set(core) - {"model"} <= set(ours)
    for name in set(core) - {"model"}:
        assert ours[name] == core[name], name
    assert set(g4f_module._GENERATION) == set(core) - {"model"}
    # What runs is what type-checks: the accepted names are the typed ones.
    assert set(g4f_module._ACCEPTED) == set(ours) | {"proxy", "stream"}


def test_module_docstring_shows_the_swap() -> None:
    doc = sys.modules[Aichat.__module__].__doc__ or ""
    assert "from g4f.Provider import Aichat" in doc
    assert "from aichat_adapters.g4f import Aichat" in doc
    assert "Client(provider=Aichat)" in doc


# --------------------------------------------------------------------------- the migration page

MIGRATION_PAGE = Path(__file__).resolve().parents[2] / "docs" / "migrating-from-g4f.md"


def page_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", MIGRATION_PAGE.read_text(encoding="utf-8"), re.S)


def test_every_example_of_the_migration_page_compiles() -> None:
    examples = page_examples()
    assert len(examples) >= 10
    for example in examples:
        compile(example, str(MIGRATION_PAGE), "exec")  # top-level await would fail here


def test_the_migration_page_s_pytest_example_passes_as_written(tmp_path: Path) -> None:
    [example] = [e for e in page_examples() if "StubServer" in e and "g4f." not in e]
    (tmp_path / "test_as_written.py").write_text(example, encoding="utf-8")
    wrong = example.replace('"Echo: Hi"', '"Echo: Bye"')
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

    # anyio's plugin runs the example on every backend it finds (asyncio, trio).
    assert "PASSED test_as_written.py::test_my_app" in run.stdout, run.stdout + run.stderr
    assert "FAILED test_as_written.py" not in run.stdout
    assert "FAILED test_wrong_expectation.py::test_my_app" in run.stdout
    assert "PASSED test_wrong_expectation.py" not in run.stdout
    assert run.returncode == 1


if TYPE_CHECKING:
    # mypy --strict fails on an unused ignore: each line below must be a type error.

    async def _misspelt_keywords_fail_type_checking() -> None:
        await Aichat.create_async("", "Hi", temprature=0.2)  # type: ignore[call-arg]
        Aichat.create_completion("", "Hi", top_pp=0.2)  # type: ignore[call-arg]
        Aichat.create_async_generator("", "Hi", cookie="a=b")  # type: ignore[call-arg]
        await Aichat.create_async("", "Hi", temperature="hot")  # type: ignore[arg-type]
