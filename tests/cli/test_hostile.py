"""Hostile input against the real command: never a traceback, one line, the documented code.

Each case runs ``python -m aichat_adapters.cli`` in a subprocess, with stdin
and stdout strict UTF-8 (``PYTHONIOENCODING=utf-8:strict``, as under a user's
``en_US.UTF-8`` locale: the test machine's ``C.UTF-8`` would be lenient).
Arguments are passed as bytes, so that bytes that are not UTF-8 reach the
command as the kernel gives them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from aichat_adapters.cli._exit import describe, one_line
from aichat_adapters.stub import Fault, StubServer
from aichat_core import CookiesNotFoundError
from tests.support import WAIT, clean_env

STRICT = {"PYTHONIOENCODING": "utf-8:strict"}
BIG = 4 * 1024 * 1024 + 16
"""More bytes than the command takes as one prompt or one line."""


def aichat(
    *args: str | bytes,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m aichat_adapters.cli ARGS`` to completion, strict UTF-8 streams."""
    return subprocess.run(
        [sys.executable, "-m", "aichat_adapters.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=WAIT,
        env=clean_env(**STRICT, **(env or {})),
        cwd=cwd,
        check=False,
    )


def text(output: bytes) -> str:
    return output.decode("utf-8", "backslashreplace")


@attrs.frozen
class Setup:
    """What a case runs: arguments, stdin, environment."""

    args: tuple[str | bytes, ...]
    stdin: bytes = b""
    env: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Case:
    """A hostile input, the exit code it must give, and words its one stderr line must hold."""

    build: Callable[[Path, StubServer], Setup]
    code: int
    error: str
    sends: bool = False  # whether something may reach the stub


def service(stub: StubServer) -> tuple[str, ...]:
    return ("--base-url", stub.url, "--cookies", "a=b")


def lines(path: Path, *raw: bytes) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in raw))
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


CASES = {
    "argv-prompt-not-utf8": Case(
        lambda tmp, stub: Setup(("ask", b"caf\xe9", *service(stub))),
        2,
        "InvalidRequestError: PROMPT is not UTF-8 text (byte 0xe9 at offset 3)",
    ),
    "argv-system-not-utf8": Case(
        lambda tmp, stub: Setup(("ask", "Hi", "--system", b"\xff\xfe", *service(stub))),
        2,
        "InvalidRequestError: --system is not UTF-8 text (byte 0xff at offset 0)",
    ),
    "argv-cookies-not-utf8": Case(
        lambda tmp, stub: Setup(("ask", "Hi", "--base-url", stub.url, "--cookies", b"a=\x80")),
        2,
        "InvalidRequestError: --cookies is not UTF-8 text (byte 0x80 at offset 2)",
    ),
    "argv-encoded-surrogate": Case(  # UTF-8 of U+D83D: not valid UTF-8, three bad bytes
        lambda tmp, stub: Setup(("ask", b"x\xed\xa0\xbd", *service(stub))),
        2,
        "PROMPT is not UTF-8 text (byte 0xed at offset 1)",
    ),
    "env-base-url-not-utf8": Case(
        lambda tmp, stub: Setup(
            ("ask", "Hi", "--cookies", "a=b"),
            env={"AICHAT_BASE_URL": "http://h\udcffst/"},
        ),
        2,
        "InvalidRequestError: AICHAT_BASE_URL is not UTF-8 text (byte 0xff at offset 8)",
    ),
    "argv-unknown-option-not-utf8": Case(
        lambda tmp, stub: Setup(("ask", b"--x\xff", "Hi")),
        2,
        "No such option",
    ),
    "argv-unknown-command-not-utf8": Case(
        lambda tmp, stub: Setup((b"\xffask",)),
        2,
        "No such command",
    ),
    "argv-float-not-utf8": Case(
        lambda tmp, stub: Setup(("ask", "Hi", "--temperature", b"0.\xff", *service(stub))),
        2,
        "--temperature",
    ),
    "stdin-ask-not-utf8": Case(
        lambda tmp, stub: Setup(("ask", "-", *service(stub)), stdin=b"Hello \xc3\x28 there"),
        2,
        "InvalidRequestError: stdin is not UTF-8 text (byte 0xc3 at offset 6)",
    ),
    "stdin-ask-huge": Case(
        lambda tmp, stub: Setup(("ask", "-", *service(stub)), stdin=b"a" * BIG),
        2,
        "InvalidRequestError: stdin holds more than 4 MiB",
    ),
    "stdin-chat-not-utf8": Case(
        lambda tmp, stub: Setup(("chat", *service(stub)), stdin=b"first\nsec\xffond\nthird\n"),
        2,
        "InvalidRequestError: stdin line 2 is not UTF-8 text (byte 0xff at offset 3)",
        sends=True,  # the first line is asked before the second is read
    ),
    "stdin-chat-huge-line": Case(
        lambda tmp, stub: Setup(("chat", *service(stub)), stdin=b"a" * BIG + b"\n"),
        2,
        "InvalidRequestError: stdin line 1 is longer than 4 MiB",
    ),
    "stdin-chat-lone-surrogate-escape": Case(  # JSON-style escapes are plain text here
        lambda tmp, stub: Setup(("chat", "--json", *service(stub)), stdin=b"\\ud83d\n"),
        0,
        "",
        sends=True,
    ),
    "batch-not-utf8": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "ok"}', b'{"prompt": "\xe9t\xe9"}')),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        "in.jsonl line 2 is not UTF-8 text (byte 0xe9 at offset 12)",
    ),
    "batch-stdin-not-utf8": Case(
        lambda tmp, stub: Setup(
            ("batch", "-", "-o", str(tmp / "out.jsonl"), *service(stub)),
            stdin=b'{"prompt": "\x81"}\n',
        ),
        2,
        "InvalidRequestError: stdin line 1 is not UTF-8 text (byte 0x81 at offset 12)",
    ),
    "batch-lone-surrogate": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "ok"}', b'{"prompt": "x\\ud83d"}')),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        "line 2: the prompt has a lone surrogate",
    ),
    "batch-lone-surrogate-in-messages": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(
                    lines(
                        tmp / "in.jsonl",
                        b'{"messages": [{"role": "user", "content": "\\udc00"}]}',
                    )
                ),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        "line 1: the prompt has a lone surrogate",
    ),
    "batch-lone-surrogate-in-id": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"id": "\\ud800", "prompt": "a"}')),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        'line 1: "id" has a lone surrogate',
    ),
    "batch-huge-line": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "' + b"a" * BIG + b'"}')),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        "in.jsonl line 1 is longer than 4 MiB",
    ),
    "batch-deep-json": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b"[" * 200_000 + b"]" * 200_000)),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        "line 1: not valid JSON",
    ),
    "batch-id-of-5000-digits": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"id": ' + b"9" * 5000 + b', "prompt": "a"}')),
                "-o",
                str(tmp / "out.jsonl"),
                *service(stub),
            )
        ),
        2,
        "line 1: not valid JSON",
    ),
    "batch-input-fifo": Case(
        lambda tmp, stub: Setup(
            ("batch", str(fifo(tmp / "in.fifo")), "-o", str(tmp / "out.jsonl"), *service(stub))
        ),
        2,
        "is a named pipe (FIFO), not a regular file; to pipe the prompts in, give '-'",
    ),
    "batch-output-fifo": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "a"}')),
                "-o",
                str(fifo(tmp / "out.fifo")),
                *service(stub),
            )
        ),
        2,
        "the output file",
    ),
    "batch-output-symlink": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "a"}')),
                "-o",
                str(symlink(tmp / "out.jsonl", tmp / "elsewhere.jsonl")),
                *service(stub),
            )
        ),
        2,
        "is a symbolic link; aichat does not write through links",
    ),
    "batch-output-is-input-by-hard-link": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "a"}')),
                "-o",
                str(hard_link(tmp / "out.jsonl", tmp / "in.jsonl")),
                *service(stub),
            )
        ),
        2,
        "the output file must not be the input file",
    ),
    "batch-input-folder": Case(
        lambda tmp, stub: Setup(("batch", str(tmp), "-o", str(tmp / "out.jsonl"))),
        2,
        "is a directory",
    ),
    "batch-input-missing": Case(
        lambda tmp, stub: Setup(("batch", str(tmp / "nope.jsonl"), "-o", str(tmp / "o.jsonl"))),
        2,
        "does not exist",
    ),
    "batch-output-folder-missing": Case(
        lambda tmp, stub: Setup(
            (
                "batch",
                str(lines(tmp / "in.jsonl", b'{"prompt": "a"}')),
                "-o",
                str(tmp / "no" / "out.jsonl"),
                *service(stub),
            )
        ),
        1,
        "no such folder for OUT.jsonl",
    ),
}


def symlink(link: Path, target: Path) -> Path:
    target.write_text("")
    link.symlink_to(target)
    return link


def hard_link(link: Path, target: Path) -> Path:
    link.hardlink_to(target)
    return link


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_gives_one_line_and_the_documented_code(
    name: str, tmp_path: Path, stub: StubServer
) -> None:
    case = CASES[name]
    setup = case.build(tmp_path, stub)

    result = aichat(*setup.args, stdin=setup.stdin, env=setup.env, cwd=tmp_path)

    stderr = text(result.stderr)
    assert "Traceback" not in stderr
    assert result.returncode == case.code, stderr
    if case.code == 0:
        assert stderr == ""
    else:
        assert stderr.count("\n") == 1, stderr
        assert stderr.startswith("error: ")
        assert case.error in stderr
    if not case.sends:
        assert stub.requests == []


def test_a_bad_batch_line_fails_the_same_way_on_every_rerun(
    tmp_path: Path, stub: StubServer
) -> None:
    source = lines(tmp_path / "in.jsonl", b'{"prompt": "ok"}', b'{"prompt": "\\udfff"}')
    output = tmp_path / "out.jsonl"
    runs = [aichat("batch", str(source), "-o", str(output), *service(stub)) for _ in range(2)]

    assert [run.returncode for run in runs] == [2, 2]
    assert runs[0].stderr == runs[1].stderr
    assert b"line 2: the prompt has a lone surrogate" in runs[0].stderr
    assert stub.requests == []
    assert not output.exists()

    source.write_bytes(b'{"prompt": "ok"}\n{"prompt": "fixed"}\n')  # fixing the line unblocks it
    fixed = aichat("batch", str(source), "-o", str(output), *service(stub))
    assert fixed.returncode == 0, text(fixed.stderr)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x1c", "\r"])
def test_json_strings_may_hold_characters_splitlines_would_split_on(
    separator: str, tmp_path: Path, stub: StubServer
) -> None:
    prompt = f"one{separator}two"
    source = tmp_path / "in.jsonl"
    records = [{"id": "a", "prompt": prompt}, {"id": "b", "prompt": "plain"}]
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    output = tmp_path / "out.jsonl"

    result = aichat("batch", str(source), "-o", str(output), "--no-progress", *service(stub))

    assert result.returncode == 0, text(result.stderr)
    assert sorted(str(r.json["message"]) for r in stub.requests) == sorted([prompt, "plain"])  # type: ignore[index]
    written = output.read_bytes().split(b"\n")
    assert written[-1] == b""
    results = {json.loads(line)["id"]: json.loads(line) for line in written[:-1]}
    assert results == {
        "a": {"id": "a", "reply": f"Echo: {prompt}"},
        "b": {"id": "b", "reply": "Echo: plain"},
    }
    rerun = aichat("batch", str(source), "-o", str(output), *service(stub))
    assert rerun.returncode == 0, text(rerun.stderr)
    assert len(stub.requests) == 2  # the journal is read back the same way: nothing asked again


SURROGATE_REPLY = b'{"response": true, "message": "half \\ud83d of an emoji"}'


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        pytest.param(("ask", "Hi"), b"", b"half \\ud83d of an emoji\n", id="ask"),
        pytest.param(
            ("ask", "Hi", "--json"),
            b"",
            {"reply": "half \ud83d of an emoji"},
            id="ask-json",
        ),
        pytest.param(
            ("chat", "--json"), b"Hi\n", {"reply": "half \ud83d of an emoji"}, id="chat-json"
        ),
    ],
)
def test_a_reply_with_a_lone_surrogate_is_printed_without_crashing(
    stub: StubServer, args: tuple[str, ...], stdin: bytes, expected: object
) -> None:
    stub.enqueue(Fault.malformed(SURROGATE_REPLY))

    result = aichat(*args, *service(stub), stdin=stdin)

    assert result.returncode == 0, text(result.stderr)
    assert result.stderr == b""
    result.stdout.decode("utf-8")  # valid UTF-8, whatever the server sent
    if isinstance(expected, bytes):
        assert result.stdout == expected
    else:
        document = json.loads(result.stdout)
        assert {key: document[key] for key in expected} == expected  # type: ignore[attr-defined]


def test_a_batch_reply_with_a_lone_surrogate_is_written_as_valid_json(
    stub: StubServer, tmp_path: Path
) -> None:
    source = lines(tmp_path / "in.jsonl", b'{"prompt": "a"}')
    output = tmp_path / "out.jsonl"
    stub.enqueue(Fault.malformed(SURROGATE_REPLY))

    result = aichat("batch", str(source), "-o", str(output), *service(stub))

    assert result.returncode == 0, text(result.stderr)
    raw = output.read_bytes()
    raw.decode("utf-8")
    assert json.loads(raw) == {"id": 1, "reply": "half \ud83d of an emoji"}


def test_a_hostile_error_message_is_one_safe_capped_line(stub: StubServer) -> None:
    message = "line one\nline two\r\x1b[31mred\x1b[0m\u2028" + "x" * 50_000
    stub.enqueue(Fault.refuse(message))

    result = aichat("ask", "Hi", *service(stub))

    stderr = text(result.stderr)
    assert result.returncode == 4
    assert stderr.count("\n") == 1
    assert "\x1b" not in stderr  # no terminal escape reaches the terminal
    assert "\r" not in stderr
    assert "\u2028" not in stderr
    assert len(stderr) < 3000


def test_stdin_closed_is_one_line(stub: StubServer) -> None:
    command = [sys.executable, "-m", "aichat_adapters.cli", "ask", "-", *service(stub)]
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *command],
        capture_output=True,
        timeout=WAIT,
        env=clean_env(**STRICT),
        check=False,
    )

    assert result.returncode == 2
    assert text(result.stderr) == (
        "error: InvalidRequestError: stdin is closed; give the input another way\n"
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("a\nb\r\nc\u2028d\x85e\x0bf", "a b c d e f", id="every-line-break"),
        pytest.param("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07", id="escapes"),
        pytest.param("tab\there", "tab\there", id="tab-kept"),
        pytest.param("é 日本 🙂", "é 日本 🙂", id="text-kept"),
    ],
)
def test_one_line_is_one_safe_line(raw: str, shown: str) -> None:
    assert one_line(raw) == shown


def test_one_line_caps_a_huge_message() -> None:
    line = one_line("x" * 5_000_000)

    assert len(line) < 2100
    assert line.endswith("... (4998000 more characters)")


def test_cookies_not_found_speaks_the_command_s_language() -> None:
    error = CookiesNotFoundError.from_tried(
        (("env AICHAT_COOKIES", "AICHAT_COOKIES is not set"), ("file x.txt", "no such file"))
    )

    shown = describe(error)

    assert shown.startswith(
        "CookiesNotFoundError: no cookie source gave cookies (tried env AICHAT_COOKIES: "
        "AICHAT_COOKIES is not set; file x.txt: no such file). "
    )
    assert "--cookies-file FILE" in shown
    assert "to the client" not in shown
