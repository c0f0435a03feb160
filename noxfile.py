"""Developer tasks. ``nox`` runs the default sessions: tests, lint, typecheck, docs, g4f."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "g4f"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[cli,stub,browser,impersonate,aiohttp,socks]"
PYTHON_PATHS = ("src", "tests", "tests_g4f", "benchmarks", "noxfile.py")


def install(session: nox.Session, *groups: str) -> None:
    """Install the project with every extra, and the named dependency groups."""
    requirements = [
        req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
    ]
    session.install("-e", EXTRAS, *requirements)


@nox.session
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
    """Build the documentation site, warnings as errors."""
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
