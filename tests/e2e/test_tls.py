"""TLS end to end with a private CA (trustme): a CA path works, a bad certificate fails once.

For every transport of the contract table, and for the clients' own
``verify=`` option (sync, asyncio, trio). A certificate failure is a
``CertificateError`` made once: it is never retried, as nothing a retry
changes can fix it. ``verify`` paths give no ``DeprecationWarning`` (pytest
turns every warning into an error).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from aichat_adapters import CertificateError
from tests.contract.rows import WORKING, Row
from tests.support import COOKIES, FAST, HttpsStub, call


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, folder: Path) -> str:
    path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def other_ca_file(folder: Path) -> str:
    path = folder / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def https_server(ca: trustme.CA, folder: Path) -> Iterator[HttpsStub]:
    with HttpsStub(ca.issue_cert("127.0.0.1", "localhost"), folder) as server:
        yield server


@pytest.fixture(scope="module")
def wrong_host_server(ca: trustme.CA, folder: Path) -> Iterator[HttpsStub]:
    with HttpsStub(ca.issue_cert("chat-gpt.org"), folder) as server:
        yield server


def options(server: HttpsStub, **more: Any) -> dict[str, Any]:
    server.app.reset()
    return {
        "base_url": server.url,
        "cookies": COOKIES,
        "retry_policy": FAST,
        "max_retries": 2,
        "timeout": 5.0,
        **more,
    }


@pytest.mark.parametrize("row", WORKING, ids=lambda row: row.name)
def test_a_transport_trusts_a_private_ca_given_as_a_path(
    row: Row, https_server: HttpsStub, ca_file: str
) -> None:
    reply = row.call(options(https_server), "over TLS", {"verify": ca_file})

    assert reply.text == "Echo: over TLS"
    assert len(https_server.app.requests) == 1


@pytest.mark.parametrize("row", WORKING, ids=lambda row: row.name)
@pytest.mark.parametrize(
    ("server", "verify"),
    [
        pytest.param("https_server", True, id="unknown-ca"),
        pytest.param("https_server", "other_ca_file", id="other-ca"),
        pytest.param("wrong_host_server", "ca_file", id="wrong-host"),
    ],
)
def test_a_bad_certificate_is_a_certificate_error_made_once(
    row: Row, server: str, verify: bool | str, request: pytest.FixtureRequest
) -> None:
    https: HttpsStub = request.getfixturevalue(server)
    if isinstance(verify, str):
        verify = request.getfixturevalue(verify)
    before = https.connections

    with pytest.raises(CertificateError) as caught:
        row.call(options(https), transport_options={"verify": verify})

    assert caught.value.attempts == 1  # max_retries=2, but a retry cannot help
    assert https.connections - before == 1
    assert https.app.requests == []
    assert "verify=" in str(caught.value)  # says what to do about a private CA


@pytest.mark.parametrize("kind", ["sync", "asyncio", "trio"])
def test_the_clients_verify_option_takes_a_ca_path(
    kind: str, https_server: HttpsStub, ca_file: str
) -> None:
    reply = call(kind, options(https_server, verify=ca_file), "verified")

    assert reply.text == "Echo: verified"


@pytest.mark.parametrize("kind", ["sync", "asyncio", "trio"])
def test_the_clients_default_verification_refuses_a_private_ca_once(
    kind: str, https_server: HttpsStub
) -> None:
    before = https_server.connections

    with pytest.raises(CertificateError) as caught:
        call(kind, options(https_server), "Hi")

    assert caught.value.attempts == 1
    assert https_server.connections - before == 1
