"""Write-back: `FileCookieSource(path, write_back=True)` saves rotated cookies in its format."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import aichat_adapters.cookies._file as file_module
from aichat_adapters.cookies import ChainCookieSource, EnvCookieSource, FileCookieSource
from aichat_core import InvalidRequestError
from tests.support import read_only

NOW = 1_750_000_000.0
FUTURE = int(NOW) + 86_400
PAST = int(NOW) - 86_400
SECRET = "wr1teS3cretV4lue"
HEADER = "# Netscape HTTP Cookie File\n"

OTHER_LINES = (
    "# https://curl.se/docs/http-cookies.html\n"
    f".example.com\tTRUE\t/\tFALSE\t{FUTURE}\tsid\texample-value\n"
    f"notchat-gpt.org\tFALSE\t/\tTRUE\t0\tsid\tlookalike\n"
    "#HttpOnly_.chat-gpt.org.evil.com\tTRUE\t/\tTRUE\t0\tsid\tevil\n"
)
NETSCAPE = (
    HEADER
    + OTHER_LINES
    + f"#HttpOnly_.chat-gpt.org\tTRUE\t/\tTRUE\t{FUTURE}\tsid\told-sid\n"
    + f".chat-gpt.org\tTRUE\t/\tTRUE\t{FUTURE}\tcf_clearance\tcf\n"
    + "chat-gpt.org\tFALSE\t/\tTRUE\t0\tgone\tbye\n"
    + f"x.chat-gpt.org\tFALSE\t/\tTRUE\t{PAST}\tgone\texpired-copy\n"
)
OTHER_ENTRIES: list[dict[str, Any]] = [
    {"domain": ".example.com", "name": "sid", "value": "example-value", "path": "/"},
    {"domain": "notchat-gpt.org", "name": "sid", "value": "lookalike", "session": True},
    {"id": 7, "weird": ["kept", "as", "is"]},
]
EDITOR: list[dict[str, Any]] = [
    *OTHER_ENTRIES,
    {
        "domain": ".chat-gpt.org",
        "name": "sid",
        "value": "old-sid",
        "path": "/",
        "httpOnly": True,
        "expirationDate": FUTURE + 0.5,
    },
    {"domain": "chat-gpt.org", "name": "cf_clearance", "value": "cf", "session": True},
    {"domain": "chat-gpt.org", "name": "gone", "value": "bye", "session": True},
]
ROTATED = {"sid": "new-sid", "cf_clearance": "cf", "fresh": "hello"}


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "_now", lambda: NOW)


def write(path: Path, kind: str) -> Path:
    if kind == "netscape":
        path.write_text(NETSCAPE)
    else:
        path.write_text(json.dumps(EDITOR, indent=2) + "\n")
    path.chmod(0o600)
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


KINDS = [pytest.param("netscape", id="netscape"), pytest.param("editor", id="cookie-editor")]


@pytest.mark.parametrize("kind", KINDS)
def test_rotated_cookies_are_saved_and_read_back(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path / "cookies.txt", kind)
    source = FileCookieSource(path, write_back=True)
    assert source.get_cookies() == {"sid": "old-sid", "cf_clearance": "cf", "gone": "bye"}

    source.save_cookies(ROTATED)

    assert FileCookieSource(path).get_cookies() == ROTATED  # a new source reads them
    assert source.get_cookies() == ROTATED  # and the old one sees the file changed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_netscape_keeps_other_sites_lines_and_the_cookies_attributes(tmp_path: Path) -> None:
    path = write(tmp_path / "cookies.txt", "netscape")
    FileCookieSource(path, write_back=True).save_cookies(ROTATED)
    assert path.read_text() == (
        HEADER
        + OTHER_LINES
        + f"#HttpOnly_.chat-gpt.org\tTRUE\t/\tTRUE\t{FUTURE}\tsid\tnew-sid\n"
        + f".chat-gpt.org\tTRUE\t/\tTRUE\t{FUTURE}\tcf_clearance\tcf\n"
        + "chat-gpt.org\tFALSE\t/\tFALSE\t0\tfresh\thello\n"
    )


def test_cookie_editor_keeps_other_sites_entries_and_the_cookies_attributes(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "cookies.json", "editor")
    FileCookieSource(path, write_back=True).save_cookies(ROTATED)
    data = json.loads(path.read_text())
    assert data[:3] == OTHER_ENTRIES
    assert data[3] == {**EDITOR[3], "value": "new-sid"}
    assert data[4] == EDITOR[4]
    assert data[5]["name"] == "fresh"
    assert data[5]["value"] == "hello"
    assert len(data) == 6  # "gone" was deleted
    assert path.read_text().startswith('[\n  {\n    "domain"')  # the indentation is kept


def test_crlf_and_utf16_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_bytes(NETSCAPE.replace("\n", "\r\n").encode("utf-16"))
    FileCookieSource(path, write_back=True).save_cookies(ROTATED)
    data = path.read_bytes()
    assert data.startswith(b"\xff\xfe")
    text = data.decode("utf-16")
    assert "\tnew-sid\r\n" in text
    assert text.endswith("\tfresh\thello\r\n")
    assert OTHER_LINES.replace("\n", "\r\n") in text


def test_unchanged_cookies_do_not_touch_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "cookies.txt", "netscape")
    os.utime(path, ns=(0, 1_000_000_000))
    FileCookieSource(path, write_back=True).save_cookies(
        {"sid": "old-sid", "cf_clearance": "cf", "gone": "bye"}
    )
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert path.read_text() == NETSCAPE


def test_without_write_back_nothing_is_saved(tmp_path: Path) -> None:
    path = write(tmp_path / "cookies.txt", "netscape")
    FileCookieSource(path).save_cookies(ROTATED)
    assert path.read_text() == NETSCAPE


def test_a_missing_file_is_created_as_cookies_txt(tmp_path: Path) -> None:
    path = tmp_path / "new.txt"
    FileCookieSource(path, write_back=True).save_cookies({"sid": "s"})
    assert path.read_text() == HEADER + "chat-gpt.org\tFALSE\t/\tFALSE\t0\tsid\ts\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symbolic_link_is_followed_and_kept(tmp_path: Path) -> None:
    target = write(tmp_path / "real.txt", "netscape")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    FileCookieSource(link, write_back=True).save_cookies(ROTATED)
    assert link.is_symlink()
    assert FileCookieSource(target).get_cookies() == ROTATED


def test_the_domain_of_the_source_is_the_one_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE + "127.0.0.1\tFALSE\t/\tFALSE\t0\tstub\tone\n")
    FileCookieSource(path, domain="127.0.0.1", write_back=True).save_cookies({"stub": "two"})
    assert path.read_text() == NETSCAPE + "127.0.0.1\tFALSE\t/\tFALSE\t0\tstub\ttwo\n"


def test_a_chain_passes_the_save_to_the_source_that_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AICHAT_COOKIES", raising=False)
    path = write(tmp_path / "cookies.txt", "netscape")
    chain = ChainCookieSource(EnvCookieSource(), FileCookieSource(path, write_back=True))
    chain.save_cookies(ROTATED)  # nobody answered yet: nothing to save to
    assert path.read_text() == NETSCAPE
    chain.get_cookies()
    chain.save_cookies(ROTATED)
    assert FileCookieSource(path).get_cookies() == ROTATED


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_only_folder_is_a_warning_not_an_error(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = write(folder / "cookies.txt", kind)
    before = path.read_bytes()
    source = FileCookieSource(path, write_back=True)
    caplog.set_level(logging.DEBUG)
    with read_only(folder, monkeypatch):
        source.save_cookies({"sid": SECRET})
        assert leftovers(folder) == []
    assert path.read_bytes() == before
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    # "Permission denied" for a user, "Operation not permitted" for root (immutable folder).
    assert warning.getMessage().startswith(f"rotated cookies not saved to {path}: ")
    assert warning.getMessage().endswith(" (PermissionError)")
    assert SECRET not in caplog.text


def test_a_failure_while_writing_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "cookies.txt", "netscape")

    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    FileCookieSource(path, write_back=True).save_cookies(ROTATED)
    assert leftovers(tmp_path) == []
    assert path.read_text() == NETSCAPE
    assert "No space left on device" in caplog.text


@pytest.mark.parametrize(
    ("cookies", "reason"),
    [
        pytest.param({"sid": SECRET + "\n"}, "the value of cookie 'sid'", id="bad-value"),
        pytest.param([("sid", SECRET)], "save_cookies() takes a mapping, not list", id="list"),
    ],
)
def test_bad_cookies_are_a_warning_without_values(
    tmp_path: Path, cookies: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "cookies.txt", "netscape")
    FileCookieSource(path, write_back=True).save_cookies(cookies)
    assert path.read_text() == NETSCAPE
    assert reason in caplog.text
    assert SECRET not in caplog.text


def test_a_har_found_at_save_time_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"log": {"entries": []}}))
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    FileCookieSource(write_back=True).save_cookies({"sid": "s"})
    assert "write-back cannot rewrite a HAR export" in caplog.text
    assert json.loads(path.read_text()) == {"log": {"entries": []}}


def test_a_folder_found_at_save_time_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(tmp_path))
    FileCookieSource(write_back=True).save_cookies({"sid": "s"})
    assert "write-back needs a file, and this is a folder" in caplog.text
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("export.HAR", "cannot rewrite a HAR export", id="har"),
        pytest.param("", "needs a file", id="folder"),
    ],
)
def test_har_and_folders_are_refused_at_construction(
    tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        FileCookieSource(tmp_path / name if name else tmp_path, write_back=True)
    assert FileCookieSource(tmp_path / name if name else tmp_path).write_back is False


def test_write_back_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="write_back must be True or False"):
        FileCookieSource(tmp_path / "c.txt", write_back="yes")  # type: ignore[arg-type]


def test_the_repr_says_write_back(tmp_path: Path) -> None:
    source = FileCookieSource(tmp_path / "c.txt", write_back=True)
    assert repr(source) == (
        f"FileCookieSource(path='{tmp_path}/c.txt', domain='chat-gpt.org', write_back=True)"
    )
