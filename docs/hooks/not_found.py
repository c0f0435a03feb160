"""An mkdocs hook: the 404 page's links work wherever the site is opened from.

With no ``site_url`` (this project publishes the site nowhere yet), mkdocs
gives the 404 page root-relative links (``/quickstart/``), which work only
when the site is served at the root of a server: from the built folder
(``site/404.html``), under a path, or in a link checker they all break. The
404 page sits at the root of the site, so links relative to it (``./quickstart/``)
reach the same pages from there. Set ``site_url`` and mkdocs's own absolute
links are kept.

`relative_links` is a pure function of the page's HTML, tested without mkdocs.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["on_post_template", "relative_links"]

# An href or src that starts with one "/" (not "//host", a protocol-relative URL).
_ROOT_RELATIVE = re.compile(r"""(\s(?:href|src)=)(["'])/(?!/)""")
# mkdocs-material's page configuration, read by its scripts (search, navigation).
_THEME_BASE = re.compile(r'("base":\s*)"/"')


def relative_links(html: str) -> str:
    """``html`` with every root-relative ``href`` and ``src`` made relative to the site root."""
    return _THEME_BASE.sub(r'\1"."', _ROOT_RELATIVE.sub(r"\1\2./", html))


def on_post_template(output: str, template_name: str, config: Any, **_kwargs: Any) -> str:
    """Called by mkdocs with each theme template it renders (404.html, sitemap.xml...)."""
    if template_name == "404.html" and not config.site_url:
        return relative_links(output)
    return output
