"""``aichat cookies`` and the cookie files of the other commands, run as the installed command.

Hostile files (far-future expiries, a FIFO, a device) end with a line and an
exit code, never a traceback or a hang; files and folders select the cookies
of ``--base-url``'s host only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aichat_adapters.stub import StubServer
from tests.support import no_cookies_env, run

SECRET = "cl1S3cretV4lue"


def private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def netscape(*lines: tuple[str, str, str, int | str]) -> str:
    """A cookies.txt of (domain, name, value, expiry) lines."""
    body = "".join(
        f"{domain}\t{'TRUE' if domain.startswith('.') else 'FALSE'}\t/\tTRUE\t{expires}\t"
        f"{name}\t{value}\n"
        for domain, name, value, expires in lines
    )
    return "# Netscape HTTP Cookie File\n" + body


def har(url: str, **cookies: str) -> str:
    entry = {
        "startedDateTime": "2025-06-15T10:00:00.000Z",
        "request": {
            "method": "GET",
            "url": url,
            "headers": [],
            "cookies": [{"name": n, "value": v} for n, v in cookies.items()],
        },
        "response": {"status": 200, "headers": [], "cookies": []},
    }
    return json.dumps({"log": {"version": "1.2", "entries": [entry]}})


def no_leak(output: str, *values: str) -> None:
    assert "Traceback" not in output
    for value in values:
        assert value not in output


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param(
            "cookies.txt",
            netscape((".chat-gpt.org", "sid", SECRET, "999999999999999")),
            id="netscape-15-digits",
        ),
        pytest.param(
            "cookies.json",
            json.dumps(
                [
                    {
                        "domain": "chat-gpt.org",
                        "name": "sid",
                        "value": SECRET,
                        "expirationDate": 1e300,
                    }
                ]
            ),
            id="cookie-editor-1e300",
        ),
    ],
)
def test_a_far_future_expiry_is_shown_without_a_traceback(
    tmp_path: Path, name: str, content: str
) -> None:
    path = private(tmp_path / name, content)

    result = run("cookies", "--cookies-file", str(path), env=no_cookies_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert f"1 cookie for chat-gpt.org from file {path}" in result.stdout
    assert "sid" in result.stdout
    assert "expires in the far future (no calendar date)" in result.stdout
    assert result.stderr == ""
    no_leak(result.stdout + result.stderr, SECRET)


@pytest.mark.parametrize("how", ["option", "variable"])
def test_a_fifo_exits_3_at_once(tmp_path: Path, how: str) -> None:
    fifo = tmp_path / "cookies.txt"
    os.mkfifo(fifo)
    env = no_cookies_env(tmp_path)
    args = ["--cookies-file", str(fifo)] if how == "option" else []
    if how == "variable":
        env["AICHAT_COOKIES_FILE"] = str(fifo)

    # run() waits at most WAIT seconds: a FIFO that blocked would fail the test there.
    result = run("cookies", *args, env=env)

    assert result.returncode == 3
    assert f"file {fifo}: is a FIFO (named pipe), not a regular file" in result.stdout
    assert result.stderr.startswith("error: no cookie source has cookies for chat-gpt.org")
    assert result.stderr.count("\n") == 1
    no_leak(result.stdout + result.stderr)


def test_a_device_exits_3(tmp_path: Path) -> None:
    result = run("cookies", "--cookies-file", "/dev/zero", env=no_cookies_env(tmp_path))

    assert result.returncode == 3
    assert "file /dev/zero: is a character device, not a regular file" in result.stdout
    no_leak(result.stdout + result.stderr)


def test_ask_with_a_fifo_sends_nothing_and_exits_3(stub: StubServer, tmp_path: Path) -> None:
    fifo = tmp_path / "cookies.txt"
    os.mkfifo(fifo)

    result = run("ask", "Hi", "--base-url", stub.url, "--cookies-file", str(fifo))

    assert result.returncode == 3
    assert "is a FIFO (named pipe)" in result.stderr
    assert stub.requests == []
    no_leak(result.stderr)


def test_a_cookies_file_others_can_read_is_reported(tmp_path: Path) -> None:
    path = private(tmp_path / "cookies.txt", netscape((".chat-gpt.org", "sid", SECRET, 0)))
    path.chmod(0o644)

    result = run("cookies", "--cookies-file", str(path), env=no_cookies_env(tmp_path))

    assert result.returncode == 0
    assert result.stderr == (
        f"cookies file {path} is accessible by other users (mode 644); they can read your "
        f"session: run chmod 600 {path}\n"
    )
    no_leak(result.stdout + result.stderr, SECRET)


# --------------------------------------------------------------------------- HAR and folders


def test_a_har_export_is_read(tmp_path: Path) -> None:
    path = private(
        tmp_path / "chat-gpt.org.har",
        har("https://chat-gpt.org/chat", cf_clearance=SECRET),
    )

    result = run("cookies", "--cookies-file", str(path), env=no_cookies_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert f"1 cookie for chat-gpt.org from file {path}" in result.stdout
    assert "cf_clearance" in result.stdout
    assert "session cookie (no expiry date)" in result.stdout
    no_leak(result.stdout + result.stderr, SECRET)


def test_a_folder_in_the_variable_gives_the_newest_file_per_cookie(tmp_path: Path) -> None:
    folder = tmp_path / "har_and_cookies"
    folder.mkdir()
    old = private(
        folder / "old.txt",
        netscape((".chat-gpt.org", "sid", "old-" + SECRET, 0), (".chat-gpt.org", "keep", "k", 0)),
    )
    os.utime(old, (1_700_000_000, 1_700_000_000))
    private(folder / "new.har", har("https://chat-gpt.org/", sid="new-" + SECRET))
    private(folder / "notes.md", "not read")
    env = {**no_cookies_env(tmp_path), "AICHAT_COOKIES_FILE": str(folder)}

    result = run("cookies", env=env)

    assert result.returncode == 0, result.stderr
    assert f"2 cookies for chat-gpt.org from file {folder}" in result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert f"{len('new-' + SECRET)} chars" in lines["sid"]
    assert "keep" in lines
    no_leak(result.stdout + result.stderr, SECRET)


# --------------------------------------------------------------------------- the host's only


MIXED = netscape(
    (".chat-gpt.org", "sid", "site-" + SECRET, 0),
    ("127.0.0.1", "stub_sid", "stub-value", 0),
)


def test_cookies_shows_the_cookies_of_the_base_urls_host(tmp_path: Path) -> None:
    path = private(tmp_path / "cookies.txt", MIXED)
    env = {**no_cookies_env(tmp_path), "AICHAT_COOKIES_FILE": str(path)}

    default = run("cookies", env=env)
    local = run("cookies", "--base-url", "http://127.0.0.1:8000", env=env)

    assert default.returncode == 0, default.stderr
    assert "1 cookie for chat-gpt.org from file" in default.stdout
    assert "stub_sid" not in default.stdout
    assert local.returncode == 0, local.stderr
    assert "1 cookie for 127.0.0.1 from file" in local.stdout
    assert "stub_sid" in local.stdout
    assert " sid " not in local.stdout


def test_ask_sends_a_file_only_the_base_urls_cookies(stub: StubServer, tmp_path: Path) -> None:
    path = private(tmp_path / "cookies.txt", MIXED)

    by_option = run("ask", "Hi", "--base-url", stub.url, "--cookies-file", str(path))
    by_variable = run("ask", "Hi", "--base-url", stub.url, env={"AICHAT_COOKIES_FILE": str(path)})

    assert by_option.returncode == 0, by_option.stderr
    assert by_variable.returncode == 0, by_variable.stderr
    assert [request.cookies for request in stub.requests] == [{"stub_sid": "stub-value"}] * 2


def test_the_sites_cookies_never_reach_another_host(stub: StubServer, tmp_path: Path) -> None:
    path = private(tmp_path / "cookies.txt", netscape((".chat-gpt.org", "sid", SECRET, 0)))
    env = {**no_cookies_env(tmp_path), "AICHAT_COOKIES_FILE": str(path)}

    result = run("ask", "Hi", "--base-url", stub.url, env=env)

    assert result.returncode == 3
    assert stub.requests == []
    assert "no cookie of 127.0.0.1 among 1 cookie of other sites" in result.stderr
    no_leak(result.stdout + result.stderr, SECRET)


# --------------------------------------------------------------------------- expired cookies

FAR = 4102444800  # 2100-01-01
PAST = 1767225600  # 2026-01-01 00:00 UTC, as docs/cookies.md's sample had it


def test_expired_cookies_are_counted_and_named_not_dropped_silently(tmp_path: Path) -> None:
    cookies = private(
        tmp_path / "cookies.txt",
        netscape(
            (".chat-gpt.org", "session", SECRET, FAR),
            (".chat-gpt.org", "cf_clearance", SECRET, PAST),
            (".chat-gpt.org", "__cf_bm", SECRET, PAST - 3600),
            (".chat-gpt.org", "theme", "dark", PAST),  # also given unexpired below: not dropped
            ("chat-gpt.org", "theme", "light", 0),
        ),
    )

    result = run("cookies", "--cookies-file", str(cookies), env=no_cookies_env(tmp_path))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"2 cookies for chat-gpt.org from file {cookies} (2 expired, dropped)"
    assert [line.split()[:2] for line in lines[3:5]] == [
        ["__cf_bm", "dropped"],
        ["cf_clearance", "dropped"],
    ]
    assert "expired 2026-01-01 00:00 UTC (" in lines[4]
    no_leak(result.stdout + result.stderr, SECRET)


def test_expired_cookies_of_a_folder_are_counted_too(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    private(folder / "old.txt", netscape((".chat-gpt.org", "cf_clearance", SECRET, PAST)))
    private(folder / "new.txt", netscape((".chat-gpt.org", "session", SECRET, FAR)))

    result = run("cookies", "--cookies-file", str(folder), env=no_cookies_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("(1 expired, dropped)")
    assert "cf_clearance" in result.stdout.splitlines()[2]


def test_with_nothing_expired_nothing_is_said_of_it(tmp_path: Path) -> None:
    cookies = private(tmp_path / "c.txt", netscape((".chat-gpt.org", "session", SECRET, FAR)))

    result = run("cookies", "--cookies-file", str(cookies), env=no_cookies_env(tmp_path))

    assert result.stdout.splitlines()[0] == f"1 cookie for chat-gpt.org from file {cookies}"
    assert "dropped" not in result.stdout
