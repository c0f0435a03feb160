"""Every transport says why a request got no answer, in the same words (issue 13).

Six failures (``tests/support/failures.py``) on every row of the table: each raises its
class (``CertificateError`` for a certificate, ``ConnectError`` otherwise)
with the cause in words, then what to do, and the URL it was for.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aichat_adapters import CertificateError
from aichat_adapters.stub import StubServer
from tests.support import FAILURES, Failure, Targets

from .rows import Row, options_for


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    with Targets(tmp_path_factory.mktemp("failures")) as servers:
        yield servers


@pytest.mark.parametrize("failure", FAILURES, ids=lambda failure: failure.name)
def test_each_failure_names_its_cause_in_words(
    row: Row, stub: StubServer, targets: Targets, failure: Failure
) -> None:
    base_url = targets.base_url(failure.name, stub)

    with pytest.raises(failure.error) as caught:
        row.call(
            options_for(stub, base_url=base_url), transport_options={"verify": targets.ca_file}
        )

    error = caught.value
    message = str(error)
    assert type(error) is failure.error, message
    assert failure.words in message, message
    assert f"{base_url}/api/text" in message  # which request
    assert error.attempts == 1
    if failure.error is CertificateError:
        assert "verify='path/to/ca.pem'" in message  # what to do about a private CA
