"""Every shell command in README.md and docs/ is run by a check, or marked as illustrative.

A ``console`` block (or ``bash``, ``sh``, ``shell``) is one of:

- written as a session, ``$ command`` lines each followed by its output:
  this test runs each command with bash in an empty folder, as a new user
  would (an empty home, no ``AICHAT_*`` variable, the ``aichat`` of this
  environment on ``PATH``), and compares what it prints (stdout and stderr)
  with the lines shown, ``...`` standing for any text;
- marked ``<!-- quick-start ... -->`` (the README's quick start, run verbatim
  in a fresh clone by ``nox -s quickstart``; every copy of it in docs/ must
  be the same line) or ``<!-- test-command ... -->`` (the README's test line,
  which ``.ci/run`` must end with);
- marked ``<!-- illustrative: why -->`` on the line before it: it needs what
  a check cannot have (your cookies, the network, your browser, a
  long-running server) and is not run.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
SHELLS = ("console", "bash", "sh", "shell")
MARKERS = ("illustrative", "quick-start", "test-command")
WAIT = 60.0

_FENCE = re.compile(r"^(?P<indent> *)```(?P<language>[\w-]*)")
_MARKER = re.compile(r"^ *<!-- (?P<marker>[\w-]+)\b.*-->\s*$")


@attrs.frozen
class Block:
    """A shell block of a page: where it is, the marker before it, its lines."""

    page: Path
    line: int
    marker: str | None
    lines: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def shell_blocks(page: Path) -> list[Block]:
    """Every shell block of ``page``, with the marker on the line before its fence."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    number = 0
    while number < len(lines):
        fence = _FENCE.match(lines[number])
        if fence is None:
            number += 1
            continue
        indent = fence.group("indent")
        end = number + 1
        while end < len(lines) and not lines[end].startswith(f"{indent}```"):
            end += 1
        if fence.group("language") in SHELLS:
            before = _MARKER.match(lines[number - 1]) if number else None
            body = tuple(line.removeprefix(indent) for line in lines[number + 1 : end])
            marker = before.group("marker") if before else None
            blocks.append(Block(page, number + 1, marker, body))
        number = end + 1
    return blocks


BLOCKS = [block for page in PAGES for block in shell_blocks(page)]
SESSIONS = [
    block
    for block in BLOCKS
    if block.marker is None and block.lines and block.lines[0].startswith("$ ")
]


def test_every_shell_block_is_run_or_marked() -> None:
    unmarked_commands = [
        block.where for block in SESSIONS if not block.lines or not block.lines[0].startswith("$ ")
    ]
    unknown = [
        f"{block.where} ({block.marker})"
        for block in BLOCKS
        if block.marker not in (None, *MARKERS)
    ]

    assert not unmarked_commands, (
        "write these as '$ command' lines with their output, or mark them "
        f"<!-- illustrative: why --> on the line before: {unmarked_commands}"
    )
    assert not unknown, f"unknown markers: {unknown}"


def test_no_command_starts_with_a_bare_python() -> None:
    # A fresh Debian or macOS has python3 only; inside a virtual environment both work,
    # but a reader may be outside one.
    found = [
        f"{block.where}: {line}"
        for block in BLOCKS
        for line in block.lines
        if re.match(r"^(\$ )?(\S+=\S+ )*python( |$)", line.strip())
    ]

    assert not found


def test_every_quick_start_is_the_readme_s_and_ci_runs_the_readme_s_test_line() -> None:
    quick_starts = {block.lines for block in BLOCKS if block.marker == "quick-start"}
    [readme_test] = [block for block in BLOCKS if block.marker == "test-command"]
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()

    assert len(quick_starts) == 1, f"the quick starts differ: {quick_starts}"
    [quick_start] = quick_starts
    assert len(quick_start) == 1  # one line, to paste
    assert quick_start[0].startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    assert readme_test.page.name == "README.md"
    assert len(readme_test.lines) == 1
    assert ci_run[-1] == readme_test.lines[0]


def _expected(lines: tuple[str, ...]) -> re.Pattern[str]:
    """The output lines as a pattern: ``...`` matches any text, even across lines."""
    parts = [re.escape(part) for part in "\n".join(lines).split("...")]
    return re.compile(".*".join(parts), re.DOTALL)


def _commands(block: Block) -> list[tuple[str, tuple[str, ...]]]:
    """Each ``$ command`` of a session block, with the output lines shown after it."""
    commands: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            commands[-1][1].append(line)
    return [(command, tuple(output)) for command, output in commands]


@pytest.mark.xdist_group("docs-sessions")  # one after the other: some use port 8000
@pytest.mark.parametrize("block", SESSIONS, ids=lambda block: block.where)
def test_a_session_block_prints_what_it_shows(block: Block, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    bin_dir = str(Path(sys.executable).parent)  # this environment's aichat and python3
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "COLUMNS": "200",
    }
    sessions: list[int] = []  # a command's own session: what it left running (cmd &) dies after
    try:
        for command, shown in _commands(block):
            with subprocess.Popen(
                ["bash", "-c", command],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            ) as done:
                sessions.append(done.pid)
                try:
                    out, _ = done.communicate(timeout=WAIT)
                except subprocess.TimeoutExpired:
                    os.killpg(done.pid, signal.SIGKILL)
                    raise
            printed = out.rstrip("\n")
            assert _expected(shown).fullmatch(printed), (
                f"{block.where}: {command!r} printed\n{printed}\n--- the page shows ---\n"
                + "\n".join(shown)
            )
    finally:
        for session in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session, signal.SIGTERM)
