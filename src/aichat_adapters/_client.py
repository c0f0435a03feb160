"""The blocking client."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from aichat_adapters._base import BaseChat, BaseClient, CallState, refresh_failure
from aichat_adapters._options import check_http_client, checked_transport
from aichat_adapters._retrying import Plan, retry_call
from aichat_adapters.transports import HttpxTransport
from aichat_core import (
    AuthenticationError,
    CallParams,
    CookieSource,
    InvalidRequestError,
    MessagesInput,
    PreparedCall,
    Reply,
    RetryPolicy,
    Transport,
    prepare_call,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AichatClient", "Chat"]


class AichatClient(BaseClient):
    """A blocking client for chat-gpt.org; safe to share between threads.

    Args:
        cookies: A mapping or a ``"a=b; c=d"`` string; shorthand for a static source.
        cookie_source: Any object with ``get_cookies()``. With neither, the
            default chain (``AICHAT_COOKIES``, the cookies file, then the
            browsers) is used, selecting ``base_url``'s cookies.
        base_url: The service, a mirror or the stub server; default
            ``AICHAT_BASE_URL``, else ``https://chat-gpt.org``.
        proxy: A proxy URL for the built-in transport; default ``AICHAT_PROXY``.
        timeout: Seconds for each attempt as a whole: connect, send, and read
            to the last byte.
        max_retries: Retries after the first attempt (default 2).
        deadline: Seconds for the whole call, attempts and waits together.
        verify: TLS verification for the built-in transport: ``True``,
            ``False``, or the path of a CA bundle.
        headers: Extra headers, replacing the defaults of the same name.
        transport: Your own [`Transport`][aichat_core.Transport], one of ours
            ([`CurlTransport`][aichat_adapters.CurlTransport]...), or an
            ``httpx.BaseTransport`` such as ``httpx.MockTransport(handler)``.
        http_client: Your own ``httpx.Client`` (not closed by
            [`close`][aichat_adapters.AichatClient.close]).
        retry_policy: Full control of retries; ``max_retries`` and
            ``deadline``, when given, override its fields.
    """

    def __init__(
        self,
        *,
        cookies: Mapping[str, str] | str | None = None,
        cookie_source: CookieSource | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
        timeout: float = 60.0,
        max_retries: int | None = None,
        deadline: float | None = None,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
        transport: Transport | httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            cookies=cookies,
            cookie_source=cookie_source,
            base_url=base_url,
            proxy=proxy,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            verify=verify,
            headers=headers,
            transport=transport,
            http_client=http_client,
            retry_policy=retry_policy,
        )
        for method in ("get_cookies", "refresh_cookies", "save_cookies"):
            if _is_async(getattr(self.cookie_source, method, None)):
                raise InvalidRequestError(
                    f"cookie_source.{method}() is async; use AsyncAichatClient, or give a "
                    "source with plain methods"
                )
        self._shared.transport = checked_transport(transport, asynchronous=False)
        check_http_client(http_client, asynchronous=False)
        self._http_client = http_client
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    @property
    def transport(self) -> Transport:
        """The transport, built on first use."""
        transport: Transport | None = self._shared.transport
        if transport is None:
            with self._lock:
                transport = self._shared.transport
                if transport is None:
                    options = self._options
                    transport = self._shared.transport = HttpxTransport(
                        self._http_client, proxy=options.proxy, verify=options.verify
                    )
        return transport

    def complete(self, messages: MessagesInput, **params: Unpack[CallParams]) -> Reply:
        """Send messages and return the [`Reply`][aichat_core.Reply] with its metadata."""
        started = time.monotonic()
        self._check_open()
        prepared = prepare_call(messages, **params)
        transport = self.transport
        refreshes = self._shared.refreshes
        state = self._start(prepared, self._shared.source.get_cookies(), refreshes)

        def attempt(plan: Plan) -> Reply:
            nonlocal state
            try:
                return self._exchange(transport, state, plan)
            except AuthenticationError as error:
                if state.refreshed:
                    raise
                replay = self._refreshed(state, prepared, error)
                state = replay
                return self._exchange(transport, state, plan)

        reply, attempts = retry_call(
            attempt, self.retry_policy, timeout=self.timeout, budget=self._shared.budget
        )
        return self._finish(reply, attempts, started)

    def _exchange(self, transport: Transport, state: CallState, plan: Plan) -> Reply:
        timeout = plan.attempt_timeout()
        sent_at = time.monotonic()
        response = transport.send(state.request, timeout=timeout)
        rotated = self._rotated(response)
        if rotated is not None:
            save = getattr(self._shared.source, "save_cookies", None)
            if callable(save):
                save(rotated)
        return self._read(state, response, sent_at)

    def _refreshed(
        self, state: CallState, prepared: PreparedCall, error: AuthenticationError
    ) -> CallState:
        """Fresh cookies once (one refresh for all calls rejected together), or ``error``."""
        source = self._shared.source
        with self._refresh_lock:
            fresh = None
            if self._shared.jar.version == state.version:
                refresh = getattr(source, "refresh_cookies", None) or source.get_cookies
                try:
                    fresh = refresh()
                except Exception as exc:
                    raise self._not_replayed(
                        error, f"; refreshing the cookies failed: {refresh_failure(exc)}"
                    ) from exc
            replay = self._replay_state(state, prepared, fresh)
        if replay is state:
            raise self._not_replayed(error)
        return replay

    def ask(self, messages: MessagesInput, **params: Unpack[CallParams]) -> str:
        """Send messages (or one prompt string) and return the reply's text."""
        return self.complete(messages, **params).text

    def conversation(self, system: str | None = None) -> Chat:
        """A multi-turn chat that keeps its history."""
        return Chat(self, system)

    def close(self) -> None:
        """Release the connection pool; the client (and its copies) cannot be used after."""
        with self._lock:
            self._shared.closed = True
            transport, self._shared.transport = self._shared.transport, None
        if transport is not None:
            transport.close()

    def __enter__(self) -> AichatClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _is_async(method: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(method)


class Chat(BaseChat):
    """A conversation on an [`AichatClient`][aichat_adapters.AichatClient]: each
    [`ask`][aichat_adapters.Chat.ask] sends the whole history."""

    def __init__(self, client: AichatClient, system: str | None = None) -> None:
        super().__init__(system)
        self.client = client

    def ask(self, text: str, **params: Unpack[CallParams]) -> str:
        """Add a user message, send the history, keep and return the answer."""
        asked = self.history.with_user(text)
        reply = self.client.complete(asked.messages, **params)
        self.history = asked.with_assistant(reply.text)
        return reply.text
