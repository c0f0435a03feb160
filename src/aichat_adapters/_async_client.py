"""The async client, for asyncio and trio (through anyio)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from aichat_adapters._ask_many import AskMany, AskResult, Prompts
from aichat_adapters._base import BaseChat, BaseClient, CallState, refresh_failure
from aichat_adapters._options import check_http_client, checked_transport
from aichat_adapters._retrying import Plan, retry_call_async
from aichat_adapters.transports import AsyncHttpxTransport
from aichat_adapters.transports._shared import loop_token
from aichat_core import (
    AsyncCookieSource,
    AsyncTransport,
    AuthenticationError,
    CallParams,
    CookieSource,
    InvalidRequestError,
    MessagesInput,
    PreparedCall,
    Reply,
    RetryPolicy,
    prepare_call,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AskResult", "AsyncAichatClient", "AsyncChat"]


class AsyncAichatClient(BaseClient):
    """An async client for chat-gpt.org, on asyncio or trio.

    Takes the same options as [`AichatClient`][aichat_adapters.AichatClient];
    ``cookie_source`` may also have async methods, ``transport`` is an
    [`AsyncTransport`][aichat_core.AsyncTransport] or an
    ``httpx.AsyncBaseTransport``, and ``http_client`` is an ``httpx.AsyncClient``.
    A cookie source that is ``blocking`` is called in a worker thread.
    """

    def __init__(
        self,
        *,
        cookies: Mapping[str, str] | str | None = None,
        cookie_source: CookieSource | AsyncCookieSource | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
        timeout: float = 60.0,
        max_retries: int | None = None,
        deadline: float | None = None,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
        transport: AsyncTransport | httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
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
        self._shared.transport = checked_transport(transport, asynchronous=True)
        check_http_client(http_client, asynchronous=True)
        self._http_client = http_client
        self._refresh_locks: dict[int, anyio.Lock] = {}
        source = self._shared.source
        self._plain_source = not (
            inspect.iscoroutinefunction(source.get_cookies) or getattr(source, "blocking", False)
        )

    @property
    def transport(self) -> AsyncTransport:
        """The transport, built on first use."""
        transport: AsyncTransport | None = self._shared.transport
        if transport is None:
            options = self._options
            transport = self._shared.transport = AsyncHttpxTransport(
                self._http_client, proxy=options.proxy, verify=options.verify
            )
        return transport

    async def _call_source(self, method: Any, *args: Any) -> Any:
        """Call a cookie source's method: awaited if async, in a worker thread if blocking."""
        if inspect.iscoroutinefunction(method):
            return await method(*args)
        if getattr(self._shared.source, "blocking", False):
            return await anyio.to_thread.run_sync(method, *args)
        result = method(*args)
        return await result if inspect.isawaitable(result) else result

    async def complete(self, messages: MessagesInput, **params: Unpack[CallParams]) -> Reply:
        """Send messages and return the [`Reply`][aichat_core.Reply] with its metadata."""
        started = time.monotonic()
        self._check_open()
        prepared = prepare_call(messages, **params)
        transport = self.transport
        refreshes = self._shared.refreshes
        source = self._shared.source
        if self._plain_source:  # the usual case, without a thread or an await
            cookies = source.get_cookies()
        else:
            cookies = await self._call_source(source.get_cookies)
        state = self._start(prepared, cookies, refreshes)

        async def attempt(plan: Plan) -> Reply:
            nonlocal state
            try:
                return await self._exchange(transport, state, plan)
            except AuthenticationError as error:
                if state.refreshed:
                    raise
                state = await self._refreshed(state, prepared, error)
                return await self._exchange(transport, state, plan)

        reply, attempts = await retry_call_async(
            attempt, self.retry_policy, timeout=self.timeout, budget=self._shared.budget
        )
        return self._finish(reply, attempts, started)

    async def _exchange(self, transport: AsyncTransport, state: CallState, plan: Plan) -> Reply:
        timeout = plan.attempt_timeout()
        sent_at = time.monotonic()
        response = await transport.send(state.request, timeout=timeout)
        rotated = self._rotated(response)
        if rotated is not None:
            save = getattr(self._shared.source, "save_cookies", None)
            if callable(save):
                await self._call_source(save, rotated)
        return self._read(state, response, sent_at)

    def _refresh_lock(self) -> anyio.Lock:
        """One lock per event loop (an anyio lock belongs to the loop that first used it)."""
        key = id(loop_token())
        lock = self._refresh_locks.get(key)
        if lock is None:
            self._refresh_locks = {key: (lock := anyio.Lock())}
        return lock

    async def _refreshed(
        self, state: CallState, prepared: PreparedCall, error: AuthenticationError
    ) -> CallState:
        """Fresh cookies once (one refresh for all calls rejected together), or ``error``."""
        source = self._shared.source
        async with self._refresh_lock():
            fresh = None
            if self._shared.jar.version == state.version:
                refresh = getattr(source, "refresh_cookies", None) or source.get_cookies
                try:
                    fresh = await self._call_source(refresh)
                except Exception as exc:
                    raise self._not_replayed(
                        error, f"; refreshing the cookies failed: {refresh_failure(exc)}"
                    ) from exc
            replay = self._replay_state(state, prepared, fresh)
        if replay is state:
            raise self._not_replayed(error)
        return replay

    async def ask(self, messages: MessagesInput, **params: Unpack[CallParams]) -> str:
        """Send messages (or one prompt string) and return the reply's text."""
        reply = await self.complete(messages, **params)
        return reply.text

    def ask_many(
        self, prompts: Prompts, *, concurrency: int = 8, **params: Unpack[CallParams]
    ) -> AskMany:
        """Ask every prompt, at most ``concurrency`` at once; results as they complete.

        ``prompts`` is any iterable or async iterable, pulled lazily. Use it as::

            async with client.ask_many(prompts, concurrency=8) as results:
                async for result in results:
                    ...

        A failed prompt gives an [`AskResult`][aichat_adapters.AskResult] with
        ``error`` set; it never stops the others. Leaving the block early
        (``break``, an exception) cancels what is still in flight.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(f"concurrency must be an int >= 1, got {concurrency!r}")
        return AskMany(self.ask, prompts, concurrency, params)

    def conversation(self, system: str | None = None) -> AsyncChat:
        """A multi-turn chat that keeps its history."""
        return AsyncChat(self, system)

    async def aclose(self) -> None:
        """Release the connection pool; the client (and its copies) cannot be used after."""
        self._shared.closed = True
        transport, self._shared.transport = self._shared.transport, None
        if transport is not None:
            await transport.aclose()

    async def __aenter__(self) -> AsyncAichatClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncChat(BaseChat):
    """A conversation on an [`AsyncAichatClient`][aichat_adapters.AsyncAichatClient];
    the twin of [`Chat`][aichat_adapters.Chat]."""

    def __init__(self, client: AsyncAichatClient, system: str | None = None) -> None:
        super().__init__(system)
        self.client = client

    async def ask(self, text: str, **params: Unpack[CallParams]) -> str:
        """Add a user message, send the history, keep and return the answer."""
        asked = self.history.with_user(text)
        reply = await self.client.complete(asked.messages, **params)
        self.history = asked.with_assistant(reply.text)
        return reply.text
