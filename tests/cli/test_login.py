"""``aichat login`` and ``--clearance``, run as a user runs them, against the challenge stub."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from aichat_adapters.clearance import BrowserClearance
from aichat_adapters.stub import StubServer
from tests.support import FakeFlareSolverr
from tests.support import run as aichat
from tests.support.flaresolverr import USER_AGENT

pytestmark = pytest.mark.usefixtures("scratch")  # no browser process or profile left behind

WAIT = 120.0
"""Upper bound, in seconds, of a command that may start a browser."""


def run(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``aichat ARGS`` with an empty home and no ``AICHAT_*`` variable but ``env``."""
    return aichat(*args, env={"HOME": str(home), **env}, timeout=WAIT)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_login_saves_a_private_bundle_and_prints_no_value(
    chromium: str, challenge: StubServer, home: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "credentials.json"
    result = run("login", "--url", challenge.url + "/", "--save", str(saved), home=home)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    bundle = json.loads(saved.read_text())
    value = next(c["value"] for c in bundle["cookies"] if c["name"] == "cf_clearance")
    agent = bundle["user_agent"]
    assert value not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"saved the credentials for 127.0.0.1 to {saved} (mode 0600)"
    assert lines[1] == "  cookies:    cf_clearance"
    assert lines[2] == f"  user agent: {agent}"
    assert "Headless" not in agent
    assert lines[3].startswith("  cf_clearance: expires ")
    assert lines[3].endswith("(in 30 minutes)")
    assert challenge.challenge is not None
    assert challenge.challenge.user_agents == [agent]
    # The bundle passes the challenge from aichat ask, through curl: the client sends the
    # bundle's User-Agent by itself (issue 14).
    asked = run(
        "ask",
        "--base-url",
        challenge.url,
        "--cookies-file",
        str(saved),
        "--transport",
        "curl",
        "Hi",
        home=home,
    )
    assert (asked.returncode, asked.stdout) == (0, "Echo: Hi\n"), asked.stderr
    assert challenge.requests[-1].headers["user-agent"] == agent


def test_login_saves_beside_the_cookies_file_by_default(
    chromium: str, challenge: StubServer, home: Path
) -> None:
    result = run("login", home=home, AICHAT_BASE_URL=challenge.url)
    assert result.returncode == 0, result.stderr
    saved = home / ".config" / "aichat" / "credentials.json"
    assert f"to {saved} (mode 0600)" in result.stdout
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert "cf_clearance" in json.loads(saved.read_text())["cookies"][0]["name"]


def test_clearance_browser_earns_once_and_saves_for_the_next_run(
    chromium: str, challenge: StubServer, home: Path
) -> None:
    assert BrowserClearance(url=challenge.url).get_credentials().user_agent is not None
    args = ("ask", "--base-url", challenge.url, "--clearance", "browser")
    first = run(*args, "Hi", home=home)
    assert (first.returncode, first.stdout) == (0, "Echo: Hi\n"), first.stderr
    saved = home / ".config" / "aichat" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    second = run(*args, "Again", home=home)
    assert (second.returncode, second.stdout) == (0, "Echo: Again\n"), second.stderr
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 2  # the test's own run, then one for both commands


def test_clearance_flaresolverr(challenge: StubServer, home: Path) -> None:
    with FakeFlareSolverr() as fake:
        result = run(
            "ask",
            "--base-url",
            challenge.url,
            "--clearance",
            "flaresolverr",
            "--flaresolverr-url",
            fake.endpoint,
            "Hi",
            home=home,
        )
    assert (result.returncode, result.stdout) == (0, "Echo: Hi\n"), result.stderr
    assert challenge.requests[-1].headers["user-agent"] == USER_AGENT
    assert [request["url"] for request in fake.requests] == [challenge.url + "/"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("login", "--show"), 2, "needs a display"),
        (("login", "--browser-path", "/nonexistent/chromium"), 3, "apt-get install chromium"),
        (("login", "--url", "chat-gpt.org"), 2, "url must be an http(s) URL"),
        (("login", "--save", "/proc/credentials.json"), 2, "cannot write the credentials to"),
        (("ask", "--clearance", "browser", "--stub", "Hi"), 2, "aichat stub --challenge"),
        (("ask", "--clearance", "browser", "--cookies", "a=b", "Hi"), 2, "give only one"),
        (("ask", "--flaresolverr-url", "http://127.0.0.1:1/v1", "Hi"), 2, "give both"),
        (
            (
                *("ask", "--clearance", "flaresolverr"),
                *(
                    "--flaresolverr-url",
                    "http://127.0.0.1:1/v1",
                    "--base-url",
                    "http://127.0.0.1:1",
                ),
                "Hi",
            ),
            5,
            "FlareSolverr is not reachable at http://127.0.0.1:1/v1 (connection refused)",
        ),
    ],
)
def test_failures_are_one_line_with_the_documented_code(
    args: tuple[str, ...], code: int, words: str, home: Path
) -> None:
    env = dict.fromkeys(("DISPLAY", "WAYLAND_DISPLAY"), "")
    result = run(*args, home=home, **env)
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_login_help_shows_the_exit_codes(home: Path) -> None:
    result = run("login", "--help", home=home)
    assert result.returncode == 0
    for line in ("0    success", "2    usage", "3    cookies", "5    network"):
        assert line in result.stdout
    top = run("--help", home=home).stdout
    assert "  login " in top
