"""The docs build's hook that makes the 404 page's links relative (docs/hooks/not_found.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

HOOK = Path(__file__).parents[2] / "docs" / "hooks" / "not_found.py"


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("not_found_hook", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "mkdocs" not in sys.modules
    return module


PAGE = (
    '<link rel="icon" href="/assets/images/favicon.png">'
    '<a href="/quickstart/" class="md-nav__link">Quick start</a>'
    "<a href='/.'>Home</a>"
    '<script src="/assets/javascripts/bundle.js"></script>'
    '<link href="https://fonts.gstatic.com" rel="preconnect">'
    '<link href="//cdn.example/x.css">'
    '<script id="__config" type="application/json">{"base": "/", "features": []}</script>'
)


def test_root_relative_links_become_relative_to_the_site_root(hook: ModuleType) -> None:
    html = hook.relative_links(PAGE)

    assert 'href="./assets/images/favicon.png"' in html
    assert 'href="./quickstart/"' in html
    assert "href='./.'" in html
    assert 'src="./assets/javascripts/bundle.js"' in html
    assert '"base": "."' in html
    assert 'href="https://fonts.gstatic.com"' in html  # other hosts untouched
    assert 'href="//cdn.example/x.css"' in html
    assert 'href="/' not in html.replace('href="//cdn', "")


def test_only_the_404_page_without_a_site_url_is_changed(hook: ModuleType) -> None:
    no_site_url = SimpleNamespace(site_url=None)
    with_site_url = SimpleNamespace(site_url="https://example.org/docs/")

    assert hook.on_post_template(PAGE, template_name="404.html", config=no_site_url) != PAGE
    assert hook.on_post_template(PAGE, template_name="404.html", config=with_site_url) == PAGE
    assert hook.on_post_template(PAGE, template_name="sitemap.xml", config=no_site_url) == PAGE
