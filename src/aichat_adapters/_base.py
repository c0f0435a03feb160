"""What the sync and async clients share: options, cookie state and the pure steps of a call."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from aichat_adapters._logging import configure_logging
from aichat_adapters._options import ClientOptions, check_transport_options
from aichat_core import (
    AichatError,
    Conversation,
    CookiesNotFoundError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    PreparedCall,
    Reply,
    RetryBudget,
    RetryPolicy,
    build_request,
    domain_matches,
    parse_response,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from aichat_adapters.cookies import SessionJar
    from aichat_adapters.cookies._jar import Sent

__all__ = ["BaseChat", "BaseClient", "CallState", "Shared", "refresh_failure"]

logger = logging.getLogger("aichat")

SAME_COOKIES = (
    "; fetching the cookies again gave the same ones, so the call was not replayed: "
    "export fresh cookies from a browser"
)


class Shared:
    """The state a client shares with its [`with_options`][] copies: pool, cookies, budget."""

    def __init__(self, source: Any, host: str, budget: RetryBudget | None) -> None:
        from aichat_adapters.cookies import SessionJar

        self.source = source
        self.jar: SessionJar = SessionJar(host)
        self.budget = budget
        self.transport: Any = None
        self.closed = False
        self.refreshes = 0  # counts refreshes: a read begun before one is out of date


@attrs.define
class CallState:
    """One call's request, the cookie version it was built from, and whether it refreshed."""

    request: HttpRequest
    secrets: tuple[str, ...] = attrs.field(repr=False)
    version: int
    refreshed: bool = False


class BaseClient:
    """Options and pure steps shared by [`AichatClient`][aichat_adapters.AichatClient] and
    [`AsyncAichatClient`][aichat_adapters.AsyncAichatClient]."""

    def __init__(
        self,
        *,
        cookies: Mapping[str, str] | str | None,
        cookie_source: object | None,
        base_url: str | None,
        proxy: str | None,
        timeout: float,
        max_retries: int | None,
        deadline: float | None,
        verify: bool | str,
        headers: Mapping[str, str] | None,
        transport: object | None,
        http_client: object | None,
        retry_policy: RetryPolicy | None,
    ) -> None:
        configure_logging()
        check_transport_options(transport, http_client, proxy, verify)
        self._options = ClientOptions.check(
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            retry_policy=retry_policy,
            headers=headers,
            proxy=proxy,
            verify=verify,
            builds_transport=transport is None and http_client is None,
        )
        source = self._choose_cookie_source(cookies, cookie_source, self._options.host)
        self._shared = Shared(source, self._options.host, RetryBudget.for_policy(self.retry_policy))

    @property
    def base_url(self) -> str:
        """The service's URL, checked, without a trailing slash."""
        return self._options.base_url

    @property
    def timeout(self) -> float:
        """Seconds for each attempt, as a whole."""
        return self._options.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        """When to retry and how long to wait."""
        return self._options.retry_policy

    @property
    def headers(self) -> Mapping[str, str]:
        """Extra headers sent with every request (names lower-case)."""
        return self._options.headers

    @property
    def cookie_source(self) -> Any:
        """Where the cookies come from."""
        return self._shared.source

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> Self:
        """A client with some options changed, sharing this one's pool, cookies and budget.

        ``headers`` are added to this client's. This client is unchanged;
        closing either one closes the pool they share.
        """
        clone = copy.copy(self)
        clone._options = self._options.changed(
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            headers=headers,
            retry_policy=retry_policy,
        )
        return clone

    @staticmethod
    def _choose_cookie_source(
        cookies: Mapping[str, str] | str | None, cookie_source: object | None, host: str
    ) -> Any:
        from aichat_adapters.cookies import StaticCookieSource, default_cookie_source

        if cookies is not None and cookie_source is not None:
            raise InvalidRequestError("give either cookies=... or cookie_source=..., not both")
        if cookies is not None:
            return StaticCookieSource(cookies)
        if cookie_source is None:
            return default_cookie_source(domain=host)
        if not callable(getattr(cookie_source, "get_cookies", None)):
            raise InvalidRequestError(
                "cookie_source must have a get_cookies() method returning a mapping of "
                f"cookie names to values; {type(cookie_source).__name__} has none"
            )
        domain = getattr(cookie_source, "domain", None)
        if isinstance(domain, str) and not domain_matches(host, domain):
            raise InvalidRequestError(
                f"{type(cookie_source).__name__} selects cookies of {domain}, but base_url's "
                f"host is {host}: its cookies would go to another site. Build the source "
                f"with domain={host!r}, or point base_url at {domain}"
            )
        return cookie_source

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"cookie_source={self.cookie_source!r}, timeout={self.timeout!r}, "
            f"max_retries={self.retry_policy.max_retries!r})"
        )

    def _check_open(self) -> None:
        if self._shared.closed:
            raise InvalidRequestError("this client is closed; build a new one")

    def _checked_cookies(self, cookies: object) -> Mapping[str, str]:
        """What a cookie source gave, checked: a non-empty mapping."""
        source = self._shared.source
        if not isinstance(cookies, Mapping):
            raise InvalidRequestError(
                f"{type(source).__name__}.get_cookies() returned {type(cookies).__name__}; "
                "it must return a mapping of cookie names to values"
            )
        if not cookies:
            raise CookiesNotFoundError.from_tried(((repr(source), "gave no cookies"),))
        return cookies

    def _start(self, prepared: PreparedCall, cookies: object, refreshes: int) -> CallState:
        """Seed the session jar with the source's cookies and build the call's request.

        ``refreshes`` is the refresh count read before the source was asked: if a
        refresh happened meanwhile, these cookies are older than the jar's.
        """
        jar = self._shared.jar
        checked = self._checked_cookies(cookies)
        if refreshes == self._shared.refreshes:
            jar.seed(checked)
        return self._state(prepared, jar.sent())

    def _state(self, prepared: PreparedCall, sent: Sent) -> CallState:
        options = self._options
        headers = {"cookie": sent.header, **options.headers} if sent.header else options.headers
        request = build_request(
            prepared.prompt,
            prepared.params,
            base_url=options.base_url,
            headers=headers,
            user_agent=options.user_agent(self._shared.transport),
        )
        return CallState(request, sent.values, sent.version)

    def _replay_state(
        self, state: CallState, prepared: PreparedCall, fresh: Mapping[str, str] | None
    ) -> CallState:
        """The state of the replay after a refresh; ``fresh`` is ``None`` when nothing changed."""
        jar = self._shared.jar
        if fresh is not None:
            jar.seed(self._checked_cookies(fresh))
            self._shared.refreshes += 1  # (under the refresh lock)
        sent = jar.sent()
        if sent.version == state.version:
            return state
        replay = self._state(prepared, sent)
        replay.refreshed = True
        return replay

    def _read(self, state: CallState, response: HttpResponse, sent_at: float) -> Reply:
        """Log one exchange (never its cookies) and parse the answer."""
        if logger.isEnabledFor(logging.INFO):
            request = state.request
            logger.info(
                "%s %s -> %d in %.1f ms",
                request.method,
                request.url,
                response.status_code,
                (time.monotonic() - sent_at) * 1000,
            )
        return parse_response(response, secrets=state.secrets)

    def _rotated(self, response: HttpResponse) -> Mapping[str, str] | None:
        """Apply an answer's ``Set-Cookie`` headers; the cookies to save, if they changed."""
        jar = self._shared.jar
        if response.set_cookies and jar.update(response.set_cookies):  # (the jar logs names)
            return jar.cookies()
        return None

    @staticmethod
    def _finish(reply: Reply, attempts: int, started: float) -> Reply:
        """Stamp the call's attempts and duration on its reply."""
        elapsed = time.monotonic() - started
        return Reply(reply.text, reply.raw, attempts, elapsed, reply.status_code)

    @staticmethod
    def _not_replayed(error: AichatError, why: str = SAME_COOKIES) -> AichatError:
        error.message += why
        return error


def refresh_failure(exc: Exception) -> str:
    """Why a refresh failed, for a message: a typed error's own words, else only its type.

    A user's cookie source may put anything in its exceptions, values included.
    """
    return str(exc) if isinstance(exc, AichatError) else type(exc).__name__


class BaseChat:
    """The history that [`Chat`][aichat_adapters.Chat] and
    [`AsyncChat`][aichat_adapters.AsyncChat] keep; only ``ask`` differs."""

    def __init__(self, system: str | None = None) -> None:
        self.system = system
        self.history = Conversation.start(system)

    def reset(self) -> None:
        """Forget every turn, keeping the system message if there was one."""
        self.history = Conversation.start(self.system)
