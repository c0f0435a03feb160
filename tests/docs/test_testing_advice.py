"""docs/testing.md's advice for ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``, followed as written.

The example user's test file (docs/examples, with a sync and an anyio test)
is run with the plugins the page names: every test passes. Without anyio's
plugin, its async test cannot run, which is why the page names it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "testing.md"
EXAMPLES = ROOT / "docs" / "examples"


def advised_options() -> list[str]:
    """The ``-p`` options the page gives for PYTEST_DISABLE_PLUGIN_AUTOLOAD=1."""
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    found = re.search(r"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`, [^`]*`((?:-p \S+ ?)+)`", text)
    assert found, (
        "docs/testing.md no longer gives the -p options for PYTEST_DISABLE_PLUGIN_AUTOLOAD"
    )
    return found.group(1).split()


def run_example(tmp_path: Path, options: list[str]) -> str:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AICHAT_", "PYTEST_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            *options,
            "test_my_app.py",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout + done.stderr


def counts(output: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error)", output)}


def test_with_the_advised_plugins_every_test_of_the_example_passes(tmp_path: Path) -> None:
    options = advised_options()

    output = run_example(tmp_path, options)

    assert options == ["-p", "aichat_adapters.testing.plugin", "-p", "anyio"]
    assert set(counts(output)) == {"passed"}, output


def test_without_anyio_s_plugin_the_async_test_cannot_run(tmp_path: Path) -> None:
    output = run_example(tmp_path, ["-p", "aichat_adapters.testing.plugin"])

    found = counts(output)
    assert found.get("failed", 0) + found.get("error", 0) >= 1, output
    assert "no plugin or hook that handled it" in output or (
        "async def functions are not natively supported" in output
    )
