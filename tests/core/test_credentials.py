"""The credentials bundle: checked fields, hidden values, the earliest expiry."""

from __future__ import annotations

from typing import Any

import pytest

from aichat_core import Credentials, InvalidRequestError

SECRET = "s3cr3t-value"


def test_repr_shows_names_never_values() -> None:
    credentials = Credentials(
        {"cf_clearance": SECRET},
        user_agent="Mozilla/5.0 Chrome/131.0",
        headers={"X-Token": SECRET},
        proxy=f"http://user:{SECRET}@proxy.example:8080",
    )
    shown = repr(credentials)
    assert SECRET not in shown
    assert "cf_clearance" in shown
    assert "x-token" in shown
    assert "proxy.example:8080" in shown


def test_of_wraps_bare_cookies_and_keeps_a_bundle() -> None:
    bundle = Credentials({"a": "b"}, user_agent="UA")
    assert Credentials.of(bundle) is bundle
    made = Credentials.of({"a": "b"})
    assert made.cookies == {"a": "b"}
    assert made.user_agent is None
    assert made.headers == {}


@pytest.mark.parametrize(
    ("expires", "names", "expected"),
    [
        ({}, None, None),
        ({"a": 20.0, "b": 10.0}, None, 10.0),
        ({"a": 20.0, "b": 10.0}, ["a"], 20.0),
        ({"a": 20.0}, ["c"], None),
    ],
)
def test_expires_at_is_the_earliest_known(
    expires: dict[str, float], names: list[str] | None, expected: float | None
) -> None:
    assert Credentials({"a": "1"}, expires=expires).expires_at(names) == expected


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"cookies": "a=b"}, "mapping"),
        ({"cookies": {"bad name": "x"}}, "invalid cookie name"),
        ({"cookies": {"a": "x;y"}}, "cannot carry"),
        ({"cookies": {"a": "b"}, "user_agent": "bad\r\nagent"}, "user-agent"),
        ({"cookies": {"a": "b"}, "user_agent": ""}, "non-empty"),
        ({"cookies": {"a": "b"}, "headers": {"cookie": "a=b"}}, "Cookie header"),
        ({"cookies": {"a": "b"}, "expires": {"a": "soon"}}, "epoch seconds"),
        ({"cookies": {"a": "b"}, "obtained_at": "now"}, "epoch seconds"),
        ({"cookies": {"a": "b"}, "proxy": 8080}, "proxy"),
    ],
)
def test_bad_fields_are_refused(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidRequestError, match=words) as caught:
        Credentials(**options)
    assert "x;y" not in str(caught.value)


def test_with_cookies_keeps_the_rest() -> None:
    bundle = Credentials({"a": "1"}, user_agent="UA", headers={"x": "y"}, obtained_at=5)
    rotated = bundle.with_cookies({"a": "2"})
    assert rotated.cookies == {"a": "2"}
    assert (rotated.user_agent, rotated.headers, rotated.obtained_at) == ("UA", {"x": "y"}, 5.0)


@pytest.mark.parametrize(
    ("expires", "obtained_at", "margin", "expected"),
    [
        (1000.0, None, 60, 940.0),  # the margin before the expiry
        (1000.0, 0.0, 60, 940.0),  # a long life: the margin
        (1000.0, 960.0, 60, 980.0),  # a 40 s life: half of it, not the margin
        (1000.0, 1200.0, 60, 1000.0),  # obtained after it expired: renew now
        (None, 0.0, 60, None),
    ],
)
def test_renew_at(
    expires: float | None, obtained_at: float | None, margin: float, expected: float | None
) -> None:
    credentials = Credentials(
        {"cf_clearance": "v"},
        expires={} if expires is None else {"cf_clearance": expires},
        obtained_at=obtained_at,
    )
    assert credentials.renew_at(margin) == expected


@pytest.mark.parametrize(
    ("proxy", "public", "masked"),
    [
        (
            "http://u:p@proxy.example:3128",
            "http://proxy.example:3128",
            "http://<hidden>@proxy.example:3128",
        ),
        (
            "socks5://proxy.example:1080",
            "socks5://proxy.example:1080",
            "socks5://proxy.example:1080",
        ),
    ],
)
def test_proxies_are_shown_without_their_password(proxy: str, public: str, masked: str) -> None:
    from aichat_core._credentials import mask_proxy, public_proxy

    assert public_proxy(proxy) == public
    assert mask_proxy(proxy) == masked
