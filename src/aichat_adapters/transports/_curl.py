"""The curl_cffi transports: a browser's TLS and HTTP/2 fingerprint (extra ``impersonate``).

Cloudflare ties ``cf_clearance`` to the TLS fingerprint and User-Agent of the
browser that earned it; curl_cffi shakes hands as that browser does. Sessions
are never streamed (curl_cffi ignores ``timeout`` in stream mode): the body
is capped in curl's write callback, which sees decoded bytes, a slice at a time.
"""

from __future__ import annotations

import functools
import importlib
import os
import queue
import re
from collections.abc import Iterable
from typing import Any

from aichat_adapters._extras import import_extra
from aichat_adapters.transports._body import DEFAULT_MAX_BODY_SIZE, check_max_body_size
from aichat_adapters.transports._common import (
    PerLoop,
    asyncio_only,
    check_proxy,
    loop_token,
)
from aichat_adapters.transports._reasons import curl_error
from aichat_core import (
    AichatError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    ResponseFormatError,
)

__all__ = ["DEFAULT_IMPERSONATE", "AsyncCurlTransport", "CurlTransport", "nearest_target"]

DEFAULT_IMPERSONATE = "chrome"
"""curl_cffi's newest Chrome: the target when none is named and no User-Agent says which."""

_ABORT = 0xFFFFFFFF  # CURL_WRITEFUNC_ERROR: stop the transfer
_WHAT = "CurlTransport (browser impersonation)"


class _Sink:
    """curl's write callback: keeps the body, stops the transfer past ``limit`` bytes."""

    __slots__ = ("body", "limit", "too_large")

    def __init__(self, limit: int) -> None:
        self.body = bytearray()
        self.limit = limit
        self.too_large = False

    def __call__(self, chunk: bytes) -> int:
        if len(self.body) + len(chunk) > self.limit:
            self.too_large = True
            self.body = bytearray()  # freed now, not when the error's traceback goes
            return _ABORT
        self.body += chunk
        return len(chunk)


def _check_target(curl_cffi: Any, impersonate: object) -> str:
    if not isinstance(impersonate, str) or not impersonate:
        raise InvalidRequestError(
            f"impersonate must be a browser target name such as 'chrome', not {impersonate!r}"
        )
    impersonation: Any = importlib.import_module("curl_cffi.requests.impersonate")
    target: str = impersonation.resolve_latest_browser_type(impersonate)
    curl = curl_cffi.Curl()
    try:
        known = curl.impersonate(target, default_headers=True) == 0
    except Exception:  # curl_cffi raises its own errors for unknown names
        known = False
    finally:
        curl.close()
    if not known:
        raise InvalidRequestError(
            f"curl_cffi cannot impersonate {impersonate!r}; use e.g. 'chrome', 'edge', "
            "'safari', 'firefox', or a versioned target such as 'chrome131'"
        )
    return impersonate


_TARGET = re.compile(r"(chrome|edge|firefox|safari)(\d+)(_android|_ios|_macos)?")
_UA_BROWSERS = (  # the most specific first: Edge's User-Agent also says Chrome and Safari
    ("edge", re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)")),
    ("firefox", re.compile(r"\bFirefox/(\d+)")),
    ("chrome", re.compile(r"\b(?:Chrome|CriOS)/(\d+)")),
    ("safari", re.compile(r"\bVersion/(\d+)(?:\.(\d+))?.*\bSafari/")),
)


def _target_version(family: str, digits: str) -> tuple[int, ...]:
    if family != "safari":
        return (int(digits),)
    return (int(digits[:2]), *map(int, digits[2:]))  # safari184: 18.4; safari2601: 26.0.1


def nearest_target(user_agent: str, targets: Iterable[str]) -> str | None:
    """The curl_cffi target closest to the browser a User-Agent names, or ``None``.

    The newest target of the same browser (and platform: Android, iOS, macOS)
    not newer than the User-Agent's version, else the oldest newer one. An
    Edge with no Edge target that close is matched as the Chrome it is built on.
    """
    platform = (
        "_android"
        if "Android" in user_agent
        else "_ios"
        if ("iPhone" in user_agent or "iPad" in user_agent)
        else "_macos"
        if "Macintosh" in user_agent
        else ""
    )
    known: dict[tuple[str, str], list[tuple[tuple[int, ...], str]]] = {}
    for target in targets:
        match = _TARGET.fullmatch(target)
        if match:
            family, digits, suffix = match.group(1), match.group(2), match.group(3) or ""
            known.setdefault((family, suffix), []).append((_target_version(family, digits), target))
    for family, pattern in _UA_BROWSERS:
        found = pattern.search(user_agent)
        if found is None:
            continue
        wanted = tuple(int(part) for part in found.groups() if part is not None)
        choices = _choices(known, family, platform)
        if family == "edge" and (not choices or max(choices)[0][0] < wanted[0] - 10):
            # curl_cffi's Edge targets are old: shake hands as the Chrome it is built on
            chrome = re.search(r"\bChrome/(\d+)", user_agent)
            if chrome is None:
                return None
            wanted, choices = (int(chrome.group(1)),), _choices(known, "chrome", platform)
        if not choices:
            return None
        older = [choice for choice in choices if choice[0] <= wanted]
        version = max(older)[0] if older else min(choices)[0]
        # The platform's own target of that version if there is one (a macOS build).
        return max(target for v, target in choices if v == version)
    return None


def _choices(
    known: dict[tuple[str, str], list[tuple[tuple[int, ...], str]]], family: str, platform: str
) -> list[tuple[tuple[int, ...], str]]:
    """The targets to choose from: a phone's own; for a desktop, its platform's and the plain."""
    if platform in ("_android", "_ios"):
        return known.get((family, platform), [])
    return known.get((family, ""), []) + known.get((family, platform), [])


@functools.cache
def _known_targets() -> tuple[str, ...]:
    impersonation: Any = importlib.import_module("curl_cffi.requests.impersonate")
    return tuple(str(browser.value) for browser in impersonation.BrowserType)


@functools.lru_cache(maxsize=64)
def _target_for(user_agent: str) -> str | None:
    return nearest_target(user_agent, _known_targets())


def _user_agent_of(request: HttpRequest) -> str | None:
    for name, value in request.headers:
        if name == "user-agent":
            return value
    return None


def _session_options(
    curl_cffi: Any, impersonate: str, proxy: str | None, verify: bool | str | os.PathLike[str]
) -> dict[str, Any]:
    if not isinstance(verify, (bool, str, os.PathLike)):
        raise InvalidRequestError(
            f"verify must be True, False or the path of a CA bundle, not {type(verify).__name__}"
        )
    if not isinstance(verify, bool):
        path = os.fspath(verify)
        if not os.path.isfile(path):
            raise InvalidRequestError(f"verify={path!r} is not a file of CA certificates")
        verify = path
    return {
        "impersonate": impersonate,
        "proxy": check_proxy(proxy),
        "verify": verify,
        "allow_redirects": False,
        # HTTP/2 over TLS only, as browsers do: on http:// no "Upgrade: h2c" request.
        "http_version": curl_cffi.CurlHttpVersion.V2TLS,
        "discard_cookies": True,  # the client keeps the cookies, not curl
        "default_headers": True,  # the browser's own header set, agreeing with its TLS
    }


def _error(exc: Any, url: str, sink: _Sink, proxy: str | None, timeout: float) -> AichatError:
    """The core error for a curl_cffi error (the adapter edge): libcurl's code and words."""
    code = int(getattr(exc, "code", 0) or 0)
    if sink.too_large:
        return ResponseFormatError(f"the answer from {url} is larger than {sink.limit} bytes")
    if code in (1, 3):  # UNSUPPORTED_PROTOCOL, URL_MALFORMAT
        return InvalidRequestError(f"cannot send to {url}; check base_url and proxy")
    if code == 61:  # BAD_CONTENT_ENCODING
        return ResponseFormatError(f"the answer from {url} could not be decoded")
    return curl_error(code, str(exc), url, proxy=proxy, timeout=timeout)


def _response(response: Any, sink: _Sink) -> HttpResponse:
    headers = response.headers
    return HttpResponse(
        status_code=response.status_code,
        headers={name: value or "" for name, value in headers.multi_items()},
        body=bytes(sink.body),
        set_cookies=tuple(value or "" for value in headers.get_list("set-cookie")),
    )


def _request_options(
    request: HttpRequest, timeout: float, sink: _Sink, *, auto: bool
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "data": request.body,
        "headers": dict(request.headers),
        "timeout": timeout,
        "content_callback": sink,
    }
    if auto and (user_agent := _user_agent_of(request)) is not None:
        target = _target_for(user_agent)
        if target is not None:
            options["impersonate"] = target
    return options


class CurlTransport:
    """Sends requests through curl_cffi, shaking hands as a browser (``impersonate``).

    Needs the ``impersonate`` extra. ``impersonate`` is any target curl_cffi
    knows (``"chrome"``, ``"safari"``, ``"chrome131"``...). With none, each
    request is sent as the target nearest the browser its User-Agent names (the
    User-Agent credentials are bound to), else as curl_cffi's newest Chrome, so
    that TLS, ``sec-ch-ua`` and User-Agent agree. The browser's own headers
    (User-Agent, sec-ch-ua...) go with its fingerprint, so the client sends no
    User-Agent of its own; headers you give explicitly still win.
    ``timeout`` bounds each attempt as a whole. Safe to share between threads
    (one curl session per concurrent caller).
    """

    impersonates = True

    def __init__(
        self,
        *,
        impersonate: str | None = None,
        proxy: str | None = None,
        verify: bool | str = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        curl_cffi = import_extra("curl_cffi", "impersonate", _WHAT)
        self.impersonate = None if impersonate is None else _check_target(curl_cffi, impersonate)
        self._max_body_size = check_max_body_size(max_body_size)
        self._options = _session_options(
            curl_cffi, self.impersonate or DEFAULT_IMPERSONATE, proxy, verify
        )
        self._proxy: str | None = self._options["proxy"]
        self._session_class: Any = curl_cffi.requests.Session
        self._errors: Any = curl_cffi.CurlError
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sessions: list[Any] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"CurlTransport(impersonate={self.impersonate!r})"

    def _session(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            session = self._session_class(**self._options)
            self._sessions.append(session)
            return session

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer, within ``timeout`` seconds in all."""
        if self._closed:
            raise InvalidRequestError("this transport is closed")
        sink = _Sink(self._max_body_size)
        session = self._session()
        try:
            response = session.request(
                request.method,
                request.url,
                **_request_options(request, timeout, sink, auto=self.impersonate is None),
            )
        except self._errors as exc:
            raise _error(exc, request.url, sink, self._proxy, timeout) from exc
        finally:
            self._idle.put(session)
        return _response(response, sink)

    def close(self) -> None:
        """Close every curl session."""
        self._closed = True
        for session in self._sessions:
            session.close()
        self._sessions.clear()


class AsyncCurlTransport:
    """The async twin of [`CurlTransport`][aichat_adapters.CurlTransport]; asyncio only.

    One curl_cffi ``AsyncSession`` per event loop, created inside it on first
    use, with up to ``limit`` transfers at once. Under trio it raises
    ``InvalidRequestError`` (curl_cffi has no trio support).
    """

    impersonates = True

    def __init__(
        self,
        *,
        impersonate: str | None = None,
        proxy: str | None = None,
        verify: bool | str = True,
        limit: int = 100,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        curl_cffi = import_extra("curl_cffi", "impersonate", _WHAT)
        self.impersonate = None if impersonate is None else _check_target(curl_cffi, impersonate)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRequestError(f"limit must be a positive int, got {limit!r}")
        self._max_body_size = check_max_body_size(max_body_size)
        self._options = {
            **_session_options(curl_cffi, self.impersonate or DEFAULT_IMPERSONATE, proxy, verify),
            "max_clients": limit,
        }
        self._proxy: str | None = self._options["proxy"]
        session_class: Any = curl_cffi.requests.AsyncSession
        self._errors: Any = curl_cffi.CurlError
        self._sessions: PerLoop[Any] = PerLoop(
            lambda: session_class(**self._options), _close_session
        )

    def __repr__(self) -> str:
        return f"AsyncCurlTransport(impersonate={self.impersonate!r})"

    async def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Send one request and read the whole answer, within ``timeout`` seconds in all."""
        loop = asyncio_only("AsyncCurlTransport")
        session = self._sessions.current(loop) or await self._sessions.get(loop)
        sink = _Sink(self._max_body_size)
        try:
            response = await session.request(
                request.method,
                request.url,
                **_request_options(request, timeout, sink, auto=self.impersonate is None),
            )
        except self._errors as exc:
            raise _error(exc, request.url, sink, self._proxy, timeout) from exc
        return _response(response, sink)

    async def aclose(self) -> None:
        """Close the session of the running loop (another loop's closes as that loop ends)."""
        await self._sessions.aclose(loop_token())


async def _close_session(session: Any) -> None:
    await session.close()
