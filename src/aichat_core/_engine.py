"""The call engine: the rules of one call, without I/O (compare h11's ``Connection``).

A driver (the blocking or the async client) asks the engine what to do next
and does it: send a request, sleep, refresh the credentials, save rotated
cookies. The engine decides everything else: the request of each attempt,
whether to retry and how long to wait first (the [`RetryPolicy`][aichat_core.RetryPolicy],
within the client's retry budget), when to refresh the credentials and
replay, and the attempts count. Time and chance come in as arguments; the
cookies and the budget that a client shares with its copies are reached
through the two small ports below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, Protocol

import attrs

from aichat_core._call import PreparedCall
from aichat_core._credentials import Credentials
from aichat_core._errors import AichatError, AuthenticationError, RequestTimeoutError
from aichat_core._http import HttpRequest, HttpResponse
from aichat_core._protocol import (
    Reply,
    raise_for_status,
    request_body,
    request_headers,
    success_payload,
)
from aichat_core._retry import RetryPolicy

__all__ = [
    "Budget",
    "CallEngine",
    "CallSettings",
    "Command",
    "Done",
    "Fail",
    "Jar",
    "Refresh",
    "Save",
    "Send",
    "Sent",
    "Sleep",
]

SAME_COOKIES = (
    "; fetching the cookies again gave the same ones, so the call was not replayed: "
    "export fresh cookies from a browser"
)


class Sent(NamedTuple):
    """What a request carries from the jar: its version, the ``Cookie`` header, the values,
    and the credentials the jar was seeded with (their User-Agent and headers)."""

    version: int
    header: str
    values: tuple[str, ...]
    credentials: Credentials | None = None


class Jar(Protocol):
    """The cookies a client family shares (``aichat_adapters.cookies.SessionJar``)."""

    @property
    def version(self) -> int:
        """Grows with every change of the cookies."""
        ...

    def sent(self) -> Sent:
        """What the next request carries."""
        ...

    def seed(self, credentials: Credentials, *, if_version: int | None = None) -> bool:
        """Start over from the source's credentials (only if still at ``if_version``)."""
        ...

    def update(self, set_cookies: Iterable[str]) -> bool:
        """Apply an answer's ``Set-Cookie`` values; whether a cookie changed."""
        ...

    def cookies(self) -> dict[str, str]:
        """The cookies as they are now."""
        ...


class Budget(Protocol):
    """The retry budget a client family shares: a bucket of tokens."""

    def spend(self, cost: int) -> bool:
        """Take ``cost`` tokens for one retry; ``False`` (nothing taken) when short."""
        ...

    def give_back(self, spent: int) -> None:
        """A call succeeded after spending ``spent`` tokens on retries."""
        ...


class LastHeaders:
    """The request headers built for the last [`Sent`][aichat_core._engine.Sent].

    While the cookies do not change, the jar gives the same ``Sent`` call
    after call, and its headers are not merged again. One attribute holds the
    pair, so calls in other threads read a whole pair or the one before.
    """

    __slots__ = ("entry",)

    def __init__(self) -> None:
        self.entry: tuple[Sent | None, tuple[tuple[str, str], ...]] = (None, ())


@attrs.frozen
class CallSettings:
    """A client's options as a call needs them (built once per client)."""

    base_url: str
    headers: Mapping[str, str]
    user_agent: str | None
    timeout: float
    policy: RetryPolicy
    refresh_margin: float | None = None
    last_headers: LastHeaders = attrs.field(factory=LastHeaders, init=False, eq=False, repr=False)


# The commands: what the driver is told to do next.


@attrs.frozen
class Send:
    """Send ``request``, giving it at most ``timeout`` seconds."""

    request: HttpRequest
    timeout: float


@attrs.frozen
class Sleep:
    """Wait ``seconds`` before the next attempt; attempt ``attempt`` failed with ``error``."""

    seconds: float
    attempt: int
    error: AichatError


@attrs.frozen
class Refresh:
    """Fetch fresh credentials from the source, under the family's refresh lock.

    Ask [`CallEngine.wants_fresh`][] there first: another call may have done it.
    """


@attrs.frozen
class Save:
    """The site rotated cookies: give the whole set to the source to keep."""

    cookies: Mapping[str, str] = attrs.field(repr=lambda value: repr(sorted(value)))


@attrs.frozen
class Done:
    """The call succeeded."""

    reply: Reply


@attrs.frozen
class Fail:
    """The call failed: raise ``error`` (built with its final text and attempts)."""

    error: AichatError


Command = Send | Sleep | Refresh | Save | Done | Fail


class CallEngine:
    """One call's state and rules; a driver feeds it what happened and does what it says.

    ``attempts`` counts the requests sent; a replay after a refresh is one of
    them but spends no retry. ``started`` and every ``now`` are one clock's
    seconds (``time.monotonic()``), ``wall`` is epoch seconds, ``rand`` a
    number in ``[0, 1)`` for the backoff's jitter. ``Reply.elapsed`` counts
    from ``started``; the deadline counts the attempts and waits, from
    [`start`][aichat_core._engine.CallEngine.start].
    """

    __slots__ = (
        "_budget",
        "_jar",
        "_pending",
        "_prepared",
        "_refreshed",
        "_refusal",
        "_request",
        "_round",
        "_sent",
        "_settings",
        "_spent",
        "_started",
        "_tries_from",
        "attempts",
    )

    def __init__(
        self,
        prepared: PreparedCall,
        settings: CallSettings,
        *,
        jar: Jar,
        budget: Budget | None,
        started: float,
    ) -> None:
        self._prepared = prepared
        self._settings = settings
        self._jar = jar
        self._budget = budget
        self._started = started
        self._tries_from = started  # the deadline counts attempts and waits, from start()
        self.attempts = 0
        self._round = 1  # tries in the retry sense: a replay belongs to the round it follows
        self._spent = 0
        self._refreshed = False
        self._refusal: AuthenticationError | None = None
        self._pending: Command | None = None
        self._sent = Sent(-1, "", ())
        self._request: HttpRequest | None = None

    def start(self, credentials: Credentials, version: int, *, now: float, wall: float) -> Command:
        """The source gave ``credentials``; ``version`` is the jar's, read before asking it.

        A refresh since then makes these credentials older than the jar's, so
        they seed it only if it is still at ``version``.
        """
        self._tries_from = now
        self._jar.seed(credentials, if_version=version)
        self._use(self._jar.sent())
        if self._expiring(wall):
            return Refresh()
        return self._send(now)

    def received(self, response: HttpResponse, *, now: float, wall: float, rand: float) -> Command:
        """The answer of the last [`Send`][aichat_core._engine.Send] arrived."""
        rotated = bool(response.set_cookies) and self._jar.update(response.set_cookies)
        try:
            if 200 <= response.status_code < 300:
                text, payload = success_payload(response.body, self._sent.values)
            else:
                raise_for_status(
                    response, now=wall, secrets=self._sent.values, base_url=self._settings.base_url
                )
        except AichatError as error:
            outcome = self._failed(error, now=now, rand=rand)
        else:
            outcome = self._done(text, payload, response.status_code, now)
        if rotated:
            self._pending = outcome
            return Save(self._jar.cookies())
        return outcome

    def failed(self, error: AichatError, *, now: float, rand: float) -> Command:
        """The last [`Send`][aichat_core._engine.Send] got no complete answer."""
        return self._failed(error, now=now, rand=rand)

    def saved(self) -> Command:
        """The rotated cookies of a [`Save`][aichat_core._engine.Save] were given to the source."""
        pending, self._pending = self._pending, None
        assert pending is not None  # a Save always has what comes next
        return pending

    def slept(self, *, now: float) -> Command:
        """The wait of a [`Sleep`][aichat_core._engine.Sleep] is over."""
        return self._send(now)

    def wants_fresh(self) -> bool:
        """Whether the source must be asked: no other call changed the cookies since this one's."""
        return self._jar.version == self._sent.version

    def refreshed(self, credentials: Credentials | None, *, now: float) -> Command:
        """After a [`Refresh`][aichat_core._engine.Refresh]: what the source gave, or ``None``
        when it was not asked (another call refreshed first)."""
        if credentials is not None:
            self._jar.seed(credentials)
        sent = self._jar.sent()
        refusal = self._refusal
        self._refreshed = True
        if refusal is not None and sent.version == self._sent.version:
            return self._fail(refusal, SAME_COOKIES)
        self._use(sent)
        return self._send(now)

    def refresh_failed(self, exc: Exception, *, now: float) -> Command:
        """The source raised ``exc`` when asked for fresh credentials."""
        refusal = self._refusal
        if refusal is None:  # a renewal ahead of expiry: the credentials still work
            self._refreshed = True
            return self._send(now)
        # A user's source may put anything in its exceptions, values included:
        # only a typed error's own words are quoted, else only the type.
        why = str(exc) if isinstance(exc, AichatError) else type(exc).__name__
        return self._fail(refusal, f"; refreshing the cookies failed: {why}", cause=exc)

    # The rules.

    def _use(self, sent: Sent) -> None:
        settings = self._settings
        last = settings.last_headers
        built_for, headers = last.entry
        if built_for is not sent:
            headers = _headers(settings, sent)
            last.entry = (sent, headers)
        self._sent = sent
        self._request = HttpRequest(
            method="POST",
            url=f"{settings.base_url}/api/text",
            headers=headers,
            body=request_body(self._prepared.prompt, self._prepared.params),
        )

    def _expiring(self, wall: float) -> bool:
        margin = self._settings.refresh_margin
        credentials = self._sent.credentials
        if margin is None or credentials is None or self._refreshed:
            return False
        renew_at = credentials.renew_at(margin)
        return renew_at is not None and wall >= renew_at

    def _send(self, now: float) -> Command:
        assert self._request is not None
        settings = self._settings
        timeout = settings.policy.attempt_timeout(settings.timeout, elapsed=now - self._tries_from)
        if timeout <= 0:
            deadline = settings.policy.deadline
            return self._fail(RequestTimeoutError(f"the call's deadline of {deadline:g} s passed"))
        self.attempts += 1
        return Send(self._request, timeout)

    def _failed(self, error: AichatError, *, now: float, rand: float) -> Command:
        if isinstance(error, AuthenticationError) and not self._refreshed:
            self._refusal = error
            return Refresh()
        policy = self._settings.policy
        wait = policy.next_wait(self._round, error, elapsed=now - self._tries_from, rand=rand)
        if wait is not None and self._budget is not None:
            cost = policy.cost_of(error)
            if self._budget.spend(cost):
                self._spent += cost
            else:
                wait = None
        if wait is None:
            return self._fail(error)
        attempt, self._round = self._round, self._round + 1
        return Sleep(wait, attempt, error)

    def _done(self, text: str, payload: Mapping[str, Any], status: int, now: float) -> Command:
        if self._budget is not None:
            self._budget.give_back(self._spent)
        return Done(Reply(text, payload, self.attempts, now - self._started, status))

    def _fail(self, error: AichatError, why: str = "", cause: Exception | None = None) -> Fail:
        return Fail(error.evolve(message=error.message + why, attempts=self.attempts, cause=cause))


def _headers(settings: CallSettings, sent: Sent) -> tuple[tuple[str, str], ...]:
    """The request headers for ``sent``: the credentials' User-Agent and headers under the
    client's own, and the jar's ``Cookie`` header."""
    credentials = sent.credentials
    headers: Mapping[str, str] = settings.headers
    user_agent = settings.user_agent
    if credentials is not None:
        if credentials.headers:
            headers = {**credentials.headers, **headers}
        if credentials.user_agent is not None and "user-agent" not in settings.headers:
            user_agent = credentials.user_agent
    if sent.header:
        headers = {"cookie": sent.header, **headers}
    return request_headers(settings.base_url, headers=headers, user_agent=user_agent)
