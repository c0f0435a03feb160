# /// script
# dependencies = ["nox>=2026.10.20", "uv>=0.13"]
# ///
"""Developer tasks. ``nox`` runs the default sessions: tests, lint, typecheck, docs, g4f, build,
quickstart.

The block above makes ``nox`` run itself from ``.nox/_nox_script_mode``, a
virtual environment with a nox that runs sessions in parallel and with uv,
which builds the sessions' environments and installs into them many times
faster than pip. Sessions find the registries through the environment (uv
does not read pip.conf: set ``UV_INDEX_URL`` and the like where pip needs
its own index).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|venv"
# uv trusts the system's certificates, as pip does: behind a proxy or a company's own
# certificate authority (and in a shell with no SSL_CERT_FILE), its own roots reach no index.
os.environ.setdefault("UV_SYSTEM_CERTS", "true")
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "g4f", "build", "quickstart"]
# The sessions are independent: two at a time, each in its own process (the tests' own
# workers share the machine with the other sessions).
nox.options.parallel = 2
nox.options.allow_parallel = True
# tests runs on every Python of PYTHONS this machine has; an absent one is skipped, not
# failed (nox's default under CI=true is to fail), and never downloaded.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[cli,stub,browser,impersonate,aiohttp,socks,serve,clearance]"
PYTHON_PATHS = ("src", "tests", "tests_g4f", "benchmarks", "noxfile.py")


def install(session: nox.Session, *groups: str) -> None:
    """Install the project with every extra, and the named dependency groups."""
    requirements = [
        req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
    ]
    session.install("-e", EXTRAS, *requirements)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit and end-to-end tests (asyncio and trio), with coverage."""
    install(session, "test")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", success_codes=[0, 1])
    session.run("coverage", "report")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (check and format) and the import-linter layer contract."""
    install(session, "lint")
    session.run("ruff", "check", *PYTHON_PATHS)
    session.run("ruff", "format", "--check", *PYTHON_PATHS)
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the sources and the tests; misspelt call parameters must fail it."""
    install(session, "typecheck")
    session.run("mypy")
    must_fail = "tests/typing/misspelt_params.py"
    report = session.run(
        "mypy", "--strict", "--no-error-summary", must_fail, silent=True, success_codes=[1]
    )
    flagged = {int(line.split(":")[1]) for line in str(report).splitlines() if ": error:" in line}
    with open(must_fail, encoding="utf-8") as file:
        marked = {n for n, line in enumerate(file, 1) if line.rstrip().endswith("# type error")}
    if flagged != marked:
        session.error(f"{must_fail}: errors on lines {sorted(flagged)}, marked {sorted(marked)}")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site, warnings as errors (a raw Sphinx role is one)."""
    install(session, "docs")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def g4f(session: nox.Session) -> None:
    """The g4f provider against real g4f 8.x, installed in this session only (tests_g4f/)."""
    requirements = nox.project.dependency_groups(PYPROJECT, "test")
    session.install("-e", ".[stub]", "g4f>=8.8,<9", *requirements)
    session.run("pytest", "tests_g4f", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against raw httpx, raw aiohttp and a bare Starlette route, in one run
    (not a default session).

    ``nox -s bench -- --quick`` for a short run; ``python benchmarks/profile_client.py``
    profiles the SDK's own cost per call.
    """
    # Every transport's extra; raw httpx and raw aiohttp are the baselines; trio for anyio;
    # httptools makes the stub server (the bottleneck at c=50) faster.
    session.install(
        "-e", ".[stub,impersonate,aiohttp,serve]", "httpx", "aiohttp", "anyio[trio]", "httptools"
    )
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(default=False)
def langchain(session: nox.Session) -> None:
    """LangChain's ChatOpenAI through aichat serve, over loopback (not a default session)."""
    requirements = nox.project.dependency_groups(PYPROJECT, "test")
    session.install("-e", ".[serve,stub]", "langchain-openai>=0.3", *requirements)
    session.run("pytest", "-p", "no:cacheprovider", "tests/serve/langchain_check.py")


EXAMPLES = Path("docs/examples")
# A wrong expectation in each test of the example: every one of them must then fail.
WRONG = (('"Echo: ', '"Echo? '), ("status_code == 500", "status_code == 501"))


def _pytest_counts(output: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error)", output)}


@nox.session(reuse_venv=False)
def build(session: nox.Session) -> None:
    """Build the sdist and the wheel, install the wheel in a fresh venv, use it as a user would.

    ``aichat ask --stub`` must answer, and a user's own test file
    (``docs/examples/test_my_app.py``, with the test kit's fixtures and fake
    transport) must pass, and fail once its expectations are made wrong.
    """
    session.install("build")
    tmp = Path(session.create_tmp()).resolve()
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    session.log(f"built {wheel.name} and {sdist.name}")
    session.install(f"{wheel}[stub,cli]", "pytest", "anyio[trio]")
    session.run(
        "python",
        "-c",
        "import aichat_adapters as a; assert 'site-packages' in a.__file__, a.__file__; "
        "print('aichat_adapters', a.__version__, 'from', a.__file__)",
    )

    answer = session.run("aichat", "ask", "--stub", "Hi", silent=True)
    if str(answer).strip() != "Echo: Hi":
        session.error(f"aichat ask --stub 'Hi' printed {answer!r}, not 'Echo: Hi'")
    # No checkout here: a missing extra's hint names its requirements, not "pip install -e".
    hint = str(
        session.run("aichat", "cookies", "--browser", "chrome", silent=True, success_codes=[1])
    )
    if 'pip install "rookiepy' not in hint or "-e" in hint.split("pip install", 1)[1]:
        session.error(f"from a wheel, the hint for the browser extra is {hint!r}")

    # Outside the checkout (.nox/ is inside it): no conftest, no pyproject of ours, whose
    # pytest options need plugins the user does not have.
    project = Path(tempfile.mkdtemp(prefix="aichat-user-project-"))
    try:
        shutil.copytree(
            EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
        pytest = ("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_my_app.py")
        with session.chdir(project):
            passed = _pytest_counts(str(session.run(*pytest, silent=True)))
        if set(passed) != {"passed"}:
            session.error(f"the user's test file: {passed}; every test must pass")
        test_file = project / "test_my_app.py"
        text = test_file.read_text(encoding="utf-8")
        for right, wrong in WRONG:
            text = text.replace(right, wrong)
        test_file.write_text(text, encoding="utf-8")
        with session.chdir(project):
            failed = _pytest_counts(str(session.run(*pytest, silent=True, success_codes=[1])))
        if failed != {"failed": passed["passed"]}:
            session.error(f"with wrong expectations: {failed}; every test must fail")
    finally:
        shutil.rmtree(project, ignore_errors=True)
    session.log(f"the user's tests: {passed['passed']} passed; with wrong expectations, all failed")


README = Path("README.md")
QUICK_START_REPLY = "Echo: Hello, how are you?"
# What a fresh Debian or macOS shell has: no "python", no virtual environment, no
# AICHAT_* or PIP_* variables. HOME stays: pip reads its index settings from there.
BARE_PATH = "/usr/bin:/bin"


def readme_command(text: str, marker: str) -> str:
    """The one line of the console block right after ``<!-- MARKER`` in the README."""
    found = re.search(rf"^<!-- {marker}\b.*-->\n```console\n(.*)\n```$", text, re.MULTILINE)
    if found is None:
        raise ValueError(f"README.md has no one-line console block marked <!-- {marker} -->")
    return found.group(1)


def _bare_shell(session: nox.Session, line: str, cwd: Path) -> str:
    """Run ``line`` in bash as a newcomer would, with nothing but ``PATH=/usr/bin:/bin``."""
    command = ["env", "-i", f"PATH={BARE_PATH}", f"HOME={os.environ['HOME']}", "bash", "-c", line]
    session.log(f"in {cwd}: {' '.join(command[:4])} bash -c {line!r}")
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        session.error(f"exit {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@nox.session(venv_backend="none")
def quickstart(session: nox.Session) -> None:
    """The README's quick start, verbatim, in a fresh clone at HEAD, with only python3 on PATH.

    Then the README's test line in the same shell, with ``nox -s lint`` for
    ``nox`` (the whole line would run this session again): nox, uv and a
    session's environment all come from the index in a bare shell. ``.ci/run``
    must end with that line.
    """
    if shutil.which("python3", path=BARE_PATH) is None:
        session.error(f"the quick start needs python3 on PATH={BARE_PATH}")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = Path(session.create_tmp()).resolve() / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    session.run("git", "clone", "--quiet", "--no-checkout", ".", str(clone), external=True)
    session.run("git", "-C", str(clone), "checkout", "--quiet", head, external=True)

    text = (clone / README).read_text(encoding="utf-8")
    quick_start = readme_command(text, "quick-start")
    printed = _bare_shell(session, quick_start, clone)
    if printed.splitlines()[-1:] != [QUICK_START_REPLY]:
        session.error(f"the quick start printed {printed[-500:]!r}, not {QUICK_START_REPLY!r}")
    session.log(f"the quick start answered: {QUICK_START_REPLY}")

    test_line = readme_command(text, "test-command")
    ci_lines = (clone / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    if ci_lines[-1] != test_line:
        session.error(f".ci/run ends with {ci_lines[-1]!r}, not the README's {test_line!r}")
    if not test_line.endswith(" && nox"):
        session.error(f"the README's test line {test_line!r} does not end with '&& nox'")
    # One session of the line, not all of them (they include this one): lint builds its
    # environment with uv from the index, as every session does, then runs its checks.
    _bare_shell(session, f"{test_line} -s lint", clone)
    session.log("the test line installs nox, and its lint session passes, in the same shell")
