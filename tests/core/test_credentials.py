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
