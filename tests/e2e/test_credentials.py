"""Credentials bundles end to end: the User-Agent and headers travel with the cookies,
warnings where the client would send them another way, renewal ahead of expiry."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from aichat_adapters.stub import StubServer
from aichat_core import Credentials
from tests.support import FAST, call

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/150.0.0.0 Safari/537.36"
SECRET = "bundle-s3cr3t-value"


class Bundled:
    """A credentials source: one bundle, renewed by ``refresh_credentials()``; counts calls."""

    def __init__(self, bundle: Credentials, renewed: Credentials | None = None) -> None:
        self.bundle = bundle
        self.renewed = renewed
        self.refreshes = 0
        self._lock = threading.Lock()

    def get_credentials(self) -> Credentials:
        with self._lock:
            return self.bundle

    def refresh_credentials(self) -> Credentials:
        with self._lock:
            self.refreshes += 1
            if self.renewed is not None:
                self.bundle = self.renewed
            return self.bundle


class Renewing(Bundled):
    refresh_margin = 60.0


def options(stub: StubServer, source: object, **more: Any) -> dict[str, Any]:
    return {"base_url": stub.url, "cookie_source": source, "retry_policy": FAST, **more}


def test_the_bundles_user_agent_and_headers_are_sent(kind: str, stub: StubServer) -> None:
    bundle = Credentials({"cf_clearance": SECRET}, user_agent=BROWSER_UA, headers={"x-b": "1"})

    reply = call(kind, options(stub, Bundled(bundle)), "Hi")

    assert reply.text == "Echo: Hi"
    (request,) = stub.requests
    assert request.headers["user-agent"] == BROWSER_UA
    assert request.headers["x-b"] == "1"
    assert request.cookies == {"cf_clearance": SECRET}


def test_an_explicit_user_agent_wins_with_one_warning(
    kind: str, stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = Credentials({"cf_clearance": SECRET}, user_agent=BROWSER_UA)
    source = Bundled(bundle)
    mine = {"User-Agent": "MyScript/1.0"}

    with caplog.at_level(logging.WARNING, logger="aichat"):
        call(kind, options(stub, source, headers=mine), "one")

    assert [r.headers["user-agent"] for r in stub.requests] == ["MyScript/1.0"]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert BROWSER_UA in warning
    assert "MyScript/1.0" in warning
    assert SECRET not in caplog.text


def test_the_warning_comes_once_per_client(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    from aichat_adapters import AichatClient

    bundle = Credentials({"cf_clearance": SECRET}, user_agent=BROWSER_UA)
    with (
        caplog.at_level(logging.WARNING, logger="aichat"),
        AichatClient(**options(stub, Bundled(bundle), headers={"user-agent": "Mine/1"})) as client,
    ):
        for _ in range(3):
            client.ask("Hi")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    ("earned", "client_proxy", "words"),
    [
        ("http://user:pw@proxy.example:3128", None, "earned through the proxy"),
        ("direct", "socks", "earned directly"),
    ],
)
def test_credentials_sent_another_way_than_earned_warn(
    kind: str,
    stub: StubServer,
    caplog: pytest.LogCaptureFixture,
    socks_proxy: Any,
    earned: str,
    client_proxy: str | None,
    words: str,
) -> None:
    bundle = Credentials({"cf_clearance": SECRET}, user_agent=BROWSER_UA, proxy=earned)
    more = {"proxy": socks_proxy.url} if client_proxy else {}

    with caplog.at_level(logging.WARNING, logger="aichat"):
        call(kind, options(stub, Bundled(bundle), **more), "Hi")

    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert words in warning
    assert "pw" not in warning  # a proxy's password is never shown
    assert len(stub.requests) == 1


def test_credentials_sent_the_way_they_were_earned_do_not_warn(
    kind: str, stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = Credentials({"cf_clearance": SECRET}, user_agent=BROWSER_UA, proxy="direct")

    with caplog.at_level(logging.WARNING, logger="aichat"):
        call(kind, options(stub, Bundled(bundle)), "Hi")

    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []


def test_credentials_about_to_expire_are_renewed_before_the_request(
    kind: str, stub: StubServer
) -> None:
    now = time.time()
    soon = Credentials({"cf_clearance": "old-" + SECRET}, expires={"cf_clearance": now + 20})
    fresh = Credentials({"cf_clearance": "new-" + SECRET}, expires={"cf_clearance": now + 3600})
    stub.require_cookies(dict(fresh.cookies))  # the old clearance would be challenged
    source = Renewing(soon, renewed=fresh)
    try:
        reply = call(kind, options(stub, source), "Hi")
    finally:
        stub.require_cookies(None)

    assert reply.attempts == 1  # the site never saw the expiring clearance
    assert source.refreshes == 1
    assert [r.cookies for r in stub.requests] == [dict(fresh.cookies)]


def test_credentials_far_from_expiry_are_not_renewed(kind: str, stub: StubServer) -> None:
    later = Credentials({"cf_clearance": SECRET}, expires={"cf_clearance": time.time() + 3600})
    source = Renewing(later)

    call(kind, options(stub, source), "Hi")

    assert source.refreshes == 0


def test_credentials_shows_what_the_next_call_would_send(kind: str, stub: StubServer) -> None:
    from aichat_adapters import AichatClient, AsyncAichatClient, CookiesNotFoundError

    bundle = Credentials({"cf_clearance": SECRET}, user_agent=BROWSER_UA)
    if kind == "sync":
        with AichatClient(**options(stub, Bundled(bundle))) as client:
            got = client.credentials()
        with pytest.raises(CookiesNotFoundError, match=r"no cookies for 127\.0\.0\.1"):
            AichatClient(**options(stub, Bundled(Credentials({})))).credentials()
    else:
        import anyio

        async def main() -> Credentials:
            async with AsyncAichatClient(**options(stub, Bundled(bundle))) as client:
                return await client.credentials()

        got = anyio.run(main, backend=kind)
    assert got == bundle
    assert SECRET not in repr(got)
    assert stub.requests == []  # nothing was sent


@pytest.mark.parametrize("kind", ["sync", "asyncio"])
@pytest.mark.parametrize(
    ("impersonate", "hints"), [(None, '"Google Chrome";v="131"'), ("chrome150", 'v="150"')]
)
def test_curl_shakes_hands_as_the_browser_the_bundle_names(
    kind: str, stub: StubServer, impersonate: str | None, hints: str
) -> None:
    from aichat_adapters import AsyncCurlTransport, CurlTransport

    chrome131 = BROWSER_UA.replace("Chrome/150", "Chrome/131")
    bundle = Credentials({"cf_clearance": SECRET}, user_agent=chrome131)
    curl = CurlTransport if kind == "sync" else AsyncCurlTransport
    more = {"transport": curl(impersonate=impersonate)}

    call(kind, {**options(stub, Bundled(bundle)), **more}, "Hi")

    (request,) = stub.requests
    assert request.headers["user-agent"] == chrome131  # the bundle's, on curl too
    assert hints in request.headers["sec-ch-ua"]  # the target it names, unless one was named


def test_a_har_exports_user_agent_is_the_one_sent(
    kind: str, stub: StubServer, tmp_path: Any
) -> None:
    import json

    from aichat_adapters import FileCookieSource

    har_agent = BROWSER_UA.replace("Chrome/150", "Chrome/149")
    entry = {
        "startedDateTime": "2026-11-30T10:00:00.000Z",
        "request": {
            "method": "GET",
            "url": f"{stub.url}/chat",
            "headers": [{"name": "User-Agent", "value": har_agent}],
            "cookies": [{"name": "cf_clearance", "value": SECRET}],
        },
        "response": {"status": 200, "headers": [], "cookies": []},
    }
    path = tmp_path / "site.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    source = FileCookieSource(path, domain="127.0.0.1")

    call(kind, {"base_url": stub.url, "cookie_source": source, "retry_policy": FAST}, "Hi")

    (request,) = stub.requests
    assert request.headers["user-agent"] == har_agent
    assert request.cookies == {"cf_clearance": SECRET}
