"""``aichat ask`` says why a request got no answer, on one line, in the transports' words.

The failures and their words are the transport contract's
(``tests/support/failures.py``); here they go through the command, with the
default transport and with curl. The private CA is trusted through the
environment (``SSL_CERT_FILE`` for httpx, ``REQUESTS_CA_BUNDLE`` for curl),
as the command has no option for it. Then the command's own next steps: a host
that does not resolve suggests ``--proxy`` or ``--stub``, and a proxy that
refuses is named as the proxy.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from aichat_adapters.stub import StubServer
from tests.support import FAILURES, UNRESOLVABLE, Failure, Targets, run

NETWORK = 5


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    with Targets(tmp_path_factory.mktemp("cli-failures")) as servers:
        yield servers


def ask(base_url: str, *args: str, ca_file: str | None = None) -> tuple[int, str]:
    """``aichat ask`` with no retries; its exit code and stderr."""
    # curl_cffi reads REQUESTS_CA_BUNDLE first, then CURL_CA_BUNDLE: set both.
    trust = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    env = {} if ca_file is None else dict.fromkeys(trust, ca_file)
    done = run(
        "ask", "--base-url", base_url, "--cookies", "a=b", "--max-retries", "0", *args, "Hi",
        env=env,
    )  # fmt: skip
    assert done.stdout == ""
    return done.returncode, done.stderr


@pytest.mark.parametrize("transport", ["httpx", "curl"])
@pytest.mark.parametrize("failure", FAILURES, ids=lambda failure: failure.name)
def test_each_failure_is_one_line_with_its_cause_in_words(
    stub: StubServer, targets: Targets, failure: Failure, transport: str
) -> None:
    base_url = targets.base_url(failure.name, stub)

    code, stderr = ask(base_url, "--transport", transport, ca_file=targets.ca_file)

    assert code == NETWORK
    assert stderr.startswith(f"error: {failure.error.__name__}: ")
    assert failure.words in stderr
    assert stderr.count("\n") == 1


def test_a_host_that_does_not_resolve_suggests_a_proxy_or_the_stub() -> None:
    code, stderr = ask(f"https://{UNRESOLVABLE}")

    assert code == NETWORK
    assert f"could not resolve host {UNRESOLVABLE}" in stderr
    assert "--proxy URL" in stderr
    assert "--stub" in stderr


@pytest.mark.parametrize("transport", ["httpx", "curl"])
def test_a_refused_socks_proxy_is_named_as_the_proxy(stub: StubServer, transport: str) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: no proxy there
        sock.bind(("127.0.0.1", 0))
        proxy = f"socks5://127.0.0.1:{sock.getsockname()[1]}"

    code, stderr = ask(stub.url, "--proxy", proxy, "--transport", transport)

    assert code == NETWORK
    assert stderr.startswith(f"error: ConnectError: could not reach the proxy {proxy}: ")
    assert "connection refused" in stderr
    assert f"connection to {stub.url}" not in stderr  # not the server's fault
    assert "--proxy" in stderr
    assert stub.requests == []


def test_no_cookies_names_the_host_asked(tmp_path: Any) -> None:
    url = "http://127.0.0.1:9"  # nothing is sent: the cookies are missing first
    done = run(
        "ask",
        "--base-url",
        url,
        "Hi",
        env={"HOME": str(tmp_path), "AICHAT_COOKIES_FILE": str(tmp_path / "none.txt")},
    )
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert f"Open {url} in a browser" in line
    assert "chat-gpt.org" not in line
