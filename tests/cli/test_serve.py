"""``aichat serve`` as a process against the stub: start, curl, keys, SIGTERM, refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest

from aichat_adapters.stub import Fault, StubServer
from tests.support import COOKIES, KEY, process, serve_env

CURL = "/usr/bin/curl"


def site(stub: StubServer, *more: str) -> list[str]:
    cookies = "; ".join(f"{name}={value}" for name, value in COOKIES.items())
    return ["--base-url", stub.url, "--cookies", cookies, "--max-retries", "0", *more]


def test_openai_through_the_command_and_one_log_line_per_request(stub: StubServer) -> None:
    with process(*site(stub), env=serve_env(AICHAT_SERVE_API_KEY=KEY)) as server:
        api = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
        answer = api.chat.completions.create(
            model="aichat", messages=[{"role": "user", "content": "top secret prompt"}]
        )
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=server.url, api_key="wrong-one", max_retries=0).models.list()
        code, err = server.stop()
    assert answer.choices[0].message.content == "Echo: top secret prompt"
    assert code == 0
    lines = [line for line in err.splitlines() if '"' in line]
    assert len(lines) == 2
    assert '"POST /v1/chat/completions" 200 ' in lines[0]
    assert '"GET /v1/models" 401 ' in lines[1]
    assert err.splitlines()[-1] == "aichat serve: stopped"
    for secret in (KEY, "wrong-one", "top secret", *COOKIES.values()):
        assert secret not in err
    assert "Traceback" not in err


def test_curl_reads_the_stream(stub: StubServer) -> None:
    assert shutil.which(CURL) == CURL or os.access(CURL, os.X_OK), (
        f"this test needs curl at {CURL} (apt-get install curl)"
    )
    body = '{"model": "aichat", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}'
    with process(*site(stub)) as server:
        done = subprocess.run(
            [
                CURL,
                "-sS",
                "-N",
                "--max-time",
                "20",
                f"{server.url}/chat/completions",
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert done.returncode == 0, done.stderr
    events = done.stdout.split("\n\n")
    assert events[-1] == ""
    assert events[-2] == "data: [DONE]"
    assert all(event.startswith("data: {") for event in events[:-2])
    assert '"delta":{"role":"assistant","content":""}' in events[0]
    assert '"delta":{"content":"Echo: Hi"}' in events[1]
    assert '"finish_reason":"stop"' in events[2]
    assert len(events) == 5


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_a_non_loopback_bind_without_a_key_exits_2(host: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aichat_adapters", "serve", "--host", host, "--port", "0"],
        capture_output=True,
        text=True,
        env=serve_env(AICHAT_SERVE_API_KEY=""),
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: --host {host} listens beyond this machine")
    assert "--api-key" in line
    assert "AICHAT_SERVE_API_KEY" in line


@pytest.mark.parametrize(
    "args",
    [["--cors-origin", "*"], ["--allow-host", "a b"], ["--concurrency", "0"], ["--model", "a b"]],
)
def test_bad_options_exit_2_in_one_line(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aichat_adapters", "serve", "--port", "0", "--stub", *args],
        capture_output=True,
        text=True,
        env=serve_env(),
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")


def test_sigterm_answers_the_calls_in_flight_then_exits_0(stub: StubServer) -> None:
    calls = 5
    stub.enqueue(*[Fault.delay(1.0)] * calls)
    results: list[httpx.Response] = []
    with process(*site(stub, "--timeout", "10")) as server:

        def one(i: int) -> None:
            chat = {"messages": [{"role": "user", "content": f"p{i}"}]}
            results.append(httpx.post(f"{server.url}/chat/completions", json=chat, timeout=30))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(calls)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while stub.in_flight < calls:
            assert time.monotonic() < deadline, "the calls did not reach the site"
            time.sleep(0.01)
        started = time.monotonic()
        code, err = server.stop()
        stopped_in = time.monotonic() - started
        for thread in threads:
            thread.join(10)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/models")
    assert code == 0
    assert sorted(r.json()["choices"][0]["message"]["content"] for r in results) == [
        f"Echo: p{i}" for i in range(calls)
    ]
    assert stopped_in < 10 + 2  # bounded by --timeout
    assert err.splitlines()[-1] == "aichat serve: stopped"
    assert "Traceback" not in err


def _peak_rss(pid: int) -> int:
    """A process's peak resident memory (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_a_32_mib_body_is_refused_unread_and_the_server_keeps_serving(stub: StubServer) -> None:
    body = b'{"messages": [{"role": "user", "content": "' + b"a" * (32 << 20) + b'"}]}'
    with process(*site(stub)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/models").status_code == 200
        before = _peak_rss(server.proc.pid)
        started = time.monotonic()
        refused = http.post(
            "/chat/completions", content=body, headers={"content-type": "application/json"}
        )
        took = time.monotonic() - started
        grew = _peak_rss(server.proc.pid) - before
        chat = {"messages": [{"role": "user", "content": "still there?"}]}
        answered = http.post("/chat/completions", json=chat)
    assert refused.status_code == 413
    assert took < 10  # a hang bound, not a speed claim
    assert grew < 8 << 20  # the body was never held: 32 MiB would show
    assert answered.json()["choices"][0]["message"]["content"] == "Echo: still there?"
    print(
        f"\n32 MiB body: 413 in {took * 1000:.0f} ms; the server peak memory grew {grew >> 10} KiB"
    )
