"""The test suite's SOCKS5 proxy (``tests/support/socks5.py``), driven with raw sockets."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from tests.support import Socks5Server


@pytest.fixture
def upper_server() -> Iterator[int]:
    """A TCP server on loopback that answers each connection's bytes upper-cased."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone would not
    listener.close()
    thread.join(5)


@pytest.fixture
def proxy() -> Iterator[Socks5Server]:
    with Socks5Server() as server:
        yield server


def open_proxy(proxy: Socks5Server, methods: bytes = b"\x00") -> socket.socket:
    port = int(proxy.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(bytes([5, len(methods)]) + methods)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def connect(proxy: Socks5Server, address: bytes, port: int, command: int = 1) -> socket.socket:
    """Negotiate no-auth and send a request; the reply is left to read."""
    sock = open_proxy(proxy)
    assert recv_exactly(sock, 2) == b"\x05\x00"
    sock.sendall(bytes([5, command, 0]) + address + struct.pack("!H", port))
    return sock


def ipv4(host: str) -> bytes:
    return b"\x01" + socket.inet_aton(host)


def domain(name: str) -> bytes:
    return b"\x03" + bytes([len(name)]) + name.encode()


def reply_code(sock: socket.socket) -> int:
    reply = recv_exactly(sock, 10)
    assert reply[0] == 5
    assert reply[3] == 1  # the bound address is IPv4
    return reply[1]


def test_url_is_a_socks5_loopback_url(proxy: Socks5Server) -> None:
    scheme, _, rest = proxy.url.partition("://")
    host, port = rest.rsplit(":", 1)
    assert (scheme, host) == ("socks5", "127.0.0.1")
    assert int(port) > 0


@pytest.mark.parametrize(
    "address", [ipv4("127.0.0.1"), domain("localhost")], ids=["ipv4", "domain"]
)
def test_connect_relays_bytes_both_ways(
    proxy: Socks5Server, upper_server: int, address: bytes
) -> None:
    with connect(proxy, address, upper_server) as sock:
        assert reply_code(sock) == 0
        sock.sendall(b"hello ")
        assert recv_exactly(sock, 6) == b"HELLO "
        sock.sendall(b"again")
        assert recv_exactly(sock, 5) == b"AGAIN"
        sock.shutdown(socket.SHUT_WR)  # the end travels through: the server closes, so do we
        assert sock.recv(10) == b""
    assert proxy.connects == 1
    host = "127.0.0.1" if address[0] == 1 else "localhost"
    assert proxy.targets == [(host, upper_server)]


def test_connects_are_counted(proxy: Socks5Server, upper_server: int) -> None:
    for n in range(3):
        with connect(proxy, ipv4("127.0.0.1"), upper_server) as sock:
            assert reply_code(sock) == 0
            sock.sendall(b"x")
            assert recv_exactly(sock, 1) == b"X"
        assert proxy.connects == n + 1


def test_a_closed_port_is_refused(proxy: Socks5Server) -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    with connect(proxy, ipv4("127.0.0.1"), port) as sock:
        assert reply_code(sock) == 5
        assert sock.recv(1) == b""
    assert proxy.connects == 0


@pytest.mark.parametrize(
    "address", [ipv4("192.0.2.1"), domain("example.com")], ids=["ipv4", "domain"]
)
def test_targets_off_this_machine_are_not_allowed(proxy: Socks5Server, address: bytes) -> None:
    with connect(proxy, address, 80) as sock:
        assert reply_code(sock) == 2
    assert proxy.connects == 0
    assert len(proxy.targets) == 1


def test_other_commands_are_not_supported(proxy: Socks5Server, upper_server: int) -> None:
    with connect(proxy, ipv4("127.0.0.1"), upper_server, command=2) as sock:  # BIND
        assert reply_code(sock) == 7
    assert proxy.connects == 0


def test_ipv6_targets_are_not_supported(proxy: Socks5Server) -> None:
    with connect(proxy, b"\x04" + socket.inet_pton(socket.AF_INET6, "::1"), 80) as sock:
        assert reply_code(sock) == 8


def test_a_client_without_the_no_auth_method_is_turned_away(proxy: Socks5Server) -> None:
    with open_proxy(proxy, methods=b"\x02") as sock:  # username/password only
        assert recv_exactly(sock, 2) == b"\x05\xff"
        assert sock.recv(1) == b""


def test_stop_closes_the_port_and_live_relays(upper_server: int) -> None:
    with Socks5Server() as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        sock = connect(proxy, ipv4("127.0.0.1"), upper_server)
        assert reply_code(sock) == 0
    with sock:
        assert sock.recv(1) == b""  # the relay was shut down
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(RuntimeError, match="not running"):
        _ = proxy.url
