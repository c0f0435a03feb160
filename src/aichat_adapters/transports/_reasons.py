"""Why a request got no answer, in words: one vocabulary that every transport shares.

A transport knows its library's exceptions; this module knows what they
mean to a person. Each transport hands over what its library already knows
(an exception chain with an ``OSError`` errno, a resolver error or a
certificate verifier's code; curl's error code and text) and gets back the
core error with its cause in words, the same on every transport:

- "connection refused", "could not resolve host NAME";
- "the server closed the connection before the answer was complete";
- "timed out connecting to HOST:PORT" or "timed out waiting for the answer";
- "could not reach the proxy ..." and "the proxy ... refused ...";
- a certificate's fault as its verifier names it: "self-signed certificate",
  "unknown certificate authority", "certificate is for another host, not
  HOST", "certificate expired", "certificate not yet valid".

Then what to do. A message is never empty: when nothing is known, it names
the exception's class and errno.
"""

from __future__ import annotations

import errno as errnos
import re
import socket
import ssl
from collections.abc import Iterator
from typing import Literal
from urllib.parse import urlsplit

from aichat_core import (
    AichatError,
    CertificateError,
    ConnectError,
    RequestTimeoutError,
    TransportError,
)

__all__ = [
    "CLOSED",
    "REFUSED",
    "UNRESOLVED",
    "Phase",
    "blames_proxy",
    "certificate_error",
    "certificate_words",
    "chain",
    "closed_error",
    "connect_error",
    "curl_error",
    "curl_text",
    "error_from_chain",
    "host_of",
    "mask",
    "proxy_host",
    "proxy_refused",
    "timeout_error",
]

Phase = Literal["connect", "read"]
"""Where a timeout struck: while connecting, or while waiting for (or reading) the answer."""

REFUSED = "connection refused"
UNRESOLVED = "could not resolve host"
CLOSED = "the server closed the connection before the answer was complete"
_CERTIFICATE_ADVICE = "check base_url, or give verify='path/to/ca.pem' for a private CA"
_UNKNOWN_CA = "unknown certificate authority"

# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code; curl
# prints the same number after "verify result: ..."), in a reader's words.
_VERIFY_CODES = {
    2: _UNKNOWN_CA,  # unable to get issuer certificate
    9: "certificate not yet valid",
    10: "certificate expired",
    18: f"self-signed certificate ({_UNKNOWN_CA})",
    19: f"self-signed certificate in the chain ({_UNKNOWN_CA})",
    20: _UNKNOWN_CA,  # unable to get local issuer certificate
    21: _UNKNOWN_CA,  # unable to verify the first certificate: an incomplete chain
    23: "certificate revoked",
}
_NAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH

# Errors of the socket layer, by errno. A reset or a broken pipe means the
# server ended the connection: the answer, if any, is incomplete.
_ERRNO_WORDS = {
    errnos.ECONNREFUSED: REFUSED,
    errnos.ECONNRESET: f"{CLOSED} (connection reset)",
    errnos.ECONNABORTED: f"{CLOSED} (connection aborted)",
    errnos.EPIPE: f"{CLOSED} (broken pipe)",
    errnos.ENETUNREACH: "network is unreachable",
    errnos.EHOSTUNREACH: "no route to host",
    errnos.EADDRNOTAVAIL: "cannot assign the local address",
}
_TIMED_OUT = (errnos.ETIMEDOUT,)

# getaddrinfo's failures that mean "this name has no address" (or none could be had now).
_RESOLVER_FAILURES = {
    socket.EAI_NONAME,
    socket.EAI_AGAIN,
    socket.EAI_FAIL,
    *(getattr(socket, name) for name in ("EAI_NODATA", "EAI_ADDRFAMILY") if hasattr(socket, name)),
}

_MAX_LINKS = 32  # exceptions looked at in one chain (causes, contexts, group members)


def mask(url: str) -> str:
    """``url`` with any user name or password replaced by ``<hidden>``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    _credentials, at, host = authority.rpartition("@")
    return f"{scheme}://{'<hidden>@' if at else ''}{host}{slash}{path}"


def host_of(url: str) -> str:
    """The host name (or IP address) of ``url``; ``url`` itself if it has none."""
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _host_port(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url
    host = parts.hostname or url
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then its causes and contexts, and the members of any exception group.

    Breadth first, each exception once, at most a few dozen: what a library
    wrapped (anyio's "All connection attempts failed" holds one ``OSError``
    per address tried) is found wherever it sits.
    """
    queue: list[BaseException] = [exc]
    seen: set[int] = set()
    while queue and len(seen) < _MAX_LINKS:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        members = getattr(current, "exceptions", None)  # an ExceptionGroup (or its backport)
        if isinstance(members, tuple):
            queue.extend(member for member in members if isinstance(member, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                queue.append(linked)


def certificate_words(code: int | None, message: str, host: str) -> str:
    """What the certificate verifier found, in words (its own text when the code is unknown)."""
    if code in _NAME_MISMATCH:
        return f"the certificate is for another host, not {host}"
    if code in _VERIFY_CODES:
        return _VERIFY_CODES[code]
    text = message.strip().rstrip(".") or "verification failed"
    return text[:1].lower() + text[1:]


def certificate_error(url: str, words: str) -> CertificateError:
    """The error of a certificate that was not accepted: why, then what to do."""
    return CertificateError(
        f"the TLS certificate of {mask(url)} was not accepted: {words}; {_CERTIFICATE_ADVICE}"
    )


def connect_error(url: str, words: str, *, proxy: str | None = None) -> ConnectError:
    """The error of a connection that failed or broke (to the proxy, when ``proxy`` is given)."""
    if proxy is not None:
        return ConnectError(
            f"could not reach the proxy {mask(proxy)}: {words}; check the proxy URL "
            f"and that the proxy is running (the request was for {mask(url)})"
        )
    if words.startswith(REFUSED):
        return ConnectError(
            f"connection to {mask(url)} failed: {REFUSED} by {_host_port(url)}"
            f"{words[len(REFUSED) :]}; check base_url, and that the server is running"
        )
    if words.startswith(UNRESOLVED):
        return ConnectError(
            f"connection to {mask(url)} failed: {words}; check base_url's host name, "
            "and this machine's network and DNS (or use a proxy)"
        )
    return ConnectError(f"connection to {mask(url)} failed: {words}")


def closed_error(url: str, detail: str = "") -> ConnectError:
    """The error of an answer cut short: the server (or something between) closed the connection."""
    return ConnectError(
        f"request to {mask(url)} failed: {CLOSED}{f' ({detail})' if detail else ''}"
    )


def proxy_refused(url: str, proxy: str | None, detail: str) -> ConnectError:
    """The error of a proxy that answered, but would not connect to the server."""
    detail = detail.strip().rstrip(".") or "no reason given"
    who = "the proxy" if proxy is None else f"the proxy {mask(proxy)}"
    return ConnectError(
        f"{who} refused to connect to {_host_port(url)} (request for {mask(url)}): {detail}; "
        "check the proxy's rules and that it can reach base_url"
    )


def timeout_error(
    url: str, phase: Phase, timeout: float | None = None, *, proxy: str | None = None
) -> RequestTimeoutError:
    """The error of a timeout, naming the phase that ran out of time."""
    after = f" within {timeout:g} s" if timeout is not None else ""
    if phase == "connect":
        target = f"the proxy {mask(proxy)}" if proxy is not None else _host_port(url)
        return RequestTimeoutError(
            f"timed out connecting to {target}: no connection{after} (request for {mask(url)})"
        )
    return RequestTimeoutError(
        f"timed out waiting for the answer from {mask(url)}: no complete answer{after}"
    )


def _os_words(error: OSError, host: str) -> str | None:
    if isinstance(error, socket.gaierror):
        if error.errno in _RESOLVER_FAILURES:
            return f"{UNRESOLVED} {host}"
        return f"{UNRESOLVED} {host} ({error.strerror or 'resolver error'})"
    if error.errno is not None:
        return _ERRNO_WORDS.get(error.errno)
    return None


def _fallback(exc: BaseException) -> str:
    """The class, errno and text of the last exception of the chain that says anything."""
    found = [link for link in chain(exc) if str(link).strip() or isinstance(link, OSError)]
    last = found[-1] if found else exc
    number = getattr(last, "errno", None)
    text = str(last).strip()
    detail = f": {text}" if text else ""
    return f"{type(last).__name__}{f' [errno {number}]' if number else ''}{detail}"


def error_from_chain(
    exc: BaseException,
    url: str,
    *,
    phase: Phase = "read",
    proxy: str | None = None,
    timeout: float | None = None,
) -> AichatError:
    """The core error for whatever ``exc`` wraps: a certificate, a resolver, a socket error.

    Args:
        exc: The library's exception, with its causes.
        url: Where the request went.
        phase: ``"connect"`` if it failed while connecting, ``"read"`` after.
        proxy: The proxy connected to, when the failure was in connecting to it.
        timeout: The attempt's timeout, named in a timeout's message.
    """
    host = host_of(url)
    # aiohttp's certificate error subclasses ssl's without its fields: the one under it has them.
    verified = [link for link in chain(exc) if isinstance(link, ssl.SSLCertVerificationError)]
    if verified:
        best = next((e for e in verified if getattr(e, "verify_code", None)), verified[0])
        code = getattr(best, "verify_code", None)
        return certificate_error(
            url, certificate_words(code, getattr(best, "verify_message", "") or "", host)
        )
    errors = [link for link in chain(exc) if isinstance(link, OSError)]
    if any(error.errno in _TIMED_OUT for error in errors):
        return timeout_error(url, "connect", timeout, proxy=proxy)
    found = [words for error in errors if (words := _os_words(error, proxy_host(proxy) or host))]
    if found:
        # One failure per address tried: a refusal (someone is there) tells the most.
        words = REFUSED if REFUSED in found else found[0]
        if words.startswith(CLOSED):
            return closed_error(url, words[len(CLOSED) :].strip(" ()"))
        return connect_error(url, words, proxy=proxy)
    for link in chain(exc):
        if isinstance(link, ssl.SSLError):
            reason = (getattr(link, "reason", None) or str(link)).replace("_", " ").lower()
            return ConnectError(f"the TLS handshake with {mask(url)} failed: {reason}")
    for link in chain(exc):
        if isinstance(link, TimeoutError):
            return timeout_error(url, phase, timeout, proxy=proxy)
    if phase == "connect":
        return connect_error(url, _fallback(exc), proxy=proxy)
    return TransportError(f"request to {mask(url)} failed: {_fallback(exc)}")


def blames_proxy(message: str) -> bool:
    """Whether an error's message (made here) says the proxy failed, not the server."""
    return message.startswith(("could not reach the proxy", "the proxy ")) or (
        message.startswith("timed out connecting to the proxy")
    )


def proxy_host(proxy: str | None) -> str | None:
    """The host of a proxy URL, or ``None``."""
    return None if proxy is None else host_of(proxy)


# curl_cffi puts libcurl's own error text in its exception: "Failed to perform,
# curl: (7) Failed to connect to ... . See https://curl.se/libcurl/c/libcurl-errors.html ..."
_CURL_TEXT = re.compile(r"curl: \(\d+\)\s*(?P<text>.*?)(?:\.\s*See https://curl\.se/\S*.*)?$", re.S)
_CURL_VERIFY_CODE = re.compile(r"verify result: .*\((?P<code>\d+)\)")
_CURL_SUBJECT = re.compile(r"certificate subject name '(?P<name>[^']*)' does not match")
_CURL_NAME_MISMATCH = ("no alternative certificate subject name matches", "does not match target")

# libcurl's CURLE_* codes this module words.
_CURL_PROXY_UNRESOLVED, _CURL_UNRESOLVED, _CURL_CONNECT = 5, 6, 7
_CURL_PARTIAL, _CURL_TIMEOUT, _CURL_EMPTY, _CURL_SEND, _CURL_RECV = 18, 28, 52, 55, 56
_CURL_TLS_CONNECT, _CURL_CERTIFICATE, _CURL_PROXY = 35, 60, 97


def curl_text(message: str) -> str:
    """libcurl's own words from a curl_cffi exception's message, without the boilerplate."""
    match = _CURL_TEXT.search(message)
    return (match.group("text") if match else message).strip().rstrip(".")


def curl_error(
    code: int, message: str, url: str, *, proxy: str | None, timeout: float
) -> AichatError:
    """The core error for a libcurl error code and its text (curl_cffi's exception).

    A code this module does not know ends as a ``TransportError`` with curl's text.
    """
    text = curl_text(message)
    host = host_of(url)
    if code == _CURL_CERTIFICATE:
        if any(words in text for words in _CURL_NAME_MISMATCH):
            subject = _CURL_SUBJECT.search(text)
            if subject:
                return certificate_error(
                    url, f"the certificate is for {subject.group('name')}, not {host}"
                )
            return certificate_error(url, certificate_words(_NAME_MISMATCH[0], text, host))
        verify = _CURL_VERIFY_CODE.search(text)
        number = int(verify.group("code")) if verify else None
        detail = text.split("verify result:", 1)[-1]
        return certificate_error(
            url, certificate_words(number, re.sub(r"\s*\(\d+\)$", "", detail), host)
        )
    if code == _CURL_TIMEOUT:
        connecting = text.startswith(
            ("Connection timed out", "Resolving timed out", "Failed to connect")
        )
        return timeout_error(
            url, "connect" if connecting else "read", timeout, proxy=proxy if connecting else None
        )
    if code == _CURL_UNRESOLVED:
        return connect_error(url, f"{UNRESOLVED} {host}")
    if code == _CURL_PROXY_UNRESOLVED and proxy is not None:
        return connect_error(url, f"{UNRESOLVED} {proxy_host(proxy)}", proxy=proxy)
    if code == _CURL_CONNECT:
        # libcurl 8 says "Could not connect to server" and keeps the errno to itself.
        unsure = ", or no route to the host (curl does not say which)"
        return connect_error(
            url, REFUSED + ("" if "refused" in text.lower() else unsure), proxy=proxy
        )
    if code == _CURL_PROXY and proxy is not None:
        return proxy_refused(url, proxy, text)
    if code == _CURL_RECV and "CONNECT" in text and proxy is not None:
        return proxy_refused(url, proxy, text)
    if code in (_CURL_PARTIAL, _CURL_EMPTY, _CURL_SEND, _CURL_RECV):
        detail = "connection reset" if "reset" in text.lower() else text
        return closed_error(url, detail[:1].lower() + detail[1:])
    if code == _CURL_TLS_CONNECT:
        return ConnectError(f"the TLS handshake with {mask(url)} failed: {text}")
    return TransportError(f"request to {mask(url)} failed: curl error {code}: {text or 'no text'}")
