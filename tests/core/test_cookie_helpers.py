"""Pure cookie helpers: the site-domain rule, the ``Cookie`` header, ``Set-Cookie`` and dates."""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aichat_core import (
    AichatError,
    InvalidRequestError,
    SetCookie,
    domain_matches,
    format_cookie_header,
    parse_cookie_date,
    parse_cookie_header,
    parse_set_cookie,
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


# --------------------------------------------------------------------------- parse_set_cookie

NOW = 1_750_000_000.0
PAST_DATE = "Thu, 01 Jan 1970 00:00:00 GMT"
FUTURE_DATE = "Wed, 21 Oct 2065 07:28:00 GMT"
FUTURE_STAMP = datetime(2065, 10, 21, 7, 28, tzinfo=timezone.utc).timestamp()

SET_COOKIES = [
    pytest.param("sid=abc", SetCookie("sid", "abc"), id="plain"),
    pytest.param(
        "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
        SetCookie("sid", "abc"),
        id="ignored-attributes",
    ),
    pytest.param("sid=abc; Max-Age=60", SetCookie("sid", "abc", expires=NOW + 60), id="max-age"),
    pytest.param("sid=; Max-Age=0", SetCookie("sid", "", deletes=True), id="max-age-0"),
    pytest.param("sid=x; max-age=-5", SetCookie("sid", "x", deletes=True), id="max-age-negative"),
    pytest.param(
        "sid=x; Max-Age=0001", SetCookie("sid", "x", expires=NOW + 1), id="max-age-leading-zeros"
    ),
    pytest.param(
        "sid=x; Max-Age=" + "9" * 5000,
        SetCookie("sid", "x", expires=NOW + 10**12),
        id="max-age-huge-capped",
    ),
    pytest.param(
        "sid=x; Max-Age=" + "-" + "9" * 5000,
        SetCookie("sid", "x", deletes=True),
        id="max-age-huge-negative",
    ),
    pytest.param("sid=x; Max-Age=1e3", SetCookie("sid", "x"), id="max-age-not-digits-ignored"),
    pytest.param(
        f"sid=x; Expires={PAST_DATE}",
        SetCookie("sid", "x", expires=0.0, deletes=True),
        id="expires-past",
    ),
    pytest.param(
        f"sid=x; expires={FUTURE_DATE}",
        SetCookie("sid", "x", expires=FUTURE_STAMP),
        id="expires-future",
    ),
    pytest.param(
        f"sid=x; Max-Age=10; Expires={PAST_DATE}",
        SetCookie("sid", "x", expires=NOW + 10),
        id="max-age-wins-over-expires",
    ),
    pytest.param(
        f"sid=x; Expires={PAST_DATE}; Max-Age=10",
        SetCookie("sid", "x", expires=NOW + 10),
        id="max-age-wins-in-any-order",
    ),
    pytest.param("sid=x; Expires=soon", SetCookie("sid", "x"), id="bad-date-ignored"),
    pytest.param("sid=x; Domain=.Chat-GPT.org", SetCookie("sid", "x", "chat-gpt.org"), id="domain"),
    pytest.param("sid=x; Domain=", SetCookie("sid", "x"), id="empty-domain-ignored"),
    pytest.param("sid=x; Domain=a.com; Domain=b.com", SetCookie("sid", "x", "b.com"), id="last"),
    pytest.param('q="quoted"', SetCookie("q", '"quoted"'), id="quotes-kept-as-sent"),
    pytest.param("  sid =  abc  ; Max-Age=1", SetCookie("sid", "abc", expires=NOW + 1), id="ws"),
    pytest.param("a=b=c", SetCookie("a", "b=c"), id="equals-in-value"),
    pytest.param("a=x" + " y" * 3, SetCookie("a", "x y y y"), id="inner-spaces"),
]


@pytest.mark.parametrize(("header", "expected"), SET_COOKIES)
def test_parse_set_cookie(header: str, expected: SetCookie) -> None:
    assert parse_set_cookie(header, now=NOW) == expected


IGNORED_SET_COOKIES = [
    pytest.param(SECRET, id="no-equals"),
    pytest.param(f"={SECRET}", id="empty-name"),
    pytest.param(f"bad name={SECRET}", id="space-in-name"),
    pytest.param(f"sid={SECRET}\x00", id="nul-in-value"),
    pytest.param(f"sid={SECRET}\r\nX-Evil: 1", id="crlf-in-value"),
    pytest.param(f"sid={SECRET}é", id="non-ascii-value"),
    pytest.param(f"sid={SECRET}\ud83d", id="lone-surrogate"),
    pytest.param("sid=" + "x" * 5000, id="over-4096-bytes"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("header", IGNORED_SET_COOKIES)
def test_set_cookie_a_browser_would_ignore_is_none(header: str) -> None:
    assert parse_set_cookie(header, now=NOW) is None


def test_set_cookie_that_is_not_text_is_none() -> None:
    assert parse_set_cookie(b"sid=x", now=NOW) is None  # type: ignore[arg-type]


def test_set_cookie_value_is_not_in_the_repr() -> None:
    cookie = parse_set_cookie(f"sid={SECRET}; Max-Age=5", now=NOW)
    assert cookie is not None
    assert cookie.value == SECRET
    assert SECRET not in repr(cookie)


@given(st.text(), st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=4e9))
def test_parse_set_cookie_never_raises_and_keeps_only_sendable_cookies(
    header: str, now: float
) -> None:
    cookie = parse_set_cookie(header, now=now)
    if cookie is not None:
        assert format_cookie_header({cookie.name: cookie.value})  # fit for a Cookie header
        assert cookie.deletes or cookie.expires is None or cookie.expires > now


# --------------------------------------------------------------------------- parse_cookie_date

DATES = [
    pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", (2015, 10, 21, 7, 28, 0), id="rfc1123"),
    pytest.param("Wednesday, 21-Oct-15 07:28:00 GMT", (2015, 10, 21, 7, 28, 0), id="rfc850"),
    pytest.param("Wed Oct 21 07:28:00 2015", (2015, 10, 21, 7, 28, 0), id="asctime"),
    pytest.param("Sun, 06 Nov 94 08:49:37 GMT", (1994, 11, 6, 8, 49, 37), id="two-digit-90s"),
    pytest.param("Fri, 01 Jan 38 00:00:00 GMT", (2038, 1, 1, 0, 0, 0), id="two-digit-2000s"),
    pytest.param("31 DEC 9999 23:59:59", (9999, 12, 31, 23, 59, 59), id="last-day"),
    pytest.param("1 jan 1601 0:0:0", (1601, 1, 1, 0, 0, 0), id="first-year"),
]


@pytest.mark.parametrize(("text", "parts"), DATES)
def test_parse_cookie_date(text: str, parts: tuple[int, int, int, int, int, int]) -> None:
    year, month, day, hour, minute, second = parts
    moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    assert parse_cookie_date(text) == moment.timestamp()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "31 Feb 2030 10:00:00",
        "1 Jan 1600 00:00:00",
        "1 Jan 2030",
        "1 Jan 2030 24:00:00",
        "32 Jan 2030 10:00:00",
        "1 Foo 2030 10:00:00",
        "1 Jan 12345 10:00:00",
    ],
)
def test_parse_cookie_date_refuses_what_is_not_a_date(text: str) -> None:
    assert parse_cookie_date(text) is None


@given(
    st.datetimes(
        min_value=datetime(1601, 1, 1),  # hypothesis wants naive bounds
        max_value=datetime(9999, 12, 31),
        timezones=st.just(timezone.utc),
    ),
    st.sampled_from(["rfc1123", "dashes"]),
)
def test_parse_cookie_date_agrees_with_the_email_parser(moment: datetime, style: str) -> None:
    moment = moment.replace(microsecond=0)
    if style == "rfc1123":
        text = email.utils.format_datetime(moment, usegmt=True)
    else:
        text = moment.strftime("%a, %d-%b-%Y %H:%M:%S GMT")
    oracle = email.utils.parsedate_to_datetime(email.utils.format_datetime(moment, usegmt=True))
    assert parse_cookie_date(text) == moment.timestamp() == oracle.timestamp()


@given(st.text())
def test_parse_cookie_date_never_raises(text: str) -> None:
    result = parse_cookie_date(text)
    assert result is None or isinstance(result, float)


def test_parse_cookie_date_reads_only_the_start_of_a_long_text() -> None:
    # A server cannot make the parse slow: only the first 256 characters are split.
    moment = datetime(2030, 1, 1, 10, tzinfo=timezone.utc).timestamp()
    assert parse_cookie_date("1 Jan 2030 10:00:00 " + "x " * 1_000_000) == moment
    assert parse_cookie_date("x " * 200 + "1 Jan 2030 10:00:00") is None
