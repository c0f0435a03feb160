"""The words of a failed request (transports/_reasons.py), from the facts each library gives.

The end-to-end words are in ``tests/contract/test_error_words.py``; these are
the cases no loopback server makes on demand: curl's other codes, resolver
errors, exception groups, errors with nothing in them, credentials in URLs.
"""

from __future__ import annotations

import errno
import socket
import ssl

import pytest

from aichat_adapters import (
    AichatError,
    CertificateError,
    ConnectError,
    RequestTimeoutError,
    TransportError,
)
from aichat_adapters.transports import _reasons as reasons

URL = "https://chat-gpt.org/api/text"


class Group(Exception):
    """Like an ``ExceptionGroup`` (3.11+, or anyio's backport before): members in ``exceptions``."""

    def __init__(self, *members: BaseException) -> None:
        super().__init__("attempts")
        self.exceptions = members


def wrapped(inner: BaseException, outer: Exception) -> Exception:
    """``outer`` raised from ``inner``, as a library wraps an error."""
    try:
        raise outer from inner
    except Exception as exc:
        return exc


def verification(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"certificate verify failed: {message}")
    error.verify_code = code
    error.verify_message = message
    return error


@pytest.mark.parametrize(
    ("exc", "expected", "words"),
    [
        pytest.param(
            wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "x"), OSError("wrapper")),
            ConnectError,
            "connection refused by chat-gpt.org:443",
            id="refused",
        ),
        pytest.param(
            # anyio: OSError("All connection attempts failed") from a group of one per address
            wrapped(
                Group(
                    OSError(errno.ENETUNREACH, "x"),
                    ConnectionRefusedError(errno.ECONNREFUSED, "y"),
                ),
                OSError("All connection attempts failed"),
            ),
            ConnectError,
            "connection refused by chat-gpt.org:443",  # rather than the other address's failure
            id="exception-group",
        ),
        pytest.param(
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            ConnectError,
            "could not resolve host chat-gpt.org",
            id="dns-again",
        ),
        pytest.param(
            socket.gaierror(socket.EAI_SERVICE, "Servname not supported"),
            ConnectError,
            "could not resolve host chat-gpt.org (Servname not supported)",
            id="dns-other",
        ),
        pytest.param(
            ConnectionResetError(errno.ECONNRESET, "reset"),
            ConnectError,
            "the server closed the connection before the answer was complete (connection reset)",
            id="reset",
        ),
        pytest.param(
            OSError(errno.ETIMEDOUT, "timed out"),
            RequestTimeoutError,
            "timed out connecting",
            id="etimedout",
        ),
        pytest.param(TimeoutError(), RequestTimeoutError, "timed out connecting", id="timeout"),
        pytest.param(
            verification(10, "certificate has expired"),
            CertificateError,
            "certificate expired",
            id="expired",
        ),
        pytest.param(
            verification(9, "certificate is not yet valid"),
            CertificateError,
            "certificate not yet valid",
            id="not-yet",
        ),
        pytest.param(
            verification(18, "self-signed certificate"),
            CertificateError,
            "self-signed certificate",
            id="self-signed",
        ),
        pytest.param(
            verification(20, "unable to get local issuer certificate"),
            CertificateError,
            "unknown certificate authority",
            id="unknown-ca",
        ),
        pytest.param(
            verification(62, "Hostname mismatch, certificate is not valid for 'chat-gpt.org'."),
            CertificateError,
            "the certificate is for another host, not chat-gpt.org",
            id="wrong-host",
        ),
        pytest.param(
            verification(50, "Application verification failure."),
            CertificateError,
            "not accepted: application verification failure;",
            id="verifier-words",
        ),
        pytest.param(
            ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            ConnectError,
            "the TLS handshake with https://chat-gpt.org/api/text failed",
            id="tls-handshake",
        ),
    ],
)
def test_a_chain_is_read_for_its_cause(
    exc: BaseException, expected: type[AichatError], words: str
) -> None:
    error = reasons.error_from_chain(exc, URL, phase="connect")

    assert type(error) is expected
    assert words in str(error)
    assert URL in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        Exception(),
        OSError(),
        OSError(errno.EIO, "Input/output error"),
        wrapped(OSError(), Exception("")),
    ],
    ids=["empty", "empty-oserror", "unknown-errno", "empty-chain"],
)
def test_a_message_is_never_empty_it_names_the_class_and_errno(exc: BaseException) -> None:
    error = reasons.error_from_chain(exc, URL)

    assert type(error) is TransportError
    text = str(error)
    assert text.startswith(f"request to {URL} failed: ")
    assert text.rstrip().endswith(("Exception", "OSError", "Input/output error"))
    if getattr(exc, "errno", None) == errno.EIO:
        assert f"[errno {errno.EIO}]" in text


def test_a_proxy_is_blamed_for_failing_to_connect_to_it_with_its_password_hidden() -> None:
    proxy = "socks5://user:pa55word@127.0.0.1:1080"
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "refused")

    error = reasons.error_from_chain(refused, URL, phase="connect", proxy=proxy)

    assert str(error).startswith(
        "could not reach the proxy socks5://<hidden>@127.0.0.1:1080: connection refused;"
    )
    assert "pa55word" not in str(error)
    assert URL in str(error)  # the request it was for


def test_the_proxy_that_refused_to_connect_is_named() -> None:
    error = reasons.proxy_refused(URL, "http://proxy:3128", "403 Forbidden")

    assert str(error).startswith(
        f"the proxy http://proxy:3128 refused to connect to chat-gpt.org:443 (request for {URL}): "
        "403 Forbidden;"
    )


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("http://u:p@host:1/path?q=1", "http://<hidden>@host:1/path?q=1"),
        ("http://u@host", "http://<hidden>@host"),
        ("https://host/a@b", "https://host/a@b"),  # an @ in the path is no credential
        ("not a url", "not a url"),
    ],
)
def test_mask_hides_credentials_only(url: str, masked: str) -> None:
    assert reasons.mask(url) == masked


def curl(code: int, text: str) -> str:
    """A curl_cffi exception's message as it reads."""
    return (
        f"Failed to perform, curl: ({code}) {text}. "
        "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
    )


@pytest.mark.parametrize(
    ("code", "text", "proxy", "expected", "words"),
    [
        (
            7,
            "Failed to connect to chat-gpt.org port 443 after 0 ms: Could not connect to server",
            None,
            ConnectError,
            "connection refused by chat-gpt.org:443",
        ),
        (
            7,
            "Failed to connect to 127.0.0.1 port 8080 after 0 ms: Could not connect to server",
            "http://127.0.0.1:8080",
            ConnectError,
            "could not reach the proxy http://127.0.0.1:8080: connection refused",
        ),
        (
            6,
            "Could not resolve host: chat-gpt.org (Domain name not found)",
            None,
            ConnectError,
            "could not resolve host chat-gpt.org",
        ),
        (
            5,
            "Could not resolve proxy: proxy.example",
            "http://proxy.example:3128",
            ConnectError,
            "could not reach the proxy http://proxy.example:3128: "
            "could not resolve host proxy.example",
        ),
        (
            97,
            "Can't complete SOCKS5 connection to chat-gpt.org. (5)",
            "socks5://127.0.0.1:1080",
            ConnectError,
            "the proxy socks5://127.0.0.1:1080 refused to connect to chat-gpt.org:443",
        ),
        (
            56,
            "CONNECT tunnel failed, response 403",
            "http://127.0.0.1:3128",
            ConnectError,
            "the proxy http://127.0.0.1:3128 refused to connect",
        ),
        (
            56,
            "Recv failure: Connection reset by peer",
            None,
            ConnectError,
            "before the answer was complete (connection reset)",
        ),
        (
            18,
            "end of response with 28 bytes missing",
            None,
            ConnectError,
            "before the answer was complete (end of response with 28 bytes missing)",
        ),
        (
            52,
            "Empty reply from server",
            None,
            ConnectError,
            "before the answer was complete (empty reply from server)",
        ),
        (
            28,
            "Connection timed out after 5001 milliseconds",
            None,
            RequestTimeoutError,
            "timed out connecting to chat-gpt.org:443",
        ),
        (
            28,
            "Operation timed out after 5000 milliseconds with 0 bytes received",
            None,
            RequestTimeoutError,
            "timed out waiting for the answer",
        ),
        (
            60,
            "SSL certificate OpenSSL verify result: certificate has expired (10)",
            None,
            CertificateError,
            "certificate expired",
        ),
        (
            60,
            "SSL certificate OpenSSL verify result: self signed certificate (18)",
            None,
            CertificateError,
            "self-signed certificate",
        ),
        (
            60,
            "SSL: no alternative certificate subject name matches target host name 'chat-gpt.org'",
            None,
            CertificateError,
            "the certificate is for another host, not chat-gpt.org",
        ),
        (
            60,
            "SSL: certificate subject name 'other.example' does not match "
            "target host name 'chat-gpt.org'",
            None,
            CertificateError,
            "the certificate is for other.example, not chat-gpt.org",
        ),
        (
            60,
            "SSL certificate OpenSSL verify result: some new failure (99)",
            None,
            CertificateError,
            "some new failure",
        ),
        (
            35,
            "TLS connect error: error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER",
            None,
            ConnectError,
            "the TLS handshake with",
        ),
        (
            99,
            "Something curl has not said before",
            None,
            TransportError,
            "curl error 99: Something curl has not said before",
        ),
    ],
)
def test_curl_codes_and_texts_are_worded(
    code: int, text: str, proxy: str | None, expected: type[AichatError], words: str
) -> None:
    error = reasons.curl_error(code, curl(code, text), URL, proxy=proxy, timeout=5.0)

    assert type(error) is expected
    assert words in str(error), str(error)
    assert "curl.se" not in str(error)  # curl's boilerplate is left out


def test_timeouts_name_their_phase_and_the_time() -> None:
    connect = reasons.timeout_error(URL, "connect", 5.0, proxy="http://p:1")
    read = reasons.timeout_error(URL, "read", 0.5)

    assert str(connect) == (
        "timed out connecting to the proxy http://p:1: no connection within 5 s "
        f"(request for {URL})"
    )
    assert (
        str(read) == f"timed out waiting for the answer from {URL}: no complete answer within 0.5 s"
    )
