"""The cookie sources: static, environment, file (Netscape and Cookie-Editor), chain."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import aichat_adapters.cookies._file as file_module
from aichat_adapters.cookies import (
    BrowserCookieSource,
    ChainCookieSource,
    EnvCookieSource,
    FileCookieSource,
    SessionJar,
    StaticCookieSource,
    default_cookie_source,
    parse_cookie_editor_json,
    parse_netscape_cookies,
)
from aichat_adapters.cookies._file import read_cookie_text
from aichat_core import (
    CookiesNotFoundError,
    CookieSource,
    InvalidRequestError,
    RefreshableCookieSource,
    ServiceError,
    WriteBackCookieSource,
)

SECRET = "s3cr3t-value"
NOW = 1_750_000_000.0
PAST = int(NOW) - 86_400
FUTURE = int(NOW) + 86_400
HEADER = "# Netscape HTTP Cookie File\n"


def netscape_line(
    domain: str,
    name: str,
    value: str,
    expires: int | str = 0,
    *,
    subdomains: str | None = None,
    path: str = "/",
    secure: str = "TRUE",
) -> str:
    """One ``cookies.txt`` line, as curl and the export extensions write it."""
    if subdomains is None:
        subdomains = "TRUE" if domain.removeprefix("#HttpOnly_").startswith(".") else "FALSE"
    return "\t".join((domain, subdomains, path, secure, str(expires), name, value)) + "\n"


def editor_cookie(domain: str, name: str, value: str, expires: float | None = None) -> object:
    """One cookie as Cookie-Editor exports it."""
    cookie: dict[str, object] = {
        "domain": domain,
        "hostOnly": not domain.startswith("."),
        "httpOnly": True,
        "name": name,
        "path": "/",
        "sameSite": "lax",
        "secure": True,
        "session": expires is None,
        "storeId": "0",
        "value": value,
    }
    if expires is not None:
        cookie["expirationDate"] = expires
    return cookie


# A file with every case of the domain rule and the expiry rule.
NETSCAPE_MIXED = (
    HEADER
    + "# https://curl.se/docs/http-cookies.html\n\n"
    + netscape_line("#HttpOnly_.chat-gpt.org", "sid", "v-sid", FUTURE)
    + netscape_line(".chat-gpt.org", "cf_clearance", "v-cf", FUTURE)
    + netscape_line("chat-gpt.org", "host_only", "v-host", 0)
    + netscape_line("x.chat-gpt.org", "sub", "v-sub", "")
    + netscape_line(".chat-gpt.org", "expired", "v-old", PAST)
    + netscape_line("notchat-gpt.org", "not", "v-not", FUTURE)
    + netscape_line(".chat-gpt.org.evil.com", "evil", "v-evil", FUTURE)
    + netscape_line(".example.com", "other", "v-other", FUTURE)
)
NETSCAPE_MIXED_EXPECTED = {
    "sid": "v-sid",
    "cf_clearance": "v-cf",
    "host_only": "v-host",
    "sub": "v-sub",
}

EDITOR_MIXED = json.dumps(
    [
        editor_cookie(".chat-gpt.org", "sid", "v-sid", FUTURE + 0.5),
        editor_cookie("chat-gpt.org", "session_one", "v-session"),
        editor_cookie("x.chat-gpt.org", "sub", "v-sub", FUTURE),
        editor_cookie(".chat-gpt.org", "expired", "v-old", PAST + 0.25),
        editor_cookie("notchat-gpt.org", "not", "v-not", FUTURE),
        editor_cookie("chat-gpt.org.evil.com", "evil", "v-evil"),
    ]
)
EDITOR_MIXED_EXPECTED = {"sid": "v-sid", "session_one": "v-session", "sub": "v-sub"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AICHAT_* variables; HOME is an empty temporary directory."""
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    monkeypatch.delenv("AICHAT_COOKIES_FILE", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file source sees the time as NOW."""
    monkeypatch.setattr(file_module, "_now", lambda: NOW)


def tried_text(error: CookiesNotFoundError) -> str:
    return " | ".join(f"{source}: {reason}" for source, reason in error.tried)


# --------------------------------------------------------------------------- static


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"sid": "abc"}, {"sid": "abc"}),
        ({"a": "1", "b": ""}, {"a": "1", "b": ""}),
        ("sid=abc", {"sid": "abc"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("  a = 1 ;; b=x=y; ", {"a": "1", "b": "x=y"}),
    ],
)
def test_static_source_gives_its_cookies(
    given: Mapping[str, str] | str, expected: dict[str, str]
) -> None:
    source = StaticCookieSource(given)
    assert source.get_cookies() == expected
    assert source.names == list(expected)


def test_static_source_returns_a_copy() -> None:
    source = StaticCookieSource({"sid": "abc"})
    source.get_cookies()["sid"] = "changed"
    assert source.get_cookies() == {"sid": "abc"}


@pytest.mark.parametrize(
    ("given", "message_part"),
    [
        ("", "empty"),
        ("  ;  ", "empty"),
        ({}, "empty"),
        (f"a=b; {SECRET}", "part 2"),
        (f"={SECRET}", "part 1"),
        ({"bad name": SECRET}, "'bad name'"),
        ({"sid": f"{SECRET};x"}, "'sid'"),
        ({"sid": 42}, "must be text"),
        (42, "not int"),
        ([("sid", SECRET)], "not list"),
    ],
)
def test_static_source_rejects_bad_input_at_construction(given: Any, message_part: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        StaticCookieSource(given)
    assert message_part in str(caught.value)
    assert SECRET not in str(caught.value)


# --------------------------------------------------------------------------- env


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sid=abc", {"sid": "abc"}),
        ("sid=abc; cf_clearance=x.y-z", {"sid": "abc", "cf_clearance": "x.y-z"}),
        ("  sid=abc;  ", {"sid": "abc"}),
        ('{"sid": "abc"}', {"sid": "abc"}),
        ('  {"sid": "abc", "other": "a=b c"}\n', {"sid": "abc", "other": "a=b c"}),
    ],
)
def test_env_source_reads_header_strings_and_json(value: str, expected: dict[str, str]) -> None:
    source = EnvCookieSource(environ={"AICHAT_COOKIES": value})
    assert source.get_cookies() == expected


@pytest.mark.parametrize(
    ("environ", "reason_part"),
    [
        ({}, "AICHAT_COOKIES is not set"),
        ({"AICHAT_COOKIES": ""}, "AICHAT_COOKIES is set but empty"),
        ({"AICHAT_COOKIES": " \n "}, "AICHAT_COOKIES is set but empty"),
        ({"AICHAT_COOKIES": ";;"}, "holds no cookies"),
        ({"AICHAT_COOKIES": "{}"}, "holds no cookies"),
        ({"AICHAT_COOKIES": f"sid={SECRET}; {SECRET}"}, "part 2 is not of the form"),
        ({"AICHAT_COOKIES": f'{{"sid": "{SECRET}"'}, "not valid JSON (Expecting"),
        ({"AICHAT_COOKIES": f'{{"sid": ["{SECRET}"]}}'}, "cookie 'sid' must be text"),
        ({"AICHAT_COOKIES": f'{{"sid": "{SECRET};x"}}'}, "cookie 'sid' has a character"),
        ({"AICHAT_COOKIES": "{" * 100_000}, "not valid JSON (Expecting property name"),
        ({"AICHAT_COOKIES": '{"a":' * 100_000}, "not valid JSON"),
        ({"AICHAT_COOKIES": '{"a": 1%s}' % ("0" * 5000)}, "not valid JSON"),
        ({"AICHAT_COOKIES": f'[{{"name": "sid", "value": "{SECRET}"}}]'}, "holds a JSON list"),
    ],
)
def test_env_source_says_why_it_has_nothing(environ: dict[str, str], reason_part: str) -> None:
    with pytest.raises(CookiesNotFoundError) as caught:
        EnvCookieSource(environ=environ).get_cookies()
    ((source, reason),) = caught.value.tried
    assert source == "env AICHAT_COOKIES"
    assert reason_part in reason
    assert SECRET not in str(caught.value)


def test_env_source_reads_the_variable_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    source = EnvCookieSource()
    with pytest.raises(CookiesNotFoundError):
        source.get_cookies()
    monkeypatch.setenv("AICHAT_COOKIES", "sid=one")
    assert source.get_cookies() == {"sid": "one"}
    monkeypatch.setenv("AICHAT_COOKIES", "sid=two")
    assert source.get_cookies() == {"sid": "two"}


def test_env_source_with_another_variable() -> None:
    source = EnvCookieSource("MY_COOKIES", environ={"MY_COOKIES": "a=1", "AICHAT_COOKIES": "b=2"})
    assert source.get_cookies() == {"a": "1"}
    assert source.describe() == "env MY_COOKIES"


# --------------------------------------------------------------------------- Netscape text


def test_netscape_keeps_the_sites_unexpired_cookies() -> None:
    assert parse_netscape_cookies(NETSCAPE_MIXED, "chat-gpt.org", NOW) == NETSCAPE_MIXED_EXPECTED


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        # Session cookies: 0 (curl) or an empty field.
        (HEADER + netscape_line(".chat-gpt.org", "s", "v", 0), NOW, {"s": "v"}),
        (HEADER + netscape_line(".chat-gpt.org", "s", "v", ""), NOW, {"s": "v"}),
        # Expiry is compared with ``now``; a fraction of a second is tolerated.
        (HEADER + netscape_line(".chat-gpt.org", "s", "v", PAST), PAST - 1, {"s": "v"}),
        (HEADER + netscape_line(".chat-gpt.org", "s", "v", PAST), PAST, {"s": "v"}),
        (HEADER + netscape_line(".chat-gpt.org", "s", "v", f"{FUTURE}.5"), NOW, {"s": "v"}),
        # No header line: still read, since every line is well formed.
        (netscape_line(".chat-gpt.org", "s", "v"), NOW, {"s": "v"}),
        # "# HTTP Cookie File" is the older header.
        ("# HTTP Cookie File\n" + netscape_line(".chat-gpt.org", "s", "v"), NOW, {"s": "v"}),
        # CRLF line endings, a UTF-8 BOM, and a value with spaces and '='.
        (
            "\ufeff" + (HEADER + netscape_line("chat-gpt.org", "s", "a b=c")).replace("\n", "\r\n"),
            NOW,
            {"s": "a b=c"},
        ),
        # A subdomain flag that contradicts the leading dot (MozillaCookieJar asserts on it).
        (HEADER + netscape_line(".chat-gpt.org", "s", "v", subdomains="FALSE"), NOW, {"s": "v"}),
        # A malformed line among good ones is skipped.
        (HEADER + "garbage\n" + netscape_line("chat-gpt.org", "s", "v"), NOW, {"s": "v"}),
        # An empty name would make MozillaCookieJar take the value as the name.
        (
            HEADER
            + netscape_line("chat-gpt.org", "", "lost")
            + netscape_line("chat-gpt.org", "s", "v"),
            NOW,
            {"s": "v"},
        ),
        # The site's own domain beats a subdomain, whatever the order.
        (
            HEADER
            + netscape_line("a.chat-gpt.org", "sid", "sub")
            + netscape_line(".chat-gpt.org", "sid", "site")
            + netscape_line("b.a.chat-gpt.org", "sid", "deeper"),
            NOW,
            {"sid": "site"},
        ),
        # Then the longest path, whatever the order.
        (
            HEADER
            + netscape_line(".chat-gpt.org", "sid", "api", path="/api")
            + netscape_line("chat-gpt.org", "sid", "root", path="/"),
            NOW,
            {"sid": "api"},
        ),
        # Then the latest expiry, a session cookie last of all.
        (
            HEADER
            + netscape_line(".chat-gpt.org", "sid", "later", FUTURE + 60, path="/a")
            + netscape_line(".chat-gpt.org", "sid", "sooner", FUTURE, path="/b"),
            NOW,
            {"sid": "later"},
        ),
        (
            HEADER
            + netscape_line(".chat-gpt.org", "sid", "session", 0, path="/a")
            + netscape_line(".chat-gpt.org", "sid", "dated", FUTURE, path="/b"),
            NOW,
            {"sid": "session"},
        ),
        # Then the later line.
        (
            HEADER
            + netscape_line(".chat-gpt.org", "sid", "first")
            + netscape_line("chat-gpt.org", "sid", "second"),
            NOW,
            {"sid": "second"},
        ),
        (
            HEADER
            + netscape_line("chat-gpt.org", "sid", "first", path="/z")
            + netscape_line("chat-gpt.org", "sid", "second", path="/a"),
            NOW,
            {"sid": "second"},
        ),
        # An expired duplicate does not hide a live one.
        (
            HEADER
            + netscape_line(".chat-gpt.org", "sid", "live", FUTURE)
            + netscape_line(".chat-gpt.org", "sid", "dead", PAST, path="/api"),
            NOW,
            {"sid": "live"},
        ),
    ],
)
def test_netscape_cases(text: str, now: float, expected: dict[str, str]) -> None:
    assert parse_netscape_cookies(text, "chat-gpt.org", now) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("chat-gpt.org", NETSCAPE_MIXED_EXPECTED),
        ("x.chat-gpt.org", {"sub": "v-sub"}),
        ("notchat-gpt.org", {"not": "v-not"}),
        ("chat-gpt.org.evil.com", {"evil": "v-evil"}),
    ],
)
def test_netscape_filters_by_the_given_domain(domain: str, expected: dict[str, str]) -> None:
    assert parse_netscape_cookies(NETSCAPE_MIXED, domain, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (HEADER, "no cookies in this Netscape cookies.txt"),
        (HEADER + "# only comments\n", "no cookies in this Netscape cookies.txt"),
        ("hello world\n", "neither a Netscape cookies.txt"),
        (
            HEADER + netscape_line(".chat-gpt.org", "sid", SECRET).replace("\t", "    "),
            "expected 7 tab-separated fields, found 1 (were tabs replaced by spaces?)",
        ),
        (
            HEADER + netscape_line(".chat-gpt.org", "sid", SECRET + "\textra"),
            "line 2: expected 7 tab-separated fields, found 8",
        ),
        (HEADER + netscape_line(".chat-gpt.org", "sid", SECRET, "soon"), "expiry field"),
        (HEADER + netscape_line(".chat-gpt.org", "sid", SECRET, "1e999"), "expiry field"),
        (
            HEADER + netscape_line(".chat-gpt.org", "sid", SECRET + ";x"),
            "cookie 'sid' has a character",
        ),
        (HEADER + netscape_line("", "sid", SECRET), "invalid domain field"),
        (HEADER + netscape_line(".chat-gpt.org", "", SECRET), "empty cookie name"),
        (
            HEADER
            + netscape_line(".example.com", "a", SECRET)
            + netscape_line("b.org", "b", SECRET),
            "no cookie of chat-gpt.org among 2 cookies of other sites",
        ),
        (
            HEADER + netscape_line(".chat-gpt.org", "sid", SECRET, PAST),
            "all 1 cookie of chat-gpt.org in this Netscape cookies.txt have expired",
        ),
        (
            HEADER + "".join(f"bad{n}\n" for n in range(5)) + netscape_line("a.org", "a", "b"),
            "skipped 5 malformed entries (line 2: ",
        ),
    ],
)
def test_netscape_says_why_it_has_nothing(text: str, reason_part: str) -> None:
    with pytest.raises(CookiesNotFoundError) as caught:
        parse_netscape_cookies(text, "chat-gpt.org", NOW)
    ((_, reason),) = caught.value.tried
    assert reason_part in reason
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("kind", ["netscape", "editor"])
def test_a_later_duplicate_replaces_an_earlier_one(kind: str) -> None:
    """Same domain, path and name: one cookie in a browser, so the later line wins."""
    if kind == "netscape":
        parse = parse_netscape_cookies
        revived = HEADER + netscape_line("chat-gpt.org", "sid", "dead", PAST)
        revived += netscape_line("chat-gpt.org", "sid", "live", FUTURE)
        expired = HEADER + netscape_line("chat-gpt.org", "sid", "live", FUTURE)
        expired += netscape_line("chat-gpt.org", "sid", "dead", PAST)
    else:
        parse = parse_cookie_editor_json
        dead = editor_cookie("chat-gpt.org", "sid", "dead", PAST)
        live = editor_cookie("chat-gpt.org", "sid", "live", FUTURE)
        revived, expired = json.dumps([dead, live]), json.dumps([live, dead])
    assert parse(revived, "chat-gpt.org", NOW) == {"sid": "live"}
    with pytest.raises(CookiesNotFoundError, match=r"all 1 cookie of chat-gpt\.org"):
        parse(expired, "chat-gpt.org", NOW)


def test_netscape_expired_reason_names_the_date() -> None:
    text = HEADER + netscape_line(".chat-gpt.org", "sid", "v", 1_700_000_000)
    with pytest.raises(CookiesNotFoundError) as caught:
        parse_netscape_cookies(text, "chat-gpt.org", NOW)
    assert "the last on 2023-11-14 22:13 UTC" in tried_text(caught.value)


def test_expired_reason_beyond_the_calendar() -> None:
    text = json.dumps([editor_cookie("chat-gpt.org", "sid", "v", 1e18)])
    with pytest.raises(CookiesNotFoundError) as caught:
        parse_cookie_editor_json(text, "chat-gpt.org", 1e19)
    assert "(the last on a date far in the future)" in tried_text(caught.value)


def test_netscape_defaults_to_chat_gpt_org_and_the_current_time() -> None:
    text = (
        HEADER
        + netscape_line(".chat-gpt.org", "live", "v", 4_000_000_000)
        + netscape_line(".chat-gpt.org", "dead", "v", 1_000_000_000)
        + netscape_line("example.com", "other", "v")
    )
    assert parse_netscape_cookies(text) == {"live": "v"}


# --------------------------------------------------------------------------- Cookie-Editor text


def test_cookie_editor_keeps_the_sites_unexpired_cookies() -> None:
    assert parse_cookie_editor_json(EDITOR_MIXED, "chat-gpt.org", NOW) == EDITOR_MIXED_EXPECTED


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ({"name": "s", "value": "v", "domain": "chat-gpt.org"}, {"s": "v"}),
        (
            {"name": "s", "value": "v", "domain": ".chat-gpt.org", "expirationDate": FUTURE},
            {"s": "v"},
        ),
        # session: true wins over a stale expirationDate.
        (
            {
                "name": "s",
                "value": "v",
                "domain": "chat-gpt.org",
                "session": True,
                "expirationDate": PAST,
            },
            {"s": "v"},
        ),
        # EditThisCookie adds an "id"; extra keys are ignored.
        ({"id": 1, "name": "s", "value": "v", "domain": "chat-gpt.org", "x": [1]}, {"s": "v"}),
    ],
)
def test_cookie_editor_entries(cookie: dict[str, object], expected: dict[str, str]) -> None:
    text = json.dumps([cookie, editor_cookie("chat-gpt.org", "other", "o")])
    assert parse_cookie_editor_json(text, "chat-gpt.org", NOW) == {**expected, "other": "o"}


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("", "empty"),
        (" [", "not valid JSON (Expecting value at line 1 column 3)"),
        (f'[{{"name": "sid", "value": "{SECRET}"', "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        (f'{{"sid": "{SECRET}"}}', "JSON object, expected a list of cookie objects"),
        ('"text"', "JSON string, expected a list"),
        ("null", "JSON null, expected a list"),
        ("true", "JSON boolean, expected a list"),
        ("1.5", "JSON number, expected a list"),
        ("[]", "no cookies in this Cookie-Editor JSON"),
        (json.dumps([1, None, "x"]), "entry 1: a JSON number, not a cookie object"),
        (json.dumps([{"name": "sid", "domain": "chat-gpt.org"}]), "entry 1: no 'value' text"),
        (json.dumps([{"name": "sid", "value": SECRET}]), "entry 1: no 'domain' text"),
        (json.dumps([{"value": SECRET, "domain": "chat-gpt.org"}]), "entry 1: no 'name' text"),
        (
            json.dumps(
                [{"name": "sid", "value": SECRET, "domain": "chat-gpt.org", "expirationDate": "x"}]
            ),
            "'expirationDate' is not a number",
        ),
        (
            f'[{{"name": "sid", "value": "{SECRET}", "domain": "chat-gpt.org", '
            '"expirationDate": NaN}]',
            "'expirationDate' is not a finite number",
        ),
        (
            '[{"name": "sid", "value": "v", "domain": "chat-gpt.org", "expirationDate": 1%s}]'
            % ("0" * 400),
            "'expirationDate' is out of range",
        ),
        (
            json.dumps([editor_cookie("chat-gpt.org", "sid", SECRET + "\n")]),
            "cookie 'sid' has a character",
        ),
        (json.dumps([editor_cookie("chat-gpt.org", "s id", SECRET)]), "invalid cookie name 's id'"),
        (
            json.dumps([editor_cookie("example.com", "a", SECRET)]),
            "no cookie of chat-gpt.org among 1 cookie of other sites",
        ),
        (
            json.dumps([editor_cookie("chat-gpt.org", n, SECRET, PAST) for n in "ab"]),
            "all 2 cookies of chat-gpt.org in this Cookie-Editor JSON have expired",
        ),
    ],
)
def test_cookie_editor_says_why_it_has_nothing(text: str, reason_part: str) -> None:
    with pytest.raises(CookiesNotFoundError) as caught:
        parse_cookie_editor_json(text, "chat-gpt.org", NOW)
    ((source, reason),) = caught.value.tried
    assert source == "Cookie-Editor JSON text"
    assert reason_part in reason
    assert SECRET not in str(caught.value)


# --------------------------------------------------------------------------- file


@pytest.mark.usefixtures("fixed_now")
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (NETSCAPE_MIXED.encode(), NETSCAPE_MIXED_EXPECTED),
        (EDITOR_MIXED.encode(), EDITOR_MIXED_EXPECTED),
        # Content decides the format, not the name; a BOM and UTF-16 (PowerShell) are read.
        (b"\xef\xbb\xbf" + EDITOR_MIXED.encode(), EDITOR_MIXED_EXPECTED),
        (NETSCAPE_MIXED.encode("utf-16"), NETSCAPE_MIXED_EXPECTED),
        (("\n  " + EDITOR_MIXED).encode(), EDITOR_MIXED_EXPECTED),
    ],
)
def test_file_source_reads_both_formats(
    tmp_path: Path, content: bytes, expected: dict[str, str]
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_bytes(content)
    assert FileCookieSource(path).get_cookies() == expected
    assert FileCookieSource(str(path)).get_cookies() == expected


@pytest.mark.usefixtures("fixed_now")
def test_file_source_keeps_only_its_domain(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE_MIXED)
    assert FileCookieSource(path, domain=".Example.com").get_cookies() == {"other": "v-other"}


def test_file_source_default_path_from_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "elsewhere.txt"
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "from-variable"))
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    source = FileCookieSource()
    assert source.get_cookies() == {"sid": "from-variable"}
    assert source.describe() == f"file {path}"


def test_file_source_default_path_under_home(clean_env: Path) -> None:
    path = clean_env / ".config" / "aichat" / "cookies.txt"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "from-home"))
    source = FileCookieSource()
    assert source.get_cookies() == {"sid": "from-home"}
    assert source.describe() == f"file {path}"


def test_file_source_resolves_the_default_path_at_each_call(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = FileCookieSource()
    with pytest.raises(CookiesNotFoundError) as caught:
        source.get_cookies()
    assert caught.value.tried == ((f"file {clean_env}/.config/aichat/cookies.txt", "no such file"),)
    path = tmp_path / "later.txt"
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "later"))
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    assert source.get_cookies() == {"sid": "later"}


def test_file_source_variable_pointing_nowhere_says_so(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(tmp_path / "missing.txt"))
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource().get_cookies()
    assert caught.value.tried == (
        (f"file {tmp_path}/missing.txt", "no such file (path from AICHAT_COOKIES_FILE)"),
    )


def test_file_source_expands_a_tilde(clean_env: Path) -> None:
    (clean_env / "c.txt").write_text(HEADER + netscape_line("chat-gpt.org", "sid", "tilde"))
    source = FileCookieSource("~/c.txt")
    assert source.path == clean_env / "c.txt"
    assert source.get_cookies() == {"sid": "tilde"}


def test_file_source_without_a_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AICHAT_COOKIES_FILE", raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def no_home(self: Path) -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "expanduser", no_home)
    for source in (FileCookieSource(), FileCookieSource("~/cookies.txt")):
        with pytest.raises(CookiesNotFoundError) as caught:
            source.get_cookies()
        ((label, reason),) = caught.value.tried
        assert label.startswith("file ~")
        assert reason == "cannot expand '~': the home directory is unknown (set HOME)"


@pytest.mark.usefixtures("fixed_now")
def test_file_source_says_where_a_missing_path_came_from_only_for_os_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "c.txt"
    path.write_text(HEADER + netscape_line(".example.com", "a", "b"))
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource().get_cookies()
    assert "AICHAT_COOKIES_FILE" not in caught.value.tried[0][1]


def _unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def denied(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("cookies.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)


def _failing_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(self: Path, **kwargs: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "stat", failing)


def _failing_stat_no_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(self: Path, **kwargs: object) -> None:
        raise OSError

    monkeypatch.setattr(Path, "stat", failing)


def _tiny_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "MAX_COOKIES_FILE_SIZE", 10)


@pytest.mark.usefixtures("fixed_now")
@pytest.mark.parametrize(
    ("content", "patch", "reason_part"),
    [
        (None, None, "no such file"),
        ("dir", None, "a folder with no .har, .json or .txt file in it"),
        (b"", None, "empty"),
        (b"\xef\xbb\xbf\n\n", None, "empty"),
        (b"\xff\xfe\xfa" + SECRET.encode(), None, "not UTF-16 text"),
        (b"ok\n\xc3\x28" + SECRET.encode(), None, "not UTF-8 text (bad byte at offset 3)"),
        (b"# just a note\n", None, "neither a Netscape cookies.txt"),
        (HEADER.encode(), None, "no cookies in this Netscape cookies.txt"),
        (f"{HEADER}.chat-gpt.org TRUE / TRUE 0 sid {SECRET}\n".encode(), None, "tabs replaced"),
        (f'{{"sid": "{SECRET}"}}'.encode(), None, "JSON object, expected a list"),
        (
            (HEADER + netscape_line(".chat-gpt.org", "sid", SECRET, PAST)).encode(),
            None,
            "have expired",
        ),
        (b"x" * 11, _tiny_limit, "11 bytes is too large for a cookies file"),
        (b"a=b", _unreadable, "permission denied"),
        (b"a=b", _failing_stat, "cannot read it (Input/output error)"),
        (b"a=b", _failing_stat_no_text, "cannot read it (OSError)"),
    ],
)
def test_file_source_says_why_it_has_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes | str | None,
    patch: Callable[[pytest.MonkeyPatch], None] | None,
    reason_part: str,
) -> None:
    path = tmp_path / "cookies.txt"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    if patch is not None:
        patch(monkeypatch)
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource(path).get_cookies()
    ((source, reason),) = caught.value.tried
    assert source == f"file {path}"
    assert reason_part in reason
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message_part"),
    [
        ({"path": ""}, "path is empty"),
        ({"path": 42}, "not int"),
        ({"domain": ""}, "domain must be a host name"),
        ({"domain": "https://chat-gpt.org"}, "without scheme"),
        ({"domain": "chat-gpt.org/chat"}, "without scheme"),
        ({"domain": 7}, "domain must be a host name"),
    ],
)
def test_file_source_rejects_bad_options(kwargs: dict[str, Any], message_part: str) -> None:
    with pytest.raises(InvalidRequestError, match=message_part):
        FileCookieSource(**kwargs)


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = read_cookie_text

    def counting(text: str, domain: str) -> Any:
        calls.append(domain)
        return real(text, domain)

    monkeypatch.setattr(file_module, "read_cookie_text", counting)
    return calls


@pytest.mark.usefixtures("fixed_now")
def test_file_source_caches_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses = _count_parses(monkeypatch)
    path = tmp_path / "cookies.txt"
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "one"))
    source = FileCookieSource(path)
    for _ in range(3):
        assert source.get_cookies() == {"sid": "one"}
    assert len(parses) == 1

    # A new export: other content, other size.
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "two-longer"))
    assert source.get_cookies() == {"sid": "two-longer"}
    assert len(parses) == 2

    # Same size, newer modification time.
    stat = path.stat()
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "tri-longer"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert source.get_cookies() == {"sid": "tri-longer"}
    assert len(parses) == 3

    # Replaced by another file (as editors save): read again.
    other = tmp_path / "new.txt"
    other.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "four"))
    other.replace(path)
    assert source.get_cookies() == {"sid": "four"}
    assert len(parses) == 4


def test_file_source_caches_failures_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = _count_parses(monkeypatch)
    path = tmp_path / "cookies.txt"
    path.write_text("not a cookies file\n")
    source = FileCookieSource(path)
    for _ in range(2):
        with pytest.raises(CookiesNotFoundError, match="neither a Netscape"):
            source.get_cookies()
    assert len(parses) == 1


def test_file_source_checks_expiry_on_a_cached_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses = _count_parses(monkeypatch)
    path = tmp_path / "cookies.txt"
    path.write_text(
        HEADER
        + netscape_line(".chat-gpt.org", "sid", "v", FUTURE)
        + netscape_line(".chat-gpt.org", "session", "s", 0)
    )
    source = FileCookieSource(path)
    monkeypatch.setattr(file_module, "_now", lambda: NOW)
    assert source.get_cookies() == {"sid": "v", "session": "s"}
    monkeypatch.setattr(file_module, "_now", lambda: FUTURE + 1.0)
    assert source.get_cookies() == {"session": "s"}
    assert len(parses) == 1


def test_file_sources_are_values() -> None:
    assert FileCookieSource("/a") == FileCookieSource(Path("/a"))
    assert FileCookieSource("/a") != FileCookieSource("/a", domain="example.com")
    assert len({FileCookieSource("/a"), FileCookieSource("/a")}) == 1


# --------------------------------------------------------------------------- chain


class UserSource:
    """A user's own source: any object with ``get_cookies()``."""

    def __init__(self, result: object = None, error: BaseException | None = None) -> None:
        self.result = result
        self.error = error
        self.calls = 0

    def get_cookies(self) -> Mapping[str, str]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"UserSource({self.result!r})"  # shows values, so the chain must not use it


class DescribedSource(UserSource):
    def describe(self) -> str:
        return "vault"


def test_chain_returns_the_first_sources_cookies() -> None:
    first, second = UserSource({"a": "1"}), UserSource({"b": "2"})
    assert ChainCookieSource(first, second).get_cookies() == {"a": "1"}
    assert (first.calls, second.calls) == (1, 0)


@pytest.mark.parametrize(
    ("first", "tried_first"),
    [
        (EnvCookieSource(environ={}), ("env AICHAT_COOKIES", "AICHAT_COOKIES is not set")),
        (UserSource({}), ("UserSource", "gave no cookies")),
        (UserSource(["sid"]), ("UserSource", "returned list, not a mapping")),
        (UserSource(error=CookiesNotFoundError("nope")), ("UserSource", "nope")),
        (
            DescribedSource(error=CookiesNotFoundError.from_tried((("vault", "locked"),))),
            ("vault", "locked"),
        ),
        (
            UserSource(error=ServiceError("refused", payload={})),
            ("UserSource", "ServiceError: refused"),
        ),
        (
            UserSource({"bad name": SECRET}),
            ("UserSource", "InvalidRequestError: invalid cookie name"),
        ),
        (
            UserSource({"sid": SECRET + ";"}),
            ("UserSource", "InvalidRequestError: the value of cookie 'sid'"),
        ),
    ],
)
def test_chain_skips_a_source_that_gives_nothing(first: Any, tried_first: tuple[str, str]) -> None:
    chain = ChainCookieSource(first, UserSource({"b": "2"}))
    assert chain.get_cookies() == {"b": "2"}
    failing = ChainCookieSource(first, EnvCookieSource(environ={}))
    with pytest.raises(CookiesNotFoundError) as caught:
        failing.get_cookies()
    (source, reason), last = caught.value.tried
    assert source == tried_first[0]
    assert reason.startswith(tried_first[1])
    assert last == ("env AICHAT_COOKIES", "AICHAT_COOKIES is not set")
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("error", [ValueError("bug"), KeyError("x"), OSError("disk")])
def test_chain_lets_other_exceptions_through(error: Exception) -> None:
    later = UserSource({"b": "2"})
    with pytest.raises(type(error)):
        ChainCookieSource(UserSource(error=error), later).get_cookies()
    assert later.calls == 0


def test_chain_tried_names_every_source(clean_env: Path) -> None:
    with pytest.raises(CookiesNotFoundError) as caught:
        default_cookie_source().get_cookies()
    path = clean_env / ".config" / "aichat" / "cookies.txt"
    assert caught.value.tried[:3] == (
        ("env AICHAT_COOKIES", "AICHAT_COOKIES is not set"),
        (f"file {path.with_name('credentials.json')}", "no such file"),
        (f"file {path}", "no such file"),
    )
    browsers = {source for source, _ in caught.value.tried[3:]}
    assert {"chrome", "firefox"} <= {label.split()[-1] for label in browsers}
    assert "AICHAT_COOKIES" in str(caught.value)
    assert str(path) in str(caught.value)


def test_resolve_says_who_answered_and_who_did_not() -> None:
    answering = DescribedSource({"sid": SECRET})
    chain = ChainCookieSource(EnvCookieSource(environ={}), answering, UserSource({"x": "y"}))
    found = chain.resolve()
    assert found.source is answering
    assert found.cookies == {"sid": SECRET}
    assert found.tried == (("env AICHAT_COOKIES", "AICHAT_COOKIES is not set"),)
    assert repr(found) == (
        "ResolvedCookies(source=vault, tried=(('env AICHAT_COOKIES', "
        "'AICHAT_COOKIES is not set'),))"
    )


class RefreshingSource(UserSource):
    """A source with a cache that only refresh_cookies() bypasses."""

    def refresh_cookies(self) -> Mapping[str, str]:
        self.calls += 100
        return {"sid": "fresh"}


def test_a_chain_refresh_asks_each_source_past_its_cache() -> None:
    refreshing = RefreshingSource({"sid": "cached"})
    plain = UserSource({"other": "x"})
    chain = ChainCookieSource(EnvCookieSource(environ={}), refreshing, plain)
    assert chain.get_cookies() == {"sid": "cached"}
    assert chain.refresh_cookies() == {"sid": "fresh"}
    assert refreshing.calls == 101
    empty = RefreshingSource({})
    fallback = ChainCookieSource(UserSource({}), plain)
    assert fallback.refresh_cookies() == {"other": "x"}  # no refresh_cookies(): get_cookies()
    assert plain.calls == 1
    assert empty.calls == 0


def test_a_chain_of_sources_for_one_site_has_that_domain() -> None:
    assert default_cookie_source().domain == "chat-gpt.org"
    assert default_cookie_source("127.0.0.1").domain == "127.0.0.1"
    assert ChainCookieSource(EnvCookieSource(), StaticCookieSource("a=b")).domain is None
    chain = ChainCookieSource(
        EnvCookieSource(),
        FileCookieSource(domain="Example.com"),
        default_cookie_source("example.com"),
    )
    assert chain.domain == "example.com"


def test_a_chain_of_sources_for_different_sites_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match=r"different sites \(chat-gpt.org, example.com\)"):
        ChainCookieSource(FileCookieSource(), BrowserCookieSource(domain="example.com"))


@pytest.mark.parametrize(
    "domain",
    ["127.0.0.1", "::1", "[::1]", "localhost", "staging.example.com", "bücher.example"],
)
def test_sources_select_any_host_a_base_url_can_name(domain: str) -> None:
    expected = {"[::1]": "::1", "bücher.example": "xn--bcher-kva.example"}.get(domain, domain)
    assert default_cookie_source(domain).domain == expected
    assert FileCookieSource(domain=domain).domain == expected


class AsyncRefresh(UserSource):
    async def refresh_cookies(self) -> Mapping[str, str]:
        return {}


def test_a_chain_refuses_an_async_refresh() -> None:
    with pytest.raises(InvalidRequestError, match=r"async refresh_cookies\(\)"):
        ChainCookieSource(AsyncRefresh({"a": "b"}))


class FailingSave(UserSource):
    def save_cookies(self, cookies: Mapping[str, str]) -> None:
        raise RuntimeError(f"cannot store {dict(cookies)}")


def test_a_chain_never_raises_from_a_save(caplog: pytest.LogCaptureFixture) -> None:
    chain = ChainCookieSource(FailingSave({"sid": "s"}))
    chain.get_cookies()
    chain.save_cookies({"sid": SECRET})
    assert "rotated cookies not saved by FailingSave: RuntimeError" in caplog.text
    assert SECRET not in caplog.text


def test_nested_chains_concatenate_their_tried() -> None:
    inner = ChainCookieSource(EnvCookieSource("A", environ={}), EnvCookieSource("B", environ={}))
    outer = ChainCookieSource(inner, DescribedSource({}))
    with pytest.raises(CookiesNotFoundError) as caught:
        outer.get_cookies()
    assert caught.value.tried == (
        ("env A", "A is not set"),
        ("env B", "B is not set"),
        ("vault", "gave no cookies"),
    )


def test_default_chain_prefers_the_variable_to_the_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = clean_env / ".config" / "aichat" / "cookies.txt"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", "from-file"))
    chain = default_cookie_source()
    assert chain.get_cookies() == {"sid": "from-file"}
    monkeypatch.setenv("AICHAT_COOKIES", "sid=from-env")
    assert chain.get_cookies() == {"sid": "from-env"}
    assert [type(source) for source in chain.sources] == [
        EnvCookieSource,
        FileCookieSource,  # the bundle aichat login saves: credentials.json
        FileCookieSource,
        BrowserCookieSource,
    ]


class Blocking:
    blocking = True

    def get_cookies(self) -> Mapping[str, str]:
        return {"a": "b"}


class NotBlocking(Blocking):
    blocking = False


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ((UserSource({"a": "b"}),), False),
        ((NotBlocking(), EnvCookieSource()), False),
        ((EnvCookieSource(), Blocking()), True),
        ((ChainCookieSource(NotBlocking(), Blocking()),), True),
    ],
)
def test_chain_is_blocking_when_a_member_is(sources: tuple[Any, ...], expected: bool) -> None:
    assert ChainCookieSource(*sources).blocking is expected


class AsyncSource:
    async def get_cookies(self) -> Mapping[str, str]:
        return {"a": "b"}


@pytest.mark.parametrize(
    ("sources", "message_part"),
    [
        ((), "at least one source"),
        (({"a": "b"},), "cookie source 1 (dict) has no get_cookies()"),
        ((EnvCookieSource(), "a=b"), "cookie source 2 (str) has no get_cookies()"),
        ((AsyncSource(),), "async get_cookies()"),
    ],
)
def test_chain_rejects_what_is_not_a_source(sources: tuple[Any, ...], message_part: str) -> None:
    with pytest.raises(
        InvalidRequestError, match=message_part.replace("(", r"\(").replace(")", r"\)")
    ):
        ChainCookieSource(*sources)


# --------------------------------------------------------------------------- no value anywhere


def _all_sources(tmp_path: Path) -> list[Any]:
    netscape = tmp_path / "cookies.txt"
    netscape.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", SECRET))
    editor = tmp_path / "cookies.json"
    editor.write_text(json.dumps([editor_cookie("chat-gpt.org", "sid", SECRET)]))
    return [
        StaticCookieSource({"sid": SECRET}),
        StaticCookieSource(f"sid={SECRET}"),
        EnvCookieSource(environ={"AICHAT_COOKIES": f"sid={SECRET}"}),
        EnvCookieSource(environ={"AICHAT_COOKIES": json.dumps({"sid": SECRET})}),
        FileCookieSource(netscape),
        FileCookieSource(editor),
        ChainCookieSource(EnvCookieSource(environ={}), UserSource({"sid": SECRET})),
        ChainCookieSource(EnvCookieSource(environ={}), FileCookieSource(netscape)),
    ]


def _failing_sources(tmp_path: Path) -> list[Any]:
    bad_netscape = tmp_path / "bad.txt"
    bad_netscape.write_text(
        HEADER
        + netscape_line(".chat-gpt.org", "sid", SECRET, PAST)
        + netscape_line(".chat-gpt.org", "sid", SECRET + "\tshifted")
        + netscape_line(".chat-gpt.org", "", SECRET)
        + netscape_line(".chat-gpt.org", "x", SECRET + "\x00")
        + f"{SECRET}\n"
    )
    bad_editor = tmp_path / "bad.json"
    bad_editor.write_text(
        json.dumps(
            [
                editor_cookie("chat-gpt.org", "sid", SECRET, PAST),
                {"name": "n", "value": [SECRET], "domain": "chat-gpt.org"},
                SECRET,
            ]
        )
    )
    broken_json = tmp_path / "broken.json"
    broken_json.write_text(f'[{{"name": "sid", "value": "{SECRET}\x01')
    return [
        EnvCookieSource(environ={"AICHAT_COOKIES": SECRET}),
        EnvCookieSource(environ={"AICHAT_COOKIES": f"sid={SECRET}; {SECRET}"}),
        EnvCookieSource(environ={"AICHAT_COOKIES": f'{{"sid": "{SECRET}", }}'}),
        EnvCookieSource(environ={"AICHAT_COOKIES": f'{{"sid": "{SECRET}\\n"}}'}),
        FileCookieSource(bad_netscape),
        FileCookieSource(bad_editor),
        FileCookieSource(broken_json),
        ChainCookieSource(
            FileCookieSource(bad_netscape),
            UserSource({"sid": SECRET + "\r\n"}),
            UserSource(error=CookiesNotFoundError.from_tried((("x", "y"),))),
        ),
    ]


def test_no_cookie_value_in_reprs_errors_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aichat")
    texts: list[str] = []
    for source in _all_sources(tmp_path):
        assert source.get_cookies()["sid"] == SECRET  # the value is really there...
        texts += [repr(source), str(source), source.describe()]
    for source in _failing_sources(tmp_path):
        with pytest.raises(CookiesNotFoundError) as caught:
            source.get_cookies()
        texts += [repr(source), str(caught.value), repr(caught.value), repr(caught.value.tried)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("cookies from file" in text and "['sid']" in text for text in texts)
    assert any("no cookies from file" in text for text in texts)
    leaks = [text for text in texts if SECRET in text]
    assert leaks == []  # ...but nowhere else


def test_debug_log_names_the_source_and_the_cookie_names(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aichat")
    chain = ChainCookieSource(
        EnvCookieSource(environ={}),
        DescribedSource({"sid": SECRET, "cf": SECRET}),
    )
    chain.get_cookies()
    messages = [record.getMessage() for record in caplog.records if record.name == "aichat"]
    assert messages == [
        "no cookies from env AICHAT_COOKIES: AICHAT_COOKIES is not set",
        "cookies from vault: ['sid', 'cf']",
    ]
    caplog.clear()
    EnvCookieSource(environ={"AICHAT_COOKIES": f"a={SECRET}; b={SECRET}"}).get_cookies()
    assert [record.getMessage() for record in caplog.records if record.name == "aichat"] == [
        "cookies from env AICHAT_COOKIES: ['a', 'b']"
    ]


def test_user_sources_are_not_represented_by_their_repr() -> None:
    chain = ChainCookieSource(UserSource({"sid": SECRET}), DescribedSource({"sid": SECRET}))
    assert repr(chain) == "ChainCookieSource(<UserSource>, <vault>)"
    assert chain.describe() == "chain of UserSource, vault"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            StaticCookieSource({"sid": SECRET, "cf": SECRET}),
            "StaticCookieSource(names=['sid', 'cf'])",
        ),
        (
            EnvCookieSource(environ={"AICHAT_COOKIES": SECRET}),
            "EnvCookieSource(variable='AICHAT_COOKIES')",
        ),
        (
            FileCookieSource("/tmp/c.txt"),
            "FileCookieSource(path='/tmp/c.txt', domain='chat-gpt.org')",
        ),
        (FileCookieSource(), "FileCookieSource(path=None, domain='chat-gpt.org')"),
        (
            ChainCookieSource(StaticCookieSource("a=b"), EnvCookieSource("X")),
            "ChainCookieSource(StaticCookieSource(names=['a']), EnvCookieSource(variable='X'))",
        ),
    ],
)
def test_reprs(source: object, expected: str) -> None:
    assert repr(source) == expected


def test_sources_fit_the_core_port() -> None:
    # mypy checks these assignments: each class has the port's methods, typed as it says.
    sources: list[CookieSource] = [
        StaticCookieSource("a=b"),
        EnvCookieSource(),
        FileCookieSource(),
        BrowserCookieSource(),
        default_cookie_source(),
    ]
    refreshable: list[RefreshableCookieSource] = [
        FileCookieSource(),
        BrowserCookieSource(),
        default_cookie_source(),
    ]
    saving: list[WriteBackCookieSource] = [FileCookieSource(), default_cookie_source()]
    assert len(sources) + len(refreshable) + len(saving) == 10
    assert (StaticCookieSource.blocking, EnvCookieSource.blocking) == (False, False)
    assert (FileCookieSource.blocking, BrowserCookieSource.blocking) == (True, True)
    assert default_cookie_source().blocking is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(" sid=a; cf=b ", {"sid": "a", "cf": "b"}, id="header"),
        pytest.param('{"sid": "a", "cf": "b"}', {"sid": "a", "cf": "b"}, id="json-object"),
    ],
)
def test_static_from_text_reads_a_header_or_a_json_object(
    text: str, expected: dict[str, str]
) -> None:
    assert StaticCookieSource.from_text(text).get_cookies() == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param('{"sid": "' + SECRET, "not valid JSON", id="broken-json"),
        pytest.param('{"sid": 5}', "must be text", id="json-non-text-value"),
        pytest.param("sid", "name=value", id="no-equals"),
        pytest.param("  ", "empty", id="blank"),
    ],
)
def test_static_from_text_names_its_origin_never_the_value(text: str, needle: str) -> None:
    with pytest.raises(InvalidRequestError, match=needle) as caught:
        StaticCookieSource.from_text(text, origin="--cookies")
    assert SECRET not in str(caught.value)
    if text.strip().startswith("{"):
        assert "--cookies" in str(caught.value)


def test_no_value_across_refresh_rotation_and_write_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    rotated = "r0tatedS3cret"
    path = tmp_path / "cookies.txt"
    path.write_text(HEADER + netscape_line(".chat-gpt.org", "sid", SECRET))
    path.chmod(0o644)  # the permission warning names the file, never a value
    har = tmp_path / "folder" / "a.har"
    har.parent.mkdir()
    har.write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        {
                            "startedDateTime": "2025-06-15T10:00:00Z",
                            "request": {"url": "https://chat-gpt.org/", "cookies": []},
                            "response": {"cookies": [{"name": "sid", "value": SECRET}]},
                        }
                    ]
                }
            }
        )
    )
    source = FileCookieSource(path, write_back=True)
    chain = ChainCookieSource(EnvCookieSource(), source, FileCookieSource(har.parent))
    jar = SessionJar("chat-gpt.org")
    texts: list[str] = []

    jar.seed(chain.get_cookies())
    jar.seed(chain.refresh_cookies())
    jar.update([f"sid={rotated}; Max-Age=3600; HttpOnly", f"x={rotated}; Domain=evil.com"])
    chain.save_cookies(jar.cookies())
    assert FileCookieSource(path).get_cookies() == {"sid": rotated}
    source.save_cookies({"sid": rotated + "\n"})  # refused, with a warning
    assert FileCookieSource(har.parent).get_cookies() == {"sid": SECRET}
    found = chain.resolve()
    texts += [repr(chain), repr(source), repr(jar), repr(found), chain.describe()]
    with pytest.raises(CookiesNotFoundError) as caught:
        ChainCookieSource(FileCookieSource(tmp_path / "missing.txt")).get_cookies()
    texts += [str(caught.value), repr(caught.value)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("is accessible by other users" in text for text in texts)
    assert any("rotated cookies not saved" in text for text in texts)
    assert any("cookies set by chat-gpt.org: ['sid']" in text for text in texts)
    assert [text for text in texts if SECRET in text or rotated in text] == []
