"""The wire protocol: ``build_request``, ``check_base_url`` and ``parse_response``."""

from __future__ import annotations

import email.utils
import json
from typing import Any

import pytest

from aichat_core import (
    DEFAULT_BASE_URL,
    USER_AGENT,
    AichatError,
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    GenerationParams,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    RateLimitError,
    Reply,
    ResponseFormatError,
    ServerError,
    ServiceError,
    build_request,
    check_base_url,
    parse_response,
)

NOW = 1_750_000_000.0
SECRET = "s3cr3t-C00KIE-value"


def header_dict(request: HttpRequest) -> dict[str, str]:
    names = [name for name, _ in request.headers]
    assert len(names) == len({name.lower() for name in names}), names  # no header twice
    return {name.lower(): value for name, value in request.headers}


# --------------------------------------------------------------------------- build_request


def test_default_base_url() -> None:
    assert DEFAULT_BASE_URL == "https://chat-gpt.org"


def test_body_is_g4f_json_with_default_params() -> None:
    request = build_request("Hi", GenerationParams())
    # What json.dumps gives for g4f's json_data dict: keys in g4f's order, 1 and 0 as ints.
    assert request.body == (
        b'{"message": "Hi", "temperature": 0.5, "presence_penalty": 0, '
        b'"top_p": 1, "frequency_penalty": 0}'
    )


BODIES = [
    pytest.param("Hi", GenerationParams(), id="defaults"),
    pytest.param(
        "System: Be brief.\nUser: Hi\nAssistant:",
        GenerationParams(temperature=0.2, top_p=0.9, presence_penalty=-1.5, frequency_penalty=2),
        id="all-params",
    ),
    pytest.param("", GenerationParams(temperature=0), id="empty-prompt"),
    pytest.param('quote " back \\ slash', GenerationParams(), id="json-escapes"),
    pytest.param("Привет, 字, emoji \U0001f600", GenerationParams(), id="unicode"),
]


@pytest.mark.parametrize(("prompt", "params"), BODIES)
def test_body_keys_order_and_values(prompt: str, params: GenerationParams) -> None:
    body = json.loads(build_request(prompt, params).body.decode("utf-8"))
    assert list(body) == [
        "message",
        "temperature",
        "presence_penalty",
        "top_p",
        "frequency_penalty",
    ]
    assert body == {
        "message": prompt,
        "temperature": params.temperature,
        "presence_penalty": params.presence_penalty,
        "top_p": params.top_p,
        "frequency_penalty": params.frequency_penalty,
    }


BASE_URLS = [
    pytest.param("https://chat-gpt.org", id="default"),
    pytest.param("http://127.0.0.1:8765", id="loopback-with-port"),
    pytest.param("https://example.com", id="other-host"),
]


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_request_line_and_browser_headers(base_url: str) -> None:
    request = build_request("Hi", GenerationParams(), base_url=base_url)
    assert request.method == "POST"
    assert request.url == f"{base_url}/api/text"
    headers = header_dict(request)
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "*/*"
    assert headers["origin"] == base_url
    assert headers["referer"] == f"{base_url}/chat"
    assert headers["user-agent"] == USER_AGENT
    assert "cookie" not in headers


def test_default_request_matches_the_site() -> None:
    headers = header_dict(build_request("Hi", GenerationParams()))
    assert headers["origin"] == "https://chat-gpt.org"
    assert headers["referer"] == "https://chat-gpt.org/chat"


def test_user_agent_is_a_desktop_chrome() -> None:
    assert USER_AGENT.startswith("Mozilla/5.0 (")
    assert "Chrome/" in USER_AGENT
    assert "Safari/537.36" in USER_AGENT
    assert "Mobile" not in USER_AGENT
    assert "Headless" not in USER_AGENT


COOKIES = [
    pytest.param(None, None, id="none"),
    pytest.param({}, None, id="empty"),
    pytest.param({"a": "1"}, "a=1", id="one"),
    pytest.param({"cf_clearance": "x.y-z", "sid": "abc"}, "cf_clearance=x.y-z; sid=abc", id="two"),
    pytest.param({"b": "2", "a": "1"}, "b=2; a=1", id="order-kept"),
    pytest.param({"e": ""}, "e=", id="empty-value"),
]


@pytest.mark.parametrize(("cookies", "expected"), COOKIES)
def test_cookie_header(cookies: dict[str, str] | None, expected: str | None) -> None:
    headers = header_dict(build_request("Hi", GenerationParams(), cookies=cookies))
    assert headers.get("cookie") == expected


@pytest.mark.parametrize(
    "cookies",
    [
        pytest.param({"a": "x;evil=1"}, id="semicolon"),
        pytest.param({"a": "x\r\nX-Evil: 1"}, id="header-injection"),
        pytest.param({"bad name": "x"}, id="space-in-name"),
        pytest.param({"": "x"}, id="empty-name"),
    ],
)
def test_bad_cookies_are_refused_before_sending(cookies: dict[str, str]) -> None:
    with pytest.raises(InvalidRequestError):
        build_request("Hi", GenerationParams(), cookies=cookies)


EXTRA_HEADERS = [
    pytest.param({"User-Agent": "mine/1.0"}, "user-agent", "mine/1.0", id="replace-user-agent"),
    pytest.param({"ACCEPT": "application/json"}, "accept", "application/json", id="replace-accept"),
    pytest.param(
        {"origin": "https://o.example"}, "origin", "https://o.example", id="replace-origin"
    ),
    pytest.param({"X-Trace": "42"}, "x-trace", "42", id="add-new"),
    pytest.param({"Cookie": "over=ride"}, "cookie", "over=ride", id="replace-cookie"),
]


@pytest.mark.parametrize(("extra", "name", "value"), EXTRA_HEADERS)
def test_extra_headers_win(extra: dict[str, str], name: str, value: str) -> None:
    request = build_request("Hi", GenerationParams(), cookies={"a": "1"}, headers=extra)
    headers = header_dict(request)
    assert headers[name] == value
    assert headers["content-type"] == "application/json"  # the others stay


@pytest.mark.parametrize(
    ("cookies", "extra"),
    [
        pytest.param({"sid": SECRET}, None, id="cookies-argument"),
        pytest.param(None, {"Cookie": f"sid={SECRET}"}, id="cookie-in-extra-headers"),
        pytest.param(None, {"cookie": f"sid={SECRET}"}, id="lower-case-extra-cookie"),
    ],
)
def test_cookie_value_is_not_in_repr(
    cookies: dict[str, str] | None, extra: dict[str, str] | None
) -> None:
    request = build_request("Hi", GenerationParams(), cookies=cookies, headers=extra)
    assert header_dict(request)["cookie"] == f"sid={SECRET}"  # it is sent ...
    assert SECRET not in repr(request)  # ... but never shown
    assert SECRET not in str(request)
    assert "user-agent" in repr(request)  # other headers still are


# --------------------------------------------------------------------------- check_base_url

GOOD_BASE_URLS = [
    pytest.param("https://chat-gpt.org", "https://chat-gpt.org", id="default"),
    pytest.param("https://chat-gpt.org/", "https://chat-gpt.org", id="trailing-slash"),
    pytest.param("https://chat-gpt.org//", "https://chat-gpt.org", id="trailing-slashes"),
    pytest.param("http://127.0.0.1:8000", "http://127.0.0.1:8000", id="http-loopback-port"),
    pytest.param("http://localhost:8000/", "http://localhost:8000", id="localhost-slash"),
    pytest.param("https://example.com/prefix/", "https://example.com/prefix", id="path-prefix"),
    pytest.param("http://[::1]:8000", "http://[::1]:8000", id="ipv6"),
]


@pytest.mark.parametrize(("given", "expected"), GOOD_BASE_URLS)
def test_check_base_url_accepts(given: str, expected: str) -> None:
    assert check_base_url(given) == expected
    assert check_base_url(expected) == expected


BAD_BASE_URLS = [
    pytest.param("ftp://chat-gpt.org", id="ftp"),
    pytest.param("chat-gpt.org", id="no-scheme"),
    pytest.param("https://", id="no-host"),
    pytest.param("http:///path", id="empty-host"),
    pytest.param("", id="empty"),
    pytest.param("https://chat-gpt.org?x=1", id="query"),
    pytest.param("https://chat-gpt.org/?x=1", id="slash-query"),
    pytest.param("https://chat-gpt.org#top", id="fragment"),
    # An empty query or fragment still ends the path: "https://chat-gpt.org?" + "/api/text"
    # would POST to "/" with the query "/api/text".
    pytest.param("https://chat-gpt.org?", id="empty-query"),
    pytest.param("https://chat-gpt.org/#", id="empty-fragment"),
    # A URL that cannot be parsed must give the SDK's own error (every error is an AichatError).
    pytest.param("http://[::1", id="unclosed-ipv6"),
    pytest.param("https://chat-gpt.org:http", id="port-not-a-number"),
    pytest.param("https://chat-gpt.org:99999", id="port-out-of-range"),
    pytest.param("https://user:pw@chat-gpt.org", id="credentials"),
    pytest.param("https://user@chat-gpt.org", id="user-name"),
    pytest.param(None, id="none"),
    pytest.param(b"https://chat-gpt.org", id="bytes"),
]


@pytest.mark.parametrize("given", BAD_BASE_URLS)
def test_check_base_url_rejects(given: Any) -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        check_base_url(given)
    assert isinstance(exc_info.value, AichatError)


# --------------------------------------------------------------------------- parse_response


def response(
    status: int, body: bytes | str = b"", headers: dict[str, str] | None = None
) -> HttpResponse:
    raw = body.encode() if isinstance(body, str) else body
    return HttpResponse(status_code=status, headers=headers or {}, body=raw)


JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html; charset=UTF-8"}
CHALLENGE_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body>Checking your browser</body></html>"
)


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        pytest.param(200, {"response": True, "message": "Hello!"}, id="ok"),
        pytest.param(200, {"response": True, "message": ""}, id="ok-empty-text"),
        pytest.param(200, {"response": True, "message": "Привет 字"}, id="ok-unicode"),
        pytest.param(200, {"response": True, "message": "x", "extra": [1]}, id="ok-extra-keys"),
    ],
)
def test_success(status: int, payload: dict[str, Any]) -> None:
    reply = parse_response(response(status, json.dumps(payload), JSON), now=NOW)
    assert type(reply) is Reply
    assert reply.text == payload["message"]
    assert reply.raw == payload
    assert reply.status_code == status


def test_success_does_not_need_a_content_type() -> None:
    reply = parse_response(response(200, b'{"response": true, "message": "m"}'), now=NOW)
    assert reply.text == "m"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"response": False}, id="bare"),
        pytest.param({"response": False, "message": "quota exceeded"}, id="with-message"),
        pytest.param({"response": False, "error": "moderation", "code": 7}, id="with-error"),
    ],
)
def test_service_refusal(payload: dict[str, Any]) -> None:
    with pytest.raises(ServiceError) as exc_info:
        parse_response(response(200, json.dumps(payload), JSON), now=NOW)
    error = exc_info.value
    assert exc_info.type is ServiceError
    assert error.payload == payload
    # g4f: raise Exception(f"Error Response: {result}")
    assert str(payload) in str(error)


FORMAT_ERRORS = [
    pytest.param(b"", id="empty"),
    pytest.param(b"Hello", id="plain-text"),
    pytest.param(b"<html>oops</html>", id="html"),
    pytest.param(b'{"response": true, "message": "x"', id="truncated-json"),
    pytest.param(b"\xff\xfe\x00", id="binary"),
    pytest.param(b'["response", "message"]', id="json-list"),
    pytest.param(b'"message"', id="json-string"),
    pytest.param(b"null", id="json-null"),
    pytest.param(b"42", id="json-number"),
    pytest.param(b'{"response": true}', id="missing-message"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(b'{"response": true, "message": 42}', id="message-int"),
    pytest.param(b'{"response": true, "message": null}', id="message-null"),
    pytest.param(b'{"response": true, "message": ["a"]}', id="message-list"),
    pytest.param(b'{"response": true, "message": {"text": "a"}}', id="message-object"),
]


@pytest.mark.parametrize("body", FORMAT_ERRORS)
def test_bad_success_body(body: bytes) -> None:
    with pytest.raises(ResponseFormatError) as exc_info:
        parse_response(response(200, body, JSON), now=NOW)
    assert exc_info.type is ResponseFormatError


STATUS_ERRORS = [
    # (status, headers, body, exact class)
    pytest.param(301, {"location": "https://evil.example/"}, "", APIStatusError, id="301"),
    pytest.param(302, {"location": "/login"}, "", APIStatusError, id="302"),
    pytest.param(307, {"location": "/x"}, "", APIStatusError, id="307"),
    pytest.param(308, {}, "", APIStatusError, id="308-no-location"),
    pytest.param(400, JSON, '{"error": "bad"}', APIStatusError, id="400"),
    pytest.param(401, JSON, '{"error": "login"}', AuthenticationError, id="401"),
    pytest.param(401, HTML, "<html>login</html>", AuthenticationError, id="401-html"),
    pytest.param(403, JSON, '{"detail": "forbidden"}', AuthenticationError, id="403-json"),
    pytest.param(403, {}, "Forbidden", AuthenticationError, id="403-text"),
    pytest.param(403, HTML, CHALLENGE_PAGE, ChallengeError, id="403-challenge"),
    pytest.param(403, {"content-type": "text/html"}, "", ChallengeError, id="403-html-empty"),
    pytest.param(403, {}, "\n  " + CHALLENGE_PAGE, ChallengeError, id="403-html-untyped"),
    pytest.param(404, {}, "Not Found", APIStatusError, id="404"),
    pytest.param(408, {}, "", APIStatusError, id="408"),
    pytest.param(409, {}, "", APIStatusError, id="409"),
    pytest.param(418, {}, "I'm a teapot", APIStatusError, id="418"),
    pytest.param(429, JSON, '{"error": "slow down"}', RateLimitError, id="429"),
    pytest.param(500, {}, "Internal Server Error", ServerError, id="500"),
    pytest.param(502, HTML, "<html>Bad Gateway</html>", ServerError, id="502"),
    pytest.param(503, {}, "", ServerError, id="503"),
    pytest.param(504, {}, "", ServerError, id="504"),
    pytest.param(599, {}, "", ServerError, id="599"),
    pytest.param(100, {}, "", APIStatusError, id="100"),
]


@pytest.mark.parametrize(("status", "headers", "body", "expected"), STATUS_ERRORS)
def test_status_errors(
    status: int, headers: dict[str, str], body: str, expected: type[APIStatusError]
) -> None:
    with pytest.raises(APIStatusError) as exc_info:
        parse_response(response(status, body, headers), now=NOW)
    error = exc_info.value
    assert exc_info.type is expected
    assert error.status_code == status
    assert error.body == body
    assert str(status) in str(error)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_named_and_not_followed(status: int) -> None:
    with pytest.raises(APIStatusError) as exc_info:
        parse_response(response(status, "", {"Location": "https://other.example/x"}), now=NOW)
    assert exc_info.type is APIStatusError
    text = str(exc_info.value)
    assert "redirect" in text.lower()
    assert "https://other.example/x" in text


def test_403_json_is_not_a_challenge() -> None:
    with pytest.raises(AuthenticationError) as exc_info:
        parse_response(response(403, '{"detail": "no"}', JSON), now=NOW)
    assert not isinstance(exc_info.value, ChallengeError)


def test_challenge_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError) as exc_info:
        parse_response(response(403, CHALLENGE_PAGE, HTML), now=NOW)
    assert exc_info.type is ChallengeError


RETRY_AFTER = [
    pytest.param(429, {"Retry-After": "7"}, 7.0, id="429-seconds"),
    pytest.param(429, {"retry-after": " 7 "}, 7.0, id="429-lower-case-padded"),
    pytest.param(429, {"Retry-After": "0"}, 0.0, id="429-zero"),
    pytest.param(429, {}, None, id="429-none"),
    pytest.param(429, {"Retry-After": "soon"}, None, id="429-garbage"),
    pytest.param(
        429,
        {"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)},
        30.0,
        id="429-http-date",
    ),
    pytest.param(
        429,
        {"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)},
        0.0,
        id="429-http-date-past",
    ),
    pytest.param(503, {"Retry-After": "120"}, 120.0, id="503-seconds"),
    pytest.param(500, {}, None, id="500-none"),
]


@pytest.mark.parametrize(("status", "headers", "expected"), RETRY_AFTER)
def test_retry_after(status: int, headers: dict[str, str], expected: float | None) -> None:
    with pytest.raises(APIStatusError) as exc_info:
        parse_response(response(status, "", headers), now=NOW)
    assert exc_info.value.retry_after == expected
    if status == 429:
        assert exc_info.type is RateLimitError


def test_http_date_retry_after_follows_now() -> None:
    headers = {"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}
    with pytest.raises(RateLimitError) as exc_info:
        parse_response(response(429, "", headers), now=NOW + 10)
    assert exc_info.value.retry_after == 20.0


def test_long_body_is_quoted_short_and_kept_whole() -> None:
    body = "x" * 10_000
    with pytest.raises(APIStatusError) as exc_info:
        parse_response(response(418, body), now=NOW)
    error = exc_info.value
    assert error.body == body  # the whole text stays on .body
    assert len(str(error)) < 300
    assert str(error).endswith("...'")


ECHOING = [
    pytest.param(500, "text/plain", "cookie: a=" + SECRET, ServerError, id="5xx"),
    pytest.param(418, "text/plain", "you sent " + SECRET * 30, APIStatusError, id="other-4xx"),
    pytest.param(403, "text/html", "<p>" + SECRET + "</p>", ChallengeError, id="challenge"),
    pytest.param(200, "application/json", "{bad " + SECRET, ResponseFormatError, id="not-json"),
    pytest.param(
        200,
        "application/json",
        json.dumps({"response": False, "echo": SECRET}),
        ServiceError,
        id="refusal",
    ),
    pytest.param(
        200,
        "application/json",
        json.dumps({"response": True, "x": SECRET}),
        ResponseFormatError,
        id="no-message",
    ),
]


@pytest.mark.parametrize(("status", "content_type", "body", "expected"), ECHOING)
def test_cookie_values_echoed_by_the_server_are_never_quoted(
    status: int, content_type: str, body: str, expected: type[AichatError]
) -> None:
    answer = response(status, body, {"content-type": content_type})

    with pytest.raises(expected) as exc_info:
        parse_response(answer, now=NOW, secrets=("ab", SECRET))

    assert SECRET not in str(exc_info.value)
    assert SECRET[:8] not in str(exc_info.value)  # not cut in half at the quote's end either
    if isinstance(exc_info.value, APIStatusError):
        assert SECRET not in exc_info.value.body


def test_redirect_location_is_scrubbed() -> None:
    answer = response(302, "", {"location": f"http://evil.example/?c={SECRET}"})
    with pytest.raises(APIStatusError) as exc_info:
        parse_response(answer, now=NOW, secrets=(SECRET,))
    assert "evil.example" in str(exc_info.value)
    assert SECRET not in str(exc_info.value)


def test_a_huge_refusal_gives_a_short_message() -> None:
    payload = {"response": False, "message": "no " * 2_000_000}
    with pytest.raises(ServiceError) as exc_info:
        parse_response(response(200, json.dumps(payload), JSON), now=NOW)
    assert len(str(exc_info.value)) < 300
    assert exc_info.value.payload == payload  # the whole payload stays on .payload


def test_undecodable_error_body_is_replaced_not_raised() -> None:
    with pytest.raises(ServerError) as exc_info:
        parse_response(response(500, b"\xff\xfeoops"), now=NOW)
    assert exc_info.value.body.endswith("oops")
    assert "\ufffd" in exc_info.value.body
