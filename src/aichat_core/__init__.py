"""aichat_core: the pure heart of aichat-client. No I/O, no HTTP library."""

from aichat_core._call import CallParams, PreparedCall, check_params, check_text, prepare_call
from aichat_core._cookies import domain_matches, format_cookie_header, parse_cookie_header
from aichat_core._errors import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    ConnectError,
    CookiesNotFoundError,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
    ServiceError,
    TransportError,
)
from aichat_core._http import HttpRequest, HttpResponse
from aichat_core._messages import Conversation, Message, MessagesInput, Role, to_messages
from aichat_core._params import MODEL, GenerationParams, check_model
from aichat_core._ports import AsyncCookieSource, AsyncTransport, CookieSource, Transport
from aichat_core._prompt import format_prompt
from aichat_core._protocol import (
    DEFAULT_BASE_URL,
    USER_AGENT,
    Reply,
    build_request,
    check_base_url,
    parse_response,
)
from aichat_core._retry import RETRY_STATUSES, RetryPolicy, parse_retry_after

__all__ = [
    "APIStatusError",
    "AichatError",
    "AsyncCookieSource",
    "AsyncTransport",
    "AuthenticationError",
    "CallParams",
    "ChallengeError",
    "ConnectError",
    "Conversation",
    "CookieSource",
    "CookiesNotFoundError",
    "DEFAULT_BASE_URL",
    "GenerationParams",
    "HttpRequest",
    "HttpResponse",
    "InvalidRequestError",
    "MODEL",
    "Message",
    "MessagesInput",
    "PreparedCall",
    "RETRY_STATUSES",
    "RateLimitError",
    "Reply",
    "RequestTimeoutError",
    "ResponseFormatError",
    "RetryPolicy",
    "Role",
    "ServerError",
    "ServiceError",
    "Transport",
    "TransportError",
    "USER_AGENT",
    "build_request",
    "check_base_url",
    "check_model",
    "check_params",
    "check_text",
    "domain_matches",
    "format_cookie_header",
    "format_prompt",
    "parse_cookie_header",
    "parse_response",
    "parse_retry_after",
    "prepare_call",
    "to_messages",
]
