"""CurlTransport's target when none is named: the one nearest the browser a User-Agent names."""

from __future__ import annotations

import pytest

from aichat_adapters.transports._curl import nearest_target

# A fixed list in curl_cffi 0.17's spelling, so the table does not move with curl_cffi.
TARGETS = (
    *("edge99", "edge101", "chrome99", "chrome100", "chrome110", "chrome131", "chrome133a"),
    *("chrome136", "chrome142", "chrome146", "chrome150", "chrome152", "chrome152_macos"),
    *("chrome131_android", "safari153", "safari180", "safari184", "safari180_ios"),
    *("safari260", "safari2601", "firefox133", "firefox147", "firefox155", "tor145"),
)

LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"


@pytest.mark.parametrize(
    ("user_agent", "target"),
    [
        (f"{LINUX} Chrome/150.0.0.0 Safari/537.36", "chrome150"),
        (f"{LINUX} Chrome/148.0.7778.96 Safari/537.36", "chrome146"),  # the newest not newer
        (f"{LINUX} Chrome/90.0.0.0 Safari/537.36", "chrome99"),  # older than all: the oldest
        (f"{MAC} Chrome/152.0.0.0 Safari/537.36", "chrome152_macos"),
        (f"{MAC} Chrome/150.0.0.0 Safari/537.36", "chrome150"),  # no macOS 150: the plain one
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/140.0.0.0 Mobile Safari/537.36",
            "chrome131_android",
        ),
        (f"{LINUX} Chrome/150.0.0.0 Safari/537.36 Edg/150.0.0.0", "chrome150"),  # Edge: its Chrome
        (f"{LINUX} Chrome/101.0.0.0 Safari/537.36 Edg/101.0.1210.39", "edge101"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:150.0) Gecko/20100101 Firefox/150.0", "firefox147"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.5 Safari/605.1.15",
            "safari184",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
            "safari180_ios",
        ),
        (f"{LINUX} HeadlessChrome/150.0.0.0 Safari/537.36", None),
        ("curl/8.5.0", None),
        ("", None),
    ],
)
def test_the_nearest_target(user_agent: str, target: str | None) -> None:
    assert nearest_target(user_agent, TARGETS) == target
