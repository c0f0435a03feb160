"""SessionJar: a client's cookies following the site's Set-Cookie, like a browser's jar."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aichat_adapters.cookies import SessionJar
from aichat_core import InvalidRequestError, format_cookie_header

NOW = 1_750_000_000.0
SECRET = "j4rS3cretV4lue"


def seeded(cookies: dict[str, str], host: str = "chat-gpt.org") -> SessionJar:
    jar = SessionJar(host)
    assert jar.seed(cookies) is True
    return jar


def test_a_new_jar_is_empty_and_a_seed_fills_it() -> None:
    jar = SessionJar("chat-gpt.org")
    assert (jar.cookies(), jar.version) == ({}, 0)
    assert jar.seed({"sid": "a", "cf": "b"}) is True
    assert (jar.cookies(), jar.version) == ({"sid": "a", "cf": "b"}, 1)


def test_a_new_value_replaces_the_old_one() -> None:
    jar = seeded({"sid": "old", "cf": "c"})
    assert jar.update(["sid=new; Path=/; HttpOnly; Secure"], now=NOW) is True
    assert jar.cookies() == {"sid": "new", "cf": "c"}
    assert jar.version == 2


def test_a_new_name_is_added() -> None:
    jar = seeded({"sid": "s"})
    assert jar.update(["__cf_bm=bm; Max-Age=1800"], now=NOW) is True
    assert jar.cookies(now=NOW + 1799) == {"sid": "s", "__cf_bm": "bm"}
    assert jar.cookies(now=NOW + 1801) == {"sid": "s"}


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("sid=; Max-Age=0", id="max-age-0"),
        pytest.param("sid=gone; Max-Age=-1", id="max-age-negative"),
        pytest.param("sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", id="past-expires"),
        pytest.param("sid=x; expires=Sun, 15 Jun 2025 14:53:19 GMT", id="expires-a-second-ago"),
    ],
)
def test_a_deletion_removes_the_cookie(header: str) -> None:
    jar = seeded({"sid": "s", "cf": "c"})
    assert jar.update([header], now=NOW) is True
    assert jar.cookies() == {"cf": "c"}
    assert jar.version == 2


def test_deleting_a_cookie_the_jar_does_not_hold_changes_nothing() -> None:
    jar = seeded({"cf": "c"})
    assert jar.update(["sid=; Max-Age=0"], now=NOW) is False
    assert jar.version == 1


def test_the_same_value_again_changes_nothing() -> None:
    jar = seeded({"sid": "s"})
    assert jar.update(["sid=s; Max-Age=60"], now=NOW) is False
    assert jar.version == 1


@pytest.mark.parametrize(
    ("host", "header", "kept"),
    [
        pytest.param("chat-gpt.org", "a=1; Domain=chat-gpt.org", True, id="own-domain"),
        pytest.param("chat-gpt.org", "a=1; Domain=.CHAT-GPT.org", True, id="own-domain-dot-case"),
        pytest.param("www.chat-gpt.org", "a=1; Domain=chat-gpt.org", True, id="parent-domain"),
        pytest.param("chat-gpt.org", "a=1; Domain=www.chat-gpt.org", False, id="subdomain"),
        pytest.param("chat-gpt.org", "a=1; Domain=evil.com", False, id="other-site"),
        pytest.param("chat-gpt.org", "a=1; Domain=notchat-gpt.org", False, id="lookalike"),
        pytest.param("chat-gpt.org", "a=1; Domain=chat-gpt.org.evil.com", False, id="suffix"),
        pytest.param("127.0.0.1", "a=1; Domain=127.0.0.1", True, id="ip-same"),
        pytest.param("127.0.0.1", "a=1; Domain=0.0.1", False, id="ip-suffix"),
        pytest.param("127.0.0.1", "a=1", True, id="ip-host-only"),
        pytest.param("[::1]", "a=1; Domain=::1", True, id="ipv6-same"),
    ],
)
def test_a_domain_the_host_does_not_belong_to_is_ignored(
    host: str, header: str, kept: bool
) -> None:
    jar = SessionJar(host)
    assert jar.update([header], now=NOW) is kept
    assert jar.cookies() == ({"a": "1"} if kept else {})


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(f"bad name={SECRET}", id="bad-name"),
        pytest.param(f"sid={SECRET}\r\nX-Evil: 1", id="crlf"),
        pytest.param(SECRET, id="no-equals"),
        pytest.param(f"sid={SECRET}é", id="non-ascii"),
    ],
)
def test_a_header_a_browser_would_ignore_is_ignored(header: str) -> None:
    jar = seeded({"sid": "s"})
    assert jar.update([header], now=NOW) is False
    assert jar.cookies() == {"sid": "s"}


def test_several_headers_in_one_answer_count_as_one_change() -> None:
    jar = seeded({"a": "1", "b": "2"})
    assert jar.update(["a=11", "b=; Max-Age=0", "c=3", "junk"], now=NOW) is True
    assert jar.cookies() == {"a": "11", "c": "3"}
    assert jar.version == 2


def test_a_cookie_past_its_max_age_is_no_longer_sent() -> None:
    jar = seeded({"sid": "s"})
    jar.update(["short=x; Max-Age=1"], now=1.0)  # expired long ago
    jar.update(["long=y; Max-Age=3600"])  # now
    assert jar.cookies() == {"sid": "s", "long": "y"}


def test_a_seed_replaces_what_the_site_set_only_when_the_source_changes() -> None:
    jar = seeded({"sid": "from-file"})
    jar.update(["sid=rotated"], now=NOW)
    # The source gives the same cookies as last time: the rotation stays.
    assert jar.seed({"sid": "from-file"}) is False
    assert jar.cookies() == {"sid": "rotated"}
    assert jar.version == 2
    # The source gives other cookies (a refresh, a new export): they replace everything.
    assert jar.seed({"sid": "exported-again", "cf": "c"}) is True
    assert jar.cookies() == {"sid": "exported-again", "cf": "c"}
    assert jar.version == 3


def test_a_seed_equal_to_the_jar_is_not_a_change() -> None:
    # The rotated cookies were saved to the file and read back: same cookies, no change.
    jar = seeded({"sid": "old"})
    jar.update(["sid=rotated"], now=NOW)
    assert jar.seed({"sid": "rotated"}) is False
    assert jar.version == 2
    assert jar.seed({"sid": "rotated"}) is False


def test_a_seed_is_checked_like_a_cookie_header() -> None:
    jar = SessionJar("chat-gpt.org")
    with pytest.raises(InvalidRequestError, match="cookie 'sid'") as caught:
        jar.seed({"sid": SECRET + "\n"})
    assert SECRET not in str(caught.value)


def test_cookies_is_a_snapshot() -> None:
    jar = seeded({"sid": "s"})
    snapshot = jar.cookies()
    snapshot["sid"] = "changed"
    jar.update(["x=1"], now=NOW)
    assert snapshot == {"sid": "changed"}
    assert jar.cookies() == {"sid": "s", "x": "1"}


def test_no_value_in_the_repr_or_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jar = seeded({"sid": SECRET})
    jar.update([f"cf={SECRET}; Max-Age=60", f"other={SECRET}; Domain=evil.com"], now=NOW)
    assert repr(jar) == "SessionJar(host='chat-gpt.org', names=['sid', 'cf'], version=2)"
    assert "cookies set by chat-gpt.org: ['cf']" in caplog.text
    assert SECRET not in caplog.text


def test_threads_see_every_change_and_every_version() -> None:
    jar = seeded({"n": "0"})
    barrier = threading.Barrier(20)
    changed: list[bool] = []

    def rotate(index: int) -> None:
        barrier.wait()
        for step in range(50):
            changed.append(jar.update([f"t{index}=v{step}"], now=NOW))
            assert f"t{index}" in jar.cookies()

    threads = [threading.Thread(target=rotate, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(changed)
    assert jar.version == 1 + 20 * 50
    assert jar.cookies() == {"n": "0", **{f"t{index}": "v49" for index in range(20)}}


@given(st.lists(st.text(), max_size=6), st.floats(min_value=0, max_value=4e9))
def test_any_set_cookie_keeps_the_jar_sendable(headers: list[str], now: float) -> None:
    jar = SessionJar("chat-gpt.org")
    before = jar.version
    changed = jar.update(headers, now=now)
    assert (jar.version > before) is changed
    format_cookie_header(jar.cookies())  # every name and value can go in a Cookie header
