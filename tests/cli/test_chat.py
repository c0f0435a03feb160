"""``aichat chat`` in a subprocess: scripted through a pipe, and at a terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import signal
import stat
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

from aichat_adapters.cli._chat import DISCARDED
from aichat_adapters.stub import Fault, StubServer
from tests.support import AICHAT, WAIT, at_a_terminal, clean_env, drain, run, started, visible


def chat(stub: StubServer, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run("chat", "--base-url", stub.url, "--cookies", "a=b", *args, stdin=stdin)


def prompts(stub: StubServer) -> list[object]:
    return [request.json["message"] for request in stub.requests]  # type: ignore[index]


def test_the_second_turn_carries_the_first(stub: StubServer) -> None:
    result = chat(stub, "first\nsecond\n")

    assert result.returncode == 0, result.stderr
    assert prompts(stub) == [
        "first",
        "User: first\nAssistant: Echo: first\nUser: second\nAssistant:",
    ]
    assert result.stdout == (
        "Echo: first\nEcho: User: first\nAssistant: Echo: first\nUser: second\nAssistant:\n"
    )
    assert result.stderr == ""  # no banner, no prompt when scripted


def test_json_prints_one_line_per_reply(stub: StubServer) -> None:
    result = chat(stub, "first\nsecond\n", "--json")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [json.loads(line)["reply"] for line in lines] == [
        "Echo: first",
        "Echo: User: first\nAssistant: Echo: first\nUser: second\nAssistant:",
    ]


def test_system_message_and_parameters_go_with_every_turn(stub: StubServer) -> None:
    result = chat(stub, "Hi\n", "--system", "Be brief.", "--temperature", "0.1")

    assert result.returncode == 0, result.stderr
    [request] = stub.requests
    assert request.json == {
        "message": "System: Be brief.\nUser: Hi\nAssistant:",
        "temperature": 0.1,
        "presence_penalty": 0,
        "top_p": 1,
        "frequency_penalty": 0,
    }


def test_save_writes_the_history_as_json_messages(stub: StubServer, tmp_path: Path) -> None:
    saved = tmp_path / "history.json"

    result = chat(stub, f"first\n/save {saved}\nsecond\n", "--system", "S", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(saved.read_text()) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: System: S\nUser: first\nAssistant:"},
    ]
    assert len(result.stdout.splitlines()) == 2  # two replies; nothing printed for /save


def test_reset_forgets_the_history_but_keeps_the_system_message(stub: StubServer) -> None:
    result = chat(stub, "first\n/reset\nsecond\n", "--system", "S")

    assert result.returncode == 0, result.stderr
    assert prompts(stub)[1] == "System: S\nUser: second\nAssistant:"


def test_exit_ends_the_session(stub: StubServer) -> None:
    result = chat(stub, "first\n/exit\nsecond\n")

    assert result.returncode == 0, result.stderr
    assert prompts(stub) == ["first"]
    assert result.stdout == "Echo: first\n"


def test_blank_lines_are_skipped_and_a_double_slash_sends_a_slash(stub: StubServer) -> None:
    result = chat(stub, "\n  \n//etc/hosts\n")

    assert result.returncode == 0, result.stderr
    assert prompts(stub) == ["/etc/hosts"]


def test_an_unknown_command_exits_2(stub: StubServer) -> None:
    result = chat(stub, "first\n/frobnicate\nsecond\n")

    assert result.returncode == 2
    assert result.stderr.startswith("error: InvalidRequestError: unknown command '/frobnicate'")
    assert prompts(stub) == ["first"]


def test_the_first_error_ends_a_scripted_chat_with_its_code(stub: StubServer) -> None:
    stub.enqueue(Fault.reply("fine"), Fault.refuse("quota exceeded"))

    result = chat(stub, "first\nsecond\nthird\n")

    assert result.returncode == 4
    assert result.stdout == "fine\n"
    assert result.stderr.startswith("error: ServiceError: ")
    assert "quota exceeded" in result.stderr
    assert result.stderr.count("\n") == 1
    assert len(stub.requests) == 2


def test_save_to_a_missing_folder_exits_1(stub: StubServer, tmp_path: Path) -> None:
    result = chat(stub, f"first\n/save {tmp_path / 'no' / 'such' / 'dir.json'}\n")

    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "No such file or directory" in result.stderr
    assert result.stderr.count("\n") == 1


def test_invalid_parameters_exit_2_before_anything_is_sent(stub: StubServer) -> None:
    result = chat(stub, "first\n", "--top-p", "3")

    assert result.returncode == 2
    assert "top_p" in result.stderr
    assert stub.requests == []


def test_chat_with_the_stub_needs_no_cookies() -> None:
    result = run("chat", "--stub", stdin="Hi\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Hi\n"


def chat_at_a_terminal(stub: StubServer, typed: bytes, **env: str) -> tuple[int, bytes, bytes]:
    """``aichat chat`` with a pseudo-terminal as stdin (interactive), ``typed`` at its prompt."""
    command = [AICHAT, "chat", "--base-url", stub.url, "--cookies", "a=b"]
    return at_a_terminal(command, typed, **env)


def test_at_a_terminal_errors_are_shown_and_the_session_goes_on(stub: StubServer) -> None:
    stub.enqueue(Fault.refuse("try again"))
    returncode, out, err = chat_at_a_terminal(stub, b"first\nsecond\n/exit\n")
    stdout, stderr = out.decode(), err.decode()

    assert returncode == 0, stderr
    assert "aichat chat" in stderr  # the banner, on stderr
    assert "you> " in stderr
    assert "error: ServiceError: " in stderr
    assert "try again" in stderr
    assert stdout == "Echo: second\n"  # the failed turn is not in the history
    assert prompts(stub) == ["first", "second"]


def test_save_creates_a_private_file(stub: StubServer, tmp_path: Path) -> None:
    saved = tmp_path / "history.json"

    result = chat(stub, f"first\n/save {saved}\n")

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json"]  # no temporary left


def test_save_over_a_file_keeps_its_mode(stub: StubServer, tmp_path: Path) -> None:
    saved = tmp_path / "history.json"
    saved.write_text("old history that is much longer than the new one " * 10)
    saved.chmod(0o640)

    result = chat(stub, f"first\n/save {saved}\n")

    assert result.returncode == 0, result.stderr
    assert json.loads(saved.read_text()) == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
    ]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o640


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_save_refuses_a_symlink_or_a_fifo(stub: StubServer, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    saved = tmp_path / "history.json"
    if kind == "symlink":
        saved.symlink_to(target)
    else:
        os.mkfifo(saved)

    result = chat(stub, f"first\n/save {saved}\nsecond\n")

    assert result.returncode == 2
    expected = "is a symbolic link" if kind == "symlink" else "is a named pipe (FIFO)"
    assert result.stderr.startswith(f"error: InvalidRequestError: /save FILE {saved} {expected}")
    assert result.stderr.count("\n") == 1
    assert target.read_text() == "keep me\n"
    assert len(stub.requests) == 1  # the scripted session ended at the error


def test_at_a_terminal_a_line_that_is_not_utf8_is_named_and_the_session_goes_on(
    stub: StubServer,
) -> None:
    returncode, stdout, stderr = chat_at_a_terminal(
        stub, b"caf\xe9\nsecond\n/exit\n", PYTHONIOENCODING="utf-8:strict"
    )
    errors = stderr.decode("utf-8", "backslashreplace")
    assert returncode == 0, errors
    assert "Traceback" not in errors
    assert (
        "error: InvalidRequestError: the line is not UTF-8 text (byte 0xe9 at offset 3)" in errors
    )
    assert stdout == b"Echo: second\n"
    assert prompts(stub) == ["second"]


def test_a_slow_reply_is_printed_on_a_line_of_its_own_once_the_spinner_is_gone(
    stub: StubServer,
) -> None:
    # stdout and stderr on one terminal, as a person has them: the spinner (stderr)
    # animates on the line the reply (stdout) would be glued to.
    stub.enqueue(Fault.delay(1.0))
    keyboard, keyboard_end = pty.openpty()
    screen, screen_end = pty.openpty()
    shown: list[bytes] = []
    try:
        with started(
            [AICHAT, "chat", "--base-url", stub.url, "--cookies", "a=b"],
            stdin=keyboard_end,
            stdout=screen_end,
            stderr=screen_end,
            env=clean_env(TERM="xterm-256color"),
        ) as process:
            os.close(keyboard_end)
            os.close(screen_end)
            reader = threading.Thread(target=drain, args=(screen, shown), daemon=True)
            reader.start()
            os.write(keyboard, b"slow one\n/exit\n")
            assert process.wait(timeout=WAIT) == 0
            reader.join(WAIT)
    finally:
        os.close(keyboard)
        os.close(screen)
    lines = visible(b"".join(shown)).splitlines()

    assert any("waiting for the reply" in line for line in lines)  # the spinner ran
    assert "Echo: slow one" in lines  # a line of its own
    assert not [line for line in lines if "waiting" in line and "Echo" in line]


def test_ctrl_c_at_the_prompt_discards_the_line_and_the_chat_goes_on(stub: StubServer) -> None:
    controller, terminal = pty.openpty()
    try:
        with started(
            [AICHAT, "chat", "--base-url", stub.url, "--cookies", "a=b"],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(),
        ) as process:
            os.close(terminal)
            terminal = -1
            assert process.stderr is not None
            os.write(controller, b"first\n")
            _wait_for_prompt(process.stderr, times=2)  # the first reply is in: a new prompt
            process.send_signal(signal.SIGINT)  # Ctrl-C at the empty prompt
            _wait_for_text(process.stderr, DISCARDED)
            os.write(controller, b"second\n/exit\n")
            stdout, stderr = process.communicate(timeout=WAIT)
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)

    assert process.returncode == 0, stderr
    assert stdout.decode().splitlines()[0] == "Echo: first"
    # The chat went on, and its history survived.
    assert prompts(stub) == [
        "first",
        "User: first\nAssistant: Echo: first\nUser: second\nAssistant:",
    ]


def _wait_for_text(stream: IO[bytes], text: str, times: int = 1) -> None:
    """Read ``stream`` until ``text`` has appeared ``times`` times (at most ``WAIT`` seconds)."""
    seen = b""
    found = threading.Event()

    def read() -> None:
        nonlocal seen
        while seen.count(text.encode()) < times:
            chunk = stream.read1(4096)  # type: ignore[attr-defined]
            if not chunk:
                return
            seen += chunk
        found.set()

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(WAIT), f"{text!r} x{times} not seen; stderr so far: {seen!r}"


def _wait_for_prompt(stream: IO[bytes], times: int) -> None:
    _wait_for_text(stream, "you> ", times)
