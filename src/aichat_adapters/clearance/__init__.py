"""Credentials that renew themselves: a real browser, or a FlareSolverr service, earns them.

[`BrowserClearance`][aichat_adapters.clearance.BrowserClearance] drives a
Chromium of the system over the DevTools protocol (the ``clearance`` extra,
pydoll-python); [`FlareSolverrClearance`][aichat_adapters.clearance.FlareSolverrClearance]
asks a FlareSolverr service. Both give [`Credentials`][aichat_core.Credentials]:
the site's cookies with the User-Agent they are bound to. Nothing is
imported from pydoll until a browser is started.
"""

from aichat_adapters.clearance._browser import BrowserClearance
from aichat_adapters.clearance._chromium import BROWSER_NAMES, BROWSER_VARIABLE, find_browser
from aichat_adapters.clearance._flaresolverr import DEFAULT_ENDPOINT, FlareSolverrClearance

__all__ = [
    "BROWSER_NAMES",
    "BROWSER_VARIABLE",
    "BrowserClearance",
    "DEFAULT_ENDPOINT",
    "FlareSolverrClearance",
    "find_browser",
]
