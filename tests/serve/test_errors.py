"""Every error of the client's call mapped to its status, OpenAI type, code and retry advice."""

from __future__ import annotations

import json

import pytest

from aichat_adapters.serve._errors import DEFAULT_RETRY_AFTER, Problem, problem_for
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

ROWS = [
    (CookiesNotFoundError("none"), 503, "cookies_not_found", False),
    (AuthenticationError("403", status_code=403), 502, "cookies_rejected", False),
    (ChallengeError("challenge", status_code=403), 502, "cookies_rejected", False),
    (
        RateLimitError("slow down", status_code=429, retry_after=2.5),
        429,
        "rate_limit_exceeded",
        None,
    ),
    (ServerError("503", status_code=503), 502, "upstream_error", None),
    (APIStatusError("302", status_code=302), 502, "upstream_error", False),
    (RequestTimeoutError("slow"), 504, "timeout", None),
    (CertificateError("self-signed certificate"), 502, "upstream_certificate", False),
    (ConnectError("connection refused"), 502, "upstream_unreachable", None),
    (TransportError("cut"), 502, "upstream_unreachable", None),
    (ServiceError("quota", payload={}), 502, "service_refused", False),
    (ResponseFormatError("not JSON"), 502, "bad_upstream_response", False),
    (InvalidRequestError("this client is closed"), 500, "server_misconfigured", False),
    (AichatError("other"), 500, "server_misconfigured", False),
    (KeyError("secret"), 500, "internal_error", None),
]


@pytest.mark.parametrize(
    ("error", "status", "code", "retry"),
    [pytest.param(*row, id=type(row[0]).__name__) for row in ROWS],
)
def test_each_error_has_its_status_and_code(
    error: Exception, status: int, code: str, retry: bool | None
) -> None:
    problem = problem_for(error, ["cf_clearance"])
    assert (problem.status, problem.code) == (status, code)
    headers = dict(problem.headers)
    assert headers.get("x-should-retry") == (None if retry is None else "false")
    body = json.loads(problem.body())
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "secret" not in problem.message


def test_the_site_429_passes_its_wait_on_rounded_up() -> None:
    problem = problem_for(RateLimitError("x", status_code=429, retry_after=2.5))
    assert dict(problem.headers)["retry-after"] == "3"
    problem = problem_for(RateLimitError("x", status_code=429))
    assert dict(problem.headers)["retry-after"] == str(DEFAULT_RETRY_AFTER)


def test_refused_cookies_are_named() -> None:
    problem = problem_for(ChallengeError("c", status_code=403), ["cf_clearance", "session"])
    assert "(cf_clearance, session)" in problem.message


def test_a_long_message_is_one_capped_line() -> None:
    body = json.loads(Problem(502, "x\n" * 5000, "server_error").body())
    assert len(body["error"]["message"]) <= 2003
    assert "\n" not in body["error"]["message"]
