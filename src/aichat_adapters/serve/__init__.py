"""An OpenAI-compatible HTTP API in front of the client: ``aichat serve``, or your own server.

``create_app(client)`` builds the ASGI app; it needs the ``serve`` extra
(Starlette), which is imported only when the app is first asked for:

```python
from aichat_adapters import AsyncAichatClient
from aichat_adapters.serve import create_app

app = create_app(AsyncAichatClient(), api_key="s3cret")
```

Guide: "Use it from any OpenAI client" (``docs/serve.md``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aichat_adapters.serve._app import ServeApp, create_app
    from aichat_adapters.serve._settings import DEFAULT_MODELS

__all__ = ["DEFAULT_MODELS", "ServeApp", "create_app"]

_WHERE = {
    "DEFAULT_MODELS": "aichat_adapters.serve._settings",
    "ServeApp": "aichat_adapters.serve._app",
    "create_app": "aichat_adapters.serve._app",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'aichat_adapters.serve' has no attribute {name!r}")
    if module.endswith("._app"):
        from aichat_adapters._extras import import_extra

        import_extra("starlette", "serve", "aichat_adapters.serve")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
