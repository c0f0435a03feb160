"""Credentials bundle files, the User-Agent of HAR exports, and chains that give credentials."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aichat_adapters.cookies._file as file_module
from aichat_adapters.cookies import (
    ChainCookieSource,
    CookieEntry,
    EnvCookieSource,
    FileCookieSource,
    StaticCookieSource,
    default_cookie_source,
    default_credentials_path,
)
from aichat_adapters.cookies._file import load_bundle, write_bundle
from aichat_adapters.cookies._formats import render_bundle
from aichat_adapters.cookies._select import BoundTo
from aichat_core import CookiesNotFoundError, Credentials
from aichat_core._credentials import public_proxy

from .test_har import entry, har

NOW = 1_750_000_000.0
SECRET = "bUndl3S3cret"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "_now", lambda: NOW)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    monkeypatch.delenv("AICHAT_COOKIES_FILE", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def cookie(name: str, value: str, domain: str = ".chat-gpt.org", **extra: Any) -> dict[str, Any]:
    return {"domain": domain, "name": name, "path": "/", "value": value, **extra}


def bundle(**fields: Any) -> str:
    data: dict[str, Any] = {
        "cookies": [
            cookie("cf_clearance", SECRET, expirationDate=NOW + 1800),
            cookie("__cf_bm", "bm", expirationDate=NOW + 60),
            cookie("sid", "other-site", domain="example.com"),
        ],
        "user_agent": AGENT,
        "headers": {"Accept-Language": "en-US"},
        "obtained_at": NOW - 10,
        "proxy": "http://127.0.0.1:3128",
    }
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not ...}, indent=2)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_a_bundle_gives_its_cookies_with_what_they_are_bound_to(tmp_path: Path) -> None:
    source = FileCookieSource(write(tmp_path / "credentials.json", bundle()))
    assert source.get_cookies() == {"cf_clearance": SECRET, "__cf_bm": "bm"}
    credentials = source.get_credentials()
    assert credentials == Credentials(
        {"cf_clearance": SECRET, "__cf_bm": "bm"},
        user_agent=AGENT,
        headers={"accept-language": "en-US"},
        expires={"cf_clearance": NOW + 1800},  # the clearance's: not every cookie's
        obtained_at=NOW - 10,
        proxy="http://127.0.0.1:3128",
    )
    assert source.refresh_credentials() == credentials
    assert SECRET not in repr(credentials)


def test_the_optional_fields_may_be_left_out(tmp_path: Path) -> None:
    text = json.dumps({"cookies": [cookie("sid", "s")]})
    credentials = FileCookieSource(write(tmp_path / "b.json", text)).get_credentials()
    assert credentials == Credentials({"sid": "s"})


def test_obtained_at_may_be_an_iso_date(tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(obtained_at="2025-06-15T10:00:00Z"))
    assert FileCookieSource(path).get_credentials().obtained_at == 1749981600.0


def test_the_proxy_is_read_and_written_without_its_password(tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", bundle(proxy=f"http://me:{SECRET}@127.0.0.1:3128"))
    assert FileCookieSource(path).get_credentials().proxy == "http://127.0.0.1:3128"
    assert public_proxy(f"socks5://me:{SECRET}@[::1]:1080/x") == "socks5://[::1]:1080/x"
    assert public_proxy(None) is None
    entries = {"sid": CookieEntry("sid", "s", "chat-gpt.org", "/", None)}
    bound = BoundTo(proxy=f"http://me:{SECRET}@127.0.0.1:3128")
    assert SECRET not in render_bundle(entries.values(), bound)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"user_agent": f"Agent\n{SECRET}"}, "'user_agent' has a character HTTP headers cannot"),
        ({"user_agent": 5}, "'user_agent' is a JSON number, not a non-empty string"),
        ({"user_agent": ""}, "'user_agent' is a JSON string, not a non-empty string"),
        ({"headers": [SECRET]}, "'headers' is a JSON list, not an object"),
        ({"headers": {"x-token": f"a\r\n{SECRET}"}}, "'headers': the value of header 'x-token'"),
        ({"headers": {"Cookie": f"a={SECRET}"}}, "'headers' holds a Cookie header"),
        ({"obtained_at": "yesterday"}, "'obtained_at' is not an ISO 8601 date"),
        ({"obtained_at": "2025-06-15T10:00:00"}, "'obtained_at' has no time zone"),
        ({"obtained_at": True}, "'obtained_at' is a JSON boolean, not epoch seconds"),
        ({"obtained_at": 1e999}, "'obtained_at' is not a finite number"),
        ({"proxy": SECRET}, "'proxy' is not a URL such as"),
        ({"proxy": 3128}, "'proxy' is a JSON number, not a URL"),
    ],
)
def test_a_malformed_field_is_named_and_never_quoted(
    tmp_path: Path, fields: dict[str, Any], reason: str
) -> None:
    path = write(tmp_path / "b.json", bundle(**fields))  # 1e999: JSON's Infinity
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource(path).get_credentials()
    assert reason in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_json_object_that_is_neither_har_nor_bundle_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", json.dumps({"cookie": []}))
    with pytest.raises(CookiesNotFoundError, match="or a credentials bundle"):
        FileCookieSource(path).get_cookies()


def test_netscape_and_cookie_editor_files_give_no_user_agent(tmp_path: Path) -> None:
    netscape = write(
        tmp_path / "cookies.txt",
        "# Netscape HTTP Cookie File\n.chat-gpt.org\tTRUE\t/\tFALSE\t0\tsid\ts\n",
    )
    editor = write(tmp_path / "export.json", json.dumps([cookie("sid", "s")]))
    for path in (netscape, editor):
        assert FileCookieSource(path).get_credentials() == Credentials({"sid": "s"})


def with_agent(item: dict[str, Any], agent: str) -> dict[str, Any]:
    item["request"]["headers"].append({"name": "User-Agent", "value": agent})
    return item


def test_a_har_gives_the_user_agent_of_its_latest_request_to_the_site(tmp_path: Path) -> None:
    text = har(
        with_agent(entry("https://chat-gpt.org/", cookies={"sid": "old"}), "Old/1"),
        with_agent(
            entry("https://chat-gpt.org/chat", "2025-06-15T10:05:00Z", cookies={"sid": "new"}),
            AGENT,
        ),
        with_agent(entry("https://other.example/", "2025-06-15T11:00:00Z"), "Other/1"),
        entry("https://chat-gpt.org/api", "2025-06-15T10:06:00Z"),  # no User-Agent header
    )
    credentials = FileCookieSource(write(tmp_path / "site.har", text)).get_credentials()
    assert credentials.cookies == {"sid": "new"}
    assert credentials.user_agent == AGENT
    assert credentials.obtained_at == 1749981900.0


def test_a_har_user_agent_http_cannot_carry_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = har(with_agent(entry("https://chat-gpt.org/", cookies={"sid": "s"}), f"Bad\n{SECRET}"))
    credentials = FileCookieSource(write(tmp_path / "site.har", text)).get_credentials()
    assert credentials == Credentials({"sid": "s"})
    assert SECRET not in caplog.text


def test_in_a_folder_the_newest_file_that_says_gives_the_user_agent(tmp_path: Path) -> None:
    old = write(tmp_path / "a.json", bundle(user_agent="Old/1"))
    new = write(tmp_path / "b.json", bundle(user_agent=AGENT))
    plain = write(tmp_path / "c.json", json.dumps([cookie("extra", "x")]))
    for age, path in enumerate((plain, new, old)):
        os.utime(path, (NOW - age * 100, NOW - age * 100))
    credentials = FileCookieSource(tmp_path).get_credentials()
    assert credentials.user_agent == AGENT
    assert set(credentials.cookies) == {"cf_clearance", "__cf_bm", "extra"}


def test_write_back_keeps_the_bundles_user_agent_and_headers(tmp_path: Path) -> None:
    path = write(tmp_path / "credentials.json", bundle())
    source = FileCookieSource(path, write_back=True)
    source.save_cookies({"cf_clearance": "rotated", "new": "n"})
    data = json.loads(path.read_text())
    assert list(data) == ["cookies", "user_agent", "headers", "obtained_at", "proxy"]
    assert data["user_agent"] == AGENT
    assert data["headers"] == {"Accept-Language": "en-US"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = source.get_credentials()
    assert credentials.cookies == {"cf_clearance": "rotated", "new": "n"}
    assert credentials.user_agent == AGENT
    assert [c["name"] for c in data["cookies"]] == ["cf_clearance", "sid", "new"]


def test_write_bundle_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "credentials.json"
    entries = [
        CookieEntry("cf_clearance", SECRET, "127.0.0.1", "/", NOW + 60),
        CookieEntry("sid", "s", ".127.0.0.1", "/", None),
    ]
    bound = BoundTo(user_agent=AGENT, obtained_at=NOW, proxy="http://127.0.0.1:1")
    write_bundle(path, entries, bound)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["credentials.json"]
    data = json.loads(path.read_text())
    assert data["cookies"][0] == {
        "domain": "127.0.0.1",
        "hostOnly": True,
        "name": "cf_clearance",
        "path": "/",
        "value": SECRET,
        "session": False,
        "expirationDate": NOW + 60,
    }
    assert data["cookies"][1]["session"] is True
    found, read = load_bundle(path, "127.0.0.1")
    assert {name: e.value for name, e in found.items()} == {"cf_clearance": SECRET, "sid": "s"}
    assert read == bound


names = st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True)
values = st.from_regex(r"[A-Za-z0-9._~=-]{0,20}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    cookies=st.dictionaries(names, values, min_size=1, max_size=5),
    agent=st.from_regex(r"[ -~]{1,40}", fullmatch=True).filter(lambda s: s.strip() == s and s),
    expiry=st.one_of(st.none(), st.floats(NOW + 1, NOW + 1e8)),
)
def test_a_written_bundle_reads_back_the_same(
    cookies: Mapping[str, str], agent: str, expiry: float | None
) -> None:
    entries = [CookieEntry(n, v, "chat-gpt.org", "/", expiry) for n, v in cookies.items()]
    bound = BoundTo(user_agent=agent, headers={"x-a": "1"}, obtained_at=NOW, proxy=None)
    text = render_bundle(entries, bound)
    parsed = file_module.read_cookie_text(text, "chat-gpt.org")
    assert parsed.bound == bound
    assert {e.name: (e.value, e.expires) for e in parsed.entries} == {
        n: (v, expiry) for n, v in cookies.items()
    }


class Plain:
    def get_cookies(self) -> Mapping[str, str]:
        return {"sid": "plain"}


class OnlyCredentials:
    refresh_margin = 30.0

    def __init__(self) -> None:
        self.refreshed = 0

    def get_credentials(self) -> Credentials:
        return Credentials({"sid": "c"}, user_agent=AGENT)

    def refresh_credentials(self) -> Credentials:
        self.refreshed += 1
        return Credentials({"sid": "fresh"}, user_agent=AGENT)

    def bind(self, *, base_url: str, proxy: str | None) -> OnlyCredentials:
        bound = OnlyCredentials()
        bound.refresh_margin = 99.0 if base_url else 0.0
        return bound


def test_a_chain_gives_the_first_sources_credentials(tmp_path: Path) -> None:
    path = write(tmp_path / "credentials.json", bundle())
    chain = ChainCookieSource(EnvCookieSource(environ={}), FileCookieSource(path), Plain())
    credentials = chain.get_credentials()
    assert credentials.user_agent == AGENT
    resolved = chain.resolve(credentials=True)
    assert resolved.source is chain.sources[1]
    assert resolved.credentials == credentials
    assert resolved.cookies == dict(credentials.cookies)
    plain = ChainCookieSource(EnvCookieSource(environ={}), Plain())
    assert plain.get_credentials() == Credentials({"sid": "plain"})
    assert plain.resolve().credentials == Credentials({"sid": "plain"})


def test_a_chain_takes_a_source_of_credentials_only() -> None:
    only = OnlyCredentials()
    chain = ChainCookieSource(only, Plain())
    assert chain.get_cookies() == {"sid": "c"}
    assert chain.get_credentials().user_agent == AGENT
    assert chain.refresh_credentials().cookies == {"sid": "fresh"}
    assert chain.refresh_cookies() == {"sid": "fresh"}
    assert only.refreshed == 2
    assert chain.refresh_margin == 30.0
    assert ChainCookieSource(Plain()).refresh_margin == 0.0
    bound = chain.bind(base_url="http://127.0.0.1:1", proxy=None)
    assert bound is not chain
    assert isinstance(bound.sources[0], OnlyCredentials)
    assert bound.sources[0] is not only
    assert bound.sources[1] is chain.sources[1]
    assert bound.refresh_margin == 99.0


def test_aichat_login_s_bundle_is_found_by_the_default_chain(clean_env: Path) -> None:
    path = default_credentials_path()
    assert path == clean_env / ".config" / "aichat" / "credentials.json"
    cookies_txt = path.with_name("cookies.txt")
    path.parent.mkdir(parents=True)
    cookies_txt.write_text(
        "# Netscape HTTP Cookie File\n.chat-gpt.org\tTRUE\t/\tFALSE\t0\tsid\told\n"
    )
    write(path, bundle())
    credentials = default_cookie_source().get_credentials()
    assert credentials.user_agent == AGENT  # the bundle comes before the cookies file
    assert credentials.cookies["cf_clearance"] == SECRET
    path.unlink()
    assert default_cookie_source().get_credentials() == Credentials({"sid": "old"})


def test_the_bundle_goes_beside_the_cookies_file_or_into_its_folder(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(tmp_path / "mine" / "cookies.txt"))
    assert default_credentials_path() == tmp_path / "mine" / "credentials.json"
    folder = tmp_path / "exports"
    folder.mkdir()
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(folder))
    assert default_credentials_path() == folder / "credentials.json"


def test_static_sources_give_bare_credentials() -> None:
    chain = ChainCookieSource(StaticCookieSource("a=b"))
    assert chain.get_credentials() == Credentials({"a": "b"})
