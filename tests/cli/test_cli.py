"""The installed ``aichat`` entry point, run in a subprocess against the stub: the command,
``ask``, ``stub`` and ``cookies`` (the other commands have a file each in ``tests/cli/``)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aichat_adapters import AichatClient, InvalidRequestError
from aichat_adapters._extras import install_hint
from aichat_adapters.stub import Fault, StubServer
from aichat_core import RETRY_STATUSES
from tests.support import (
    AICHAT,
    WAIT,
    clean_env,
    free_port,
    no_cookies_env,
    run,
    started,
    stdout_line,
)

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- the command


def test_without_the_cli_extra_it_prints_how_to_install_it() -> None:
    code = "import sys; sys.modules['click'] = None; import aichat_adapters.cli as c; c.main()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=clean_env(),
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("The aichat command needs the 'cli' extra (click is not")
    assert install_hint("cli") in result.stderr  # for the way it is installed (see test_extras)
    assert "aichat-client[" not in result.stderr  # not on any index: that command fails
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [[], ["ask"], ["chat"], ["batch"], ["stub"], ["cookies"]])
def test_help_documents_the_exit_codes(command: list[str]) -> None:
    result = run(*command, "--help")

    assert result.returncode == 0, result.stderr
    for line in ("0    success", "2    usage", "3    cookies", "4    rate limit", "5    network"):
        assert line in result.stdout


def test_the_exit_codes_in_the_help_are_the_documented_ones() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    table = page.split("## Exit codes", 1)[1]
    documented = [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)]
    helped = [int(code) for code in re.findall(r"^ +(\d+) ", run("--help").stdout, re.MULTILINE)]

    assert documented == helped == [0, 1, 2, 3, 4, 5, 130]


def test_help_lists_every_command_and_the_common_options() -> None:
    top = run("--help").stdout
    ask = run("ask", "--help").stdout

    for command in ("ask", "chat", "batch", "stub", "cookies"):
        assert f"  {command} " in top
    for option in ("--base-url", "--cookies", "--cookies-file", "--browser", "--proxy"):
        assert option in ask
    for option in ("--timeout", "--max-retries", "--stub"):
        assert option in ask
    for variable in ("AICHAT_BASE_URL", "AICHAT_COOKIES", "AICHAT_COOKIES_FILE", "AICHAT_PROXY"):
        assert variable in ask


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(("ask",), "Missing argument 'PROMPT'.", id="missing-argument"),
        pytest.param(("ask", "Hi", "--no-such-option"), "No such option", id="unknown-option"),
        pytest.param(("frobnicate",), "No such command 'frobnicate'.", id="unknown-command"),
        pytest.param(("ask", "Hi", "--timeout", "soon"), "'soon' is not a valid float", id="type"),
        pytest.param(("batch", "in.jsonl"), "Missing option '-o'", id="missing-option"),
    ],
)
def test_click_usage_errors_are_one_line_and_exit_2(args: tuple[str, ...], error: str) -> None:
    result = run(*args)

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert error in result.stderr
    assert result.stderr.count("\n") == 1
    assert f"(see 'aichat{' ' + args[0] if args[0] != 'frobnicate' else ''} --help')" in (
        result.stderr
    )


def test_the_retried_statuses_in_the_help_are_the_documented_and_the_retried_ones() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    [row] = [line for line in page.splitlines() if line.startswith("| `--max-retries N`")]
    helped = " ".join(run("ask", "--help").stdout.split())
    retried = ", ".join(map(str, sorted(RETRY_STATUSES)))

    assert f"network errors, timeouts, and statuses {retried}" in row
    assert f"network errors, timeouts, and statuses {retried}" in helped


@pytest.mark.parametrize("args", [(), ("-v",)])
def test_bare_aichat_shows_the_help_as_help_does(args: tuple[str, ...]) -> None:
    result = run(*args)

    assert result.returncode == 2  # no command: nothing was done
    assert result.stdout == run("--help").stdout  # the same lines, not squashed into one
    assert result.stderr == ""


@pytest.mark.parametrize("args", [("--help",), ("ask", "--help"), ("--version",)])
def test_help_and_version_exit_0(args: tuple[str, ...]) -> None:
    result = run(*args)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout


def test_python_dash_m_runs_the_command(stub: StubServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aichat_adapters.cli", "ask", "Hi", "--base-url", stub.url,
         "--cookies", "a=b"],
        capture_output=True, text=True, timeout=WAIT, env=clean_env(), check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hi\n"


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aichat_adapters", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert "ask" in done.stdout


def blocked(*modules: str) -> str:
    """Python code that makes ``modules`` unimportable, then runs the command."""
    lines = [f"sys.modules[{module!r}] = None" for module in modules]
    return "; ".join(["import sys", *lines, "from aichat_adapters.cli import main", "main()"])


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        pytest.param("rookiepy", ("ask", "Hi", "--browser", "chrome"), "browser", id="browser"),
        pytest.param("rookiepy", ("cookies", "--browser", "any"), "browser", id="cookies-browser"),
        pytest.param("uvicorn", ("ask", "Hi", "--stub"), "stub", id="stub-option"),
        pytest.param("uvicorn", ("stub", "--port", "0"), "stub", id="stub-command"),
        pytest.param(
            "socksio",
            ("ask", "Hi", "--cookies", "a=b", "--proxy", "socks5://127.0.0.1:9"),
            "socks",
            id="socks-proxy",
        ),
    ],
)
def test_a_missing_extra_exits_1_with_the_install_command(
    module: str, args: tuple[str, ...], extra: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", blocked(module), *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=clean_env(**no_cookies_env(tmp_path)),
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert f"needs the '{extra}' extra ({module} is not installed)" in result.stderr
    assert install_hint(extra) in result.stderr
    assert "aichat-client[" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_an_unexpected_exception_is_one_line_not_a_traceback() -> None:
    code = (
        "import aichat_adapters.cli._ask as ask_module\n"
        "def broken(prompt): raise KeyError('s3cr3t-in-a-bug')\n"
        "ask_module.read_prompt = broken\n"
        "from aichat_adapters.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "ask", "--stub", "Hi"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=clean_env(),
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == (
        "error: internal error (KeyError) in aichat ask; this is a bug in aichat, "
        "please report it with the command that caused it\n"
    )
    assert "s3cr3t" not in result.stderr  # a bug's message may hold anything: not shown


# --------------------------------------------------------------------------- ask


def test_ask_stub_goes_through_the_whole_stack() -> None:
    result = run("ask", "--stub", "Hello, how are you?")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hello, how are you?\n"


def test_ask_sends_options_to_base_url(stub: StubServer) -> None:
    result = run(
        "ask",
        "Hi there",
        "--base-url",
        stub.url,
        "--cookies",
        "session=abc; other=def",
        "--temperature",
        "0.2",
        "--top-p",
        "0.9",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hi there\n"
    [request] = stub.requests
    assert request.json == {
        "message": "Hi there",
        "temperature": 0.2,
        "presence_penalty": 0,
        "top_p": 0.9,
        "frequency_penalty": 0,
    }
    assert request.cookies == {"session": "abc", "other": "def"}


@pytest.mark.parametrize(
    ("cookies", "code"),
    [
        pytest.param('{"session": "abc", "other": "def"}', 0, id="json-object"),
        pytest.param('{"session": "s3cr3t', 2, id="broken-json"),
    ],
)
def test_ask_cookies_as_a_json_object(stub: StubServer, cookies: str, code: int) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", cookies)

    assert result.returncode == code, result.stderr
    if code == 0:
        assert stub.requests[0].cookies == {"session": "abc", "other": "def"}
    else:
        assert "--cookies" in result.stderr
        assert "s3cr3t" not in result.stderr
        assert stub.requests == []


def test_ask_reads_the_prompt_from_stdin(stub: StubServer) -> None:
    result = run(
        "ask", "-", "--base-url", stub.url, "--cookies", "a=b", stdin="line one\nline two\n"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: line one\nline two\n"
    assert stub.requests[0].json["message"] == "line one\nline two"  # type: ignore[index]


def test_ask_with_an_empty_stdin_exits_2_and_sends_nothing(stub: StubServer) -> None:
    result = run("ask", "-", "--base-url", stub.url, "--cookies", "a=b", stdin="\n")

    assert result.returncode == 2
    assert result.stderr == (
        "error: InvalidRequestError: the prompt is empty (read from stdin); give some text to ask\n"
    )
    assert stub.requests == []


def test_ask_json_prints_one_object(stub: StubServer) -> None:
    stub.enqueue(Fault.status(503, retry_after=0))

    result = run("ask", "Hi", "--json", "--base-url", stub.url, "--cookies", "a=b")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    document = json.loads(result.stdout)
    assert set(document) == {"reply", "attempts", "elapsed", "raw"}
    assert document["reply"] == "Echo: Hi"
    assert document["attempts"] == 2
    assert 0 < document["elapsed"] < WAIT
    assert document["raw"] == {"response": True, "message": "Echo: Hi"}


def test_ask_system_message_goes_first(stub: StubServer) -> None:
    result = run("ask", "Hi", "--system", "Be brief.", "--base-url", stub.url, "--cookies", "a=b")

    assert result.returncode == 0, result.stderr
    assert stub.requests[0].json["message"] == "System: Be brief.\nUser: Hi\nAssistant:"  # type: ignore[index]


def test_base_url_and_cookies_from_the_environment(stub: StubServer) -> None:
    result = run("ask", "Hi", env={"AICHAT_BASE_URL": stub.url, "AICHAT_COOKIES": "sid=env"})

    assert result.returncode == 0, result.stderr
    assert stub.requests[0].cookies == {"sid": "env"}


def test_cookies_from_a_json_object_in_the_environment(stub: StubServer) -> None:
    cookies = json.dumps({"sid": "from-json"})
    result = run("ask", "Hi", "--base-url", stub.url, env={"AICHAT_COOKIES": cookies})

    assert result.returncode == 0, result.stderr
    assert stub.requests[0].cookies == {"sid": "from-json"}


def test_cookies_option_takes_a_json_object(stub: StubServer) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", '{"sid": "j", "cf": "k"}')

    assert result.returncode == 0, result.stderr
    assert stub.requests[0].cookies == {"sid": "j", "cf": "k"}


def netscape(path: Path, *cookies: tuple[str, str, int], domain: str = ".chat-gpt.org") -> Path:
    """Write a Netscape cookies.txt of ``domain``'s cookies (name, value, expiry)."""
    lines = ["# Netscape HTTP Cookie File"]
    lines += [f"{domain}\tTRUE\t/\tTRUE\t{exp}\t{name}\t{value}" for name, value, exp in cookies]
    path.write_text("\n".join(lines) + "\n")
    return path


def stub_cookies_file(path: Path, *cookies: tuple[str, str, int]) -> Path:
    """A private cookies.txt of cookies for the stub's host (the host of ``--base-url``)."""
    netscape(path, *cookies, domain="127.0.0.1").chmod(0o600)
    return path


def test_cookies_file_option_and_variable(stub: StubServer, tmp_path: Path) -> None:
    option_file = stub_cookies_file(tmp_path / "a.txt", ("sid", "from-option", 0))
    env_file = stub_cookies_file(tmp_path / "b.txt", ("sid", "from-env", 0))

    by_option = run("ask", "Hi", "--base-url", stub.url, "--cookies-file", str(option_file))
    by_env = run("ask", "Hi", "--base-url", stub.url, env={"AICHAT_COOKIES_FILE": str(env_file)})

    assert by_option.returncode == 0, by_option.stderr
    assert by_env.returncode == 0, by_env.stderr
    assert [r.cookies for r in stub.requests] == [{"sid": "from-option"}, {"sid": "from-env"}]


def test_a_cookie_option_on_the_command_line_beats_the_environment(
    stub: StubServer, tmp_path: Path
) -> None:
    cookie_file = stub_cookies_file(tmp_path / "c.txt", ("sid", "from-file", 0))

    result = run(
        "ask",
        "Hi",
        "--base-url",
        stub.url,
        "--cookies-file",
        str(cookie_file),
        env={"AICHAT_COOKIES": "sid=from-env"},
    )

    assert result.returncode == 0, result.stderr
    assert stub.requests[0].cookies == {"sid": "from-file"}


def test_two_cookie_options_on_the_command_line_exit_2(stub: StubServer, tmp_path: Path) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--cookies-file", "x.txt")

    assert result.returncode == 2
    assert "--cookies and --cookies-file" in result.stderr
    assert stub.requests == []


def test_an_unknown_browser_exits_2(stub: StubServer) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--browser", "netscape-navigator")

    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: InvalidRequestError: unknown browser 'netscape-navigator' for --browser; "
        "give one of chrome, firefox,"
    )
    assert "or 'any' for the first that has cookies" in result.stderr
    assert "None" not in result.stderr  # the library's value, not the command's
    assert stub.requests == []


@pytest.mark.parametrize("command", ["ask", "chat", "batch", "cookies"])
def test_browser_help_names_any_not_none(command: str) -> None:
    result = run(command, "--help")

    assert result.returncode == 0, result.stderr
    browser_help = result.stdout.split("--browser NAME", 1)[1].split("\n  -", 1)[0]
    assert "'any'" in browser_help
    assert "None" not in result.stdout


@pytest.mark.parametrize(
    ("faults", "code", "error"),
    [
        pytest.param([Fault.challenge()], 3, "ChallengeError", id="challenge-3"),
        pytest.param([Fault.status(401)], 3, "AuthenticationError", id="unauthorized-3"),
        pytest.param([Fault.status(403)], 3, "AuthenticationError", id="forbidden-3"),
        pytest.param([Fault.refuse("moderated")], 4, "ServiceError", id="refusal-4"),
        pytest.param([Fault.status(429)] * 2, 4, "RateLimitError", id="rate-limit-4"),
        pytest.param([Fault.malformed()], 1, "ResponseFormatError", id="other-1"),
        pytest.param([Fault.status(500)] * 2, 1, "ServerError", id="server-1"),
        pytest.param([Fault.status(404)], 1, "APIStatusError", id="not-found-1"),
        pytest.param([Fault.redirect()], 1, "APIStatusError", id="redirect-1"),
        pytest.param([Fault.drop()] * 2, 5, "ConnectError", id="dropped-5"),
    ],
)
def test_errors_are_one_line_and_an_exit_code(
    stub: StubServer, faults: list[Fault], code: int, error: str
) -> None:
    stub.enqueue(*faults)

    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--max-retries", "1")

    assert result.returncode == code
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {error}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_invalid_input_exits_2_and_sends_nothing(stub: StubServer) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--temperature", "5")

    assert result.returncode == 2
    assert "temperature" in result.stderr
    assert stub.requests == []


def test_no_cookies_exits_3_with_cli_advice(stub: StubServer, tmp_path: Path) -> None:
    env = no_cookies_env(tmp_path)
    result = run("ask", "Hi", "--base-url", stub.url, env=env)

    assert result.returncode == 3
    assert result.stderr.startswith("error: CookiesNotFoundError: no cookie source gave cookies")
    assert env["AICHAT_COOKIES_FILE"] in result.stderr  # every source tried, and why
    for option in ("--cookies 'NAME=VALUE; ...'", "--cookies-file FILE", "--browser NAME"):
        assert option in result.stderr
    assert "AICHAT_COOKIES variable" in result.stderr
    assert "'aichat cookies'" in result.stderr
    assert "to the client" not in result.stderr  # the library's advice, not a shell user's
    assert "cookies=..." not in result.stderr
    assert result.stderr.count("\n") == 1
    assert stub.requests == []


@pytest.mark.parametrize(
    ("args", "stdin", "source"),
    [
        pytest.param(("",), "", "PROMPT", id="empty-argument"),
        pytest.param((" \t ",), "", "PROMPT", id="blank-argument"),
        pytest.param(("-",), "\n\n", "stdin", id="blank-stdin"),
    ],
)
def test_an_empty_prompt_is_refused_in_the_library_s_words(
    stub: StubServer, args: tuple[str, ...], stdin: str, source: str
) -> None:
    result = run("ask", *args, "--base-url", stub.url, "--cookies", "a=b", stdin=stdin)
    with (
        AichatClient(base_url=stub.url, cookies="a=b") as client,
        pytest.raises(InvalidRequestError) as library,
    ):
        client.ask(args[0] if args[0] != "-" else stdin)

    assert result.returncode == 2
    assert result.stderr == (
        f"error: InvalidRequestError: the prompt is empty (read from {source}); "
        "give some text to ask\n"
    )
    assert str(library.value) == "the prompt is empty; give some text to ask"
    assert stub.requests == []


def test_ctrl_c_while_asking_exits_130(stub: StubServer) -> None:
    stub.enqueue(Fault.delay(WAIT))
    command = [AICHAT, "ask", "Hi", "--base-url", stub.url, "--cookies", "a=b"]
    with started(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    ) as process:
        try:
            deadline = time.monotonic() + WAIT
            while not stub.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=WAIT)
        finally:
            if process.poll() is None:
                process.kill()

    assert stub.requests, "the request never reached the stub"
    assert process.returncode == 130
    assert stdout == ""
    assert stderr == "interrupted\n"


def test_timeout_exits_5(stub: StubServer) -> None:
    stub.enqueue(Fault.delay(5))

    started = time.monotonic()
    result = run(
        "ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--timeout", "0.3",
        "--max-retries", "0",
    )  # fmt: skip

    assert result.returncode == 5
    assert result.stderr.startswith("error: RequestTimeoutError: ")
    assert time.monotonic() - started < 4


def test_refused_connection_exits_5() -> None:
    result = run(
        "ask",
        "Hi",
        "--base-url",
        f"http://127.0.0.1:{free_port()}",
        "--cookies",
        "a=b",
        "--max-retries",
        "0",
    )

    assert result.returncode == 5
    assert "ConnectError" in result.stderr


@pytest.mark.parametrize("how", ["option", "environment"])
def test_requests_go_through_the_proxy(stub: StubServer, how: str) -> None:
    # A proxy that refuses connections: the request fails although the stub is up.
    proxy = f"http://127.0.0.1:{free_port()}"
    args = ["--proxy", proxy] if how == "option" else []
    env = {"AICHAT_PROXY": proxy} if how == "environment" else {}

    result = run(
        "ask", "Hi", "--base-url", stub.url, "--cookies", "a=b", "--max-retries", "0", *args,
        env=env,
    )  # fmt: skip

    assert result.returncode == 5
    assert "ConnectError" in result.stderr
    assert stub.requests == []


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(("-v", "ask", "Hi"), id="before-the-command"),
        pytest.param(("ask", "-v", "Hi"), id="after-the-command"),
        pytest.param(("ask", "Hi", "--verbose"), id="at-the-end"),
    ],
)
def test_verbose_logs_requests_but_never_cookie_values(
    stub: StubServer, where: tuple[str, ...]
) -> None:
    result = run(*where, "--base-url", stub.url, "--cookies", "sid=Zq9SecretXw")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hi\n"
    assert f"POST {stub.url}/api/text -> 200" in result.stderr
    assert "Zq9SecretXw" not in result.stderr + result.stdout


def test_without_verbose_nothing_is_logged(stub: StubServer) -> None:
    result = run("ask", "Hi", "--base-url", stub.url, "--cookies", "a=b")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["ask", "chat", "batch", "stub", "cookies"])
def test_every_command_takes_verbose(command: str) -> None:
    result = run(command, "--help")

    assert "-v, --verbose" in result.stdout


# --------------------------------------------------------------------------- stub


def test_stub_command_serves_until_ctrl_c() -> None:
    command = [AICHAT, "stub", "--port", "0", "--require-cookie", "sid=s3cret", "--latency", "0.01"]
    with started(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    ) as process:
        try:
            url = stdout_line(process).strip()
            assert url.startswith("http://127.0.0.1:")
            with httpx.Client(base_url=url, timeout=WAIT) as client:
                allowed = client.post(
                    "/api/text", json={"message": "Hi"}, headers={"cookie": "sid=s3cret"}
                )
                refused = client.post("/api/text", json={"message": "Hi"})
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=WAIT)
        finally:
            if process.poll() is None:
                process.kill()

    assert allowed.json() == {"response": True, "message": "Echo: Hi"}
    assert refused.status_code == 403
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert "aichat stub: stopped" in stderr


def test_stub_command_on_a_busy_port_exits_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = run("stub", "--port", str(port))

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot serve on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1


def test_stub_command_rejects_a_malformed_cookie() -> None:
    result = run("stub", "--port", "0", "--require-cookie", "no-equals-sign")

    assert result.returncode == 2
    assert "NAME=VALUE" in result.stderr


# --------------------------------------------------------------------------- cookies


def test_cookies_shows_the_source_and_names_but_no_value(tmp_path: Path) -> None:
    env = {**no_cookies_env(tmp_path), "AICHAT_COOKIES": "cf_clearance=Qx7vW; session=Jk8mZ"}

    result = run("cookies", env=env)

    assert result.returncode == 0, result.stderr
    assert "from env AICHAT_COOKIES" in result.stdout
    assert "cf_clearance" in result.stdout
    assert "session" in result.stdout
    for value in ("Qx7vW", "Jk8mZ"):
        for start in range(len(value) - 2):
            assert value[start : start + 3] not in result.stdout + result.stderr


def test_cookies_shows_the_expiry_from_a_file(tmp_path: Path) -> None:
    cookie_file = netscape(
        tmp_path / "cookies.txt", ("cf_clearance", "Vb3nQ", 4102444800), ("session", "Hy6tR", 0)
    )

    result = run("cookies", "--cookies-file", str(cookie_file), env=no_cookies_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert f"from file {cookie_file}" in result.stdout
    assert "cf_clearance" in result.stdout
    assert "expires 2100-01-01 00:00 UTC" in result.stdout
    assert "session cookie" in result.stdout
    assert "Vb3nQ" not in result.stdout
    assert "Hy6tR" not in result.stdout


def test_cookies_later_in_the_chain_list_the_sources_tried_first(tmp_path: Path) -> None:
    env = no_cookies_env(tmp_path)
    netscape(Path(env["AICHAT_COOKIES_FILE"]), ("sid", "Wp2kL", 0))

    result = run("cookies", env=env)

    assert result.returncode == 0, result.stderr
    assert f"from file {env['AICHAT_COOKIES_FILE']}" in result.stdout
    assert "tried first: env AICHAT_COOKIES: AICHAT_COOKIES is not set" in result.stdout


def test_cookies_with_nothing_lists_every_source_and_exits_3(tmp_path: Path) -> None:
    env = no_cookies_env(tmp_path)

    result = run("cookies", env=env)

    assert result.returncode == 3
    assert "env AICHAT_COOKIES: AICHAT_COOKIES is not set" in result.stdout
    assert f"file {env['AICHAT_COOKIES_FILE']}: no such file" in result.stdout
    assert result.stderr.startswith("error: no cookie source has cookies")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_cookies_with_a_malformed_variable_says_why_and_exits_3(tmp_path: Path) -> None:
    env = {**no_cookies_env(tmp_path), "AICHAT_COOKIES": "[1, 2]"}

    result = run("cookies", env=env)

    assert result.returncode == 3
    assert "AICHAT_COOKIES holds a JSON list" in result.stdout
