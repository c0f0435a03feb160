"""The public surface: ``__all__`` of each package, pinned, and the exception tree (DESIGN §4)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import aichat_core
from aichat_core import (
    AichatError,
    APIStatusError,
    AuthenticationError,
    CertificateError,
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

# Adding or removing a public name is a deliberate change: update the list here too.
PUBLIC_NAMES: dict[str, list[str]] = {
    "aichat_core": [
        "APIStatusError",
        "AichatError",
        "AsyncCookieSource",
        "AsyncRefreshableCookieSource",
        "AsyncTransport",
        "AuthenticationError",
        "CallParams",
        "CertificateError",
        "ChallengeError",
        "ConnectError",
        "Conversation",
        "CookieSource",
        "CookiesNotFoundError",
        "Credentials",
        "CredentialsSource",
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
        "RefreshableCookieSource",
        "Reply",
        "RequestTimeoutError",
        "ResponseFormatError",
        "RetryPolicy",
        "Role",
        "ServerError",
        "ServiceError",
        "SetCookie",
        "Transport",
        "TransportError",
        "USER_AGENT",
        "WriteBackCookieSource",
        "base_url_host",
        "build_request",
        "check_base_url",
        "check_cookies",
        "check_headers",
        "check_model",
        "check_params",
        "check_text",
        "domain_matches",
        "format_cookie_header",
        "format_prompt",
        "parse_cookie_date",
        "parse_cookie_header",
        "parse_response",
        "parse_retry_after",
        "parse_set_cookie",
        "prepare_call",
        "to_messages",
    ],
    "aichat_adapters": [
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
    ],
    "aichat_adapters.cookies": [
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
    ],
    "aichat_adapters.stub": [
        "ChallengeGate",
        "Clearance",
        "Fault",
        "RecordedRequest",
        "StubApp",
        "StubServer",
        "create_app",
    ],
    "aichat_adapters.serve": [
        "DEFAULT_MODELS",
        "ServeApp",
        "create_app",
    ],
    "aichat_adapters.g4f": [
        "Aichat",
    ],
    "aichat_adapters.clearance": [
        "BROWSER_NAMES",
        "BROWSER_VARIABLE",
        "BrowserClearance",
        "DEFAULT_ENDPOINT",
        "FlareSolverrClearance",
        "find_browser",
    ],
}

PACKAGES = [pytest.param(name, id=name) for name in PUBLIC_NAMES]


def public_all(package: str) -> list[str]:
    module = importlib.import_module(package)
    names = module.__all__
    assert isinstance(names, list)
    assert all(isinstance(name, str) for name in names)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted(package: str) -> None:
    names = public_all(package)
    assert names == sorted(names)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_has_no_duplicates(package: str) -> None:
    names = public_all(package)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in public_all(package):
        assert hasattr(module, name), name
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(public_all(package))


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_pinned(package: str) -> None:
    assert public_all(package) == PUBLIC_NAMES[package]


# --------------------------------------------------------------------------- exceptions


def core_modules() -> list[ModuleType]:
    modules: list[ModuleType] = [aichat_core]
    for info in pkgutil.iter_modules(aichat_core.__path__, "aichat_core."):
        modules.append(importlib.import_module(info.name))
    return modules


def core_exception_classes() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for module in core_modules():
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.startswith("aichat_core"):
                found.add(obj)
    return found


CORE_EXCEPTIONS = sorted(core_exception_classes(), key=lambda cls: cls.__name__)


def test_the_core_has_the_errors_of_the_design() -> None:
    assert len(CORE_EXCEPTIONS) == 14


@pytest.mark.parametrize("cls", [pytest.param(cls, id=cls.__name__) for cls in CORE_EXCEPTIONS])
def test_every_core_exception_is_an_aichat_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, AichatError)
    assert cls.__name__ in aichat_core.__all__
    assert getattr(aichat_core, cls.__name__) is cls


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        pytest.param(InvalidRequestError, ValueError, id="InvalidRequestError-ValueError"),
        pytest.param(CookiesNotFoundError, RuntimeError, id="CookiesNotFoundError-RuntimeError"),
        pytest.param(RequestTimeoutError, TimeoutError, id="RequestTimeoutError-TimeoutError"),
    ],
)
def test_builtin_mixins(cls: type[AichatError], builtin: type[Exception]) -> None:
    assert issubclass(cls, builtin)
    assert issubclass(cls, AichatError)


# DESIGN §4, one (child, parent) pair per edge of the tree.
TREE: list[tuple[type[AichatError], type[AichatError]]] = [
    (InvalidRequestError, AichatError),
    (CookiesNotFoundError, AichatError),
    (TransportError, AichatError),
    (ConnectError, TransportError),
    (CertificateError, ConnectError),
    (RequestTimeoutError, TransportError),
    (APIStatusError, AichatError),
    (AuthenticationError, APIStatusError),
    (ChallengeError, AuthenticationError),
    (RateLimitError, APIStatusError),
    (ServerError, APIStatusError),
    (ServiceError, AichatError),
    (ResponseFormatError, AichatError),
]


@pytest.mark.parametrize(
    ("child", "parent"), [pytest.param(c, p, id=f"{c.__name__}<{p.__name__}") for c, p in TREE]
)
def test_tree_edge(child: type[AichatError], parent: type[AichatError]) -> None:
    # The parent is the one direct base inside the tree; other bases are builtin mixins.
    tree_bases = [base for base in child.__bases__ if issubclass(base, AichatError)]
    assert tree_bases == [parent]


def test_aichat_error_is_a_plain_exception() -> None:
    assert AichatError.__bases__ == (Exception,)


def test_tree_covers_every_core_exception() -> None:
    assert {child for child, _ in TREE} | {AichatError} == set(CORE_EXCEPTIONS)


@pytest.mark.parametrize(
    ("cls", "not_a"),
    [
        pytest.param(RateLimitError, AuthenticationError, id="RateLimit-not-Auth"),
        pytest.param(ServerError, RateLimitError, id="Server-not-RateLimit"),
        pytest.param(ServiceError, APIStatusError, id="Service-not-APIStatus"),
        pytest.param(ResponseFormatError, APIStatusError, id="Format-not-APIStatus"),
        pytest.param(ConnectError, TimeoutError, id="Connect-not-Timeout"),
        pytest.param(InvalidRequestError, TransportError, id="Invalid-not-Transport"),
        pytest.param(APIStatusError, TransportError, id="APIStatus-not-Transport"),
    ],
)
def test_not_related(cls: type[BaseException], not_a: type[BaseException]) -> None:
    assert not issubclass(cls, not_a)


@pytest.mark.parametrize("cls", [pytest.param(cls, id=cls.__name__) for cls in CORE_EXCEPTIONS])
def test_every_error_names_a_public_module(cls: type[BaseException]) -> None:
    # A traceback shows "aichat_core.RateLimitError", never a private module (as httpx does).
    assert cls.__module__ == "aichat_core"


def test_a_failed_call_is_raised_by_the_client_in_a_short_traceback() -> None:
    import traceback

    from aichat_adapters import AichatClient, RateLimitError
    from aichat_adapters.stub import Fault
    from aichat_adapters.testing import FakeTransport

    transport = FakeTransport(Fault.status(429, retry_after=120))
    with AichatClient(cookies={"a": "b"}, transport=transport) as client:
        try:
            client.ask("Hi")
        except RateLimitError as error:
            caught = error
    frames = traceback.extract_tb(caught.__traceback__)
    assert [frame.name for frame in frames] == [
        "test_a_failed_call_is_raised_by_the_client_in_a_short_traceback",
        "ask",
        "complete",
    ]
    shown = "".join(traceback.format_exception(caught))
    assert "tenacity" not in shown
    assert "concurrent" not in shown
    assert "aichat_core.RateLimitError: HTTP 429" in shown
