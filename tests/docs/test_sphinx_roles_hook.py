"""The docs build's hook that fails on a raw Sphinx role (docs/hooks/sphinx_roles.py).

The hook's checking function is pure; it is loaded from its file, with no
mkdocs installed (the test environment has none).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

HOOK = Path(__file__).parents[2] / "docs" / "hooks" / "sphinx_roles.py"


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sphinx_roles_hook", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "mkdocs" not in sys.modules  # the hook itself needs no mkdocs
    return module


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # As mkdocstrings renders a docstring's :class:`Message` (Markdown made the code).
        ("<p>a :class:<code>Message</code>, a dict</p>", [":class:Message"]),
        (
            "<p>Raises :exc:<code>aichat_core.InvalidRequestError</code>.</p>",
            [":exc:aichat_core.InvalidRequestError"],
        ),
        (
            '<p>on the first :meth:<code class="x">get_cookies</code> call</p>',
            [":meth:get_cookies"],
        ),
        # Left as text (a role in a raw HTML block, or backticks escaped).
        ("<p>One of :data:`BROWSERS` (chrome)</p>", [":data:BROWSERS"]),
        ("<p>see :py:func:`~pkg.helper`</p>", [":func:pkg.helper"]),
        (
            "<p>:attr:<code>a</code> and :mod:<code>b</code> and :ref:<code>c</code></p>",
            [":attr:a", ":mod:b", ":ref:c"],
        ),
    ],
)
def test_a_raw_role_is_found(hook: ModuleType, html: str, expected: list[str]) -> None:
    assert hook.find_raw_roles(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        # What the fix renders: a cross-reference link, or plain code.
        '<p>a <a class="autorefs" href="#aichat_core.Message"><code>Message</code></a></p>',
        "<p>a <code>Message</code>, a dict</p>",
        # A role quoted on purpose, inline or in a code block, is not one to fix.
        "<p>never write <code>:class:`X`</code> in a docstring</p>",
        '<pre><code class="language-python">"""See :class:`X`."""\n</code></pre>',
        # Colons that are not a role.
        "<p>Note: class:<code>x</code>, http://host:80/, time 10:30:00</p>",
        "<p>the :class: role by itself</p>",
    ],
)
def test_no_false_alarm(hook: ModuleType, html: str) -> None:
    assert hook.find_raw_roles(html) == []


def test_the_hook_warns_once_per_role(hook: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    page = SimpleNamespace(file=SimpleNamespace(src_uri="reference/core.md"))
    html = "<p>:class:<code>A</code> then :meth:<code>b</code></p>"
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        assert hook.on_page_content(html, page=page, config=None, files=None) == html
    warnings = [r for r in caplog.records if r.name.startswith("mkdocs.")]
    assert [r.levelno for r in warnings] == [logging.WARNING] * 2
    assert "reference/core.md" in warnings[0].getMessage()
    assert ":class:A" in warnings[0].getMessage()
    assert ":meth:b" in warnings[1].getMessage()


def test_a_clean_page_logs_nothing(hook: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    page = SimpleNamespace(file=SimpleNamespace(src_uri="index.md"))
    with caplog.at_level(logging.DEBUG, logger="mkdocs"):
        hook.on_page_content("<p>a <code>Message</code></p>", page=page)
    assert caplog.records == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # "importable from here::" then an indented block: the block renders, the :: stays.
        (
            '<p>Everything a user needs is importable from here::</p>\n<div class="x"><pre>'
            "<code>from aichat_adapters import AichatClient</code></pre></div>",
            ["Everything a user needs is importable from here::"],
        ),
        ("<li>Use it as::</li>", ["Use it as::"]),
        # A ``literal`` broken across two lines of a Returns item: Markdown cannot pair it.
        (
            "<p>``ChainCookieSource(EnvCookieSource(),</p><p>BrowserCookieSource())``. Without</p>",
            ["``ChainCookieSource(EnvCookieSource(),", "BrowserCookieSource())``. Without"],
        ),
    ],
)
def test_rest_leftovers_are_found(hook: ModuleType, html: str, expected: list[str]) -> None:
    assert hook.find_rest_leftovers(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<p>Everything is importable from here:</p>",
        "<p>a <code>Message</code>, and <code>``x``</code> quoted</p>",
        '<pre><code class="language-python">"""Needs the ``stub`` extra::"""\n</code></pre>',
        "<pre>a literal block:: with ``backticks``</pre>",
        "<p>std::vector and ::1 and a::b in running text</p>",
        "<p>IPv6 loopback is <code>::1</code>.</p>",
    ],
)
def test_no_rest_false_alarm(hook: ModuleType, html: str) -> None:
    assert hook.find_rest_leftovers(html) == []


def test_the_hook_warns_for_rest_leftovers_too(
    hook: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    page = SimpleNamespace(file=SimpleNamespace(src_uri="reference/adapters.md"))
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        hook.on_page_content("<p>Use it as::</p>", page=page)
    [warning] = [r for r in caplog.records if r.name.startswith("mkdocs.")]
    assert "reference/adapters.md" in warning.getMessage()
    assert "Use it as::" in warning.getMessage()
