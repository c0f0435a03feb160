"""BrowserClearance across processes and signals: save_to's lock, Ctrl-C, a proxy."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aichat_adapters.clearance import BrowserClearance
from aichat_adapters.stub import StubServer
from tests.support import Socks5Server, leftover_profiles, processes_naming
from tests.support.clearance import ask

pytestmark = pytest.mark.usefixtures("chromium")

ROOT = Path(__file__).resolve().parents[2]

# One process of a service: its source shares save_to, then it calls the stub once.
WORKER = """
import json, sys
from aichat_adapters.clearance import BrowserClearance
from tests.support.clearance import ask
url, path = sys.argv[1], sys.argv[2]
credentials = BrowserClearance(url=url, save_to=path, timeout=60).get_credentials()
print(json.dumps({"reply": ask(url, credentials).text, "agent": credentials.user_agent}))
"""

# Earns a clearance the gate never gives; the test interrupts it with Ctrl-C (SIGINT).
STUCK = """
import sys
from aichat_adapters.clearance import BrowserClearance
try:
    BrowserClearance(url=sys.argv[1], timeout=60).get_credentials()
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


# A process of the service that only reads the saved bundle: no browser at all.
READER = """
import sys
from aichat_adapters.cookies import FileCookieSource
from tests.support.clearance import ask
credentials = FileCookieSource(sys.argv[2], domain="127.0.0.1").get_credentials()
print(ask(sys.argv[1], credentials).text)
"""


def python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_cold_processes_sharing_save_to_cost_one_browser_run(
    challenge: StubServer, tmp_path: Path
) -> None:
    saved = tmp_path / "credentials.json"
    workers = [python(WORKER, challenge.url, str(saved)) for _ in range(4)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-2000:]
    answers = [json.loads(out) for out, _ in outputs]
    assert [answer["reply"] for answer in answers] == ["Echo: Hi"] * 4
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 1  # one browser run for the four
    assert {answer["agent"] for answer in answers} == set(challenge.challenge.user_agents)
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "credentials.json.lock").exists()


def test_a_new_process_reads_the_saved_bundle_with_no_browser(
    challenge: StubServer, tmp_path: Path, scratch: Path
) -> None:
    saved = tmp_path / "credentials.json"
    BrowserClearance(url=challenge.url, save_to=saved, timeout=30).get_credentials()
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    reader = python(READER, challenge.url, str(saved))
    out, err = reader.communicate(timeout=60)
    assert (reader.returncode, out) == (0, "Echo: Hi\n"), err[-2000:]
    assert challenge.challenge is not None
    assert challenge.challenge.issued == 1  # the reader ran no browser
    assert leftover_profiles(scratch) == []


def test_ctrl_c_in_a_sync_call_stops_the_browser(challenge: StubServer, scratch: Path) -> None:
    assert challenge.challenge is not None
    challenge.challenge.clearing = False
    stuck = python(STUCK, challenge.url)
    deadline = time.monotonic() + 60
    while challenge.challenge.refused == 0:  # the browser is on the page, solving
        assert stuck.poll() is None, stuck.communicate()[1][-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert processes_naming(scratch) != {}
    stuck.send_signal(signal.SIGINT)
    out, err = stuck.communicate(timeout=30)
    assert (stuck.returncode, out) == (130, "interrupted\n"), err[-2000:]
    assert processes_naming(scratch) == {}
    assert leftover_profiles(scratch) == []


def test_a_killed_process_takes_its_browser_with_it(challenge: StubServer, scratch: Path) -> None:
    assert challenge.challenge is not None
    challenge.challenge.clearing = False
    stuck = python(STUCK, challenge.url)
    deadline = time.monotonic() + 60
    while challenge.challenge.refused == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stuck.kill()  # SIGKILL: no clean-up runs; the browser is killed with its parent
    stuck.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while processes_naming(scratch) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_naming(scratch) == {}
    for profile in scratch.glob("aichat-clearance-*"):  # left on disk: nobody could remove it
        subprocess.run(["rm", "-rf", str(profile)], check=True)


def test_the_browser_goes_out_through_the_clients_proxy(challenge: StubServer) -> None:
    port = int(challenge.url.rsplit(":", 1)[1])
    with Socks5Server() as proxy:
        source = BrowserClearance(timeout=30).bind(base_url=challenge.url, proxy=proxy.url)
        credentials = source.get_credentials()
        assert ("127.0.0.1", port) in proxy.targets
        assert credentials.proxy == proxy.url
    assert ask(challenge.url, credentials).text == "Echo: Hi"


def test_aichat_browser_names_the_browser_before_path(
    challenge: StubServer, chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "used"
    wrapper = tmp_path / "my-browser"
    wrapper.write_text(f'#!/bin/sh\necho "$$" > {marker}\nexec {chromium} "$@"\n')
    wrapper.chmod(0o700)
    monkeypatch.setenv("AICHAT_BROWSER", str(wrapper))
    source = BrowserClearance(timeout=30).bind(base_url=challenge.url, proxy=None)
    assert ask(challenge.url, source.get_credentials()).text == "Echo: Hi"
    assert marker.read_text().strip().isdigit()
