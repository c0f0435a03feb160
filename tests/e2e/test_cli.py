"""The installed ``aichat`` entry point, run in a subprocess against the stub."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aichat_adapters.stub import Fault, StubServer

AICHAT = str(Path(sys.executable).parent / "aichat")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
    return subprocess.run(
        [AICHAT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        check=False,
    )


def test_ask_stub_goes_through_the_whole_stack() -> None:
    result = run("ask", "--stub", "Hello, how are you?")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hello, how are you?\n"


def test_ask_sends_options_to_base_url(stub: StubServer) -> None:
    result = run(
        "ask",
        "Hi there",
        "--base-url",
        stub.url,
        "--cookies",
        "session=abc; other=def",
        "--temperature",
        "0.2",
        "--top-p",
        "0.9",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hi there\n"
    [request] = stub.requests
    assert request.json == {
        "message": "Hi there",
        "temperature": 0.2,
        "presence_penalty": 0,
        "top_p": 0.9,
        "frequency_penalty": 0,
    }
    assert request.cookies == {"session": "abc", "other": "def"}


def test_cookies_from_the_environment(stub: StubServer) -> None:
    result = run("ask", "Hi", env={"AICHAT_BASE_URL": stub.url, "AICHAT_COOKIES": "sid=env"})

    assert result.returncode == 0, result.stderr
    assert stub.requests[0].cookies == {"sid": "env"}


@pytest.mark.parametrize(
    ("faults", "code", "error"),
    [
        pytest.param([Fault.challenge()], 3, "ChallengeError", id="challenge-3"),
        pytest.param([Fault.refuse("moderated")], 4, "ServiceError", id="refusal-4"),
        pytest.param([Fault.status(429)] * 2, 4, "RateLimitError", id="rate-limit-4"),
        pytest.param([Fault.malformed()], 1, "ResponseFormatError", id="other-1"),
        pytest.param([Fault.drop()] * 2, 5, "ConnectError", id="dropped-5"),
    ],
)
def test_errors_are_one_line_and_an_exit_code(
    stub: StubServer, faults: list[Fault], code: int, error: str
) -> None:
    stub.enqueue(*faults)

    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--max-retries", "1")

    assert result.returncode == code
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {error}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_invalid_input_exits_2_and_sends_nothing(stub: StubServer) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--temperature", "5")

    assert result.returncode == 2
    assert "temperature" in result.stderr
    assert stub.requests == []


def test_no_cookies_exits_3(stub: StubServer, tmp_path: Path) -> None:
    missing = tmp_path / "cookies.txt"
    result = run("ask", "Hi", "--base-url", stub.url, env={"AICHAT_COOKIES_FILE": str(missing)})

    assert result.returncode == 3
    assert "AICHAT_COOKIES" in result.stderr
    assert str(missing) in result.stderr
    assert stub.requests == []


def test_refused_connection_exits_5() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = run(
        "ask",
        "Hi",
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--cookies",
        "a=b",
        "--max-retries",
        "0",
    )

    assert result.returncode == 5
    assert "ConnectError" in result.stderr
