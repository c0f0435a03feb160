"""The stub's challenge page, solved in Python as a browser's script solves it."""

from __future__ import annotations

import hashlib
import re

from aichat_adapters.stub._challenge import leading_zero_bits

__all__ = ["BODY", "BROWSER", "HEADLESS", "solve"]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0"
"""A desktop Chrome's User-Agent: the gate clears it."""
HEADLESS = BROWSER.replace("Chrome/", "HeadlessChrome/")
"""The same browser headless: the gate never clears it."""
BODY = {
    "message": "Hi",
    "temperature": 0.5,
    "presence_penalty": 0,
    "top_p": 1,
    "frequency_penalty": 0,
}
"""A request body of the site's API."""


def solve(page: str) -> dict[str, str]:
    """What the page's script posts: the nonce and the first counter with enough zero bits."""
    found = re.search(r'var nonce = "([^"]+)", bits = (\d+)', page)
    assert found is not None, page[:200]
    nonce, bits = found.group(1), int(found.group(2))
    answer = 0
    while leading_zero_bits(hashlib.sha256(f"{nonce}:{answer}".encode()).digest()) < bits:
        answer += 1
    return {"nonce": nonce, "answer": str(answer)}
