"""BrowserCookieSource against real cookie databases, read by the real rookiepy."""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import attrs
import pytest

import aichat_adapters.cookies._browser as browser_module
from aichat_adapters._extras import install_hint
from aichat_adapters.cookies import BROWSERS, BrowserCookieSource
from aichat_adapters.cookies._browser import _describe
from aichat_core import CookiesNotFoundError, InvalidRequestError, RefreshableCookieSource
from tests.adapters.browser_db import (
    FakeCookie,
    aes128_cbc_encrypt,
    aes128_encrypt_block,
    chrome_linux_key,
    make_chrome_db,
    make_chrome_profile,
    make_firefox_db,
    make_firefox_profile,
)

NOW = int(time.time())
LATER = NOW + 30 * 24 * 3600
EARLIER = NOW - 24 * 3600

# The values are long and distinctive so that a leak anywhere is found.
SITE_COOKIES = [
    FakeCookie("chat-gpt.org", "host_only", "SECRET-host-only-7f3a", LATER),
    FakeCookie(".chat-gpt.org", "cf_clearance", "SECRET-cf-clearance-91bd", LATER),
    FakeCookie("x.chat-gpt.org", "sub", "SECRET-subdomain-c0de", None),
]
OTHER_COOKIES = [
    FakeCookie("notchat-gpt.org", "lookalike", "SECRET-lookalike-5e5e", LATER),
    FakeCookie("chat-gpt.org.evil.com", "evil", "SECRET-evil-suffix-6b6b", LATER),
    FakeCookie(".chat-gpt.org", "stale", "SECRET-expired-0ld0", EARLIER),
    FakeCookie("example.com", "elsewhere", "SECRET-elsewhere-e1e1", LATER),
]
EXPECTED = {cookie.name: cookie.value for cookie in SITE_COOKIES}
ALL_VALUES = [cookie.value for cookie in SITE_COOKIES + OTHER_COOKIES]

MakeDb = Callable[..., Path]


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No desktop session bus, and a HOME with no browser in it, for every test."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


def _error(source: BrowserCookieSource) -> CookiesNotFoundError:
    with pytest.raises(CookiesNotFoundError) as info:
        source.get_cookies()
    return info.value


# --- the fixture itself ------------------------------------------------------


def test_fixture_aes_matches_the_fips_197_example() -> None:
    key = bytes(range(16))
    block = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert aes128_encrypt_block(key, block).hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_fixture_cbc_pads_a_full_block() -> None:
    ciphertext = aes128_cbc_encrypt(chrome_linux_key(), b" " * 16, b"x" * 16)
    assert len(ciphertext) == 32


# --- reading a cookie_file ---------------------------------------------------


@pytest.mark.parametrize(
    ("browser", "make_db"),
    [
        ("chrome", make_chrome_db),
        ("brave", make_chrome_db),
        ("edge", make_chrome_db),
        ("firefox", make_firefox_db),
        ("librewolf", make_firefox_db),
    ],
)
def test_cookie_file_keeps_the_site_and_its_subdomains_only(
    tmp_path: Path, browser: str, make_db: MakeDb
) -> None:
    path = make_db(tmp_path, OTHER_COOKIES + SITE_COOKIES)
    assert BrowserCookieSource(browser=browser, cookie_file=path).get_cookies() == EXPECTED


@pytest.mark.parametrize("make_db", [make_chrome_db, make_firefox_db])
def test_cookie_file_kind_is_detected_from_its_tables(tmp_path: Path, make_db: MakeDb) -> None:
    path = make_db(tmp_path, SITE_COOKIES + OTHER_COOKIES)
    assert BrowserCookieSource(cookie_file=str(path)).get_cookies() == EXPECTED


def test_firefox_142_expiry_in_milliseconds_is_understood(tmp_path: Path) -> None:
    path = make_firefox_db(tmp_path, SITE_COOKIES + OTHER_COOKIES, expiry_in_milliseconds=True)
    cookies = BrowserCookieSource(browser="firefox", cookie_file=path).get_cookies()
    assert cookies == EXPECTED  # "stale" expired yesterday, counted in milliseconds


def test_another_domain_can_be_asked_for(tmp_path: Path) -> None:
    path = make_chrome_db(tmp_path, SITE_COOKIES + OTHER_COOKIES)
    source = BrowserCookieSource(cookie_file=path, domain=".Example.COM")
    assert source.domain == "example.com"
    assert source.get_cookies() == {"elsewhere": "SECRET-elsewhere-e1e1"}


@pytest.mark.parametrize("make_db", [make_chrome_db, make_firefox_db])
@pytest.mark.parametrize("reverse", [False, True])
def test_one_value_per_name_the_sites_own_domain_and_longest_path_win(
    tmp_path: Path, make_db: MakeDb, reverse: bool
) -> None:
    cookies = [
        FakeCookie("a.chat-gpt.org", "sid", "from-subdomain", LATER),
        FakeCookie(".chat-gpt.org", "sid", "from-site", LATER),
        FakeCookie("b.chat-gpt.org", "sid", "from-other-subdomain", LATER),
        FakeCookie("chat-gpt.org", "pref", "root-path", LATER, path="/"),
        FakeCookie("chat-gpt.org", "pref", "api-path", LATER, path="/api"),
        FakeCookie("chat-gpt.org", "pref", "short-path", LATER, path="/a"),
    ]
    path = make_db(tmp_path, cookies[::-1] if reverse else cookies)
    got = BrowserCookieSource(cookie_file=path).get_cookies()
    assert got == {"sid": "from-site", "pref": "api-path"}


def test_only_expired_cookies_say_so(tmp_path: Path) -> None:
    path = make_firefox_db(tmp_path, [FakeCookie(".chat-gpt.org", "old", "SECRET-x", EARLIER)])
    error = _error(BrowserCookieSource(cookie_file=path))
    reason = "only expired cookies for chat-gpt.org (1 cookie); open the site in this browser"
    assert error.tried == ((f"cookie file {path}", f"{reason} to renew them"),)


def test_no_cookies_for_the_site_says_so(tmp_path: Path) -> None:
    path = make_chrome_db(tmp_path, OTHER_COOKIES[:2])
    error = _error(BrowserCookieSource(browser="chrome", cookie_file=path))
    assert error.tried == ((f"cookie file {path}", "no cookies for chat-gpt.org"),)
    assert "no cookies for chat-gpt.org" in str(error)


def test_missing_cookie_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "Cookies"
    error = _error(BrowserCookieSource(browser="chrome", cookie_file=path))
    assert error.tried == ((f"cookie file {path}", "file not found"),)
    assert f"cookie file {path}: file not found" in str(error)


def test_cookie_file_that_is_a_folder(tmp_path: Path) -> None:
    error = _error(BrowserCookieSource(cookie_file=tmp_path))
    assert error.tried == ((f"cookie file {tmp_path}", "not a file"),)


def test_cookie_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "cookies.sqlite"
    path.write_bytes(b"# Netscape HTTP Cookie File\n" * 50)
    error = _error(BrowserCookieSource(cookie_file=path))
    ((_, reason),) = error.tried
    assert reason.startswith("not a readable SQLite database")


def test_cookie_file_with_no_cookie_table(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    error = _error(BrowserCookieSource(cookie_file=path))
    ((_, reason),) = error.tried
    assert reason.startswith("neither a Firefox (moz_cookies table) nor a Chromium")


@pytest.mark.parametrize(
    ("browser", "make_db", "found"),
    [("firefox", make_chrome_db, "Chromium"), ("vivaldi", make_firefox_db, "Firefox")],
)
def test_cookie_file_of_the_other_family_is_refused(
    tmp_path: Path, browser: str, make_db: MakeDb, found: str
) -> None:
    path = make_db(tmp_path, SITE_COOKIES)
    error = _error(BrowserCookieSource(browser=browser, cookie_file=path))
    ((_, reason),) = error.tried
    assert reason.startswith(f"this is a {found}-family cookie database, not {browser}'s")


def test_undecryptable_chrome_cookie_is_a_decryption_error(tmp_path: Path) -> None:
    wrong_key = chrome_linux_key(b"a keyring password we do not know")
    encrypted = b"v10" + aes128_cbc_encrypt(wrong_key, b" " * 16, b"\0" * 32 + b"SECRET-v")
    path = make_chrome_db(tmp_path, SITE_COOKIES, raw_encrypted={"cf_clearance": encrypted})
    error = _error(BrowserCookieSource(browser="chrome", cookie_file=path))
    ((_, reason),) = error.tried
    assert reason.startswith("decryption error (decrypt_encrypted_value failed")


def test_a_panic_inside_rookiepy_becomes_a_reason(tmp_path: Path) -> None:
    # rookie slices encrypted_value[..3]: two bytes make its Rust code panic,
    # which reaches Python as pyo3's PanicException (a BaseException).
    path = make_chrome_db(tmp_path, SITE_COOKIES, raw_encrypted={"sub": b"v1"})
    error = _error(BrowserCookieSource(cookie_file=path))
    ((_, reason),) = error.tried
    assert reason.startswith("rookiepy crashed reading it (range end index 3")


# --- looking for browsers under HOME -----------------------------------------


def test_no_browser_installed_lists_every_browser_tried() -> None:
    error = _error(BrowserCookieSource())
    expected = [name for name in BROWSERS if sys.platform == "darwin" or name != "safari"]
    assert [source for source, _ in error.tried] == expected
    assert {reason for _, reason in error.tried} == {"no profile found"}
    for name in expected:
        assert f"{name}: no profile found" in str(error)


def test_named_browser_without_a_profile() -> None:
    error = _error(BrowserCookieSource(browser="Chrome"))
    assert error.tried == (("chrome", "no profile found"),)


def test_named_browser_of_another_os() -> None:
    error = _error(BrowserCookieSource(browser="safari"))
    ((source, reason),) = error.tried
    assert source == "safari"
    if sys.platform != "darwin":
        assert reason == f"rookiepy has no reader for safari on {sys.platform}"


def test_the_first_browser_with_cookies_wins_and_nothing_is_merged(home: Path) -> None:
    make_chrome_profile(home, [SITE_COOKIES[0]])
    make_firefox_profile(home, SITE_COOKIES[1:])
    assert BrowserCookieSource().get_cookies() == {"host_only": "SECRET-host-only-7f3a"}
    assert BrowserCookieSource(browser="firefox").get_cookies() == {
        "cf_clearance": "SECRET-cf-clearance-91bd",
        "sub": "SECRET-subdomain-c0de",
    }


def test_browsers_without_site_cookies_are_passed_over(home: Path) -> None:
    make_chrome_profile(home, OTHER_COOKIES)
    make_firefox_profile(home, SITE_COOKIES + OTHER_COOKIES)
    assert BrowserCookieSource().get_cookies() == EXPECTED


def test_a_failing_browser_does_not_stop_the_search(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_chrome_profile(home, SITE_COOKIES, raw_encrypted={"sub": b"v1"})
    make_firefox_profile(home, SITE_COOKIES)
    with caplog.at_level(logging.DEBUG, logger="aichat"):
        assert BrowserCookieSource().get_cookies() == EXPECTED
    assert "browser cookies: chrome gave none: rookiepy crashed" in caplog.text
    assert "browser cookies: firefox gave 3 cookie(s) for chat-gpt.org" in caplog.text


def test_a_chrome_profile_without_local_state_is_explained(home: Path) -> None:
    path = make_chrome_profile(home, SITE_COOKIES)
    (path.parent.parent / "Local State").unlink()
    error = _error(BrowserCookieSource(browser="chrome"))
    ((_, reason),) = error.tried
    assert reason.startswith("incomplete profile: no 'Local State' file beside it")


# --- secrecy -----------------------------------------------------------------


def test_no_cookie_value_in_repr_errors_or_logs(
    tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, rookiepy's own included
    make_chrome_profile(home, SITE_COOKIES + OTHER_COOKIES)
    firefox = make_firefox_db(tmp_path, SITE_COOKIES + OTHER_COOKIES)
    broken = make_chrome_db(tmp_path, SITE_COOKIES, filename="broken", raw_encrypted={"sub": b"v1"})
    only_others = make_firefox_db(tmp_path, OTHER_COOKIES, filename="others")

    sources = [
        BrowserCookieSource(),
        BrowserCookieSource(browser="chrome"),
        BrowserCookieSource(cookie_file=firefox),
    ]
    for source in sources:
        assert source.get_cookies() == EXPECTED
    errors = [
        _error(BrowserCookieSource(cookie_file=broken)),
        _error(BrowserCookieSource(cookie_file=only_others)),
        _error(BrowserCookieSource(browser="firefox")),
    ]

    assert "gave 3 cookie(s) for chat-gpt.org: cf_clearance, host_only, sub" in caplog.text
    texts = [caplog.text, *map(repr, sources)]
    texts += [text for error in errors for text in (str(error), repr(error), repr(error.tried))]
    for value in ALL_VALUES:
        for text in texts:
            assert value not in text


# --- construction ------------------------------------------------------------


def test_unknown_browser_is_refused_listing_the_supported_ones() -> None:
    with pytest.raises(InvalidRequestError) as info:
        BrowserCookieSource(browser="netscape")
    message = str(info.value)
    assert "unknown browser 'netscape'" in message
    for name in ("chrome", "chromium", "firefox", "edge", "brave", "opera", "vivaldi"):
        assert name in message
    assert "librewolf" in message


@pytest.mark.parametrize(
    ("given", "name"),
    [("Opera GX", "opera_gx"), (" FIREFOX ", "firefox"), ("opera-gx", "opera_gx")],
)
def test_browser_names_are_normalised(given: str, name: str) -> None:
    assert BrowserCookieSource(browser=given).browser == name


@pytest.mark.parametrize("domain", ["", "chat-gpt.org' OR '1'='1", "chat gpt.org", "a/b"])
def test_bad_domain_is_refused(domain: str) -> None:
    with pytest.raises(InvalidRequestError, match="domain must be a host name"):
        BrowserCookieSource(domain=domain)


def test_safari_with_a_cookie_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="Firefox- or Chromium-family"):
        BrowserCookieSource(browser="safari", cookie_file=tmp_path / "Cookies.binarycookies")


def test_rookiepy_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "rookiepy", None)
    path = make_firefox_db(tmp_path, SITE_COOKIES)
    for source in (BrowserCookieSource(), BrowserCookieSource(cookie_file=path)):
        error = _error(source)
        ((name, reason),) = error.tried
        assert name == "browser"
        assert reason.startswith("rookiepy is not installed")
        assert install_hint("browser") in str(error)


def test_cookie_file_under_the_home_folder(home: Path) -> None:
    path = make_firefox_profile(home, SITE_COOKIES)
    source = BrowserCookieSource(cookie_file=f"~/{path.relative_to(home)}")
    assert source.cookie_file == path
    assert source.get_cookies() == EXPECTED


def test_shape_of_the_source(tmp_path: Path) -> None:
    source = BrowserCookieSource(browser="firefox", cookie_file=str(tmp_path / "c.sqlite"))
    assert source.cookie_file == tmp_path / "c.sqlite"
    assert BrowserCookieSource.blocking is True
    assert "blocking" not in attrs.fields_dict(BrowserCookieSource)
    as_port: RefreshableCookieSource = source  # checked by mypy
    assert as_port.refresh_cookies is not None
    assert not hasattr(source, "__dict__")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        source.domain = "example.com"  # type: ignore[misc]
    assert BrowserCookieSource() == BrowserCookieSource(None, None, "chat-gpt.org")
    assert source.describe() == f"browser cookie file {tmp_path / 'c.sqlite'}"
    assert BrowserCookieSource(browser="edge").describe() == "browser edge"
    assert BrowserCookieSource().describe() == "browsers"


# --- failure reasons ---------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            RuntimeError("can't find cookies file\n\nLocation:\n    rookie-rs/src/paths.rs:48:7"),
            "no profile found",
        ),
        (
            PermissionError(13, "Permission denied"),
            "permission denied reading its profile ([Errno 13] Permission denied)",
        ),
        (
            RuntimeError("Permission denied (os error 13)\n\nLocation:\n    sqlite.rs:10:25"),
            "permission denied reading its profile (Permission denied (os error 13))",
        ),
        (
            RuntimeError("file is not a database\n\nCaused by:\n    Error code 26: File opened"),
            "cannot read the cookie database (file is not a database: Error code 26: File opened)",
        ),
        (
            RuntimeError(
                "Chrome cookies from version v130 can be decrypted only when running as "
                "admin due to appbound encryption!"
            ),
            "decryption error (Chrome cookies from version v130 can be decrypted only when "
            "running as admin due to appbound encryption!)",
        ),
        (ValueError("x" * 300), "rookiepy failed: ValueError: " + "x" * 197 + "..."),
        (OSError(), "rookiepy failed: OSError: OSError"),
    ],
)
def test_failure_reasons(error: Exception, reason: str) -> None:
    assert _describe(error) == reason


# --- the read cache ----------------------------------------------------------


class CountingRookie:
    """A stand-in for the rookiepy module: counts reads, gives a changing value."""

    def __init__(self) -> None:
        self.reads = 0

    def firefox(self, domains: list[str]) -> list[dict[str, object]]:
        assert domains == ["chat-gpt.org"]
        self.reads += 1
        return [
            {
                "domain": ".chat-gpt.org",
                "name": "sid",
                "value": f"SECRET-read-{self.reads}",
                "path": "/",
                "expires": LATER,
            },
            {"domain": "evil.com", "name": "x", "value": "SECRET-evil", "expires": None},
        ]


@pytest.fixture
def rookie(monkeypatch: pytest.MonkeyPatch) -> CountingRookie:
    fake = CountingRookie()
    monkeypatch.setitem(sys.modules, "rookiepy", fake)
    return fake


def test_reads_within_the_ttl_share_one_read_and_a_refresh_reads_again(
    rookie: CountingRookie,
) -> None:
    source = BrowserCookieSource(browser="firefox")
    for _ in range(100):
        assert source.get_cookies() == {"sid": "SECRET-read-1"}
    assert rookie.reads == 1
    assert source.refresh_cookies() == {"sid": "SECRET-read-2"}
    assert rookie.reads == 2
    assert source.get_cookies() == {"sid": "SECRET-read-2"}  # the refresh filled the cache
    assert rookie.reads == 2


def test_the_cache_goes_stale_after_its_ttl(
    rookie: CountingRookie, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(browser_module, "_clock", lambda: clock[0])
    source = BrowserCookieSource(browser="firefox", cache_ttl=60)
    source.get_cookies()
    clock[0] += 59.9
    source.get_cookies()
    assert rookie.reads == 1
    clock[0] += 0.2
    assert source.get_cookies() == {"sid": "SECRET-read-2"}
    assert rookie.reads == 2
    assert BrowserCookieSource(browser="firefox").cache_ttl == 300.0


def test_no_cache_with_a_ttl_of_zero(rookie: CountingRookie) -> None:
    source = BrowserCookieSource(browser="firefox", cache_ttl=0)
    source.get_cookies()
    source.get_cookies()
    assert rookie.reads == 2


def test_a_failure_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = CountingRookie()
    empty = {"calls": 0}

    def firefox(domains: list[str]) -> list[dict[str, object]]:
        empty["calls"] += 1
        return [] if empty["calls"] == 1 else fake.firefox(domains)

    rookiepy = type("Rookie", (), {"firefox": staticmethod(firefox)})
    monkeypatch.setitem(sys.modules, "rookiepy", rookiepy)
    source = BrowserCookieSource(browser="firefox")
    with pytest.raises(CookiesNotFoundError, match=r"no cookies for chat-gpt\.org"):
        source.get_cookies()
    assert source.get_cookies() == {"sid": "SECRET-read-1"}  # read again: the user logged in


def test_threads_arriving_together_share_one_read(rookie: CountingRookie) -> None:
    source = BrowserCookieSource(browser="firefox")
    barrier = threading.Barrier(20)
    results: list[dict[str, str]] = []

    def read() -> None:
        barrier.wait()
        results.append(source.get_cookies())

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rookie.reads == 1
    assert results == [{"sid": "SECRET-read-1"}] * 20


@pytest.mark.parametrize("ttl", [-1, float("nan"), float("inf"), "5", True])
def test_a_bad_ttl_is_refused(ttl: object) -> None:
    with pytest.raises(InvalidRequestError, match="cache_ttl must be a number of seconds >= 0"):
        BrowserCookieSource(cache_ttl=ttl)


def test_the_cache_is_not_part_of_the_value(rookie: CountingRookie) -> None:
    source = BrowserCookieSource(browser="firefox")
    source.get_cookies()
    assert source == BrowserCookieSource(browser="firefox")
    assert "SECRET" not in repr(source)
    assert repr(source) == (
        "BrowserCookieSource(browser='firefox', cookie_file=None, domain='chat-gpt.org', "
        "cache_ttl=300.0)"
    )
