"""HTTPS on loopback for tests: the stub app over TLS, behind a relay that counts connections.

    ca = trustme.CA()
    with HttpsStub(ca.issue_cert("127.0.0.1"), tmp_path) as https:
        ...  # https.url == "https://127.0.0.1:PORT"; https.connections; https.app.requests

uvicorn terminates TLS with the given certificate (a trustme leaf, or the PEM
of a key and its certificate, such as `self_signed` makes). Clients connect to
a plain TCP relay in front of it, which counts every connection, so a test can
tell a certificate failure that was tried once from one that was retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import trustme
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aichat_adapters.stub import StubApp

__all__ = ["HttpsStub", "self_signed"]


def self_signed(host: str) -> bytes:
    """The PEM of a key and a certificate for ``host`` (an IP address or a name), signed by itself.

    Valid from yesterday for ten days; no certificate authority vouches for it.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alternative: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alternative = x509.DNSName(host)
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=10))
        .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private + certificate.public_bytes(serialization.Encoding.PEM)


_TIMEOUT = 10.0


class HttpsStub:
    """The stub app over HTTPS (uvicorn) on loopback, with a counting TCP relay in front."""

    def __init__(self, certificate: trustme.LeafCert | bytes, folder: Path) -> None:
        self.app = StubApp()
        pem = folder / f"server-{id(self)}.pem"
        if isinstance(certificate, bytes):
            pem.write_bytes(certificate)
        else:
            certificate.private_key_and_cert_chain_pem.write_to_path(str(pem))
        config = uvicorn.Config(
            self.app,
            http="h11",
            ws="none",
            loop="asyncio",
            lifespan="off",
            log_level="critical",
            log_config=None,
            access_log=False,
            ssl_certfile=str(pem),
            ssl_keyfile=str(pem),
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._tls = socket.create_server(("127.0.0.1", 0))
        self._relay = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._connections = 0
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``, the relay's address."""
        return f"https://127.0.0.1:{self._relay.getsockname()[1]}"

    @property
    def connections(self) -> int:
        """How many TCP connections clients opened."""
        with self._lock:
            return self._connections

    def __enter__(self) -> HttpsStub:
        self._spawn(lambda: asyncio.run(self._server.serve(sockets=[self._tls])))
        deadline = time.monotonic() + _TIMEOUT
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.005)
        self._spawn(self._accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        with contextlib.suppress(OSError):
            self._relay.shutdown(socket.SHUT_RDWR)
        self._relay.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(_TIMEOUT)
        self._tls.close()

    def _spawn(self, target: Callable[..., object], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._relay.accept()
            except OSError:  # closed by __exit__
                return
            with self._lock:
                self._connections += 1
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self._tls.getsockname()[:2], timeout=_TIMEOUT)
        with self._lock:
            self._sockets.update((client, upstream))
        pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        pump.start()
        _pipe(client, upstream)
        pump.join(_TIMEOUT)
        for sock in (client, upstream):
            sock.close()
            with self._lock:
                self._sockets.discard(sock)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until ``source`` ends, then end ``target``'s writing side."""
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
