"""aichat-client: sync and async clients for the chat-gpt.org text API.

Everything a user needs is importable from here:

    from aichat_adapters import AichatClient, AsyncAichatClient

Names are loaded on first use, so ``import aichat_adapters`` costs little and
the cookie files, browsers, CLI and optional transports load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aichat_adapters._ask_many import AskMany, AskResult
    from aichat_adapters._async_client import AsyncAichatClient, AsyncChat
    from aichat_adapters._client import AichatClient, Chat
    from aichat_adapters.cookies import (
        BROWSERS,
        BrowserCookieSource,
        ChainCookieSource,
        EnvCookieSource,
        FileCookieSource,
        StaticCookieSource,
        default_cookie_source,
    )
    from aichat_adapters.transports import (
        AiohttpTransport,
        AsyncCurlTransport,
        AsyncHttpxTransport,
        CurlTransport,
        HttpxTransport,
    )
    from aichat_core import (
        AichatError,
        APIStatusError,
        AuthenticationError,
        CertificateError,
        ChallengeError,
        ConnectError,
        Conversation,
        CookiesNotFoundError,
        GenerationParams,
        InvalidRequestError,
        Message,
        RateLimitError,
        Reply,
        RequestTimeoutError,
        ResponseFormatError,
        RetryPolicy,
        Role,
        ServerError,
        ServiceError,
        TransportError,
    )

    __version__: str

_CORE = "aichat_core"
_COOKIES = "aichat_adapters.cookies"
_TRANSPORTS = "aichat_adapters.transports"
_WHERE: dict[str, str] = {
    "AichatClient": "aichat_adapters._client",
    "Chat": "aichat_adapters._client",
    "AsyncAichatClient": "aichat_adapters._async_client",
    "AsyncChat": "aichat_adapters._async_client",
    "AskMany": "aichat_adapters._ask_many",
    "AskResult": "aichat_adapters._ask_many",
    **dict.fromkeys(
        (
            "BROWSERS",
            "BrowserCookieSource",
            "ChainCookieSource",
            "EnvCookieSource",
            "FileCookieSource",
            "StaticCookieSource",
            "default_cookie_source",
        ),
        _COOKIES,
    ),
    **dict.fromkeys(
        (
            "AiohttpTransport",
            "AsyncCurlTransport",
            "AsyncHttpxTransport",
            "CurlTransport",
            "HttpxTransport",
        ),
        _TRANSPORTS,
    ),
    **dict.fromkeys(
        (
            "APIStatusError",
            "AichatError",
            "AuthenticationError",
            "CertificateError",
            "ChallengeError",
            "ConnectError",
            "Conversation",
            "CookiesNotFoundError",
            "GenerationParams",
            "InvalidRequestError",
            "Message",
            "RateLimitError",
            "Reply",
            "RequestTimeoutError",
            "ResponseFormatError",
            "RetryPolicy",
            "Role",
            "ServerError",
            "ServiceError",
            "TransportError",
        ),
        _CORE,
    ),
}

__all__ = [
    "APIStatusError",
    "AichatClient",
    "AichatError",
    "AiohttpTransport",
    "AskMany",
    "AskResult",
    "AsyncAichatClient",
    "AsyncChat",
    "AsyncCurlTransport",
    "AsyncHttpxTransport",
    "AuthenticationError",
    "BROWSERS",
    "BrowserCookieSource",
    "CertificateError",
    "ChainCookieSource",
    "ChallengeError",
    "Chat",
    "ConnectError",
    "Conversation",
    "CookiesNotFoundError",
    "CurlTransport",
    "EnvCookieSource",
    "FileCookieSource",
    "GenerationParams",
    "HttpxTransport",
    "InvalidRequestError",
    "Message",
    "RateLimitError",
    "Reply",
    "RequestTimeoutError",
    "ResponseFormatError",
    "RetryPolicy",
    "Role",
    "ServerError",
    "ServiceError",
    "StaticCookieSource",
    "TransportError",
    "__version__",
    "default_cookie_source",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("aichat-client")
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'aichat_adapters' has no attribute {name!r}")
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
