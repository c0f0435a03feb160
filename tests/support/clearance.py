"""What the clearance tests share: leftovers in /proc and on disk, and one call to the stub."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from aichat_adapters import HttpxTransport
from aichat_core import Credentials, GenerationParams, Reply, build_request, parse_response

PROFILE_PREFIX = "aichat-clearance-"


def processes_naming(folder: Path) -> dict[int, str]:
    """Live processes (zombies excepted) whose command line names ``folder``: pid to command."""
    marker = os.fsencode(folder)
    found: dict[int, str] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as file:
                state = file.read().rpartition(b")")[2].split()[0]
            with open(f"/proc/{name}/cmdline", "rb") as file:
                command = file.read()
        except (OSError, IndexError):
            continue
        if state != b"Z" and marker in command:
            found[int(name)] = command.replace(b"\0", b" ").decode(errors="replace")[:200]
    return found


def leftover_profiles(folder: Path) -> list[str]:
    """The browser profile folders left in ``folder``."""
    return sorted(path.name for path in folder.glob(PROFILE_PREFIX + "*"))


def ask(base_url: str, credentials: Credentials | Mapping[str, str], prompt: str = "Hi") -> Reply:
    """One request to the stub's ``/api/text`` through the real httpx transport.

    Sends the credentials' cookies, headers and User-Agent (bare cookies: the
    SDK's default User-Agent); raises what the clients raise (a 403 page is a
    ``ChallengeError``).
    """
    bundle = Credentials.of(credentials)
    request = build_request(
        prompt,
        GenerationParams(),
        base_url=base_url,
        cookies=bundle.cookies,
        headers=bundle.headers,
        **({"user_agent": bundle.user_agent} if bundle.user_agent else {}),
    )
    transport = HttpxTransport()
    try:
        return parse_response(transport.send(request, timeout=10.0), now=time.time())
    finally:
        transport.close()
