"""``aichat stub --challenge``: the challenge mode from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from aichat_adapters.stub._challenge import SOLVE_PATH
from tests.support import BODY, BROWSER, solve


def test_aichat_stub_challenge_from_the_command_line() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aichat_adapters",
            "stub",
            "--port",
            "0",
            "--challenge",
            "--challenge-bits",
            "4",
            "--clearance-max-age",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        with httpx.Client(base_url=url, headers={"user-agent": BROWSER}) as client:
            page = client.get("/")
            assert "bits = 4," in page.text
            solved = client.post(SOLVE_PATH, json=solve(page.text))
            assert "Max-Age=5;" in solved.headers["set-cookie"]
            assert json.loads(client.post("/api/text", json=BODY).text)["response"] is True
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_aichat_stub_challenge_refuses_another_host() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aichat_adapters", "stub", "--challenge", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "loopback" in done.stderr
    assert "Traceback" not in done.stderr
