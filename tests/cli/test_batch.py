"""``aichat batch`` in a subprocess: results journaled as they complete, resumable."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.progress import Progress, ProgressColumn

from aichat_adapters.cli._batch import time_left, time_left_column
from aichat_adapters.stub import Fault, StubServer
from tests.support import AICHAT, WAIT, clean_env, no_cookies_env, run, started


def write_jsonl(path: Path, *records: Any) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def batch(
    stub: StubServer, source: Path, output: Path, *args: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    return run(
        "batch", str(source), "-o", str(output), "--base-url", stub.url, "--cookies", "a=b",
        *args, **options,
    )  # fmt: skip


def prompts(stub: StubServer) -> list[object]:
    return [request.json["message"] for request in stub.requests]  # type: ignore[index]


def test_every_line_is_asked_and_answered(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        {"id": "a", "prompt": "alpha"},
        {"prompt": "beta"},
        {
            "id": 7,
            "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
        },
    )
    output = tmp_path / "out.jsonl"

    result = batch(stub, source, output, "--concurrency", "2", "--temperature", "0.3")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert sorted(read_jsonl(output), key=lambda r: str(r["id"])) == [
        {"id": 2, "reply": "Echo: beta"},  # the id defaults to the line number
        {"id": 7, "reply": "Echo: System: S\nUser: U\nAssistant:"},
        {"id": "a", "reply": "Echo: alpha"},
    ]
    assert sorted(map(str, prompts(stub))) == ["System: S\nUser: U\nAssistant:", "alpha", "beta"]
    assert {r.json["temperature"] for r in stub.requests} == {0.3}  # type: ignore[index]
    summary = result.stderr.splitlines()[-1]
    assert summary == f"batch done: 3 answered; results in {output}"


def test_prompts_from_stdin(stub: StubServer, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"

    result = batch(stub, Path("-"), output, stdin='{"prompt": "one"}\n\n{"prompt": "three"}\n')

    assert result.returncode == 0, result.stderr
    assert sorted(read_jsonl(output), key=lambda r: int(r["id"])) == [
        {"id": 1, "reply": "Echo: one"},
        {"id": 3, "reply": "Echo: three"},
    ]


def test_a_rerun_asks_nothing_already_answered(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "one"}, {"prompt": "two"})
    output = tmp_path / "out.jsonl"
    assert batch(stub, source, output).returncode == 0
    stub.reset()

    result = batch(stub, source, output)

    assert result.returncode == 0, result.stderr
    assert stub.requests == []
    assert len(read_jsonl(output)) == 2
    assert "0 answered, 2 already answered before" in result.stderr


def test_failures_exit_with_their_code_and_are_retried_on_rerun(
    stub: StubServer, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", *({"prompt": f"p{i}"} for i in range(3)))
    output = tmp_path / "out.jsonl"
    stub.enqueue(Fault.refuse("busy"))

    first = batch(stub, source, output, "--concurrency", "1")

    assert first.returncode == 4
    results = read_jsonl(output)
    [failed] = [r for r in results if "error" in r]
    assert failed["error"]["type"] == "ServiceError"
    assert "busy" in failed["error"]["message"]
    assert "2 answered, 1 failed (1 ServiceError)" in first.stderr.splitlines()[-1]
    answered_first = {r["id"] for r in results if "reply" in r}
    stub.reset()

    second = batch(stub, source, output)

    assert second.returncode == 0, second.stderr
    assert len(stub.requests) == 1  # only the failed id is asked again
    final = read_jsonl(output)
    assert sorted(r["id"] for r in final) == [1, 2, 3]  # the error line is gone
    assert all("reply" in r for r in final)
    assert {r["id"] for r in final} - answered_first == {failed["id"]}


def test_failures_of_different_families_exit_1(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "a"}, {"prompt": "b"})
    stub.enqueue(Fault.refuse(), Fault.drop())

    result = batch(stub, source, tmp_path / "out.jsonl", "-c", "1", "--max-retries", "0")

    assert result.returncode == 1
    assert "ServiceError" in result.stderr
    assert "ConnectError" in result.stderr


def test_an_authentication_error_stops_the_batch(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", *({"prompt": f"p{i}"} for i in range(5)))
    output = tmp_path / "out.jsonl"
    stub.enqueue(Fault.challenge())

    result = batch(stub, source, output, "--concurrency", "1")

    assert result.returncode == 3
    assert len(stub.requests) == 1
    [line] = read_jsonl(output)
    assert line["error"]["type"] == "ChallengeError"
    assert "batch stopped at a cookies or authentication error" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_cookies_exits_3_before_anything_is_sent(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "a"})
    output = tmp_path / "out.jsonl"

    result = run(
        "batch", str(source), "-o", str(output), "--base-url", stub.url,
        env=no_cookies_env(tmp_path),
    )  # fmt: skip

    assert result.returncode == 3
    assert result.stderr.startswith("error: CookiesNotFoundError: ")
    assert result.stderr.count("\n") == 1
    assert stub.requests == []
    assert not output.exists() or output.read_text() == ""


def test_an_invalid_line_exits_2_naming_it_and_sends_nothing(
    stub: StubServer, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "fine"}\n\n{"prompt": "also fine"}\n{"prompt": \n')
    output = tmp_path / "out.jsonl"

    result = batch(stub, source, output)

    assert result.returncode == 2
    assert result.stderr.startswith(f"error: InvalidRequestError: {source} line 4: not valid JSON")
    assert result.stderr.count("\n") == 1
    assert stub.requests == []
    assert not output.exists()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('["a list"]', "expected a JSON object"),
        ('{"id": 1}', 'give exactly one of "prompt"'),
        ('{"prompt": "a", "messages": []}', 'give exactly one of "prompt"'),
        ('{"prompt": ""}', "the prompt is empty; give some text to ask"),  # the library's words
        ('{"prompt": " \\n "}', "the prompt is empty; give some text to ask"),
        ('{"messages": [{"role": "user", "content": ""}]}', "the prompt is empty"),
        ('{"prompt": 5}', '"prompt" must be a string, not a number'),
        ('{"prompt": "a", "id": null}', '"id" must be a string or an integer, not null'),
        ('{"id": 1.5, "prompt": "a"}', '"id" must be a string or an integer'),
        ('{"messages": [{"role": "robot", "content": "a"}]}', "unknown message role 'robot'"),
        ('{"messages": "a"}', '"messages" must be a list'),
        ('{"messages": []}', "messages is empty"),
    ],
)
def test_each_kind_of_invalid_line_is_named(
    stub: StubServer, tmp_path: Path, line: str, reason: str
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "fine"}\n' + line + "\n")

    result = batch(stub, source, tmp_path / "out.jsonl")

    assert result.returncode == 2
    assert f"line 2: {reason}" in result.stderr
    assert stub.requests == []


def test_duplicate_ids_exit_2(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "a"}, {"id": 1, "prompt": "b"})

    result = batch(stub, source, tmp_path / "out.jsonl")

    assert result.returncode == 2
    assert "line 2: id 1 is also the id of line 1" in result.stderr
    assert stub.requests == []


def test_a_line_cut_short_by_a_crash_is_asked_again(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "one"}, {"prompt": "two"})
    output = tmp_path / "out.jsonl"
    output.write_text('{"id": 1, "reply": "Echo: one"}\n{"id": 2, "rep')

    result = batch(stub, source, output)

    assert result.returncode == 0, result.stderr
    assert prompts(stub) == ["two"]
    assert read_jsonl(output) == [
        {"id": 1, "reply": "Echo: one"},
        {"id": 2, "reply": "Echo: two"},
    ]


def test_an_output_file_of_something_else_is_left_alone(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "one"})
    output = tmp_path / "notes.txt"
    output.write_text("my notes\nplease keep them\n")

    result = batch(stub, source, output)

    assert result.returncode == 2
    assert "line 1 is not a result line" in result.stderr
    assert output.read_text() == "my notes\nplease keep them\n"
    assert stub.requests == []


def test_batch_with_the_stub(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "one"})
    output = tmp_path / "out.jsonl"

    result = run("batch", str(source), "-o", str(output), "--stub", "--no-progress")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(output) == [{"id": 1, "reply": "Echo: one"}]
    assert result.stderr == f"batch done: 1 answered; results in {output}\n"


def wait_for_lines(path: Path, count: int, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} did not reach {count} lines within {timeout} s")


def test_ctrl_c_then_rerun_answers_every_id_once_and_asks_nothing_twice(tmp_path: Path) -> None:
    total = 40
    source = write_jsonl(tmp_path / "in.jsonl", *({"prompt": f"prompt {i}"} for i in range(total)))
    output = tmp_path / "out.jsonl"
    with StubServer(latency=0.1) as slow:
        command = [AICHAT, "batch", str(source), "-o", str(output), "--base-url", slow.url]
        command += ["--cookies", "a=b", "--concurrency", "4"]
        with started(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
        ) as process:
            try:
                wait_for_lines(output, 5)
                process.send_signal(signal.SIGINT)
                _, stderr = process.communicate(timeout=WAIT)
            finally:
                if process.poll() is None:
                    process.kill()
        interrupted = read_jsonl(output)
        asked_before = len(slow.requests)

        rerun = subprocess.run(
            command, capture_output=True, text=True, timeout=WAIT, env=clean_env(), check=False
        )

        asked_after = [str(r.json["message"]) for r in slow.requests[asked_before:]]  # type: ignore[index]
        asked_in_all = {str(r.json["message"]) for r in slow.requests}  # type: ignore[index]

    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1].startswith("batch interrupted: ")
    assert all("reply" in line for line in interrupted)
    assert 5 <= len(interrupted) < total  # stopped in the middle
    assert rerun.returncode == 0, rerun.stderr
    final = read_jsonl(output)
    assert Counter(line["id"] for line in final) == Counter(range(1, total + 1))  # each once
    assert all(line["reply"] == f"Echo: prompt {line['id'] - 1}" for line in final)
    assert asked_in_all == {f"prompt {i}" for i in range(total)}
    answered_before = {f"prompt {line['id'] - 1}" for line in interrupted}
    assert answered_before.isdisjoint(asked_after)
    assert len(asked_after) == len(set(asked_after)) == total - len(interrupted)


# --------------------------------------------------------------------------- files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_output_file_is_created_0600(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "private"})
    output = tmp_path / "out.jsonl"

    result = batch(stub, source, output)

    assert result.returncode == 0, result.stderr
    assert mode(output) == 0o600


@pytest.mark.parametrize("before", [0o600, 0o640, 0o644])
def test_a_rewrite_keeps_the_output_mode(stub: StubServer, tmp_path: Path, before: int) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"id": "a", "prompt": "a"})
    output = tmp_path / "out.jsonl"
    output.write_text('{"id": "a", "error": {"type": "ServiceError", "message": "busy"}}\n')
    output.chmod(before)
    inode = output.stat().st_ino

    result = batch(stub, source, output)

    assert result.returncode == 0, result.stderr
    assert output.stat().st_ino != inode  # rewritten: the error line is gone
    assert read_jsonl(output) == [{"id": "a", "reply": "Echo: a"}]
    assert mode(output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_a_symlink_planted_at_the_old_temporary_name_is_not_followed(
    stub: StubServer, tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl", {"id": "a", "prompt": "a"}, {"id": "b", "prompt": "b"}
    )
    output = tmp_path / "out.jsonl"
    output.write_text('{"id": "a", "error": {"type": "ServiceError", "message": "busy"}}\n')
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = tmp_path / ".out.jsonl.aichat-tmp"  # the name earlier versions wrote through
    planted.symlink_to(victim)

    result = batch(stub, source, output)

    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert planted.is_symlink()
    assert os.readlink(planted) == str(victim)
    assert not output.is_symlink()
    assert sorted(r["id"] for r in read_jsonl(output)) == ["a", "b"]
    assert all("reply" in r for r in read_jsonl(output))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.jsonl", "out.jsonl", "victim.txt", ".out.jsonl.aichat-tmp"]
    )


def test_an_output_symlink_is_refused_and_its_target_untouched(
    stub: StubServer, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "a"})
    target = tmp_path / "real.jsonl"
    target.write_text('{"id": 1, "error": {"type": "ServiceError", "message": "busy"}}\n')
    output = tmp_path / "out.jsonl"
    output.symlink_to(target)

    result = batch(stub, source, output)

    assert result.returncode == 2
    assert result.stderr == (
        f"error: InvalidRequestError: the output file {output} is a symbolic link; aichat "
        "does not write through links (a planted link could point anywhere): give the path "
        "of the file itself\n"
    )
    assert target.read_text() == (
        '{"id": 1, "error": {"type": "ServiceError", "message": "busy"}}\n'
    )
    assert output.is_symlink()
    assert stub.requests == []


def test_no_cookies_gives_cli_advice(stub: StubServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", {"prompt": "a"})

    result = run(
        "batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--base-url", stub.url,
        env=no_cookies_env(tmp_path),
    )  # fmt: skip

    assert result.returncode == 3
    for option in ("--cookies", "--cookies-file", "--browser", "AICHAT_COOKIES"):
        assert option in result.stderr
    assert "to the client" not in result.stderr
    assert "cookies=..." not in result.stderr


def test_a_large_input_is_not_held_in_memory(tmp_path: Path) -> None:
    """Peak RSS of a run over a 64 MiB input grows far less than the input's size.

    Every id is already answered, so the run reads the input and the journal
    and sends nothing; reading either whole would cost more than 64 MiB.
    """
    prompt = "x" * 2000

    def peak_rss_kib(count: int, folder: Path) -> int:
        folder.mkdir()
        source, output = folder / "in.jsonl", folder / "out.jsonl"
        with source.open("w") as file:
            for index in range(count):
                file.write(json.dumps({"id": index, "prompt": prompt}) + "\n")
        with output.open("w") as file:
            for index in range(count):
                file.write(json.dumps({"id": index, "reply": prompt}) + "\n")
        command = [AICHAT, "batch", str(source), "-o", str(output), "--stub", "--no-progress"]
        probe = (
            "import resource, subprocess, sys\n"
            "result = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "assert result.returncode == 0, result.stderr\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        measured = subprocess.run(
            [sys.executable, "-c", probe, *command],
            capture_output=True, text=True, timeout=WAIT * 6, env=clean_env(), check=True,
        )  # fmt: skip
        return int(measured.stdout)  # KiB on Linux

    small = peak_rss_kib(10, tmp_path / "small")
    large = peak_rss_kib(34_000, tmp_path / "large")  # 64 MiB of input, 64 MiB of output

    assert (tmp_path / "large" / "in.jsonl").stat().st_size > 64 * 2**20
    assert large - small < 24 * 1024, f"peak RSS grew by {(large - small) // 1024} MiB"


def test_the_time_left_counts_the_pace_since_the_start_not_within_a_burst() -> None:
    # 8 prompts in flight, 3 s each: the first 8 results come at once, at 3 s.
    now = [0.0]
    progress = Progress(time_left_column(), get_time=lambda: now[0], disable=True)
    task = progress.add_task("asking", total=24)
    column = progress.columns[0]
    assert isinstance(column, ProgressColumn)

    assert str(column.render(progress.tasks[task])) == "-:--:--"  # nothing to go by yet
    for step in range(8):
        now[0] = 3.0 + step / 1000
        progress.update(task, advance=1)

    assert time_left(3.007, 8, 16) == pytest.approx(6.0, rel=0.01)
    assert str(column.render(progress.tasks[task])) == "0:00:07"  # 6.014 s, rounded up
