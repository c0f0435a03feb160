"""The real ``openai`` package against the app on uvicorn: answers, streams, models, errors."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from aichat_adapters.serve._chat import estimate_tokens
from aichat_adapters.stub import Fault, StubServer
from aichat_core import Message, format_prompt
from tests.support import KEY, live

HISTORY: list[Any] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {
        "role": "user",
        "content": [{"type": "text", "text": "How "}, {"type": "text", "text": "are you?"}],
    },
]
PROMPT = format_prompt(
    (
        Message.system("Be brief."),
        Message.user("Hi"),
        Message.assistant("Hello!"),
        Message.user("How are you?"),
    )
)


def test_the_prompt_is_the_seeds_format() -> None:
    assert (
        PROMPT == "System: Be brief.\nUser: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant:"
    )


def test_sync_completion_gets_the_stubs_answer_for_the_format_prompt_text(stub: StubServer) -> None:
    with live(stub) as server:
        client = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0)
        answer = client.chat.completions.create(
            model="aichat",
            messages=HISTORY,
            temperature=0.2,
            top_p=0.9,
            seed=1,
            user="u",
            stop=["x"],
        )
    assert answer.choices[0].message.content == "Echo: " + PROMPT
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.object == "chat.completion"
    assert answer.model == "aichat"
    assert answer.id.startswith("chatcmpl-")
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == estimate_tokens(PROMPT)
    assert answer.usage.completion_tokens == estimate_tokens("Echo: " + PROMPT)
    assert answer.usage.model_extra == {"estimated": True}
    (request,) = stub.requests
    assert request.json == {
        "message": PROMPT,
        "temperature": 0.2,
        "presence_penalty": 0,
        "top_p": 0.9,
        "frequency_penalty": 0,
    }


def test_sync_stream_gets_role_content_and_stop(stub: StubServer) -> None:
    with live(stub) as server:
        client = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0)
        chunks = list(
            client.chat.completions.create(
                model="gpt-3.5-turbo",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    assert deltas[0].role == "assistant"
    assert "".join(delta.content or "" for delta in deltas) == "Echo: Hi"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == estimate_tokens("Hi") + estimate_tokens("Echo: Hi")
    assert len({chunk.id for chunk in chunks}) == 1
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == ["Hi"]


@pytest.mark.anyio
async def test_async_client(stub: StubServer) -> None:
    with live(stub) as server:
        client = openai.AsyncOpenAI(base_url=server.url, api_key="anything", max_retries=0)
        answer = await client.chat.completions.create(model="aichat", messages=HISTORY)
        await client.close()
    assert answer.choices[0].message.content == "Echo: " + PROMPT
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == [PROMPT]


# On trio, openai's AsyncStream leaves its inner SSE generator unexhausted at [DONE]
# (trio warns as it collects it, and the suite turns warnings into errors): asyncio only.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_async_client_stream(stub: StubServer) -> None:
    with live(stub) as server:
        client = openai.AsyncOpenAI(base_url=server.url, api_key="anything", max_retries=0)
        stream = await client.chat.completions.create(model="aichat", messages=HISTORY, stream=True)
        async with stream:
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
        await client.close()
    assert text == "Echo: " + PROMPT
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == [PROMPT]


def test_models_list_and_retrieve(stub: StubServer) -> None:
    with live(stub, models=["gpt-3.5-turbo", "aichat", "mine"]) as server:
        client = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0)
        assert [model.id for model in client.models.list()] == ["gpt-3.5-turbo", "aichat", "mine"]
        assert client.models.retrieve("mine").id == "mine"
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("gpt-4")
    assert stub.requests == []


# ---------------------------------------------------------------------------- error rows

ONE: list[Any] = [{"role": "user", "content": "Hi"}]

# (id, server options, client options of the server, stub faults, call arguments,
#  status, openai exception, error code, whether the site saw a request)
ROWS: list[Any] = [
    ("n", {}, {}, [], {"n": 2}, 400, openai.BadRequestError, "unsupported_parameter", False),
    (
        "tools",
        {},
        {},
        [],
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        400,
        openai.BadRequestError,
        "unsupported_parameter",
        False,
    ),
    (
        "response_format",
        {},
        {},
        [],
        {"response_format": {"type": "json_object"}},
        400,
        openai.BadRequestError,
        "unsupported_parameter",
        False,
    ),
    (
        "logprobs",
        {},
        {},
        [],
        {"logprobs": True},
        400,
        openai.BadRequestError,
        "unsupported_parameter",
        False,
    ),
    (
        "temperature",
        {},
        {},
        [],
        {"temperature": 2.5},
        400,
        openai.BadRequestError,
        "invalid_value",
        False,
    ),
    (
        "model",
        {},
        {},
        [],
        {"model": "gpt-4o"},
        400,
        openai.BadRequestError,
        "model_not_found",
        False,
    ),
    (
        "bad-key",
        {"api_key": KEY},
        {},
        [],
        {},
        401,
        openai.AuthenticationError,
        "invalid_api_key",
        False,
    ),
    (
        "site-429",
        {},
        {"max_retries": 0},
        [Fault.status(429, retry_after=7)],
        {},
        429,
        openai.RateLimitError,
        "rate_limit_exceeded",
        True,
    ),
    (
        "site-challenge",
        {},
        {},
        [Fault.challenge()],
        {},
        502,
        openai.InternalServerError,
        "cookies_rejected",
        True,
    ),
    (
        "site-timeout",
        {},
        {"timeout": 0.3, "max_retries": 0},
        [Fault.delay(5)],
        {},
        504,
        openai.InternalServerError,
        "timeout",
        True,
    ),
    (
        "site-503",
        {},
        {"max_retries": 0},
        [Fault.status(503)],
        {},
        502,
        openai.InternalServerError,
        "upstream_error",
        True,
    ),
    (
        "site-refusal",
        {},
        {},
        [Fault.refuse("moderation")],
        {},
        502,
        openai.InternalServerError,
        "service_refused",
        True,
    ),
    (
        "site-bad-json",
        {},
        {},
        [Fault.malformed()],
        {},
        502,
        openai.InternalServerError,
        "bad_upstream_response",
        True,
    ),
    (
        "too-large",
        {"max_body": 2000},
        {},
        [],
        {"messages": [{"role": "user", "content": "a" * 5000}]},
        413,
        openai.APIStatusError,
        "request_too_large",
        False,
    ),
]


@pytest.mark.parametrize(
    ("options", "client", "faults", "call", "status", "error", "code", "sent"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_each_error_row_reaches_openai_as_documented(
    stub: StubServer,
    options: dict[str, Any],
    client: dict[str, Any],
    faults: list[Fault],
    call: dict[str, Any],
    status: int,
    error: type[openai.APIStatusError],
    code: str,
    sent: bool,
) -> None:
    stub.enqueue(*faults)
    with live(stub, client=client, **options) as server:
        api = openai.OpenAI(base_url=server.url, api_key="wrong-key", max_retries=0)
        arguments = {"model": "aichat", "messages": ONE, **call}
        with pytest.raises(error) as raised:
            api.chat.completions.create(**arguments)
    assert type(raised.value) is error
    assert raised.value.status_code == status
    assert raised.value.code == code
    assert isinstance(raised.value.body, dict)
    assert set(raised.value.body) == {"message", "type", "param", "code"}
    assert bool(stub.requests) is sent
    if code == "unsupported_parameter":
        assert raised.value.param == next(iter(call))
    if status == 429:
        assert raised.value.response.headers["retry-after"] == "7"


def test_refused_cookies_name_them_and_openai_does_not_retry(stub: StubServer) -> None:
    stub.enqueue(Fault.challenge(), Fault.challenge(), Fault.challenge())
    with live(stub) as server:
        api = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=2)
        with pytest.raises(openai.InternalServerError) as raised:
            api.chat.completions.create(model="aichat", messages=ONE)
    message = raised.value.message
    assert "cf_clearance" in message
    assert "session" in message
    assert "fresh cookies" in message
    assert "s3cr3t" not in message
    assert raised.value.response.headers["x-should-retry"] == "false"
    assert len(stub.requests) == 1  # neither the SDK (same cookies) nor openai retried


def test_no_cookies_is_a_503_that_says_what_to_do(stub: StubServer) -> None:
    class Empty:
        def get_cookies(self) -> dict[str, str]:
            return {}

    with live(stub, client={"cookies": None, "cookie_source": Empty()}) as server:
        api = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=2)
        with pytest.raises(openai.InternalServerError) as raised:
            api.chat.completions.create(model="aichat", messages=ONE)
    assert raised.value.status_code == 503
    assert raised.value.code == "cookies_not_found"
    assert "--cookies-file" in raised.value.message
    assert stub.requests == []


def test_an_unknown_route_is_a_404_in_openais_shape(stub: StubServer) -> None:
    with live(stub) as server:
        api = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0)
        with pytest.raises(openai.NotFoundError) as raised:
            api.get("/embeddings", cast_to=object)
    assert raised.value.code == "unknown_url"
    assert "/v1/chat/completions" in raised.value.message


def test_the_right_key_is_accepted(stub: StubServer) -> None:
    with live(stub, api_key=KEY) as server:
        api = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
        answer = api.chat.completions.create(model="aichat", messages=ONE)
    assert answer.choices[0].message.content == "Echo: Hi"


def test_a_rebinding_host_is_refused_and_sends_nothing(stub: StubServer) -> None:
    with live(stub) as server:
        api = openai.OpenAI(
            base_url=server.url,
            api_key="anything",
            max_retries=0,
            default_headers={"Host": "attacker.example:8000"},
        )
        with pytest.raises(openai.PermissionDeniedError) as raised:
            api.chat.completions.create(model="aichat", messages=ONE)
    assert raised.value.code == "host_not_allowed"
    assert "--allow-host" in raised.value.message
    assert stub.requests == []
