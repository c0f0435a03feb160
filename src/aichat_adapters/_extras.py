"""The optional parts of aichat-client: import one, or say how to install it, for this install.

aichat-client is on no package index yet, so ``pip install "aichat-client[stub]"``
fails, and ``pip install -e ".[stub]"`` works only in a checkout. What does
work depends on how it was installed, which pip recorded
(``direct_url.json``, PEP 610):

- from a checkout, editable (the quick start): ``pip install -e "/path/to/checkout[stub]"``,
  from any folder;
- from a wheel (or anything else): the extra's own requirements, ``pip install "uvicorn>=0.30"``;
- not installed at all (a source tree on ``sys.path``): ``pip install -e ".[stub]"`` in a checkout.

Every message about a missing extra, in the library and in the command,
comes from here. Only the standard library is imported.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from importlib import metadata
from types import ModuleType
from urllib.parse import unquote, urlsplit

__all__ = ["DISTRIBUTION", "import_extra", "install_hint", "missing_extra"]

DISTRIBUTION = "aichat-client"
_EXTRA_MARKER = re.compile(r"""^\s*extra\s*==\s*["']([^"']+)["']\s*$""")


def import_extra(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional library, or raise ``InvalidRequestError`` saying how to install it.

    Args:
        module: The module to import (``"curl_cffi"``).
        extra: The extra that installs it (``"impersonate"``).
        what: What needs it, for the message (``"CurlTransport"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        from aichat_core import InvalidRequestError

        raise InvalidRequestError(missing_extra(module, extra, what)) from None


def missing_extra(module: str, extra: str, what: str) -> str:
    """``"WHAT needs the 'EXTRA' extra (MODULE is not installed): pip install ..."``."""
    return f"{what} needs the '{extra}' extra ({module} is not installed): {install_hint(extra)}"


@functools.cache
def install_hint(extra: str) -> str:
    """The command that installs ``extra`` into the environment aichat-client runs in."""
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return f'pip install -e ".[{extra}]" (in a checkout of aichat-client)'
    checkout = _editable_checkout(distribution.read_text("direct_url.json"))
    if checkout is not None:
        return f'pip install -e "{checkout}[{extra}]"'
    requirements = _requirements(distribution.requires or [], extra)
    if not requirements:
        return f'pip install -e ".[{extra}]" (in a checkout of aichat-client)'
    return "pip install " + " ".join(f'"{requirement}"' for requirement in requirements)


def _editable_checkout(direct_url: str | None) -> str | None:
    """The folder of an editable install from a local checkout, from ``direct_url.json``."""
    try:
        record = json.loads(direct_url or "null")
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    dir_info = record.get("dir_info")
    url = record.get("url")
    if not (isinstance(dir_info, dict) and dir_info.get("editable") is True):
        return None
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    return unquote(urlsplit(url).path) or None


def _requirements(requires: list[str], extra: str) -> list[str]:
    """The requirements that ``extra`` adds, without their markers (``["uvicorn>=0.30"]``)."""
    found = []
    for line in requires:
        requirement, _, marker = line.partition(";")
        match = _EXTRA_MARKER.match(marker)
        if match and match.group(1) == extra:
            found.append(requirement.strip().replace(" ", ""))
    return found
