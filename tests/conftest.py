"""Shared fixtures: the anyio backends, the one stub server of the session, the client kinds,
recorded waits, a SOCKS5 proxy, and the clearance tests' challenge stub, Chromium and scratch
folder. What they are built on is in ``tests/support``."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aichat_adapters import Reply
from aichat_adapters.clearance import find_browser
from aichat_adapters.stub import StubServer
from aichat_core import CookiesNotFoundError
from tests.support import (
    KINDS,
    Complete,
    Socks5Server,
    Waits,
    call,
    leftover_profiles,
    options_for,
    processes_naming,
    wait_for,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test on asyncio and on trio."""
    return str(request.param)


@pytest.fixture(scope="session")
def stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def stub(stub_server: StubServer) -> StubServer:
    """The session's stub server: done with earlier tests' requests, an empty script, no records.

    A request still in flight is one whose client has just gone: the stub sees
    that within moments.
    """
    wait_for(lambda: stub_server.in_flight == 0)
    stub_server.reset()
    return stub_server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Which client runs the test."""
    return str(request.param)


@pytest.fixture
def complete(kind: str, stub: StubServer) -> Complete:
    """``complete(messages, client={...options}, **params)`` through a fresh client of ``kind``."""

    def run(messages: Any, *, client: dict[str, Any] | None = None, **params: Any) -> Reply:
        return call(kind, options_for(stub, **(client or {})), messages, **params)

    return run


@pytest.fixture
def waits() -> Waits:
    """Waits recorded instead of slept: ``waits.attach(client)``, or ``call(..., waits=waits)``."""
    return Waits()


@pytest.fixture
def socks_proxy() -> Iterator[Socks5Server]:
    """A SOCKS5 proxy on loopback (no auth; CONNECT to this machine only).

    ``.url`` is ``socks5://127.0.0.1:PORT``; ``.connects`` counts the relayed CONNECTs.
    """
    with Socks5Server() as proxy:
        yield proxy


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


@pytest.fixture
def scratch(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The test's temporary folder; afterwards no browser process or profile is left in it.

    The system's temporary folder (``tempfile.tempdir`` and ``TMPDIR`` for
    subprocesses) for the test's duration, so the browser profiles it makes
    are found there, and only there. A short path in /tmp: Chromium aborts
    when its socket's path in the temporary folder is too long (pytest's
    tmp_path is).
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
