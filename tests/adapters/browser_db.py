"""Build real browser cookie databases in a directory, for the browser source's tests.

Two formats, as the browsers write them:

* Firefox's ``cookies.sqlite``: the ``moz_cookies`` table, values in clear.
* Chrome's ``Cookies`` on Linux without a keyring: schema version 24 (Chrome
  130 and later), values encrypted as ``b"v10" + AES-128-CBC`` with the key
  derived from the password ``peanuts``, and the plaintext prefixed with the
  SHA-256 of the cookie's ``host_key``.

AES is written out here (encryption only, a few dozen lines checked against
the FIPS-197 example) so that the tests need no crypto package.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "CHROME_EPOCH_OFFSET",
    "FakeCookie",
    "aes128_cbc_encrypt",
    "aes128_encrypt_block",
    "chrome_encrypt",
    "chrome_linux_key",
    "chrome_timestamp",
    "make_chrome_db",
    "make_chrome_profile",
    "make_firefox_db",
    "make_firefox_profile",
]

# Seconds between 1601-01-01 (Chrome's epoch) and 1970-01-01.
CHROME_EPOCH_OFFSET = 11_644_473_600


@attrs.frozen
class FakeCookie:
    """One cookie row to write; ``expires`` is Unix seconds, ``None`` for a session cookie."""

    host: str
    name: str
    value: str
    expires: int | None
    path: str = "/"
    secure: bool = True
    http_only: bool = False


# --- AES-128 (FIPS-197), encryption direction only ---------------------------


def _xtime(byte: int) -> int:
    byte <<= 1
    return (byte ^ 0x11B) if byte & 0x100 else byte


def _build_sbox() -> tuple[int, ...]:
    # Walk the multiplicative group with generator 3 and its inverse at the
    # same time: q is always the inverse of p. Then apply the affine map.
    sbox = [0x63] * 256
    p = q = 1
    while True:
        p ^= _xtime(p)
        q ^= q << 1
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        rotated = q
        value = q
        for _ in range(4):
            rotated = ((rotated << 1) | (rotated >> 7)) & 0xFF
            value ^= rotated
        sbox[p] = value ^ 0x63
        if p == 1:
            return tuple(sbox)


_SBOX = _build_sbox()
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


def _expand_key(key: bytes) -> list[list[int]]:
    if len(key) != 16:
        raise ValueError("AES-128 needs a 16-byte key")
    words = [list(key[i : i + 4]) for i in range(0, 16, 4)]
    for i in range(4, 44):
        word = list(words[i - 1])
        if i % 4 == 0:
            word = word[1:] + word[:1]
            word = [_SBOX[b] for b in word]
            word[0] ^= _RCON[i // 4 - 1]
        words.append([a ^ b for a, b in zip(words[i - 4], word, strict=True)])
    return [[b for word in words[r * 4 : r * 4 + 4] for b in word] for r in range(11)]


def aes128_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with AES-128."""
    if len(block) != 16:
        raise ValueError("AES works on 16-byte blocks")
    round_keys = _expand_key(key)
    state = [b ^ k for b, k in zip(block, round_keys[0], strict=True)]
    for round_number in range(1, 11):
        state = [_SBOX[b] for b in state]
        # ShiftRows: the state is column-major, byte (row r, column c) at r + 4c.
        state = [state[r + 4 * ((c + r) % 4)] for c in range(4) for r in range(4)]
        if round_number != 10:
            mixed: list[int] = []
            for c in range(4):
                a0, a1, a2, a3 = state[4 * c : 4 * c + 4]
                mixed += [
                    _xtime(a0) ^ _xtime(a1) ^ a1 ^ a2 ^ a3,
                    a0 ^ _xtime(a1) ^ _xtime(a2) ^ a2 ^ a3,
                    a0 ^ a1 ^ _xtime(a2) ^ _xtime(a3) ^ a3,
                    _xtime(a0) ^ a0 ^ a1 ^ a2 ^ _xtime(a3),
                ]
            state = mixed
        state = [b ^ k for b, k in zip(state, round_keys[round_number], strict=True)]
    return bytes(state)


def aes128_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """AES-128-CBC with PKCS#7 padding."""
    pad = 16 - len(plaintext) % 16
    data = plaintext + bytes([pad]) * pad
    previous = iv
    out = bytearray()
    for start in range(0, len(data), 16):
        block = bytes(a ^ b for a, b in zip(data[start : start + 16], previous, strict=True))
        previous = aes128_encrypt_block(key, block)
        out += previous
    return bytes(out)


# --- Chrome ------------------------------------------------------------------


def chrome_linux_key(password: bytes = b"peanuts") -> bytes:
    """The AES key Chrome on Linux derives when no keyring holds a password."""
    return hashlib.pbkdf2_hmac("sha1", password, b"saltysalt", 1, dklen=16)


def chrome_encrypt(host_key: str, value: str, *, password: bytes = b"peanuts") -> bytes:
    """``encrypted_value`` as Chrome >= 130 writes it on Linux (``v10``, host hash prefix)."""
    plaintext = hashlib.sha256(host_key.encode()).digest() + value.encode()
    return b"v10" + aes128_cbc_encrypt(chrome_linux_key(password), b" " * 16, plaintext)


def chrome_timestamp(unix_seconds: int | None) -> int:
    """Microseconds since 1601-01-01; 0 for a session cookie."""
    if unix_seconds is None:
        return 0
    return (unix_seconds + CHROME_EPOCH_OFFSET) * 1_000_000


_CHROME_SCHEMA = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE cookies(
    creation_utc INTEGER NOT NULL,
    host_key TEXT NOT NULL,
    top_frame_site_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    encrypted_value BLOB NOT NULL,
    path TEXT NOT NULL,
    expires_utc INTEGER NOT NULL,
    is_secure INTEGER NOT NULL,
    is_httponly INTEGER NOT NULL,
    last_access_utc INTEGER NOT NULL,
    has_expires INTEGER NOT NULL,
    is_persistent INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    samesite INTEGER NOT NULL,
    source_scheme INTEGER NOT NULL,
    source_port INTEGER NOT NULL,
    last_update_utc INTEGER NOT NULL,
    source_type INTEGER NOT NULL,
    has_cross_site_ancestor INTEGER NOT NULL);
CREATE UNIQUE INDEX cookies_unique_index ON cookies(host_key, top_frame_site_key,
    has_cross_site_ancestor, name, path, source_scheme, source_port);
INSERT INTO meta VALUES('mmap_status', '-1');
INSERT INTO meta VALUES('version', '24');
INSERT INTO meta VALUES('last_compatible_version', '24');
"""


def make_chrome_db(
    directory: Path,
    cookies: Iterable[FakeCookie],
    *,
    filename: str = "Cookies",
    now: int = 1_750_000_000,
    raw_encrypted: dict[str, bytes] | None = None,
) -> Path:
    """Write a Chrome ``Cookies`` database and return its path.

    ``raw_encrypted`` maps a cookie name to the exact ``encrypted_value`` bytes
    to store instead of a correct encryption (to build broken rows).
    """
    path = directory / filename
    created = chrome_timestamp(now)
    rows = []
    for cookie in cookies:
        encrypted = (raw_encrypted or {}).get(cookie.name)
        if encrypted is None:
            encrypted = chrome_encrypt(cookie.host, cookie.value)
        rows.append(
            (
                created,
                cookie.host,
                "",
                cookie.name,
                "",
                encrypted,
                cookie.path,
                chrome_timestamp(cookie.expires),
                int(cookie.secure),
                int(cookie.http_only),
                created,
                int(cookie.expires is not None),
                int(cookie.expires is not None),
                1,
                -1,
                2 if cookie.secure else 1,
                443 if cookie.secure else 80,
                created,
                0,
                0,
            )
        )
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(_CHROME_SCHEMA)
        connection.executemany(
            "INSERT INTO cookies VALUES (" + ", ".join("?" * 20) + ")",
            rows,
        )
    return path


# --- Firefox -----------------------------------------------------------------

_FIREFOX_SCHEMA = """
CREATE TABLE moz_cookies (
    id INTEGER PRIMARY KEY,
    originAttributes TEXT NOT NULL DEFAULT '',
    name TEXT,
    value TEXT,
    host TEXT,
    path TEXT,
    expiry INTEGER,
    lastAccessed INTEGER,
    creationTime INTEGER,
    isSecure INTEGER,
    isHttpOnly INTEGER,
    inBrowserElement INTEGER DEFAULT 0,
    sameSite INTEGER DEFAULT 0,
    rawSameSite INTEGER DEFAULT 0,
    schemeMap INTEGER DEFAULT 0,
    isPartitionedAttributeSet INTEGER DEFAULT 0,
    CONSTRAINT moz_uniqueid UNIQUE (name, host, path, originAttributes)
);
"""


def make_firefox_db(
    directory: Path,
    cookies: Iterable[FakeCookie],
    *,
    filename: str = "cookies.sqlite",
    now: int = 1_750_000_000,
    expiry_in_milliseconds: bool = False,
) -> Path:
    """Write a Firefox ``cookies.sqlite`` and return its path.

    Firefox up to 141 (schema 15) stores ``expiry`` in seconds; Firefox 142
    and later (schema 16) in milliseconds: ``expiry_in_milliseconds`` writes
    the newer form.
    """
    path = directory / filename
    scale = 1000 if expiry_in_milliseconds else 1
    rows = [
        (
            "",
            cookie.name,
            cookie.value,
            cookie.host,
            cookie.path,
            # Firefox keeps session cookies with a far expiry; 0 stands for "none" here.
            0 if cookie.expires is None else cookie.expires * scale,
            now * 1_000_000,
            now * 1_000_000,
            int(cookie.secure),
            int(cookie.http_only),
            0,
            0,
            0,
            2 if cookie.secure else 1,
            0,
        )
        for cookie in cookies
    ]
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(_FIREFOX_SCHEMA)
        connection.execute(f"PRAGMA user_version = {16 if expiry_in_milliseconds else 15}")
        connection.executemany(
            "INSERT INTO moz_cookies (originAttributes, name, value, host, path, expiry,"
            " lastAccessed, creationTime, isSecure, isHttpOnly, inBrowserElement, sameSite,"
            " rawSameSite, schemeMap, isPartitionedAttributeSet)"
            " VALUES (" + ", ".join("?" * 15) + ")",
            rows,
        )
    return path


# --- Whole profiles under a home directory, where rookiepy looks on Linux ------


def make_chrome_profile(home: Path, cookies: Iterable[FakeCookie], **options: Any) -> Path:
    """Lay out ``~/.config/google-chrome`` as Chrome does; return the ``Cookies`` path.

    Chrome keeps ``Local State`` beside the profiles; rookiepy insists on
    finding it even on Linux, where it holds no key.
    """
    user_data = home / ".config" / "google-chrome"
    profile = user_data / "Default"
    profile.mkdir(parents=True)
    (user_data / "Local State").write_text('{"os_crypt": {"portal": {}}}', encoding="utf-8")
    return make_chrome_db(profile, cookies, **options)


def make_firefox_profile(home: Path, cookies: Iterable[FakeCookie], **options: Any) -> Path:
    """Lay out ``~/.mozilla/firefox`` with a default profile; return the ``cookies.sqlite`` path."""
    root = home / ".mozilla" / "firefox"
    profile = root / "k3x9q2ab.default-release"
    profile.mkdir(parents=True)
    (root / "profiles.ini").write_text(
        "[Profile0]\nName=default-release\nIsRelative=1\n"
        f"Path={profile.name}\nDefault=1\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n",
        encoding="utf-8",
    )
    return make_firefox_db(profile, cookies, **options)
