"""A tiny threaded SOCKS5 proxy for tests (RFC 1928: no authentication, CONNECT only).

It listens on a free loopback port and relays bytes both ways. It connects only
to this machine: an IPv4 loopback address or ``localhost``; any other target is
refused with reply 2 ("not allowed by ruleset") without resolving or connecting.

    with Socks5Server() as proxy:
        ...  # proxy.url == "socks5://127.0.0.1:PORT"; proxy.connects counts CONNECTs
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

__all__ = ["Socks5Server"]

VERSION = 5
NO_AUTH = 0
NO_ACCEPTABLE_METHOD = 0xFF
CONNECT = 1
IPV4, DOMAIN, IPV6 = 1, 3, 4

SUCCEEDED = 0
GENERAL_FAILURE = 1
NOT_ALLOWED = 2
REFUSED = 5
COMMAND_NOT_SUPPORTED = 7
ADDRESS_NOT_SUPPORTED = 8

_TIMEOUT = 10.0


class Socks5Server:
    """A SOCKS5 proxy on ``127.0.0.1`` and a free port, serving from daemon threads.

    Attributes:
        targets: ``(host, port)`` of every CONNECT request, allowed or not, in order.
    """

    def __init__(self) -> None:
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._connects = 0
        self.targets: list[tuple[str, int]] = []

    @property
    def url(self) -> str:
        """The proxy URL, ``socks5://127.0.0.1:PORT``."""
        if self._listener is None:
            raise RuntimeError("the SOCKS5 server is not running")
        host, port = self._listener.getsockname()
        return f"socks5://{host}:{port}"

    @property
    def connects(self) -> int:
        """How many CONNECT requests were relayed (the target accepted the connection)."""
        with self._lock:
            return self._connects

    def start(self) -> None:
        """Listen and accept in a daemon thread."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        self._listener = listener
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        """Stop listening, close every relayed connection and wait for the threads."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone may not.
            _shutdown(listener, socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock, socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(_TIMEOUT)

    def __enter__(self) -> Socks5Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            self._track(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            client.settimeout(_TIMEOUT)
            upstream = self._handshake(client)
            if upstream is None:
                return
            client.settimeout(None)
            upstream.settimeout(None)
            pump = threading.Thread(target=_relay, args=(upstream, client), daemon=True)
            pump.start()
            _relay(client, upstream)
            pump.join()
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()
                    with self._lock:
                        self._sockets.discard(sock)

    def _handshake(self, client: socket.socket) -> socket.socket | None:
        """Negotiate and CONNECT; the upstream socket, or ``None`` after a refusal."""
        version, count = _read(client, 2)
        methods = _read(client, count)
        if version != VERSION or NO_AUTH not in methods:
            client.sendall(bytes([VERSION, NO_ACCEPTABLE_METHOD]))
            return None
        client.sendall(bytes([VERSION, NO_AUTH]))
        version, command, _, kind = _read(client, 4)
        if kind == IPV4:
            host = socket.inet_ntoa(_read(client, 4))
        elif kind == DOMAIN:
            host = _read(client, _read(client, 1)[0]).decode("ascii", "replace")
        elif kind == IPV6:
            _read(client, 16 + 2)
            _reply(client, ADDRESS_NOT_SUPPORTED)
            return None
        else:
            _reply(client, GENERAL_FAILURE)
            return None
        (port,) = struct.unpack("!H", _read(client, 2))
        with self._lock:
            self.targets.append((host, port))
        if version != VERSION or command != CONNECT:
            _reply(client, COMMAND_NOT_SUPPORTED)
            return None
        if not _is_local(host):
            _reply(client, NOT_ALLOWED)
            return None
        try:
            upstream = socket.create_connection(
                ("127.0.0.1" if host == "localhost" else host, port), timeout=_TIMEOUT
            )
        except OSError:
            _reply(client, REFUSED)
            return None
        self._track(upstream)
        with self._lock:
            self._connects += 1
        bound_host, bound_port = upstream.getsockname()[:2]
        _reply(client, SUCCEEDED, socket.inet_aton(bound_host), bound_port)
        return upstream


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return address.is_loopback


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection during the handshake")
        data += chunk
    return data


def _reply(client: socket.socket, code: int, address: bytes = b"\0\0\0\0", port: int = 0) -> None:
    client.sendall(bytes([VERSION, code, 0, IPV4]) + address + struct.pack("!H", port))


def _relay(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until ``source`` ends, then end ``target``'s writing side."""
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        _shutdown(target, socket.SHUT_WR)


def _shutdown(sock: socket.socket, how: int) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(how)
