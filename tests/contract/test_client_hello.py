"""The TLS ClientHello of each transport: a browser's (GREASE) for curl, Python's for the rest.

Cloudflare binds ``cf_clearance`` to the TLS fingerprint. A plain TCP listener
on loopback reads the first TLS record a transport sends to
``https://127.0.0.1:PORT``, then hangs up; the record is parsed field by field.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from types import TracebackType

import attrs
import pytest

from aichat_adapters import TransportError
from aichat_adapters.stub import StubServer

from .rows import Row, options_for

HANDSHAKE = 22
CLIENT_HELLO = 1
TLS_AES_128_GCM_SHA256 = 0x1301
GREASE = frozenset((n << 12) | 0x0A00 | (n << 4) | 0x0A for n in range(16))
"""RFC 8701's reserved values: 0x0a0a, 0x1a1a, ... 0xfafa."""


@attrs.frozen
class ClientHello:
    """The fields of a ClientHello this test reads."""

    record_version: int
    version: int
    random: bytes
    session_id: bytes
    ciphers: tuple[int, ...]
    extensions: tuple[int, ...]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise ValueError(f"truncated: {size} bytes wanted at {self.at} of {len(self.data)}")
        part = self.data[self.at : self.at + size]
        self.at += size
        return part

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.number(length_size))


def parse_client_hello(record: bytes) -> ClientHello:
    """Parse one TLS record holding a whole ClientHello (RFC 8446 section 4.1.2)."""
    outer = _Reader(record)
    content_type, record_version = outer.number(1), outer.number(2)
    fragment = outer.vector(2)
    if content_type != HANDSHAKE:
        raise ValueError(f"not a handshake record: content type {content_type}")
    handshake = _Reader(fragment)
    kind, body = handshake.number(1), handshake.vector(3)
    if kind != CLIENT_HELLO:
        raise ValueError(f"not a ClientHello: handshake type {kind}")
    hello = _Reader(body)
    version = hello.number(2)
    random = hello.take(32)
    session_id = hello.vector(1)
    suites = hello.vector(2)
    ciphers = tuple(int.from_bytes(suites[i : i + 2], "big") for i in range(0, len(suites), 2))
    hello.vector(1)  # compression methods
    extensions = _Reader(hello.vector(2))
    types: list[int] = []
    while extensions.at < len(extensions.data):
        types.append(extensions.number(2))
        extensions.vector(2)
    return ClientHello(record_version, version, random, session_id, ciphers, tuple(types))


class HelloCatcher:
    """A TCP listener on loopback: keeps the first TLS record of one connection, then closes."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._catch, daemon=True)
        self.record = b""

    @property
    def url(self) -> str:
        port = self._listener.getsockname()[1]
        return f"https://127.0.0.1:{port}"

    def _catch(self) -> None:
        connection, _ = self._listener.accept()
        with connection:
            connection.settimeout(5)
            data = b""
            while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.record = data

    def received(self) -> bytes:
        """The first record, once the connection is over."""
        self._thread.join(5)
        return self.record

    def __enter__(self) -> HelloCatcher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._thread.join(5)
        self._listener.close()


@pytest.fixture
def catcher() -> Iterator[HelloCatcher]:
    with HelloCatcher() as listener:
        yield listener


def test_the_client_hello_is_a_browsers_only_for_browser_rows(
    row: Row, stub: StubServer, catcher: HelloCatcher
) -> None:
    result = row.timed(options_for(stub, base_url=catcher.url))

    assert isinstance(result.outcome, TransportError)  # nobody answered the hello
    hello = parse_client_hello(catcher.received())
    assert hello.version == 0x0303  # TLS 1.3 says 1.2 here, and more in an extension
    assert len(hello.random) == 32
    assert TLS_AES_128_GCM_SHA256 in hello.ciphers  # a TLS 1.3 client either way
    grease_ciphers = GREASE.intersection(hello.ciphers)
    grease_extensions = GREASE.intersection(hello.extensions)
    if row.browser:
        assert hello.ciphers[0] in GREASE  # Chrome puts one first
        assert len(grease_ciphers) == 1
        assert grease_extensions
    else:
        assert not grease_ciphers
        assert not grease_extensions


def test_the_parser_reads_a_known_record() -> None:
    suites = (0x2A2A, 0x1301, 0xC02B)
    body = (
        b"\x03\x03"
        + bytes(range(32))
        + b"\x02\xab\xcd"
        + len(suites * 2).to_bytes(2, "big")
        + b"".join(s.to_bytes(2, "big") for s in suites)
        + b"\x01\x00"
        + b"\x00\x08"
        + b"\x3a\x3a\x00\x00"
        + b"\x00\x2b\x00\x00"
    )
    handshake = bytes([CLIENT_HELLO]) + len(body).to_bytes(3, "big") + body
    record = bytes([HANDSHAKE]) + b"\x03\x01" + len(handshake).to_bytes(2, "big") + handshake

    hello = parse_client_hello(record)

    assert hello == ClientHello(
        0x0301, 0x0303, bytes(range(32)), b"\xab\xcd", suites, (0x3A3A, 0x002B)
    )
    assert GREASE.intersection(hello.ciphers) == {0x2A2A}
    with pytest.raises(ValueError, match="truncated"):
        parse_client_hello(record[:-3])
    with pytest.raises(ValueError, match="not a handshake"):
        parse_client_hello(b"\x17" + record[1:])
