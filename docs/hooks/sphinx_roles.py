"""An mkdocs hook: a rendered page that still shows a Sphinx role fails the build.

mkdocstrings renders Markdown, so a role such as :class:`Name` written in a
docstring reaches the reader as the text ":class:" before the name. Each one
is logged as a warning, which `mkdocs build --strict` turns into a failed
build. Write a cross-reference ([`Name`][aichat_core.Name]) or plain
backticks instead.

`find_raw_roles` is a pure function of a page's HTML, so the tests check it
without mkdocs: this module imports nothing from mkdocs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["ROLES", "find_raw_roles", "on_page_content"]

ROLES = ("attr", "class", "data", "exc", "func", "meth", "mod", "obj", "ref")
"""The Sphinx roles that must not appear in rendered text."""

# A role as it renders: ":class:" (or ":py:class:") then the name, which
# Markdown turned into a code element (<code>Name</code>) or left as text.
_ROLE = re.compile(r":(?:py:)?(" + "|".join(ROLES) + r"):(?=<code\b|`)")
# Code may quote a role on purpose (as a page about this hook would): the
# contents of code elements are blanked, same length, before the search.
_CODE = re.compile(r"(<code\b[^>]*>)(.*?)(</code>)", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")

log = logging.getLogger("mkdocs.hooks.sphinx_roles")  # mkdocs --strict counts its warnings


def _blank_code(match: re.Match[str]) -> str:
    return match.group(1) + " " * len(match.group(2)) + match.group(3)


def find_raw_roles(html: str) -> list[str]:
    """Every Sphinx role left in a rendered page, as the reader sees it.

    Roles quoted inside code (inline code, code blocks) are allowed.

    Returns:
        One snippet per role, in page order, such as ``":class:Message"``.
    """
    blanked = _CODE.sub(_blank_code, html)
    found = []
    for match in _ROLE.finditer(blanked):
        after = _TAG.sub("", html[match.end() : match.end() + 200]).lstrip("`~")
        name = re.match(r"\w+(?:\.\w+)*", after)
        found.append(f":{match.group(1)}:{name.group(0) if name else ''}")
    return found


def on_page_content(html: str, page: Any, **_kwargs: Any) -> str:
    """Called by mkdocs with each page's HTML, API reference included."""
    for role in find_raw_roles(html):
        log.warning(
            "%s shows a raw Sphinx role %s: write a cross-reference "
            "[`Name`][package.Name] or plain backticks",
            page.file.src_uri,
            role,
        )
    return html
