"""What the library reads from the environment, shown in fresh processes against the stub."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import pytest

import aichat_adapters
from aichat_adapters.stub import Fault, StubServer

SECRET = "env-s3cr3t-cookie-value"
APP = textwrap.dedent(
    """
    from aichat_adapters import AichatClient
    with AichatClient(max_retries=1) as client:  # no base_url, no cookies: all from the env
        print(client.ask("from the app"))
    """
)


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_aichat_base_url_and_cookies_come_from_the_environment(stub: StubServer) -> None:
    done = run(APP, AICHAT_BASE_URL=stub.url, AICHAT_COOKIES=f"session={SECRET}")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: from the app\n"
    assert [r.cookies for r in stub.requests] == [{"session": SECRET}]


@pytest.mark.parametrize("level", ["debug", "info", "DEBUG"])
def test_aichat_log_logs_one_line_per_attempt_and_never_a_cookie(
    stub: StubServer, level: str
) -> None:
    stub.enqueue(Fault.status(503, retry_after=0), Fault.set_cookie(f"session={SECRET}-2"))
    done = run(APP, AICHAT_BASE_URL=stub.url, AICHAT_COOKIES=f"session={SECRET}", AICHAT_LOG=level)

    assert done.returncode == 0, done.stderr
    attempts = [line for line in done.stderr.splitlines() if "POST " in line]
    assert len(attempts) == 2  # one line per attempt
    assert f"POST {stub.url}/api/text -> 503 in " in attempts[0]
    assert f"POST {stub.url}/api/text -> 200 in " in attempts[1]
    assert attempts[1].endswith(" ms")
    assert "retrying" in done.stderr
    assert SECRET not in done.stderr
    if level.lower() == "debug":
        assert "cookies set by 127.0.0.1: ['session']" in done.stderr  # names, not values


def test_nothing_is_logged_without_aichat_log(stub: StubServer) -> None:
    stub.enqueue(Fault.status(503, retry_after=0))
    done = run(APP, AICHAT_BASE_URL=stub.url, AICHAT_COOKIES=f"session={SECRET}")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_httpcore_debug_lines_hide_cookie_values(stub: StubServer) -> None:
    stub.enqueue(Fault.set_cookie(f"session={SECRET}-2"))
    code = "import logging; logging.basicConfig(level=logging.DEBUG)\n" + APP
    done = run(code, AICHAT_BASE_URL=stub.url, AICHAT_COOKIES=f"session={SECRET}")

    assert done.returncode == 0, done.stderr
    assert "receive_response_headers.complete" in done.stderr  # httpcore did log headers
    assert "(b'set-cookie', b'<hidden>')" in done.stderr
    assert SECRET not in done.stderr


def test_aichat_proxy_is_used_by_the_built_in_transport(stub: StubServer) -> None:
    done = run(
        APP, AICHAT_BASE_URL=stub.url, AICHAT_COOKIES="a=b", AICHAT_PROXY="http://127.0.0.1:9"
    )

    assert done.returncode != 0  # nothing listens on port 9: the proxy was really used
    assert "ConnectError" in done.stderr
    assert "Traceback" in done.stderr  # (an app's own uncaught error, not the CLI)
    assert stub.requests == []


def test_version_is_the_installed_distributions() -> None:
    assert aichat_adapters.__version__ == importlib.metadata.version("aichat-client")


def test_importing_the_package_loads_no_optional_part() -> None:
    code = (
        "import sys, aichat_adapters\n"
        "heavy = ['httpx', 'httpcore', 'tenacity', 'anyio', 'asyncio', 'trio', 'curl_cffi',\n"
        "         'aiohttp', 'rookiepy', 'uvicorn', 'aichat_adapters.cookies',\n"
        "         'aichat_adapters.cli']\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
        "from aichat_adapters import AichatClient\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    done = run(code)

    assert done.returncode == 0, done.stderr
    bare, client = done.stdout.splitlines()
    assert bare == "[]"
    assert client == "['httpx']"  # tenacity only once a call fails; the rest when used
