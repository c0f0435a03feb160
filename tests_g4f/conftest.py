"""g4f 8.x kept off the network and out of the home folder; one stub server over loopback.

At its first ``ChatCompletion.create`` g4f starts a thread that asks PyPI for its
latest version (``g4f.debug.version_check``), and every completion appends a
usage line under its config folder (``G4F_CONFIG_DIR``). Both are switched
away with g4f's own settings before any test runs, and a guard makes any
connection outside loopback fail the test.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aichat_adapters.stub import StubServer

_G4F_HOME: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Before g4f is imported: its config folder in a temporary one, no version check."""
    home = Path(tempfile.mkdtemp(prefix="aichat-g4f-"))
    _G4F_HOME.append(home)
    os.environ["G4F_CONFIG_DIR"] = str(home)
    os.environ["G4F_CACHE_DIR"] = str(home / "cache")
    import g4f.debug

    g4f.debug.version_check = False


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _G4F_HOME:
        shutil.rmtree(home, ignore_errors=True)


def is_loopback(host: object) -> bool:
    """Whether a host, as given to ``connect`` or ``getaddrinfo``, stays on this machine."""
    if host is None or host == "localhost":
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse, and fail the test on, any connection or name look-up outside loopback."""
    attempts: list[str] = []
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex
    getaddrinfo = socket.getaddrinfo

    def refuse(what: str, host: object) -> None:
        attempts.append(f"{what} {host!r}")
        raise OSError(f"test guard: no network outside loopback ({what} {host!r})")

    def address_host(address: Any) -> object:
        return address[0] if isinstance(address, tuple) else address

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(
            address_host(address)
        ):
            refuse("connect", address_host(address))
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(
            address_host(address)
        ):
            refuse("connect_ex", address_host(address))
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            refuse("getaddrinfo", host)
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert attempts == [], f"the test tried to leave loopback: {attempts}"


@pytest.fixture
def anyio_backend() -> str:
    """g4f's ``AsyncClient`` is asyncio code (trio runs it, but warns on g4f's generators)."""
    return "asyncio"


@pytest.fixture(scope="session")
def stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def stub(stub_server: StubServer) -> StubServer:
    """The shared stub server, with an empty script and no records."""
    stub_server.reset()
    return stub_server
