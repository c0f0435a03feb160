"""The pytest plugin, as a user meets it: a test file run by pytest in a subprocess.

The file under test declares no plugin and no conftest: the fixtures come from
the ``aichat`` entry point alone.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest

from aichat_adapters import AichatClient, AsyncAichatClient, ServerError
from aichat_adapters.stub import Fault
from aichat_adapters.testing import FakeTransport


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param


def test_the_stub_is_reset_and_in_the_environment(aichat_stub, monkeypatch):
    import os

    assert aichat_stub.requests == []
    assert os.environ["AICHAT_BASE_URL"] == aichat_stub.url
    assert os.environ["AICHAT_COOKIES"]
    aichat_stub.enqueue(Fault.status(500))  # left unplayed: the next test must not see it


def test_aichat_client(aichat_client, aichat_stub):
    assert aichat_client.ask("Hi") == "Echo: Hi"
    (request,) = aichat_stub.requests
    assert request.json["message"] == "Hi"
    assert request.cookies


def test_a_scripted_500_is_a_server_error(aichat_stub):
    aichat_stub.enqueue(Fault.status(500))
    client = AichatClient(base_url=aichat_stub.url, cookies="sid=1", max_retries=0)
    with client, pytest.raises(ServerError) as excinfo:
        client.ask("Hi")
    assert excinfo.value.status_code == 500
    assert len(aichat_stub.requests) == 1


def test_the_fixture_client_retries_quickly(aichat_client, aichat_stub):
    aichat_stub.enqueue(Fault.status(503), Fault.status(500))
    reply = aichat_client.complete("Hi")
    assert (reply.text, reply.attempts) == ("Echo: Hi", 3)


@pytest.mark.anyio
async def test_aichat_async_client(aichat_async_client, aichat_stub):
    aichat_stub.enqueue(Fault.reply("async reply"))
    assert await aichat_async_client.ask("Hi") == "async reply"
    assert await aichat_async_client.ask("again") == "Echo: again"


def test_fake_transport_records_requests():
    fake = FakeTransport("scripted", Fault.status(500))
    with AichatClient(transport=fake, cookies="sid=1", max_retries=0) as client:
        assert client.ask("one") == "scripted"
        with pytest.raises(ServerError):
            client.ask("two")
    assert len(fake.requests) == 2
    assert b'"two"' in fake.requests[1].body


def test_a_wrong_expectation_fails(aichat_client):
    assert aichat_client.ask("Hi") == "Echo: Bye"
"""

APP_TESTS = '''
from aichat_adapters import AichatClient


def greet(name):
    """Application code: it builds its own client, with no options."""
    with AichatClient() as client:
        return client.ask(f"Hello, {name}")


def test_application_code_reaches_the_stub(aichat_stub):
    assert greet("Ann") == "Echo: Hello, Ann"
    (request,) = aichat_stub.requests
    assert request.json["message"] == "Hello, Ann"
'''


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project of the user's: only pytest's own settings, warnings as errors."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    for name in ("AICHAT_BASE_URL", "AICHAT_COOKIES", "AICHAT_COOKIES_FILE", "AICHAT_PROXY"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


# hypothesis's plugin alone takes a second to import: not needed in these runs.
QUICK = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def test_the_kit_from_a_users_test_file(user_project: pytest.Pytester) -> None:
    user_project.makepyfile(test_user=USER_TESTS)
    result = user_project.runpytest_subprocess(*QUICK, "-rA", "--trace-config")
    # Loaded by its entry point: the file has no pytest_plugins and there is no conftest.
    result.stdout.fnmatch_lines(["*aichat_adapters/testing/plugin.py*"])
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_user.py::test_a_wrong_expectation_fails*"])
    result.stdout.fnmatch_lines(["*AssertionError*Echo: Hi*Echo: Bye*"])


def test_application_code_building_its_own_client_reaches_the_stub(
    user_project: pytest.Pytester,
) -> None:
    user_project.makepyfile(test_app=APP_TESTS)
    result = user_project.runpytest_subprocess(*QUICK)
    result.assert_outcomes(passed=1)
