"""aichat-client: sync and async clients for the chat-gpt.org text API.

Everything a user needs is importable from here::

    from aichat_adapters import AichatClient, AsyncAichatClient
"""

from aichat_adapters._async_client import AskResult, AsyncAichatClient, AsyncChat
from aichat_adapters._browser_cookies import BROWSERS, BrowserCookieSource
from aichat_adapters._client import AichatClient, Chat
from aichat_adapters._cookies import (
    ChainCookieSource,
    EnvCookieSource,
    FileCookieSource,
    StaticCookieSource,
    default_cookie_source,
)
from aichat_adapters._transports import AsyncHttpxTransport, HttpxTransport
from aichat_core import (
    AichatError,
    APIStatusError,
    AuthenticationError,
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

__all__ = [
    "APIStatusError",
    "AichatClient",
    "AichatError",
    "AskResult",
    "AsyncAichatClient",
    "AsyncChat",
    "AsyncHttpxTransport",
    "AuthenticationError",
    "BROWSERS",
    "BrowserCookieSource",
    "ChainCookieSource",
    "ChallengeError",
    "Chat",
    "ConnectError",
    "Conversation",
    "CookiesNotFoundError",
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
    "default_cookie_source",
]
