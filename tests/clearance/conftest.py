"""Fixtures of the clearance tests: a challenge stub, a real Chromium, and nothing left behind.

Every test gets a temporary folder of its own as the system's temporary
folder (``tempfile.tempdir`` and ``TMPDIR`` for subprocesses), so the browser
profiles it makes are found there, and only there: after the test, no
process may name that folder (a browser or its crash handler) and no
profile may be left in it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_adapters.clearance import find_browser
from aichat_adapters.stub import StubServer
from aichat_core import CookiesNotFoundError

from .helpers import leftover_profiles, processes_naming


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser the tests run; without one, they fail saying how to install it."""
    try:
        return find_browser(None)
    except CookiesNotFoundError as error:
        pytest.fail(f"the clearance tests need Chromium on this machine: {error}", pytrace=False)


@pytest.fixture(scope="session")
def challenge_server() -> Iterator[StubServer]:
    with StubServer(challenge=True) as server:
        yield server


@pytest.fixture
def challenge(challenge_server: StubServer) -> StubServer:
    """The stub in challenge mode: no clearance issued yet, no request recorded."""
    challenge_server.reset()
    return challenge_server


@pytest.fixture(autouse=True)
def scratch(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The test's temporary folder; afterwards no browser process or profile is left in it.

    A short path in /tmp: Chromium aborts when its socket's path in the
    temporary folder is too long (pytest's tmp_path is).
    """
    tmp_path_factory.getbasetemp()  # pytest's own folder is found before the patch
    folder = Path(tempfile.mkdtemp(prefix="aichat-test-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    try:
        yield folder
        assert processes_naming(folder) == {}, "browser processes were left running"
        assert leftover_profiles(folder) == [], "browser profiles were left behind"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
