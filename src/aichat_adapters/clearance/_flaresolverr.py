"""`FlareSolverrClearance`: credentials earned by a FlareSolverr service's browser."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from aichat_adapters.clearance._common import (
    check_cookie_names,
    check_url,
    credentials_of,
    entries_of,
    host_of,
    logger,
    proxy_repr,
)
from aichat_adapters.clearance._earned import EarnedSource, check_margin, check_timeout
from aichat_adapters.clearance._flight import Earn, Flights
from aichat_adapters.transports._common import check_proxy
from aichat_core import (
    ChallengeError,
    ConnectError,
    Credentials,
    InvalidRequestError,
    RequestTimeoutError,
    ResponseFormatError,
    check_headers,
)
from aichat_core._credentials import public_proxy

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_ENDPOINT", "FlareSolverrClearance"]

#: Where FlareSolverr listens by default.
DEFAULT_ENDPOINT = "http://localhost:8191/v1"

# FlareSolverr answers a few seconds after its own maxTimeout at most.
_ANSWER_MARGIN = 5.0
_MAX_ANSWER = 16 * 1024 * 1024
_QUOTED = 200
_START_HINT = (
    "start it (docker run -d -p 8191:8191 ghcr.io/flaresolverr/flaresolverr), "
    "or give its endpoint (--flaresolverr-url)"
)


def _endpoint(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"endpoint must be FlareSolverr's URL, not {value!r}")
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidRequestError(
            f"endpoint must be an http(s) URL such as {DEFAULT_ENDPOINT!r}, not {value[:100]!r}"
        )
    return value.strip()


@attrs.frozen
class FlareSolverrClearance(EarnedSource):
    """Credentials earned by a [FlareSolverr](https://github.com/FlareSolverr/FlareSolverr)
    service: the site's cookies and the User-Agent of FlareSolverr's browser.

    The same kind of source as
    [`BrowserClearance`][aichat_adapters.clearance.BrowserClearance], for
    services that already run one FlareSolverr for all their workers: it
    posts ``{"cmd": "request.get", "url": ..., "maxTimeout": ...}`` to
    ``endpoint`` and takes ``solution.cookies`` and ``solution.userAgent``.
    A client binds it to its ``base_url`` (the default ``url``) and its
    ``proxy`` (sent to FlareSolverr, so the clearance is earned from the
    client's IP). The endpoint itself is called directly, never through a
    proxy. Calls share one request; cancelling it stops the request.

    Attributes:
        endpoint: FlareSolverr's API URL.
        url: The page to open; by default the client's ``base_url`` origin.
        timeout: Seconds FlareSolverr may take (its ``maxTimeout``); the call
            gives up a few seconds after.
        refresh_margin: Renew when a clearance cookie ends within this many
            seconds (at most half its life).
        cookie_names: The cookies that mean the challenge was passed.
        proxy: The proxy URL FlareSolverr's browser goes out through; a client sets its own.

    Raises:
        InvalidRequestError: an option is malformed.
    """

    endpoint: str = attrs.field(default=DEFAULT_ENDPOINT, converter=_endpoint)
    url: str | None = attrs.field(default=None, converter=check_url)
    timeout: float = attrs.field(default=60.0, converter=check_timeout)
    refresh_margin: float = attrs.field(default=60.0, kw_only=True, converter=check_margin)
    cookie_names: tuple[str, ...] = attrs.field(
        default=("cf_clearance",), kw_only=True, converter=check_cookie_names
    )
    proxy: str | None = attrs.field(
        default=None, kw_only=True, converter=check_proxy, repr=proxy_repr
    )
    _flights: Flights = attrs.field(factory=Flights, init=False, repr=False, eq=False)

    def describe(self) -> str:
        """The label used in errors and logs."""
        target = self.url if self.url is not None else "(no url yet)"
        return f"FlareSolverr at {self.endpoint} for {target}"

    def get_credentials(self) -> Credentials:
        """The credentials in memory while valid, else FlareSolverr's.

        Raises:
            InvalidRequestError: no ``url`` (give one, or pass the source to a client).
            ConnectError: FlareSolverr is not reachable, or its browser could not open the page.
            RequestTimeoutError: FlareSolverr gave no answer in time.
            ChallengeError: FlareSolverr could not pass the challenge.
            ResponseFormatError: FlareSolverr's answer is not what its API says.
        """
        return super().get_credentials()

    def _earner(self, refresh: bool, stale: Credentials | None) -> Earn:
        return self._ask

    async def _ask(self) -> Credentials:
        assert self.url is not None
        host = host_of(self.url)
        answer = await self._post()
        solution = _solution(answer, self.endpoint, self.url)
        entries = entries_of(solution["cookies"], host)
        missing = [name for name in self.cookie_names if name not in entries]
        if missing:
            raise ChallengeError(
                f"FlareSolverr opened {self.url} but got no {', '.join(missing)} cookie for "
                f"{host} (it got: {', '.join(sorted(entries)) or 'none'}); the site may not "
                "challenge this IP, or asks more than FlareSolverr can pass",
                status_code=403,
            )
        logger.info("clearance: FlareSolverr passed %s (cookies %s)", self.url, sorted(entries))
        credentials, _ = credentials_of(
            entries, user_agent=solution["userAgent"], proxy=self.proxy, names=self.cookie_names
        )
        return credentials

    async def _post(self) -> tuple[int, bytes]:
        import httpx

        assert self.url is not None
        payload: dict[str, Any] = {
            "cmd": "request.get",
            "url": self.url,
            "maxTimeout": round(self.timeout * 1000),
            "returnOnlyCookies": True,
        }
        if self.proxy is not None:
            payload["proxy"] = _proxy(self.proxy)
        limit = self.timeout + _ANSWER_MARGIN
        logger.info("clearance: asking FlareSolverr at %s for %s", self.endpoint, self.url)
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=limit) as client:
                return await asyncio.wait_for(self._send(client, payload), limit)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            raise RequestTimeoutError(
                f"FlareSolverr at {self.endpoint} gave no answer in {limit:g} s; check that it "
                "runs and is not stuck, or raise the timeout"
            ) from None
        except httpx.HTTPError as exc:
            raise ConnectError(
                f"FlareSolverr is not reachable at {self.endpoint} ({_reason(exc)}); {_START_HINT}"
            ) from None

    async def _send(self, client: Any, payload: dict[str, Any]) -> tuple[int, bytes]:
        async with client.stream("POST", self.endpoint, json=payload) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > _MAX_ANSWER:
                    raise ResponseFormatError(
                        f"FlareSolverr at {self.endpoint} answered more than "
                        f"{_MAX_ANSWER} bytes; is it FlareSolverr?"
                    )
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)


def _proxy(proxy: str) -> dict[str, str]:
    """FlareSolverr's proxy object: the URL, and the user and password apart."""
    shown = public_proxy(proxy)
    assert shown is not None
    found: dict[str, str] = {"url": shown}
    parts = urlsplit(proxy)
    if parts.username:
        found["username"] = parts.username
    if parts.password:
        found["password"] = parts.password
    return found


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in the words of the transports' errors."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "could not resolve host"
        seen = seen.__cause__ or seen.__context__
    text = _one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _solution(answer: tuple[int, bytes], endpoint: str, url: str) -> dict[str, Any]:
    """The ``solution`` of a FlareSolverr answer, checked; its error raised as a typed one."""
    status, body = answer
    try:
        data = json.loads(body)
    except ValueError:
        raise ResponseFormatError(
            f"FlareSolverr at {endpoint} answered HTTP {status} with a body that is not JSON; "
            "is the endpoint FlareSolverr's /v1?"
        ) from None
    if not isinstance(data, dict):
        raise ResponseFormatError(f"FlareSolverr at {endpoint} answered JSON that is not an object")
    if data.get("status") != "ok":
        message = data.get("message") or data.get("error") or f"HTTP {status}"
        said = _one_line(str(message))
        if "net::ERR_" in said:
            raise ConnectError(f"FlareSolverr's browser could not open {url}: {said}")
        raise ChallengeError(
            f"FlareSolverr could not clear the challenge at {url}: {said}",
            status_code=403,
            body=said,
        )
    solution = data.get("solution")
    if not isinstance(solution, dict) or not isinstance(solution.get("cookies"), list):
        raise ResponseFormatError(
            f"FlareSolverr at {endpoint} answered 'ok' without a solution holding cookies"
        )
    user_agent = solution.get("userAgent")
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise ResponseFormatError(f"FlareSolverr at {endpoint} answered without a userAgent")
    try:
        solution["userAgent"] = check_headers({"user-agent": user_agent})["user-agent"]
    except InvalidRequestError:
        raise ResponseFormatError(
            f"FlareSolverr at {endpoint} answered a userAgent HTTP headers cannot carry"
        ) from None
    return solution


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _QUOTED else line[: _QUOTED - 3] + "..."
