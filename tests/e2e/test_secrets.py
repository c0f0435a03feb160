"""No cookie value in a repr, an error's text, or the package's DEBUG logs."""

from __future__ import annotations

import logging
import traceback

import pytest

from aichat_adapters import AichatClient, AichatError, StaticCookieSource
from aichat_adapters.stub import Fault, StubServer
from tests.support import COOKIES, KINDS, call, options_for

SECRETS = list(COOKIES.values())

FAULTS = [
    Fault.status(503),
    Fault.status(429, retry_after=3600),
    Fault.challenge(),
    Fault.refuse(),
    Fault.malformed(),
    Fault.redirect(),
    Fault.drop(),
]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_secrets_are_sent_but_never_shown(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = AichatClient(**options_for(stub, max_retries=1))
    texts = [repr(client), repr(client.cookie_source), repr(StaticCookieSource(COOKIES))]

    for kind in KINDS:
        for fault, retries in [(Fault.status(503), 1), *((fault, 0) for fault in FAULTS)]:
            stub.enqueue(*[fault] * (retries + 1))
            with pytest.raises(AichatError) as caught:
                call(kind, options_for(stub, max_retries=retries), "Hi")
            texts += [str(caught.value), repr(caught.value)]
            texts.append("".join(traceback.format_exception(caught.value)))
        call(kind, options_for(stub), "Hi")  # and a success, for its DEBUG lines

    texts += [record.getMessage() for record in caplog.records]
    client.close()

    assert all(r.cookies == COOKIES for r in stub.requests)  # they did travel
    assert any(r.name == "aichat" and r.levelno == logging.DEBUG for r in caplog.records)
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert_no_secret("\n".join(texts))
