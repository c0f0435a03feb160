"""The async client, for asyncio and trio (through anyio)."""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncGenerator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import attrs
import httpx

from aichat_adapters._base import BaseChat, BaseClient
from aichat_adapters._retrying import retry_call_async
from aichat_adapters._transports import AsyncHttpxTransport
from aichat_core import (
    DEFAULT_BASE_URL,
    AichatError,
    AsyncTransport,
    CallParams,
    InvalidRequestError,
    MessagesInput,
    Reply,
    RetryPolicy,
    prepare_call,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AskResult", "AsyncAichatClient", "AsyncChat"]


@attrs.frozen
class AskResult:
    """One answer of :meth:`AsyncAichatClient.ask_many`.

    ``text`` is set on success, ``error`` on failure; ``index`` is the
    prompt's position in the input.
    """

    index: int
    prompt: MessagesInput = attrs.field(repr=False)
    text: str | None = None
    error: AichatError | None = None

    @property
    def ok(self) -> bool:
        """Whether this prompt was answered."""
        return self.error is None


class AsyncAichatClient(BaseClient):
    """An async client for chat-gpt.org, on asyncio or trio.

    Takes the same options as :class:`AichatClient`; ``cookie_source`` may
    also have an async ``get_cookies()``, and ``http_client`` is an
    ``httpx.AsyncClient``.
    """

    def __init__(
        self,
        *,
        cookies: Mapping[str, str] | str | None = None,
        cookie_source: Any | None = None,
        base_url: str = DEFAULT_BASE_URL,
        proxy: str | None = None,
        timeout: float = 60.0,
        max_retries: int | None = None,
        deadline: float | None = None,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
        transport: AsyncTransport | None = None,
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
        self._transport = transport
        self._http_client = http_client

    @property
    def transport(self) -> AsyncTransport:
        """The transport, built on first use."""
        if self._transport is None:
            self._transport = AsyncHttpxTransport(
                self._http_client, proxy=self._proxy, verify=self._verify
            )
        return self._transport

    async def _cookies(self) -> Mapping[str, str]:
        source = self.cookie_source
        if getattr(source, "blocking", False):
            cookies = await anyio.to_thread.run_sync(source.get_cookies)
        else:
            cookies = source.get_cookies()
        if inspect.isawaitable(cookies):
            cookies = await cookies
        return self.checked_cookies(source, cookies)

    async def complete(
        self,
        messages: MessagesInput,
        **params: Unpack[CallParams],
    ) -> Reply:
        """Send messages and return the :class:`~aichat_core.Reply` with its metadata."""
        started = time.monotonic()
        prepared = prepare_call(messages, **params)
        request = self.build(prepared, await self._cookies())
        transport = self.transport

        async def send(timeout: float) -> Reply:
            sent_at = time.monotonic()
            return self.read(await transport.send(request, timeout=timeout), request, sent_at)

        reply, attempts = await retry_call_async(send, self.retry_policy, timeout=self.timeout)
        return self.finish(reply, attempts, started)

    async def ask(
        self,
        messages: MessagesInput,
        **params: Unpack[CallParams],
    ) -> str:
        """Send messages (or one prompt string) and return the reply's text."""
        reply = await self.complete(messages, **params)
        return reply.text

    async def ask_many(
        self, prompts: Iterable[MessagesInput], *, concurrency: int = 8, **params: Any
    ) -> AsyncGenerator[AskResult, None]:
        """Ask every prompt, at most ``concurrency`` at once; yield results as they complete.

        A failed prompt gives an :class:`AskResult` with ``error`` set; it never
        stops the others. If you stop iterating early, close the iterator
        (``contextlib.aclosing``) so the requests still in flight are cancelled.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(f"concurrency must be an int >= 1, got {concurrency!r}")
        items = list(prompts)
        limiter = anyio.CapacityLimiter(concurrency)
        send, receive = anyio.create_memory_object_stream[AskResult](max(1, len(items)))

        async def one(index: int, prompt: MessagesInput) -> None:
            async with limiter:
                try:
                    result = AskResult(index, prompt, text=await self.ask(prompt, **params))
                except AichatError as error:
                    result = AskResult(index, prompt, error=error)
            send.send_nowait(result)

        async with send, receive, anyio.create_task_group() as group:
            for index, prompt in enumerate(items):
                group.start_soon(one, index, prompt)
            try:
                for _ in items:
                    yield await receive.receive()
            except GeneratorExit:  # closed early: cancel what is still in flight
                group.cancel_scope.cancel()
                return

    def conversation(self, system: str | None = None) -> AsyncChat:
        """A multi-turn chat that keeps its history."""
        return AsyncChat(self, system)

    async def aclose(self) -> None:
        """Release the connection pool."""
        if self._transport is not None:
            await self._transport.aclose()

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
    """A conversation on an :class:`AsyncAichatClient`; the twin of :class:`Chat`."""

    def __init__(self, client: AsyncAichatClient, system: str | None = None) -> None:
        super().__init__(system)
        self.client = client

    async def ask(self, text: str, **params: Unpack[CallParams]) -> str:
        """Add a user message, send the history, keep and return the answer."""
        asked = self.history.with_user(text)
        reply = await self.client.complete(asked.messages, **params)
        self.history = asked.with_assistant(reply.text)
        return reply.text
