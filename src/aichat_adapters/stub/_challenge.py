"""The stub's challenge mode: an interstitial like Cloudflare's, that a real browser can pass.

Without a valid clearance, every request gets ``403`` and a "Just a moment..."
page. The page's script finds a small proof of work (a SHA-256 of the nonce
and a counter with ``difficulty`` leading zero bits, through ``crypto.subtle``)
and posts it to `SOLVE_PATH`; the gate checks it and sets an HttpOnly
``cf_clearance`` cookie bound to the solver's User-Agent. The same cookie
with another User-Agent is challenged again, and a User-Agent that says
"HeadlessChrome" is never cleared.

No I/O here: the ASGI app asks the gate, and the gate answers with bytes and
header values. The gate is not pure: it keeps the clearances it issued under a
lock, reads the clock and draws random tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

import attrs

__all__ = [
    "CLEARANCE_COOKIE",
    "HEADLESS_MARK",
    "SOLVE_PATH",
    "ChallengeGate",
    "Clearance",
    "leading_zero_bits",
]

#: The cookie the gate sets, as Cloudflare names it.
CLEARANCE_COOKIE = "cf_clearance"
#: Where the challenge page posts its answer.
SOLVE_PATH = "/cdn-cgi/challenge-platform/solve"
#: A User-Agent containing this is refused: a headless browser that did not hide itself.
HEADLESS_MARK = "HeadlessChrome"

_NONCE_LIFE = 600.0  # seconds a page's nonce can be answered
_MAX_CLEARANCES = 10_000  # the oldest are forgotten beyond this
_MAX_ANSWER = 20  # digits
_MAX_SOLVE_BODY = 4096

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Just a moment...</title>
<meta name="robots" content="noindex,nofollow"></head>
<body><h1>Just a moment...</h1>
<p>Checking your browser before accessing the site (aichat stub, challenge mode).</p>
<noscript>Enable JavaScript and cookies to continue.</noscript>
<script>
(async function () {
  var nonce = "__NONCE__", bits = __BITS__, encoder = new TextEncoder();
  function zeros(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      return count + Math.clz32(bytes[i]) - 24;
    }
    return count;
  }
  var answer = 0;
  for (;; answer++) {
    var digest = await crypto.subtle.digest("SHA-256", encoder.encode(nonce + ":" + answer));
    if (zeros(new Uint8Array(digest)) >= bits) { break; }
  }
  var response = await fetch("__SOLVE_PATH__", {
    method: "POST",
    credentials: "same-origin",
    headers: {"content-type": "application/json"},
    body: JSON.stringify({nonce: nonce, answer: String(answer)})
  });
  document.documentElement.dataset.challenge = response.ok ? "passed" : "refused";
  if (response.ok) { location.reload(); }
})();
</script></body></html>
"""

_CLEARED_PAGE = (
    b"<!DOCTYPE html><html><head><title>aichat stub</title></head>"
    b"<body><h1>Cleared</h1><p>The challenge was passed.</p></body></html>"
)


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits ``digest`` starts with."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


@attrs.frozen
class Clearance:
    """One clearance the gate issued (its token is never shown).

    Attributes:
        user_agent: The User-Agent of the browser that solved the challenge.
        issued_at: Epoch seconds at which it was issued.
        expires_at: Epoch seconds at which it stops working.
    """

    user_agent: str
    issued_at: float
    expires_at: float


def _difficulty(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32:
        raise ValueError(f"difficulty must be an int of leading zero bits in 0..32, not {value!r}")
    return value


def _max_age(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_age must be an int of seconds >= 1, not {value!r}")
    return value


class ChallengeGate:
    """The state of the stub's challenge mode: who is cleared, and for how long.

    Thread-safe: the tests read and change it while the server runs.

    Args:
        difficulty: Leading zero bits the proof of work needs (12: a few
            thousand SHA-256 in the page, well under a second).
        max_age: Seconds a clearance lasts (the cookie's ``Max-Age``).
        clearing: ``False`` refuses every answer: a challenge nobody passes.
    """

    def __init__(self, *, difficulty: int = 12, max_age: int = 1800, clearing: bool = True) -> None:
        if not isinstance(clearing, bool):
            raise ValueError(f"clearing must be True or False, not {clearing!r}")
        self._difficulty = _difficulty(difficulty)
        self._max_age = _max_age(max_age)
        self._initial = (self._max_age, clearing)
        self._clearing = clearing
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, Clearance] = OrderedDict()
        self._issued: list[Clearance] = []
        self._refused = 0

    @property
    def difficulty(self) -> int:
        """Leading zero bits the proof of work needs."""
        return self._difficulty

    @property
    def max_age(self) -> int:
        """Seconds a new clearance lasts."""
        with self._lock:
            return self._max_age

    @max_age.setter
    def max_age(self, seconds: int) -> None:
        checked = _max_age(seconds)
        with self._lock:
            self._max_age = checked

    @property
    def clearing(self) -> bool:
        """Whether correct answers are cleared (``False``: every answer is refused)."""
        with self._lock:
            return self._clearing

    @clearing.setter
    def clearing(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"clearing must be True or False, not {value!r}")
        with self._lock:
            self._clearing = value

    @property
    def issued(self) -> int:
        """How many clearances were issued since the start (or `reset`)."""
        with self._lock:
            return len(self._issued)

    @property
    def clearances(self) -> list[Clearance]:
        """Every clearance issued since the start (or `reset`), oldest first."""
        with self._lock:
            return list(self._issued)

    @property
    def user_agents(self) -> list[str]:
        """The User-Agent of each clearance issued, oldest first."""
        return [clearance.user_agent for clearance in self.clearances]

    @property
    def refused(self) -> int:
        """How many answers were refused (wrong, stale, headless, or not `clearing`)."""
        with self._lock:
            return self._refused

    def revoke(self) -> int:
        """Revoke every clearance: their cookies are challenged from now on.

        Returns:
            How many clearances were still valid.
        """
        now = time.time()
        with self._lock:
            valid = sum(1 for c in self._tokens.values() if c.expires_at > now)
            self._tokens.clear()
            return valid

    def reset(self) -> None:
        """Revoke everything, zero the counts, restore ``max_age`` and ``clearing``."""
        with self._lock:
            self._tokens.clear()
            self._issued.clear()
            self._refused = 0
            self._max_age, self._clearing = self._initial

    def is_cleared(self, cookies: Mapping[str, str], user_agent: str) -> bool:
        """Whether ``cookies`` hold a valid clearance issued to this ``user_agent``."""
        token = cookies.get(CLEARANCE_COOKIE)
        if not token:
            return False
        with self._lock:
            clearance = self._tokens.get(token)
        return (
            clearance is not None
            and clearance.expires_at > time.time()
            and hmac.compare_digest(clearance.user_agent, user_agent)
        )

    def page(self) -> bytes:
        """The challenge page, with a fresh nonce."""
        return (
            _PAGE.replace("__NONCE__", self._nonce())
            .replace("__BITS__", str(self._difficulty))
            .replace("__SOLVE_PATH__", SOLVE_PATH)
            .encode()
        )

    @staticmethod
    def cleared_page() -> bytes:
        """What a cleared browser gets for a page."""
        return _CLEARED_PAGE

    def solve(self, body: bytes, user_agent: str) -> tuple[int, bytes, str | None]:
        """Check a posted answer.

        Returns:
            The status, the JSON body, and the ``Set-Cookie`` value (``None``
            when refused).
        """
        reason = self._check(body, user_agent)
        if reason is not None:
            with self._lock:
                self._refused += 1
            return 403, json.dumps({"ok": False, "reason": reason}).encode(), None
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            max_age = self._max_age
            clearance = Clearance(user_agent, now, now + max_age)
            self._tokens[token] = clearance
            self._issued.append(clearance)
            self._forget_expired(now)
        cookie = f"{CLEARANCE_COOKIE}={token}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax"
        return 200, b'{"ok":true}', cookie

    def _check(self, body: bytes, user_agent: str) -> str | None:
        """Why an answer is refused, or ``None`` when it clears."""
        if HEADLESS_MARK in user_agent:
            return "headless browsers are not cleared"
        if not user_agent.strip():
            return "no User-Agent"
        if len(body) > _MAX_SOLVE_BODY:
            return "answer too large"
        try:
            payload = json.loads(body)
        except ValueError:
            return "not JSON"
        nonce = payload.get("nonce") if isinstance(payload, dict) else None
        answer = payload.get("answer") if isinstance(payload, dict) else None
        if not isinstance(nonce, str) or not isinstance(answer, str):
            return "expected {nonce, answer} strings"
        if not answer.isdecimal() or not answer.isascii() or len(answer) > _MAX_ANSWER:
            return "the answer is not a counter"
        if not self._nonce_is_valid(nonce):
            return "unknown or stale nonce"
        digest = hashlib.sha256(f"{nonce}:{answer}".encode()).digest()
        if leading_zero_bits(digest) < self._difficulty:
            return "wrong answer"
        if not self.clearing:
            return "this gate clears nobody"
        return None

    def _nonce(self) -> str:
        body = f"{int(time.time())}.{secrets.token_hex(8)}"
        return f"{body}.{self._mac(body)}"

    def _nonce_is_valid(self, nonce: str) -> bool:
        body, _, mac = nonce.rpartition(".")
        issued, _, _ = body.partition(".")
        if not issued.isdecimal() or not hmac.compare_digest(mac, self._mac(body)):
            return False
        return 0 <= time.time() - int(issued) <= _NONCE_LIFE

    def _mac(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def _forget_expired(self, now: float) -> None:
        expired = [token for token, c in self._tokens.items() if c.expires_at <= now]
        for token in expired:
            del self._tokens[token]
        while len(self._tokens) > _MAX_CLEARANCES:
            self._tokens.popitem(last=False)

    def __repr__(self) -> str:
        return (
            f"ChallengeGate(difficulty={self._difficulty}, max_age={self.max_age}, "
            f"clearing={self.clearing}, issued={self.issued})"
        )
