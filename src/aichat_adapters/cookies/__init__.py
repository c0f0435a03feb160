"""Cookie sources: where the site's cookies come from, and the session jar that follows them.

Every source has ``get_cookies()``, which returns the cookies or raises
[`CookiesNotFoundError`][aichat_core.CookiesNotFoundError] whose ``tried``
says which source gave nothing and why. No cookie value ever appears in a
repr, an error message or a log line: only cookie names do.
"""

from aichat_adapters._jar import SessionJar
from aichat_adapters.cookies._browser import BROWSERS, DEFAULT_CACHE_TTL, BrowserCookieSource
from aichat_adapters.cookies._chain import ChainCookieSource, ResolvedCookies, default_cookie_source
from aichat_adapters.cookies._file import FileCookieSource, default_credentials_path
from aichat_adapters.cookies._formats import (
    parse_cookie_editor_json,
    parse_har,
    parse_netscape_cookies,
)
from aichat_adapters.cookies._select import DEFAULT_DOMAIN, CookieEntry
from aichat_adapters.cookies._static import EnvCookieSource, StaticCookieSource

__all__ = [
    "BROWSERS",
    "BrowserCookieSource",
    "ChainCookieSource",
    "CookieEntry",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_DOMAIN",
    "EnvCookieSource",
    "FileCookieSource",
    "ResolvedCookies",
    "SessionJar",
    "StaticCookieSource",
    "default_cookie_source",
    "default_credentials_path",
    "parse_cookie_editor_json",
    "parse_har",
    "parse_netscape_cookies",
]
