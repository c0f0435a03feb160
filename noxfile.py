"""Developer tasks. ``nox`` runs the default sessions: tests, lint, typecheck, docs, g4f, build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "g4f", "build"]
# tests runs on every Python of PYTHONS this machine has; an absent one is skipped, not
# failed (nox's default under CI=true is to fail), and never downloaded.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[cli,stub,browser,impersonate,aiohttp,socks,clearance]"
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
    """Benchmarks against raw httpx and raw aiohttp, in one run (not a default session).

    ``nox -s bench -- --quick`` for a short run; ``python benchmarks/profile_client.py``
    profiles the SDK's own cost per call.
    """
    # Every transport's extra; raw httpx and raw aiohttp are the baselines; trio for anyio;
    # httptools makes the stub server (the bottleneck at c=50) faster.
    session.install(
        "-e", ".[stub,impersonate,aiohttp]", "httpx", "aiohttp", "anyio[trio]", "httptools"
    )
    session.run("python", "benchmarks/run.py", *session.posargs)


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

    project = tmp / "user-project"  # outside the checkout: no conftest, no pyproject of ours
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__"))
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
    session.log(f"the user's tests: {passed['passed']} passed; with wrong expectations, all failed")
