"""Leak checks for end-to-end tests: this process's open file descriptors, and the stub's load.

The stub server runs in this process too, so its side of a connection closes
a moment after the client's: ``settle`` waits (up to a few seconds) for the
numbers to hold still. ``client_fd_count`` needs no wait: it leaves the
servers' own sockets out, and counts what the client side holds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from aichat_adapters.stub import StubServer

__all__ = ["SETTLE", "client_fd_count", "fd_count", "open_fds", "settle", "wait_for"]

SETTLE = 5.0
"""Upper bound, in seconds, of every wait for connections to close."""

_FDS = "/proc/self/fd"


def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what each points at (sockets, files...)."""
    fds: dict[int, str] = {}
    for name in os.listdir(_FDS):
        try:
            fds[int(name)] = os.readlink(f"{_FDS}/{name}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return fds


def fd_count() -> int:
    """How many file descriptors this process has open."""
    return len(open_fds())


def client_fd_count(*servers: StubServer) -> int:
    """How many file descriptors this process has open, the ``servers``' sockets aside.

    A server's sockets are those bound to its port: the listening one and its
    side of each connection (``/proc/self/net/tcp``). What is left is the
    clients' side (their sockets, event loops, pipes) and everything else.
    """
    ports = {int(server.url.rsplit(":", 1)[1]) for server in servers}
    theirs = _socket_inodes_on(ports)
    return sum(1 for target in open_fds().values() if target not in theirs)


def _socket_inodes_on(ports: set[int]) -> set[str]:
    """``socket:[INODE]`` of every TCP socket (IPv4 or IPv6) whose local port is in ``ports``."""
    found = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table, encoding="ascii") as file:
                rows = file.read().splitlines()[1:]
        except OSError:  # no IPv6 on this machine
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) in ports:
                found.add(f"socket:[{fields[9]}]")
    return found


def wait_for(condition: Callable[[], bool], timeout: float = SETTLE) -> bool:
    """Poll ``condition`` until it holds (``True``) or ``timeout`` seconds pass (``False``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def settle(stub: StubServer, quiet: float = 0.2) -> int:
    """Wait until the stub handles nothing and the descriptor count holds still; the count."""
    wait_for(lambda: stub.in_flight == 0)
    count = fd_count()
    deadline = time.monotonic() + SETTLE
    still_since = time.monotonic()
    while time.monotonic() - still_since < quiet and time.monotonic() < deadline:
        time.sleep(0.01)
        now = fd_count()
        if now != count:
            count, still_since = now, time.monotonic()
    return count
