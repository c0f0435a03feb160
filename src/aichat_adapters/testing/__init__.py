"""A test kit for code that uses aichat-client: socket-free transports and pytest fixtures.

``FakeTransport`` and ``AsyncFakeTransport`` answer from a script of reply
texts and stub ``Fault`` values, with no socket, and record what they were
sent. The pytest fixtures (``aichat_stub``, ``aichat_client``,
``aichat_async_client``) live in ``aichat_adapters.testing.plugin``, which
pytest loads by itself (entry point ``aichat``).

Names load on first use: pytest imports this package with its plugin in every
run, so importing it costs next to nothing, imports neither pytest nor uvicorn
nor httpx, and starts nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aichat_adapters.testing._fake import Answer, AsyncFakeTransport, FakeTransport

__all__ = ["Answer", "AsyncFakeTransport", "FakeTransport"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("aichat_adapters.testing._fake"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
