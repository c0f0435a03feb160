"""Pure cookie helpers: the site-domain rule and the ``Cookie`` header format."""

from __future__ import annotations

from typing import Any

import pytest

from aichat_core import (
    AichatError,
    InvalidRequestError,
    domain_matches,
    format_cookie_header,
    parse_cookie_header,
)

SITE = "chat-gpt.org"
SECRET = "S3CRETv4lue"

# --------------------------------------------------------------------------- domain_matches

DOMAINS = [
    pytest.param("chat-gpt.org", True, id="exact"),
    pytest.param(".chat-gpt.org", True, id="leading-dot"),
    pytest.param("x.chat-gpt.org", True, id="subdomain"),
    pytest.param("a.b.chat-gpt.org", True, id="deep-subdomain"),
    pytest.param("CHAT-GPT.ORG", True, id="upper-case"),
    pytest.param(".Www.Chat-Gpt.Org", True, id="mixed-case-subdomain"),
    pytest.param("notchat-gpt.org", False, id="suffix-without-dot"),
    pytest.param("evil-chat-gpt.org", False, id="hyphen-prefix"),
    pytest.param("chat-gpt.org.evil.com", False, id="site-as-prefix"),
    pytest.param("chat-gpt.orgx", False, id="longer-tld"),
    pytest.param("gpt.org", False, id="parent-part"),
    pytest.param("org", False, id="tld"),
    pytest.param(".org", False, id="dot-tld"),
    pytest.param("", False, id="empty"),
    pytest.param(".", False, id="dot"),
    pytest.param("chat-gpt.com", False, id="other-tld"),
]


@pytest.mark.parametrize(("domain", "expected"), DOMAINS)
def test_domain_matches(domain: str, expected: bool) -> None:
    assert domain_matches(domain, SITE) is expected


@pytest.mark.parametrize(
    ("domain", "site", "expected"),
    [
        pytest.param("chat-gpt.org", "CHAT-GPT.ORG", True, id="site-upper"),
        pytest.param("x.chat-gpt.org", ".chat-gpt.org", True, id="site-leading-dot"),
        pytest.param("chat-gpt.org", "x.chat-gpt.org", False, id="parent-of-site"),
        pytest.param("chat-gpt.org", "", False, id="empty-site"),
        pytest.param("127.0.0.1", "127.0.0.1", True, id="ip"),
        pytest.param("localhost", "localhost", True, id="localhost"),
    ],
)
def test_domain_matches_other_sites(domain: str, site: str, expected: bool) -> None:
    assert domain_matches(domain, site) is expected


# --------------------------------------------------------------------------- parse_cookie_header

PARSED = [
    pytest.param("a=b", {"a": "b"}, id="one"),
    pytest.param("a=b; c=d", {"a": "b", "c": "d"}, id="two"),
    pytest.param("a=b;c=d", {"a": "b", "c": "d"}, id="no-space"),
    pytest.param("  a = b ;  c=d  ", {"a": "b", "c": "d"}, id="spaces-trimmed"),
    pytest.param("a=b;", {"a": "b"}, id="trailing-semicolon"),
    pytest.param("a=b\r\n", {"a": "b"}, id="pasted-line-end-trimmed"),
    pytest.param("; a=b;; ;", {"a": "b"}, id="empty-parts-skipped"),
    pytest.param("", {}, id="empty"),
    pytest.param("   ", {}, id="blank"),
    pytest.param("a=", {"a": ""}, id="empty-value"),
    pytest.param("a=b=c", {"a": "b=c"}, id="equals-in-value"),
    pytest.param("tok=abc.DEF-123_~%2F", {"tok": "abc.DEF-123_~%2F"}, id="token-chars"),
    pytest.param("cf_clearance=x; __cf_bm=y", {"cf_clearance": "x", "__cf_bm": "y"}, id="cf"),
    pytest.param('q="quoted"', {"q": '"quoted"'}, id="quotes-kept"),
    pytest.param("s=two words", {"s": "two words"}, id="inner-space-kept"),
]


@pytest.mark.parametrize(("header", "expected"), PARSED)
def test_parse_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


def test_parse_keeps_order() -> None:
    assert list(parse_cookie_header("z=1; a=2; m=3")) == ["z", "a", "m"]


BAD_HEADERS = [
    pytest.param(SECRET, id="no-equals"),
    pytest.param(f"a=b; {SECRET}", id="second-part-no-equals"),
    pytest.param(f"={SECRET}", id="empty-name"),
    pytest.param(f" = {SECRET}", id="blank-name"),
    pytest.param(f"bad name={SECRET}", id="space-in-name"),
    pytest.param(f"na,me={SECRET}", id="comma-in-name"),
    pytest.param(f"nämé={SECRET}", id="non-ascii-name"),
    pytest.param(f"a={SECRET}\nX-Evil: 1", id="newline-in-value"),
    pytest.param(f"a={SECRET}\x00", id="nul-in-value"),
    pytest.param(f"a={SECRET}\x7f", id="del-in-value"),
    pytest.param(f"a={SECRET}é", id="non-ascii-value"),
    pytest.param(f"a={SECRET}\t{SECRET}", id="tab-in-value"),
]


@pytest.mark.parametrize("header", BAD_HEADERS)
def test_parse_cookie_header_rejects_without_leaking(header: str) -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        parse_cookie_header(header)
    error = exc_info.value
    assert isinstance(error, AichatError)
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert SECRET not in repr(error.args)


# --------------------------------------------------------------------------- format_cookie_header

FORMATTED = [
    pytest.param({"a": "b"}, "a=b", id="one"),
    pytest.param({"a": "b", "c": "d"}, "a=b; c=d", id="two"),
    pytest.param({"z": "1", "a": "2"}, "z=1; a=2", id="order-kept"),
    pytest.param({}, "", id="empty"),
    pytest.param({"a": ""}, "a=", id="empty-value"),
    pytest.param({"a": "b=c"}, "a=b=c", id="equals-in-value"),
    pytest.param({"s": "two words"}, "s=two words", id="inner-space"),
]


@pytest.mark.parametrize(("cookies", "expected"), FORMATTED)
def test_format_cookie_header(cookies: dict[str, str], expected: str) -> None:
    header = format_cookie_header(cookies)
    assert header == expected
    assert parse_cookie_header(header) == cookies


BAD_COOKIES = [
    pytest.param({"a": f"{SECRET};b=c"}, id="semicolon-in-value"),
    pytest.param({"a": f"{SECRET}\n"}, id="newline-in-value"),
    pytest.param({"a": f"{SECRET}\r\nX-Evil: 1"}, id="header-injection"),
    pytest.param({"a": f" {SECRET}"}, id="leading-space"),
    pytest.param({"a": f"{SECRET} "}, id="trailing-space"),
    pytest.param({"a": f"{SECRET}\x00"}, id="nul"),
    pytest.param({"a": f"{SECRET}ü"}, id="non-ascii"),
    pytest.param({"": SECRET}, id="empty-name"),
    pytest.param({"a b": SECRET}, id="space-in-name"),
    pytest.param({"a=b": SECRET}, id="equals-in-name"),
    pytest.param({"a;b": SECRET}, id="semicolon-in-name"),
    pytest.param({"ok": "fine", "a": f"{SECRET}\n"}, id="second-bad"),
    pytest.param({"a": 5}, id="value-int"),
    pytest.param({"a": None}, id="value-none"),
    pytest.param({"a": SECRET.encode()}, id="value-bytes"),
    pytest.param({5: SECRET}, id="name-int"),
]


@pytest.mark.parametrize("cookies", BAD_COOKIES)
def test_format_cookie_header_rejects_without_leaking(cookies: dict[Any, Any]) -> None:
    with pytest.raises(InvalidRequestError) as exc_info:
        format_cookie_header(cookies)
    error = exc_info.value
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
