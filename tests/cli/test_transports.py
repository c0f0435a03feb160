"""``aichat`` with --transport, --impersonate, --user-agent, --header and --save-cookies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aichat_adapters.stub import Fault, StubServer
from aichat_core import USER_AGENT
from tests.support import run

COOKIES = "session=cli-s3cr3t-value"


def service(stub: StubServer, *extra: str) -> list[str]:
    return ["--base-url", stub.url, "--cookies", COOKIES, "--max-retries", "0", *extra]


@pytest.mark.parametrize(
    ("flags", "ours"),
    [
        pytest.param([], True, id="default-httpx"),
        pytest.param(["--transport", "httpx"], True, id="httpx"),
        pytest.param(["--transport", "curl"], False, id="curl"),
        pytest.param(["--impersonate", "chrome131"], False, id="impersonate-implies-curl"),
    ],
)
def test_ask_over_each_transport(stub: StubServer, flags: list[str], ours: bool) -> None:
    done = run("ask", *service(stub, *flags), "Hi")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: Hi\n"
    [request] = stub.requests
    assert request.cookies == {"session": "cli-s3cr3t-value"}
    assert (request.headers.get("user-agent") == USER_AGENT) is ours
    if not ours:  # curl sends the impersonated browser's own header set
        assert "Chrome/" in request.headers["user-agent"]
        assert "sec-ch-ua" in request.headers


def test_user_agent_and_headers_win(stub: StubServer) -> None:
    done = run(
        "ask",
        *service(stub, "--impersonate", "chrome"),
        "--user-agent",
        "MyBrowser/1.0",
        "--header",
        "X-Trace: abc 123",
        "--header",
        "accept: text/plain",
        "Hi",
    )

    assert done.returncode == 0, done.stderr
    [request] = stub.requests
    assert request.headers["user-agent"] == "MyBrowser/1.0"
    assert request.headers["x-trace"] == "abc 123"
    assert request.headers["accept"] == "text/plain"


@pytest.mark.parametrize("transport", ["httpx", "curl", "aiohttp"])
def test_batch_over_each_transport(stub: StubServer, tmp_path: Path, transport: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": n, "prompt": f"p{n}"}) + "\n" for n in range(6)))
    output = tmp_path / "out.jsonl"

    done = run("batch", str(source), "-o", str(output), *service(stub, "--transport", transport))

    assert done.returncode == 0, done.stderr
    answers = sorted(json.loads(line)["reply"] for line in output.read_text().splitlines())
    assert answers == sorted(f"Echo: p{n}" for n in range(6))
    assert len(stub.requests) == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["ask", "--transport", "aiohttp", "Hi"], "--transport aiohttp is async only", id="ask"
        ),
        pytest.param(
            ["ask", "--transport", "httpx", "--impersonate", "chrome", "Hi"],
            "--impersonate needs --transport curl",
            id="impersonate-with-httpx",
        ),
        pytest.param(["ask", "--header", "no colon", "Hi"], "--header takes", id="bad-header"),
        pytest.param(
            ["ask", "--header", "X-A: caf\u00e9", "Hi"], "header 'x-a'", id="non-ascii-header"
        ),
        pytest.param(
            ["ask", "--impersonate", "netscape4", "Hi"], "cannot impersonate", id="target"
        ),
        pytest.param(["ask", "--transport", "carrier-pigeon", "Hi"], "carrier-pigeon", id="choice"),
    ],
)
def test_bad_transport_options_exit_2_with_one_line(
    stub: StubServer, args: list[str], message: str
) -> None:
    command, *rest = args
    done = run(command, *service(stub), *rest)

    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert stub.requests == []


NETSCAPE = (
    "# Netscape HTTP Cookie File\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\told-s3cr3t-value\n"
    ".example.com\tTRUE\t/\tFALSE\t0\tkeep\tother-site-value\n"
)


def test_save_cookies_writes_rotated_cookies_back(stub: StubServer, tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE)
    path.chmod(0o600)
    stub.enqueue(Fault.set_cookie("session=new-s3cr3t-value; Path=/"))
    args = ["--base-url", stub.url, "--cookies-file", str(path), "--save-cookies"]

    first = run("ask", *args, "one")
    second = run("ask", "--base-url", stub.url, "--cookies-file", str(path), "two")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert [r.cookies for r in stub.requests] == [
        {"session": "old-s3cr3t-value"},
        {"session": "new-s3cr3t-value"},  # read back from the file by a new process
    ]
    assert "keep\tother-site-value" in path.read_text()
    assert "new-s3cr3t-value" not in first.stderr + first.stdout


def test_save_cookies_needs_a_cookies_file(stub: StubServer) -> None:
    done = run("ask", "--base-url", stub.url, "--cookies", COOKIES, "--save-cookies", "Hi")

    assert done.returncode == 2
    assert "--save-cookies saves to the cookies file" in done.stderr
    assert stub.requests == []


def test_without_save_cookies_the_file_is_left_alone(stub: StubServer, tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE)
    path.chmod(0o600)
    stub.enqueue(Fault.set_cookie("session=new-s3cr3t-value"))

    done = run("ask", "--base-url", stub.url, "--cookies-file", str(path), "Hi")

    assert done.returncode == 0, done.stderr
    assert path.read_text() == NETSCAPE
