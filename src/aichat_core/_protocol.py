"""The chat-gpt.org wire protocol: building requests and reading answers."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from json.encoder import encode_basestring  # json.dumps(str, ensure_ascii=False)
from typing import Any, NoReturn
from urllib.parse import SplitResult, urlsplit

import attrs

from aichat_core._call import check_text
from aichat_core._cookies import format_cookie_header
from aichat_core._errors import (
    APIStatusError,
    AuthenticationError,
    ChallengeError,
    InvalidRequestError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    ServiceError,
)
from aichat_core._http import HttpRequest, HttpResponse
from aichat_core._params import GenerationParams
from aichat_core._retry import parse_retry_after

__all__ = [
    "DEFAULT_BASE_URL",
    "USER_AGENT",
    "Reply",
    "build_request",
    "base_url_host",
    "check_base_url",
    "parse_response",
]

DEFAULT_BASE_URL = "https://chat-gpt.org"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@attrs.frozen
class Reply:
    """A successful answer.

    ``raw`` is the decoded JSON object, ``attempts`` the requests the call
    made, ``elapsed`` its duration in seconds (attempts and waits together).
    """

    text: str
    raw: Mapping[str, Any] = attrs.field(repr=False)
    attempts: int = 1
    elapsed: float = 0.0
    status_code: int = 200


def check_base_url(base_url: str) -> str:
    """Return ``base_url`` without a trailing slash, or raise for a URL that cannot work.

    A non-ASCII host name is IDNA-encoded (``bücher.example`` becomes
    ``xn--bcher-kva.example``); anything else that HTTP cannot carry is refused.
    """
    if not isinstance(base_url, str):
        raise InvalidRequestError(f"base_url must be a string, not {type(base_url).__name__}")
    example = f"use e.g. {DEFAULT_BASE_URL!r}"
    if not base_url.isprintable() or any(ch in base_url for ch in " \\"):
        raise InvalidRequestError(
            f"base_url must not contain spaces, backslashes or control characters; {example}"
        )
    try:
        parts = urlsplit(base_url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number 0-65535
        parts, port_ok = None, False
    if parts is None or not port_ok or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(f"base_url {base_url!r} is not an http(s) URL; {example}")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequestError(
            "base_url must not carry a user name or password: they would be sent in the "
            "origin and referer headers; use a proxy URL or headers=... for credentials"
        )
    if "?" in base_url or "#" in base_url:
        raise InvalidRequestError(f"base_url {base_url!r} must not have a query or fragment")
    if not base_url.isascii():
        base_url = _ascii_url(base_url, parts)
    return base_url.rstrip("/")


def _ascii_url(base_url: str, parts: SplitResult) -> str:
    if not parts.path.isascii():
        raise InvalidRequestError(
            f"the path of base_url {base_url!r} is not ASCII; percent-encode it"
        )
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidRequestError(
            f"the host of base_url {base_url!r} is not a valid international domain name"
        ) from None
    port = "" if parts.port is None else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def base_url_host(base_url: str) -> str:
    """The host name of a checked ``base_url``, lower-case, without brackets or port."""
    return (urlsplit(base_url).hostname or "").lower()


def build_request(
    prompt: str,
    params: GenerationParams,
    *,
    base_url: str = DEFAULT_BASE_URL,
    cookies: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = USER_AGENT,
) -> HttpRequest:
    """The ``POST {base_url}/api/text`` request for one prompt.

    ``headers`` are added last and may replace the browser-like defaults.
    ``user_agent=None`` sends no User-Agent of ours (a transport that
    impersonates a browser sends the browser's own). ``base_url`` and
    ``headers`` are expected to be checked already (see
    [`check_base_url`][aichat_core.check_base_url] and
    [`check_headers`][aichat_core.check_headers]).
    """
    body = request_body(prompt, params)
    return HttpRequest(
        method="POST",
        url=f"{base_url}/api/text",
        headers=request_headers(base_url, cookies=cookies, headers=headers, user_agent=user_agent),
        body=body,
    )


def request_headers(
    base_url: str,
    *,
    cookies: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = USER_AGENT,
) -> tuple[tuple[str, str], ...]:
    """The headers of [`build_request`][aichat_core.build_request], which depend on no prompt."""
    merged = {
        "content-type": "application/json",
        "accept": "*/*",
        "origin": base_url,
        "referer": f"{base_url}/chat",
    }
    if user_agent is not None:
        merged["user-agent"] = user_agent
    if cookies:
        merged["cookie"] = format_cookie_header(cookies)
    for name, value in (headers or {}).items():
        merged[name.lower()] = value
    return tuple(merged.items())


def request_body(prompt: str, params: GenerationParams) -> bytes:
    """The JSON body of [`build_request`][aichat_core.build_request]."""
    # What json.dumps gives for g4f's dict, built from a cached tail of the parameters.
    return _utf8(f'{{"message": {encode_basestring(prompt)}, {_body_tail(params)}', prompt)


def _utf8(body: str, prompt: str) -> bytes:
    try:
        return body.encode()
    except UnicodeEncodeError:
        check_text(prompt)  # raises InvalidRequestError, naming the surrogate's place
        raise


_PARAM_KEYS = ("temperature", "presence_penalty", "top_p", "frequency_penalty")
_TAILS: dict[tuple[object, ...], str] = {}


def _body_tail(params: GenerationParams) -> str:
    """``"temperature": 0.5, ...}``: the JSON body after the message, cached per value."""
    values = (params.temperature, params.presence_penalty, params.top_p, params.frequency_penalty)
    key = (*map(type, values), *values)  # 1 and 1.0 are equal, but not on the wire
    tail = _TAILS.get(key)
    if tail is None:
        tail = json.dumps(dict(zip(_PARAM_KEYS, values, strict=True)))[1:]
        if len(_TAILS) < 256:
            _TAILS[key] = tail
    return tail


def parse_response(
    response: HttpResponse,
    *,
    now: float,
    secrets: Collection[str] = (),
    base_url: str = DEFAULT_BASE_URL,
) -> Reply:
    """Read an answer into a [`Reply`][aichat_core.Reply], or raise the matching typed error.

    ``now`` (epoch seconds) turns an HTTP-date ``Retry-After`` into seconds.
    Text quoted from the answer in an error is capped at a few hundred
    characters and has every string of ``secrets`` (the request's cookie
    values) replaced by ``<hidden>``, so a server that echoes the request
    cannot put a cookie into a message or a log. Hints name ``base_url``, the
    site that was asked.
    """
    if not 200 <= response.status_code < 300:
        raise_for_status(response, now=now, secrets=secrets, base_url=base_url)
    return _parse_success(response, secrets)


def raise_for_status(
    response: HttpResponse,
    *,
    now: float,
    secrets: Collection[str] = (),
    base_url: str = DEFAULT_BASE_URL,
) -> NoReturn:
    """Raise the typed error for an answer that is not 2xx (see
    [`parse_response`][aichat_core.parse_response])."""
    status = response.status_code
    text = _scrub(response.body.decode("utf-8", "replace"), secrets)
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    details: dict[str, Any] = {"status_code": status, "body": text, "retry_after": retry_after}
    if 300 <= status < 400:
        location = _quote(response.headers.get("location", "?"), secrets)
        raise APIStatusError(
            f"HTTP {status}: redirect to {location} not followed (cookies are only sent to "
            "base_url); check base_url",
            **details,
        )
    if status == 403 and _looks_like_html(response):
        raise ChallengeError(
            "HTTP 403 with an anti-bot challenge page: the cookies are missing or stale; "
            f"open {base_url} in a browser and export fresh cookies",
            **details,
        )
    if status in (401, 403):
        raise AuthenticationError(
            f"HTTP {status}: {base_url_host(base_url)} refused the cookies; export fresh ones "
            f"from a browser that has {base_url} open",
            **details,
        )
    if status == 429:
        wait = f" (Retry-After: {retry_after:g} s)" if retry_after is not None else ""
        raise RateLimitError(f"HTTP 429: rate limited{wait}; slow down or retry later", **details)
    if status >= 500:
        raise ServerError(f"HTTP {status}: the service failed; retry later", **details)
    raise APIStatusError(f"HTTP {status}: {_quote(text, ())}", **details)


_QUOTE = 200
"""The most characters of a server's text that an error message quotes."""
_MIN_SECRET = 4
"""Shorter cookie values are not scrubbed: they would blank out ordinary words."""


def _scrub(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        if len(secret) >= _MIN_SECRET and secret in text:
            text = text.replace(secret, "<hidden>")
    return text


def _excerpt(text: str, secrets: Collection[str]) -> str:
    """``text`` scrubbed, then cut to ``_QUOTE`` characters (``...`` marks a cut)."""
    longest = max((len(secret) for secret in secrets), default=0)
    window = text[: _QUOTE + longest]
    shown = _scrub(window, secrets)
    cut = len(shown) > _QUOTE or len(text) > len(window)
    return shown[:_QUOTE] + ("..." if cut else "")


def _quote(text: str, secrets: Collection[str]) -> str:
    """[`_excerpt`][] as a repr, for text that may hold anything."""
    return repr(_excerpt(text, secrets))


def _looks_like_html(response: HttpResponse) -> bool:
    return response.content_type == "text/html" or response.body.lstrip()[:1] == b"<"


def _text(body: bytes) -> str | bytes:
    """UTF-8 text for ``json.loads``, or the bytes (another encoding json detects, or garbage)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _parse_success(response: HttpResponse, secrets: Collection[str]) -> Reply:
    text, payload = success_payload(response.body, secrets)
    return Reply(text=text, raw=payload, status_code=response.status_code)


def success_payload(body: bytes, secrets: Collection[str]) -> tuple[str, dict[str, Any]]:
    """The text and the JSON object of a 2xx answer's ``body``, or the typed error."""
    try:
        payload = json.loads(_text(body))
    except (ValueError, RecursionError) as exc:
        excerpt = _quote(body[: _QUOTE * 4].decode("utf-8", "replace"), secrets)
        raise ResponseFormatError(f"the answer is not JSON: {excerpt}") from exc
    if not isinstance(payload, dict):
        raise ResponseFormatError(f"the answer is JSON but not an object: {type(payload).__name__}")
    if payload.get("response") is False:
        # g4f's wording: raise Exception(f"Error Response: {result}")
        raise ServiceError(f"Error Response: {_excerpt(str(payload), secrets)}", payload=payload)
    message = payload.get("message")
    if not isinstance(message, str):
        raise ResponseFormatError(
            f"the answer has no text message: {_quote(str(payload), secrets)}"
        )
    return message, payload
