"""``aichat serve --clearance browser``: an OpenAI client reaches a challenged site, the
clearance earned by a real Chromium and renewed when the site revokes it."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from aichat_adapters.stub import StubServer
from tests.support.serve import KEY, process, serve_env

pytestmark = pytest.mark.usefixtures("chromium")


def test_an_openai_client_through_serve_with_a_browser_clearance(
    challenge: StubServer, tmp_path: Path
) -> None:
    args = ("--base-url", challenge.url, "--clearance", "browser", "--max-retries", "0")
    env = serve_env(HOME=str(tmp_path), AICHAT_SERVE_API_KEY=KEY)
    with process(*args, env=env) as server:
        api = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, timeout=90)
        first = api.chat.completions.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": "one"}]
        )
        assert challenge.challenge is not None
        challenge.challenge.revoke()
        second = api.chat.completions.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": "two"}]
        )
        health = httpx.get(
            server.url.removesuffix("/v1") + "/health", headers={"authorization": f"Bearer {KEY}"}
        ).json()
        code, err = server.stop()

    assert first.choices[0].message.content == "Echo: one"
    assert second.choices[0].message.content == "Echo: two"  # revoked, earned again, replayed
    assert challenge.challenge.issued == 2
    (agent,) = set(challenge.challenge.user_agents)
    assert "Headless" not in agent
    assert health["credentials"]["user_agent"] == agent
    assert health["credentials"]["cookies"] == ["cf_clearance"]
    assert code == 0
    assert "Traceback" not in err
