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
    """mypy --strict on the sources and the tests."""
    install(session, "typecheck")
    session.run("mypy")


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
    """Benchmarks against raw httpx, measured in the same run (not a default session)."""
    install(session, "bench")
    session.run("python", "benchmarks/bench_client.py", *session.posargs)
