"""The one hint for a missing extra says what works for how aichat-client was installed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from aichat_adapters import InvalidRequestError
from aichat_adapters._extras import import_extra, install_hint, missing_extra

REQUIRES = [
    "anyio>=4.4",
    "uvicorn>=0.30; extra == 'stub'",
    'click>=8.1; extra == "cli"',
    "rich>=13.7; extra == 'cli'",
    "httpx[socks]; extra == 'socks'",
]


class FakeDistribution:
    def __init__(self, direct_url: object) -> None:
        self.requires = REQUIRES
        self._direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        if self._direct_url is None or isinstance(self._direct_url, str):
            return self._direct_url
        return json.dumps(self._direct_url)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Set ``installed[0]`` to the ``direct_url.json`` record pip wrote (or ``"absent"``)."""
    record: list[object] = [None]

    def distribution(name: str) -> FakeDistribution:
        assert name == "aichat-client"
        if record[0] == "absent":
            raise metadata.PackageNotFoundError(name)
        return FakeDistribution(record[0])

    monkeypatch.setattr(metadata, "distribution", distribution)
    install_hint.cache_clear()
    yield record
    install_hint.cache_clear()


def test_an_editable_install_from_a_checkout_names_the_checkout(installed: list[object]) -> None:
    installed[0] = {"url": "file:///home/me/src/aichat%20client", "dir_info": {"editable": True}}

    assert install_hint("stub") == 'pip install -e "/home/me/src/aichat client[stub]"'


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(None, id="from-an-index"),
        pytest.param(
            {"url": "file:///tmp/dist/aichat_client-0.1.0-py3-none-any.whl", "archive_info": {}},
            id="from-a-wheel",
        ),
        pytest.param({"url": "file:///home/me/src/aichat", "dir_info": {}}, id="not-editable"),
        pytest.param("{not json", id="unreadable-record"),
    ],
)
def test_any_other_install_names_the_extra_s_own_requirements(
    installed: list[object], record: object
) -> None:
    installed[0] = record

    assert install_hint("stub") == 'pip install "uvicorn>=0.30"'
    assert install_hint("cli") == 'pip install "click>=8.1" "rich>=13.7"'
    assert install_hint("socks") == 'pip install "httpx[socks]"'


def test_with_no_installed_metadata_it_falls_back_to_a_checkout(installed: list[object]) -> None:
    installed[0] = "absent"

    assert install_hint("stub") == 'pip install -e ".[stub]" (in a checkout of aichat-client)'


def test_the_message_names_what_needs_it_the_extra_and_the_module(installed: list[object]) -> None:
    installed[0] = None

    assert missing_extra("rookiepy", "stub", "--stub") == (
        "--stub needs the 'stub' extra (rookiepy is not installed): pip install \"uvicorn>=0.30\""
    )


def test_import_extra_imports_or_raises_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    assert import_extra("json", "none", "a test") is json
    monkeypatch.setitem(sys.modules, "curl_cffi", None)

    with pytest.raises(InvalidRequestError) as caught:
        import_extra("curl_cffi", "impersonate", "CurlTransport")

    assert str(caught.value) == missing_extra("curl_cffi", "impersonate", "CurlTransport")


def test_this_test_run_is_an_editable_install_of_this_checkout() -> None:
    # What the other tests of the hint see (tests/e2e, tests/contract).
    checkout = Path(__file__).resolve().parents[2]
    install_hint.cache_clear()

    assert install_hint("stub") == f'pip install -e "{checkout}[stub]"'
