"""HAR exports and folders of exports, read by the file source (and the pure HAR parser)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aichat_adapters.cookies._file as file_module
from aichat_adapters.cookies import FileCookieSource, default_cookie_source, parse_har
from aichat_core import AichatError, CookiesNotFoundError, format_cookie_header

NOW = 1_750_000_000.0
SECRET = "h4rS3cretV4lue"
HEADER = "# Netscape HTTP Cookie File\n"


def entry(
    url: str,
    started: str = "2025-06-15T10:00:00.000Z",
    *,
    cookies: dict[str, str] | None = None,
    cookie_header: str | None = None,
    response_cookies: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One HAR 1.2 entry, as DevTools writes it."""
    headers = [{"name": "accept", "value": "*/*"}]
    if cookie_header is not None:
        headers.append({"name": "cookie", "value": cookie_header})
    return {
        "startedDateTime": started,
        "time": 12.5,
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": "h2",
            "headers": headers,
            "queryString": [],
            "cookies": [{"name": n, "value": v} for n, v in (cookies or {}).items()],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "h2",
            "headers": [],
            "cookies": response_cookies or [],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 2.5},
    }


def har(*entries: dict[str, Any]) -> str:
    return json.dumps(
        {
            "log": {
                "version": "1.2",
                "creator": {"name": "WebInspector", "version": "537.36"},
                "pages": [],
                "entries": list(entries),
            }
        }
    )


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "_now", lambda: NOW)


# --------------------------------------------------------------------------- the site only


def test_har_gives_the_sites_cookies_only() -> None:
    text = har(
        entry("https://chat-gpt.org/chat", cookies={"sid": "site"}),
        entry("https://api.chat-gpt.org/x", cookies={"sub": "subdomain"}),
        entry("https://notchat-gpt.org/", cookies={"sid": "lookalike", "nc": "1"}),
        entry("https://chat-gpt.org.evil.com/", cookies={"sid": "evil", "ev": "1"}),
        entry("https://example.com/", cookies={"other": "1"}),
    )
    assert parse_har(text, now=NOW) == {"sid": "site", "sub": "subdomain"}


def test_har_reads_request_cookies_the_cookie_header_and_response_cookies() -> None:
    text = har(
        entry(
            "https://chat-gpt.org/",
            cookies={"a": "from-request-cookies"},
            cookie_header="b=from-header; c=also",
            response_cookies=[{"name": "d", "value": "from-set-cookie", "path": "/"}],
        )
    )
    assert parse_har(text, now=NOW) == {
        "a": "from-request-cookies",
        "b": "from-header",
        "c": "also",
        "d": "from-set-cookie",
    }


def test_har_latest_started_entry_wins_whatever_the_order() -> None:
    text = har(
        entry("https://chat-gpt.org/3", "2025-06-15T12:00:00.000Z", cookies={"sid": "latest"}),
        entry("https://chat-gpt.org/1", "2025-06-15T10:00:00.000Z", cookies={"sid": "first"}),
        entry("https://chat-gpt.org/2", "2025-06-15T13:00:00+02:00", cookies={"sid": "11:00Z"}),
    )
    assert parse_har(text, now=NOW) == {"sid": "latest"}


def test_har_a_response_cookie_comes_after_its_request() -> None:
    text = har(
        entry(
            "https://chat-gpt.org/",
            cookies={"sid": "sent"},
            response_cookies=[{"name": "sid", "value": "rotated"}],
        ),
        entry("https://chat-gpt.org/", "2025-06-15T09:00:00Z", cookies={"sid": "older"}),
    )
    assert parse_har(text, now=NOW) == {"sid": "rotated"}


def test_har_a_later_deletion_removes_the_cookie() -> None:
    text = har(
        entry("https://chat-gpt.org/", "2025-06-15T09:00:00Z", cookies={"sid": "s", "keep": "k"}),
        entry(
            "https://chat-gpt.org/logout",
            "2025-06-15T10:00:00Z",
            response_cookies=[
                {"name": "sid", "value": "", "expires": "1970-01-01T00:00:00.000Z"},
                {"name": "late", "value": "v", "expires": "Wed, 21 Oct 2065 07:28:00 GMT"},
            ],
        ),
    )
    assert parse_har(text, now=NOW) == {"keep": "k", "late": "v"}


def test_har_response_cookie_for_another_domain_is_left_out() -> None:
    text = har(
        entry(
            "https://chat-gpt.org/",
            cookies={"a": "1"},
            response_cookies=[
                {"name": "tracker", "value": "t", "domain": ".ads.example"},
                {"name": "site", "value": "s", "domain": ".chat-gpt.org"},
            ],
        )
    )
    assert parse_har(text, now=NOW) == {"a": "1", "site": "s"}


def test_har_for_another_host_such_as_a_local_stub() -> None:
    text = har(
        entry("http://127.0.0.1:8000/api/text", cookies={"stub": "yes"}),
        entry("https://chat-gpt.org/", cookies={"sid": "site"}),
    )
    assert parse_har(text, "127.0.0.1", now=NOW) == {"stub": "yes"}


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        pytest.param(har(), "no cookies in this HAR export (a sanitized export", id="empty"),
        pytest.param(
            har(entry("https://chat-gpt.org/")),
            "'Export HAR (with sensitive data)'",
            id="sanitized",
        ),
        pytest.param(
            har(entry("https://example.com/", cookies={"x": SECRET})),
            "no cookie of chat-gpt.org among 1 cookie of other sites",
            id="other-sites",
        ),
        pytest.param('{"log": {}}', "not a HAR export", id="no-entries"),
        pytest.param('{"log": []}', "not a HAR export", id="log-not-object"),
        pytest.param(
            har(entry("https://chat-gpt.org/", cookies={"sid": SECRET + "\n"})),
            "skipped 1 malformed entry (entry 1: the value of cookie 'sid'",
            id="bad-value",
        ),
        pytest.param(
            json.dumps({"log": {"entries": [{"request": {"url": "not a url"}}, "x"]}}),
            "entry 1: a request 'url' without a host; entry 2: a JSON string",
            id="bad-entries",
        ),
        pytest.param(f'{{"log": "{SECRET}', "not valid JSON", id="broken-json"),
    ],
)
def test_har_says_why_it_has_nothing_without_values(text: str, reason_part: str) -> None:
    with pytest.raises(CookiesNotFoundError) as caught:
        parse_har(text, now=NOW)
    ((label, reason),) = caught.value.tried
    assert label == "HAR text"
    assert reason_part in reason
    assert SECRET not in str(caught.value)


# --------------------------------------------------------------------------- the file source


def test_file_source_reads_a_har_export(tmp_path: Path) -> None:
    path = tmp_path / "chat-gpt.org.har"
    path.write_text(
        har(
            entry("https://chat-gpt.org/", cookies={"sid": "one"}),
            entry("https://notchat-gpt.org/", cookies={"sid": "no"}),
        )
    )
    assert FileCookieSource(path).get_cookies() == {"sid": "one"}


def test_file_source_reads_a_har_through_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.json"  # the content decides, not the name
    path.write_text(har(entry("https://www.chat-gpt.org/", cookie_header="cf_clearance=cf")))
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    assert FileCookieSource().get_cookies() == {"cf_clearance": "cf"}
    assert default_cookie_source().get_cookies() == {"cf_clearance": "cf"}


def test_a_huge_har_names_the_limit_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_module, "MAX_HAR_FILE_SIZE", 100)
    path = tmp_path / "big.har"
    path.write_text(har(entry("https://chat-gpt.org/", cookies={"sid": SECRET})))
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource(path).get_cookies()
    ((_, reason),) = caught.value.tried
    assert "is too large for a cookies file (the limit is 100)" in reason
    assert "reload the page only, and export again" in reason
    assert SECRET not in str(caught.value)


# --------------------------------------------------------------------------- folders


def write(path: Path, text: str, mtime: float) -> Path:
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return path


def netscape(*cookies: tuple[str, str]) -> str:
    return HEADER + "".join(f".chat-gpt.org\tTRUE\t/\tTRUE\t0\t{n}\t{v}\n" for n, v in cookies)


def editor(*cookies: tuple[str, str]) -> str:
    return json.dumps([{"domain": "chat-gpt.org", "name": n, "value": v} for n, v in cookies])


def test_a_folder_gives_the_newest_file_for_each_cookie(tmp_path: Path) -> None:
    write(tmp_path / "old.txt", netscape(("sid", "old"), ("only_old", "o")), NOW - 300)
    write(tmp_path / "mid.json", editor(("sid", "mid"), ("cf", "mid")), NOW - 200)
    write(
        tmp_path / "new.har",
        har(entry("https://chat-gpt.org/", cookies={"cf": "new"})),
        NOW - 100,
    )
    assert FileCookieSource(tmp_path).get_cookies() == {"sid": "mid", "only_old": "o", "cf": "new"}


def test_a_folder_ignores_other_files_and_subfolders(tmp_path: Path) -> None:
    write(tmp_path / "cookies.txt", netscape(("sid", "txt")), NOW - 100)
    write(tmp_path / "notes.md", netscape(("sid", "md")), NOW)
    write(tmp_path / "cookies.txt.bak", netscape(("sid", "bak")), NOW)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "newer.txt", netscape(("sid", "sub")), NOW)
    (tmp_path / "dir.json").mkdir()  # a folder named like a file: skipped with its reason
    assert FileCookieSource(tmp_path).get_cookies() == {"sid": "txt"}


def test_a_folder_through_the_variable_and_the_default_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "har_and_cookies"
    folder.mkdir()
    write(folder / "a.har", har(entry("https://chat-gpt.org/", cookies={"sid": "har"})), NOW)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(folder))
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    assert default_cookie_source().get_cookies() == {"sid": "har"}


def test_a_folder_with_nothing_usable_says_why_for_each_file(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "garbage\n", NOW)
    write(tmp_path / "b.json", editor(("x", "1")).replace("chat-gpt.org", "example.com"), NOW)
    with pytest.raises(CookiesNotFoundError) as caught:
        FileCookieSource(tmp_path).get_cookies()
    ((label, reason),) = caught.value.tried
    assert label == f"file {tmp_path}"
    assert reason.startswith("no usable cookie of chat-gpt.org in the 2 files of this folder")
    assert "a.txt: neither a Netscape cookies.txt" in reason
    assert "b.json: no cookie of chat-gpt.org among 1 cookie of other sites" in reason


def test_an_empty_folder_says_what_it_reads(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hi")
    with pytest.raises(CookiesNotFoundError, match=r"no \.har, \.json or \.txt file"):
        FileCookieSource(tmp_path).get_cookies()


def test_a_folder_reads_only_the_files_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[str] = []
    real = file_module.read_cookie_text

    def counting(text: str, domain: str) -> Any:
        parses.append(text)
        return real(text, domain)

    monkeypatch.setattr(file_module, "read_cookie_text", counting)
    write(tmp_path / "a.txt", netscape(("a", "1")), NOW - 10)
    write(tmp_path / "b.txt", netscape(("b", "1")), NOW - 10)
    source = FileCookieSource(tmp_path)
    assert source.get_cookies() == {"a": "1", "b": "1"}
    assert source.get_cookies() == {"a": "1", "b": "1"}
    assert len(parses) == 2
    write(tmp_path / "b.txt", netscape(("b", "22")), NOW)
    assert source.get_cookies() == {"a": "1", "b": "22"}
    assert len(parses) == 3
    (tmp_path / "a.txt").unlink()
    assert source.get_cookies() == {"b": "22"}
    assert source.refresh_cookies() == {"b": "22"}
    assert len(parses) == 4  # a refresh reads again even what did not change


def test_folder_files_open_to_others_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "a.txt", netscape(("sid", SECRET)), NOW)
    path.chmod(0o644)
    caplog.set_level(logging.DEBUG, logger="aichat")
    assert FileCookieSource(tmp_path).get_cookies() == {"sid": SECRET}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"cookies file {path} is accessible by other users (mode 644); they can read your "
        f"session: run chmod 600 {path}"
    ]
    assert all(SECRET not in record.getMessage() for record in caplog.records)


# --------------------------------------------------------------------------- properties


@given(st.text())
def test_har_parser_raises_only_typed_errors_on_any_text(text: str) -> None:
    try:
        cookies = parse_har(text, now=NOW)
    except AichatError:
        return
    format_cookie_header(cookies)


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "https://chat-gpt.org/",
            "http://x.chat-gpt.org:8080/a?b",
            "https://notchat-gpt.org/",
            "http://[::1/",
            "2025-06-15T10:00:00Z",
            "2025-13-45T99:99:99+99:99",
            "1970-01-01T00:00:00Z",
            "Wed, 21 Oct 2065 07:28:00 GMT",
            "a=b; c",
            "cookie",
            "Cookie",
        ]
    )
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "log",
                    "entries",
                    "request",
                    "response",
                    "url",
                    "cookies",
                    "headers",
                    "name",
                    "value",
                    "domain",
                    "expires",
                    "startedDateTime",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_har_parser_raises_only_typed_errors_on_near_valid_structures(data: object) -> None:
    text = json.dumps({"log": {"entries": data}} if isinstance(data, list) else data)
    try:
        cookies = parse_har(text, now=NOW)
    except CookiesNotFoundError:
        return
    format_cookie_header(cookies)
