"""A fake FlareSolverr for the tests: its API's shapes, as the real service answers them.

``POST /v1`` with ``{"cmd": "request.get", "url": ..., "maxTimeout": ...}``.
Each answer is scripted (``answers``, first in first out; then ``"solve"``):

- ``"solve"``: pass the stub's challenge for real (fetch the page, find the
  proof of work in Python, post it) and answer ``status: ok`` with the
  clearance and the User-Agent that earned it, as FlareSolverr 3 does;
- ``"timeout"``: HTTP 500 ``status: error``, "Error solving the challenge. Timeout after
  N seconds.";
- ``"dns"``: HTTP 500 ``status: error``, ``net::ERR_NAME_NOT_RESOLVED``;
- ``"crash"``: HTTP 500 ``{"error": ...}`` (its error plugin);
- ``"no-clearance"``: ``status: ok`` with cookies of another name only;
- ``"html"``: 200 with an HTML body (not FlareSolverr);
- ``"huge"``: a body larger than any answer;
- a ``dict``: answered as JSON with status 200.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import httpx

from aichat_adapters.stub._challenge import SOLVE_PATH

from .challenge import solve

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
VERSION = "3.3.21"


def solve_challenge(url: str, user_agent: str) -> list[dict[str, Any]]:
    """Pass the stub's challenge page as a browser would; the cookies it sets."""
    with httpx.Client(headers={"user-agent": user_agent}) as client:
        page = client.get(url).text
        solved = client.post(url.rstrip("/") + SOLVE_PATH, json=solve(page))
        assert solved.status_code == 200, solved.text
        host = httpx.URL(url).host
        return [
            {
                "name": cookie.name,
                "value": cookie.value,
                "domain": host,
                "path": "/",
                "expires": time.time() + 1800,
                "size": len(cookie.name) + len(cookie.value or ""),
                "httpOnly": True,
                "secure": False,
                "session": False,
                "sameSite": "Lax",
            }
            for cookie in client.cookies.jar
        ]


class FakeFlareSolverr:
    """The fake service on a free loopback port; ``requests`` holds the JSON it received."""

    def __init__(self, *answers: object) -> None:
        self.answers: deque[object] = deque(answers)
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/v1"

    def __enter__(self) -> FakeFlareSolverr:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def answer(self, request: dict[str, Any]) -> tuple[int, bytes]:
        self.requests.append(request)
        script = self.answers.popleft() if self.answers else "solve"
        seconds = request.get("maxTimeout", 60000) / 1000
        stamps = {"startTimestamp": 1767225600000, "endTimestamp": 1767225601000}
        if isinstance(script, dict):
            return 200, json.dumps(script).encode()
        if script == "solve":
            cookies = solve_challenge(request["url"], USER_AGENT)
            solution = {
                "url": request["url"],
                "status": 200,
                "cookies": cookies,
                "userAgent": USER_AGENT,
            }
            body = {"status": "ok", "message": "Challenge solved!", "solution": solution}
            return 200, json.dumps({**body, **stamps, "version": VERSION}).encode()
        if script == "timeout":
            message = f"Error: Error solving the challenge. Timeout after {seconds} seconds."
            return 500, json.dumps({"status": "error", "message": message, **stamps}).encode()
        if script == "dns":
            message = "Error: Unable to process browser request. net::ERR_NAME_NOT_RESOLVED"
            return 500, json.dumps({"status": "error", "message": message, **stamps}).encode()
        if script == "crash":
            return 500, json.dumps({"error": "Request parameter 'url' is mandatory."}).encode()
        if script == "no-clearance":
            cookie = {"name": "__cf_bm", "value": "bm", "domain": "127.0.0.1", "path": "/"}
            solution = {
                "url": request["url"],
                "status": 200,
                "cookies": [cookie],
                "userAgent": USER_AGENT,
            }
            return 200, json.dumps({"status": "ok", "message": "", "solution": solution}).encode()
        if script == "html":
            return 200, b"<html><body>It works!</body></html>"
        if script == "huge":
            return 200, b'{"status": "ok", "pad": "' + b"a" * (17 << 20) + b'"}'
        raise AssertionError(f"unknown script {script!r}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                status, body = fake.answer(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
