"""The guard, in process through the ASGI app: Host, Origin, CORS, the key, JSON only, the log."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from aichat_adapters import AichatClient, InvalidRequestError
from aichat_adapters.serve import _app as serve_app
from aichat_adapters.serve import create_app
from aichat_adapters.serve._guard import host_name
from aichat_adapters.stub import StubServer
from aichat_core import Credentials
from tests.support import COOKIES, KEY, client_for

pytestmark = pytest.mark.anyio

CHAT = {"model": "aichat", "messages": [{"role": "user", "content": "Hi"}]}


@asynccontextmanager
async def asgi(stub: StubServer, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling ``create_app`` in process (base URL http://localhost:8000)."""
    async with client_for(stub) as client:
        app = create_app(client, **options)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
            yield http


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8000",
        "LOCALHOST:1",
        "127.0.0.1",
        "127.0.0.1:80",
        "[::1]",
        "[::1]:8000",
        "box.lan:9",
    ],
)
async def test_loopback_names_and_allowed_hosts_pass(stub: StubServer, host: str) -> None:
    async with asgi(stub, allowed_hosts=["box.lan"]) as http:
        response = await http.post("/v1/chat/completions", json=CHAT, headers={"host": host})
    assert response.status_code == 200, response.text
    assert len(stub.requests) == 1


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8000",
        "127.0.0.1.attacker.example",
        "localhost.attacker.example",
        "localhost:8000@attacker.example",
        "127.0.0.2",
        "[::2]",
        "[::1",
        "localhost:80a",
        "localhost:\u0661",
        "box.lan.evil",
        "",
        "0.0.0.0",
    ],
)
async def test_other_hosts_get_403_and_nothing_reaches_the_site(
    stub: StubServer, host: str
) -> None:
    async with asgi(stub, allowed_hosts=["box.lan"]) as http:
        response = await http.post(
            "/v1/chat/completions", json=CHAT, headers={b"host": host.encode("utf-8")}
        )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "host_not_allowed"
    assert stub.requests == []


def test_host_name_parsing() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:1") == "[::1]"
    assert host_name("localhost:") == "localhost"
    assert host_name("a:b:c") is None
    assert host_name(":80") is None


async def test_a_web_page_is_refused_without_cors_even_with_no_key(stub: StubServer) -> None:
    async with asgi(stub) as http:
        response = await http.post(
            "/v1/chat/completions", json=CHAT, headers={"origin": "https://evil.example"}
        )
        preflight = await http.options(
            "/v1/chat/completions",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        plain = await http.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    assert plain.status_code == 200
    assert "access-control-allow-origin" not in plain.headers
    assert len(stub.requests) == 1


async def test_a_text_plain_post_is_refused_unread(stub: StubServer) -> None:
    # The "simple" cross-site request a page can send without a preflight.
    async with asgi(stub) as http:
        response = await http.post(
            "/v1/chat/completions",
            content=b'{"messages": [{"role": "user", "content": "Hi"}]}',
            headers={"content-type": "text/plain"},
        )
    assert response.status_code == 415
    assert stub.requests == []


async def test_an_allowed_origin_gets_cors_and_still_needs_the_key(stub: StubServer) -> None:
    origin = "https://app.example.com"
    async with asgi(stub, cors_origins=[origin], api_key=KEY) as http:
        preflight = await http.options(
            "/v1/chat/completions",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type, x-stainless-os",
            },
        )
        no_key = await http.post("/v1/chat/completions", json=CHAT, headers={"origin": origin})
        with_key = await http.post(
            "/v1/chat/completions",
            json=CHAT,
            headers={"origin": origin, "authorization": f"Bearer {KEY}"},
        )
        other = await http.post(
            "/v1/chat/completions",
            json=CHAT,
            headers={"origin": "https://app.example.com.evil", "authorization": f"Bearer {KEY}"},
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "x-stainless-os" in preflight.headers["access-control-allow-headers"].lower()
    assert no_key.status_code == 401
    assert no_key.headers["access-control-allow-origin"] == origin
    assert with_key.status_code == 200
    assert with_key.headers["access-control-allow-origin"] == origin
    assert other.status_code == 403
    assert len(stub.requests) == 1


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        (f"Basic {KEY}", 401),
        (f"Bearer {KEY}x", 401),
        (f"Bearer {KEY[:-1]}", 401),
        (f"Bearer {KEY}", 200),
        (f"bearer {KEY}", 200),
    ],
)
async def test_the_key_when_one_is_set(
    stub: StubServer, authorization: str | None, status: int
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    async with asgi(stub, api_key=KEY) as http:
        chat = await http.post("/v1/chat/completions", json=CHAT, headers=headers)
        models = await http.get("/v1/models", headers=headers)
        health = await http.get("/health", headers=headers)
    assert [chat.status_code, models.status_code, health.status_code] == [status] * 3
    assert len(stub.requests) == (1 if status == 200 else 0)
    if status == 401:
        assert chat.json()["error"]["code"] == "invalid_api_key"
        assert "wrong" not in chat.text
        assert KEY not in chat.text


@pytest.mark.parametrize("authorization", [None, "Bearer whatever", "Basic x"])
async def test_no_key_on_loopback_accepts_any_key(
    stub: StubServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    async with asgi(stub) as http:
        response = await http.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 200


async def test_the_key_is_compared_in_constant_time(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    async with asgi(stub, api_key=KEY) as http:
        await http.get("/v1/models", headers={"authorization": "Bearer nope"})
    assert compared == [(b"nope", KEY.encode())]


async def test_one_log_line_per_request_without_body_key_or_cookie(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_prompt = "my-secret-prompt"
    async with asgi(stub, api_key=KEY) as http:
        await http.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": secret_prompt}]},
            headers={"authorization": f"Bearer {KEY}"},
        )
        await http.get("/v1/models", headers={"authorization": "Bearer wrong-key-123"})
        await http.get("/nope%1b[31m?api_key=" + KEY, headers={"authorization": f"Bearer {KEY}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "aichat.serve"]
    assert len(lines) == 3
    assert lines[0].startswith('127.0.0.1:50000 "POST /v1/chat/completions" 200 ')
    assert lines[0].endswith(" ms")
    assert lines[1].startswith('127.0.0.1:50000 "GET /v1/models" 401 ')
    assert lines[1].endswith(" ms invalid_api_key")
    assert "\x1b" not in lines[2]
    assert " 404 " in lines[2]
    # Every line but the test client's own (httpx logs the URL it was given).
    everything = "\n".join(
        r.getMessage() for r in caplog.records if "localhost:8000" not in r.getMessage()
    )
    for secret in (KEY, "wrong-key-123", secret_prompt, *COOKIES.values()):
        assert secret not in everything


async def test_a_bug_answering_a_chat_is_a_500_in_openais_shape_and_one_log_line(
    stub: StubServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(raw: bytes, models: Any) -> Any:
        raise RuntimeError("a-detail-for-the-log-only")

    monkeypatch.setattr(serve_app, "parse_chat", broken)
    caplog.set_level(logging.INFO)
    async with asgi(stub) as http:
        response = await http.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "a-detail-for-the-log-only" not in response.text
    lines = [r.getMessage() for r in caplog.records if r.name == "aichat.serve"]
    assert lines[0] == "internal error (RuntimeError) serving a request"
    assert lines[1].startswith('127.0.0.1:50000 "POST /v1/chat/completions" 500 ')
    assert lines[1].endswith(" ms internal_error")
    assert len(lines) == 2
    assert stub.requests == []


async def test_mounted_under_a_prefix_the_routes_answer_there(stub: StubServer) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    async with client_for(stub) as client:
        outer = Starlette(routes=[Mount("/openai", app=create_app(client))])
        transport = httpx.ASGITransport(app=outer, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
            chat = await http.post("/openai/v1/chat/completions", json=CHAT)
            models = await http.get("/openai/v1/models")
            at_the_root = await http.post("/v1/chat/completions", json=CHAT)
    assert chat.status_code == 200, chat.text
    assert chat.json()["choices"][0]["message"]["content"] == "Echo: Hi"
    assert [model["id"] for model in models.json()["data"]] == ["gpt-3.5-turbo", "aichat"]
    assert at_the_root.status_code == 404
    assert [r.json["message"] for r in stub.requests if isinstance(r.json, dict)] == ["Hi"]


async def test_health_reports_names_never_values(stub: StubServer) -> None:
    async with asgi(stub) as http:
        response = await http.get("/health")
    assert response.json() == {
        "status": "ok",
        "credentials": {
            "found": True,
            "source": "static cookies",
            "cookies": sorted(COOKIES),
            "user_agent": None,
            "expires": None,
        },
    }
    assert all(value not in response.text for value in COOKIES.values())


async def test_health_reports_a_bundles_user_agent_and_expiry(stub: StubServer) -> None:
    bundle = Credentials(
        {"cf_clearance": "clearance-s3cr3t"},
        user_agent="Mozilla/5.0 Chrome/150.0.0.0",
        expires={"cf_clearance": 1_900_000_000},
    )

    class Bundle:
        def get_credentials(self) -> Credentials:
            return bundle

    async with client_for(stub, cookies=None, cookie_source=Bundle()) as client:
        transport = httpx.ASGITransport(app=create_app(client))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            response = await http.get("/health")
    credentials = response.json()["credentials"]
    assert credentials["found"] is True
    assert credentials["cookies"] == ["cf_clearance"]
    assert credentials["user_agent"] == "Mozilla/5.0 Chrome/150.0.0.0"
    assert credentials["expires"] == "2030-03-17T17:46:40Z"
    assert "clearance-s3cr3t" not in response.text


async def test_health_says_when_the_source_fails(stub: StubServer) -> None:
    class Broken:
        def get_cookies(self) -> dict[str, str]:
            raise OSError("secret-value-in-message")

    async with client_for(stub, cookies=None, cookie_source=Broken()) as client:
        transport = httpx.ASGITransport(app=create_app(client))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            response = await http.get("/health")
    credentials = response.json()["credentials"]
    assert credentials["found"] is False
    assert credentials["error"] == "OSError"
    assert "secret-value" not in response.text


@pytest.mark.parametrize(
    "options",
    [
        {"api_key": ""},
        {"api_key": "with space"},
        {"api_key": "caf\u00e9"},
        {"allowed_hosts": "box.lan"},
        {"allowed_hosts": ["box.lan:8000"]},
        {"allowed_hosts": ["a/b"]},
        {"cors_origins": ["*"]},
        {"cors_origins": ["https://a.example/path"]},
        {"cors_origins": ["a.example"]},
        {"concurrency": 0},
        {"concurrency": True},
        {"queue": -1},
        {"max_body": 0},
        {"models": []},
        {"models": ["with space"]},
        {"body_timeout": 0},
        {"body_timeout": float("nan")},
    ],
)
async def test_bad_options_are_refused_when_the_app_is_built(
    stub: StubServer, options: dict[str, Any]
) -> None:
    async with client_for(stub) as client:
        with pytest.raises(InvalidRequestError):
            create_app(client, **options)


def test_the_sync_client_is_refused() -> None:
    with AichatClient(cookies=COOKIES) as client, pytest.raises(InvalidRequestError, match="Async"):
        create_app(client)  # type: ignore[arg-type]


def test_the_settings_repr_hides_the_key(stub: StubServer) -> None:
    app = create_app(client_for(stub), api_key=KEY)
    assert KEY not in repr(app.settings)
