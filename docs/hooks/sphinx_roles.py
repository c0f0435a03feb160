"""An mkdocs hook: a rendered page that still shows reStructuredText fails the build.

mkdocstrings renders Markdown, so reStructuredText written in a docstring
reaches the reader as it was typed:

- a role such as :class:`Name` shows the text ":class:" before the name;
- a literal block's ``::`` ("use it as::") shows both colons;
- a double-backtick literal that Markdown could not pair (one broken across
  the lines of a section item) shows its backticks.

Each one is logged as a warning, which `mkdocs build --strict` turns into a
failed build. Write a cross-reference ([`Name`][aichat_core.Name]) or plain
backticks, end the line with one colon before an indented block, and keep a
code span on one line of one item.

`find_raw_roles` and `find_rest_leftovers` are pure functions of a page's
HTML, so the tests check them without mkdocs: this module imports nothing
from mkdocs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["ROLES", "find_raw_roles", "find_rest_leftovers", "on_page_content"]

ROLES = ("attr", "class", "data", "exc", "func", "meth", "mod", "obj", "ref")
"""The Sphinx roles that must not appear in rendered text."""

# A role as it renders: ":class:" (or ":py:class:") then the name, which
# Markdown turned into a code element (<code>Name</code>) or left as text.
_ROLE = re.compile(r":(?:py:)?(" + "|".join(ROLES) + r"):(?=<code\b|`)")
# Code may quote a role on purpose (as a page about this hook would): the
# contents of code elements are blanked, same length, before the search.
_CODE = re.compile(r"(<code\b[^>]*>)(.*?)(</code>)", re.DOTALL | re.IGNORECASE)
_PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
# reST's literal-block marker: a word, then "::" that ends a paragraph or an item.
_LITERAL_BLOCK = re.compile(r"\w::(?=\s*</(?:p|li|dd|td|th)>)")
_DOUBLE_BACKTICKS = re.compile(r"``")

log = logging.getLogger("mkdocs.hooks.sphinx_roles")  # mkdocs --strict counts its warnings


def _blank_code(match: re.Match[str]) -> str:
    return match.group(1) + " " * len(match.group(2)) + match.group(3)


def _blank_all_code(html: str) -> str:
    return _PRE.sub(_blank_code, _CODE.sub(_blank_code, html))


def _snippet(html: str, start: int, end: int) -> str:
    """The text around ``html[start:end]``, within its element, 60 characters each side."""
    before = html[max(0, start - 60) : start].rpartition(">")[2].rpartition("\n")[2]
    after = html[end : end + 60].partition("<")[0].partition("\n")[0]
    return f"{before.lstrip()}{html[start:end]}{after.rstrip()}"


def find_rest_leftovers(html: str) -> list[str]:
    """Every ``::`` literal-block marker and double backtick left in a page's text.

    What is inside code (inline code, code blocks) is allowed: a page may
    quote reStructuredText on purpose.

    Returns:
        One snippet of the text around each, in page order.
    """
    blanked = _blank_all_code(html)
    found = [(match.start() + 1, match.end()) for match in _LITERAL_BLOCK.finditer(blanked)]
    found += [(match.start(), match.end()) for match in _DOUBLE_BACKTICKS.finditer(blanked)]
    return [_snippet(html, start, end) for start, end in sorted(found)]


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
    for leftover in find_rest_leftovers(html):
        log.warning(
            "%s shows reStructuredText as typed (%r): end a line with one colon before an "
            "indented block, and keep each ``code`` span on one line of one item",
            page.file.src_uri,
            leftover,
        )
    return html
