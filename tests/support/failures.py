"""Six ways a request gets no answer, and the words every transport must use for each (issue 13).

Shared by the transport contract (``tests/contract/test_error_words.py``) and the command
line (``tests/cli/test_errors.py``): the same failure, the same words,
whichever way the request went.

    with Targets(folder) as targets:
        url = targets.base_url("expired", stub)  # trust targets.ca_file to see the expiry
"""

from __future__ import annotations

import contextlib
import datetime
import socket
from pathlib import Path
from types import TracebackType

import attrs
import trustme

from aichat_adapters import AichatError, CertificateError, ConnectError
from aichat_adapters.stub import Fault, StubServer

from .tls import HttpsStub, self_signed

__all__ = ["FAILURES", "UNRESOLVABLE", "Failure", "Targets", "free_port"]

UNRESOLVABLE = "aichat-contract.invalid"
"""A host name that never resolves (RFC 2606 reserves ``.invalid``): no network needed."""


@attrs.frozen
class Failure:
    """One failure: the error class it must raise and words its message must hold."""

    name: str
    error: type[AichatError]
    words: str


FAILURES = (
    Failure("refused", ConnectError, "connection refused"),
    Failure("dns", ConnectError, f"could not resolve host {UNRESOLVABLE}"),
    Failure(
        "reset", ConnectError, "the server closed the connection before the answer was complete"
    ),
    Failure("self-signed", CertificateError, "self-signed certificate"),
    Failure("wrong-host", CertificateError, "certificate is for another host, not 127.0.0.1"),
    Failure("expired", CertificateError, "certificate expired"),
)


def free_port() -> int:
    """A loopback port that was free a moment ago: nobody listens there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Targets:
    """A server (or the absence of one) for each failure, and a CA file that trusts the good ones.

    The wrong-host and expired certificates are signed by the CA of
    ``ca_file``: trusted, only their host name or their dates are wrong. The
    self-signed one is signed by no CA at all.
    """

    def __init__(self, folder: Path) -> None:
        ca = trustme.CA()
        self.ca_file = str(folder / "failures-ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        self._https = {
            "self-signed": HttpsStub(self_signed("127.0.0.1"), folder),
            "wrong-host": HttpsStub(ca.issue_cert("other.example"), folder),
            "expired": HttpsStub(
                ca.issue_cert(
                    "127.0.0.1", not_before=long_ago, not_after=long_ago + datetime.timedelta(30)
                ),
                folder,
            ),
        }
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Targets:
        for server in self._https.values():
            self._stack.enter_context(server)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def base_url(self, name: str, stub: StubServer) -> str:
        """The base_url that meets failure ``name`` (for "reset", ``stub`` is told to reset)."""
        if name == "refused":
            return f"http://127.0.0.1:{free_port()}"
        if name == "dns":
            return f"http://{UNRESOLVABLE}"
        if name == "reset":
            stub.enqueue(Fault.cut(reset=True))
            return stub.url
        return self._https[name].url
