"""Properties of the cookie parsers on arbitrary and near-valid input (hypothesis)."""

from __future__ import annotations

import contextlib
import json
import string
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aichat_adapters.cookies import parse_cookie_editor_json, parse_netscape_cookies
from aichat_core import (
    AichatError,
    CookiesNotFoundError,
    InvalidRequestError,
    domain_matches,
    format_cookie_header,
    parse_cookie_header,
)

SITE = "chat-gpt.org"
NOW = 1_750_000_000.0
PAST = NOW - 86_400
FUTURE = NOW + 86_400

# Values carry a marker that no other generated text contains (BEL is kept out
# of every other strategy), so a marker in an error means a value leaked.
MARK = "\x07val"
no_mark = st.characters(exclude_characters="\x07")
other_text = st.text(alphabet=no_mark, max_size=12)
values = st.builds(lambda tail: MARK + tail, st.text(max_size=12))

Parser = Callable[[str, str, float], dict[str, str]]


def check_outcome(parse: Parser, text: str) -> dict[str, str] | None:
    """Parse; on success the cookies are fit for a header, on failure no value leaks."""
    try:
        cookies = parse(text, SITE, NOW)
    except (CookiesNotFoundError, InvalidRequestError) as exc:
        error = exc
    else:
        assert cookies
        format_cookie_header(cookies)  # raises if a name or value cannot go in a header
        return cookies
    assert MARK not in str(error)
    assert MARK not in repr(getattr(error, "tried", ()))
    return None


# --------------------------------------------------------------------------- arbitrary text


@given(st.text())
def test_parse_cookie_header_raises_only_aichat_errors(text: str) -> None:
    try:
        cookies = parse_cookie_header(text)
    except AichatError:
        return
    # What it accepts is well formed, and stable through another round.
    assert parse_cookie_header(format_cookie_header(cookies)) == cookies


@given(st.text())
def test_netscape_parser_raises_only_aichat_errors(text: str) -> None:
    with contextlib.suppress(AichatError):
        parse_netscape_cookies(text, SITE, NOW)


@given(st.text())
def test_cookie_editor_parser_raises_only_aichat_errors(text: str) -> None:
    with contextlib.suppress(AichatError):
        parse_cookie_editor_json(text, SITE, NOW)


# --------------------------------------------------------------------------- near-valid Netscape

site_domains = st.sampled_from([".chat-gpt.org", "chat-gpt.org", "x.chat-gpt.org"])
domains = (
    site_domains
    | st.sampled_from(
        [
            ".chat-gpt.org",
            "chat-gpt.org",
            "x.chat-gpt.org",
            "#HttpOnly_.chat-gpt.org",
            "#HttpOnly_chat-gpt.org",
            "notchat-gpt.org",
            ".chat-gpt.org.evil.com",
            "CHAT-GPT.ORG",
            "",
            " ",
            "#comment",
            "$x",
        ]
    )
    | other_text
)
flags = st.sampled_from(["TRUE", "FALSE", ""]) | other_text
expiries = (
    st.sampled_from(
        ["0", "", str(int(PAST)), str(int(FUTURE)), "1e999", "nan", "inf", "-1", "9" * 400]
    )
    | st.integers().map(str)
    | st.floats().map(str)
    | other_text
)
names = (
    st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=8)
    | other_text
)


@st.composite
def netscape_lines(draw: st.DrawFn) -> str:
    fields = [
        draw(domains),
        draw(flags),
        draw(st.sampled_from(["/", "/api", ""]) | other_text),
        draw(flags),
        draw(expiries),
        draw(names),
        draw(values),
    ]
    mutation = draw(st.sampled_from(["none", "none", "none", "drop", "add", "spaces"]))
    if mutation == "drop":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif mutation == "add":
        fields.insert(draw(st.integers(0, len(fields))), draw(other_text))
    separator = " " if mutation == "spaces" else "\t"
    return separator.join(fields)


@st.composite
def netscape_texts(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(["# Netscape HTTP Cookie File", "# HTTP Cookie File", "", "#"]))
    lines = draw(st.lists(netscape_lines() | netscape_lines() | other_text, max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join([header, *lines])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(netscape_texts())
def test_netscape_parser_on_near_valid_text(text: str) -> None:
    check_outcome(parse_netscape_cookies, text)


# --------------------------------------------------------------------------- near-valid JSON

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | other_text
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(other_text, children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def editor_objects(draw: st.DrawFn) -> object:
    cookie: dict[str, object] = {}
    # Each key is usually present and usually of the right type.
    for key, strategy in (
        ("name", names),
        ("value", values),
        ("domain", domains),
        ("path", st.just("/")),
        ("expirationDate", st.sampled_from([PAST, FUTURE, NOW])),
        ("session", st.booleans()),
        ("hostOnly", st.booleans()),
    ):
        if draw(st.integers(0, 9)) == 0:
            strategy = json_values  # noqa: PLW2901 - a wrong type now and then
        if draw(st.integers(0, 9)):
            cookie[key] = draw(strategy)
    return cookie


@st.composite
def editor_texts(draw: st.DrawFn) -> str:
    cookies = st.lists(st.one_of(editor_objects(), editor_objects(), json_values), max_size=6)
    data = draw(st.one_of(cookies, cookies, cookies, json_values))
    text = json.dumps(data)  # NaN and Infinity included, as Python writes them
    cut = draw(st.sampled_from(["whole", "whole", "whole", "truncate", "append"]))
    if cut == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "append":
        text += draw(other_text)
    return text


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(editor_texts())
def test_cookie_editor_parser_on_near_valid_text(text: str) -> None:
    check_outcome(parse_cookie_editor_json, text)


# --------------------------------------------------------------------------- a model of the rules

model_domains = st.sampled_from(
    [
        ".chat-gpt.org",
        "chat-gpt.org",
        "a.chat-gpt.org",
        "b.a.chat-gpt.org",
        "notchat-gpt.org",
        "evil.com",
    ]
)
model_entries = st.lists(
    st.tuples(
        model_domains,
        st.sampled_from(["/", "/api"]),
        st.sampled_from(["sid", "cf", "x"]),
        st.text(alphabet=string.ascii_letters + string.digits + "-._~", max_size=6),
        st.sampled_from([None, PAST, NOW, FUTURE]),
    ),
    max_size=10,
)
Entry = tuple[str, str, str, str, float | None]


def expected_cookies(entries: list[Entry]) -> dict[str, str]:
    """The rules, written out plainly: one cookie per (domain, path, name), the
    later replacing the earlier; unexpired ones of the site; per name, the
    domain closest to the site, then the longest path, then the latest expiry
    (a session cookie last of all), then the later one in the file."""
    latest: dict[tuple[str, str, str], tuple[int, Entry]] = {}
    for position, entry in enumerate(entries):
        latest[entry[:3]] = (position, entry)
    candidates: dict[str, list[tuple[tuple[int, int, float, int], str]]] = {}
    for position, (domain, path, name, value, expires) in latest.values():
        if not domain_matches(domain, SITE) or (expires is not None and expires < NOW):
            continue
        distance = domain.strip(".").count(".") - SITE.count(".")
        lasts = float("inf") if expires is None else expires
        candidates.setdefault(name, []).append(((-distance, len(path), lasts, position), value))
    return {name: max(ranked)[1] for name, ranked in candidates.items()}


def as_netscape(entries: list[Entry]) -> str:
    lines = ["# Netscape HTTP Cookie File"]
    for domain, path, name, value, expires in entries:
        dot = "TRUE" if domain.startswith(".") else "FALSE"
        stamp = "0" if expires is None else str(int(expires))
        lines.append("\t".join((domain, dot, path, "TRUE", stamp, name, value)))
    return "\n".join(lines) + "\n"


def as_cookie_editor(entries: list[Entry]) -> str:
    cookies = []
    for domain, path, name, value, expires in entries:
        cookie: dict[str, object] = {"domain": domain, "path": path, "name": name, "value": value}
        if expires is None:
            cookie["session"] = True
        else:
            cookie["expirationDate"] = expires
        cookies.append(cookie)
    return json.dumps(cookies)


@given(model_entries, st.sampled_from(["netscape", "editor"]))
def test_parsers_follow_the_domain_expiry_and_duplicate_rules(
    entries: list[Entry], kind: str
) -> None:
    expected = expected_cookies(entries)
    parse, text = (
        (parse_netscape_cookies, as_netscape(entries))
        if kind == "netscape"
        else (parse_cookie_editor_json, as_cookie_editor(entries))
    )
    try:
        got = parse(text, SITE, NOW)
    except CookiesNotFoundError:
        got = {}
    assert got == expected


# --------------------------------------------------------------------------- header round trip

# RFC 6265: a name is a token, a value is cookie-octets.
TOKEN = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '()<>@,;:\\"/[]?={}')
COOKIE_OCTETS = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '",;\\')


@given(
    st.dictionaries(
        st.text(alphabet=TOKEN, min_size=1, max_size=10),
        st.text(alphabet=COOKIE_OCTETS, max_size=20),
        max_size=6,
    )
)
def test_cookie_header_round_trip(cookies: dict[str, str]) -> None:
    assert parse_cookie_header(format_cookie_header(cookies)) == cookies
