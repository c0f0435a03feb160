"""The async client, for asyncio and trio (through anyio): a thin driver of the call engine."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from aichat_adapters._ask_many import AskMany, AskResult, Prompts
from aichat_adapters._base import BaseChat, BaseClient
from aichat_adapters._edges import AsyncSource, Wiring, async_source
from aichat_adapters._logging import log_exchange, log_retry
from aichat_adapters._options import check_http_client, checked_transport
from aichat_adapters.transports import AsyncHttpxTransport
from aichat_core import (
    AichatError,
    AsyncCookieSource,
    AsyncTransport,
    CallParams,
    CookieSource,
    Credentials,
    CredentialsSource,
    InvalidRequestError,
    MessagesInput,
    Reply,
    RetryPolicy,
    prepare_call,
)
from aichat_core._engine import CallEngine, Command, Done, Fail, Refresh, Save, Send, Sleep

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AskResult", "AsyncAichatClient", "AsyncChat"]


class AsyncAichatClient(BaseClient[AsyncSource, AsyncTransport]):
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
        cookie_source: CookieSource | AsyncCookieSource | CredentialsSource | None = None,
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
            asynchronous=True,
        )
        self._family.transport = checked_transport(transport, asynchronous=True)
        check_http_client(http_client, asynchronous=True)
        self._http_client = http_client

    def _wrap_source(
        self, cookies: Mapping[str, str] | str | None, cookie_source: object | None, wiring: Wiring
    ) -> AsyncSource:
        return async_source(cookies, cookie_source, wiring)

    @property
    def transport(self) -> AsyncTransport:
        """The transport, built on first use."""
        family = self._family
        transport: AsyncTransport | None = family.transport
        if transport is None:
            options = self._options
            transport = family.transport = AsyncHttpxTransport(
                self._http_client, proxy=options.proxy, verify=options.verify
            )
        return transport

    async def complete(self, messages: MessagesInput, **params: Unpack[CallParams]) -> Reply:
        """Send messages and return the [`Reply`][aichat_core.Reply] with its metadata."""
        started = time.monotonic()
        self._check_open()
        family = self._family
        call = CallEngine(
            prepare_call(messages, **params),
            self._settings,
            jar=family.jar,
            budget=family.budget,
            started=started,
        )
        transport = self.transport
        version = family.jar.version
        credentials = await family.source.get()
        command = call.start(credentials, version, now=time.monotonic(), wall=time.time())
        while True:
            if type(command) is Send:
                sent_at = time.monotonic()
                try:
                    response = await transport.send(command.request, timeout=command.timeout)
                except AichatError as error:
                    command = call.failed(error, now=time.monotonic(), rand=random.random())
                else:
                    log_exchange(command.request, response, sent_at)
                    now, wall = time.monotonic(), time.time()
                    command = call.received(response, now=now, wall=wall, rand=random.random())
            elif type(command) is Done:
                return command.reply
            elif type(command) is Fail:
                raise command.error
            elif type(command) is Sleep:
                log_retry(command)
                await family.sleep(command.seconds)
                command = call.slept(now=time.monotonic())
            elif type(command) is Save:
                if family.source.save is not None:
                    await family.source.save(command.cookies)
                command = call.saved()
            else:
                assert type(command) is Refresh
                command = await self._refresh(call)

    async def _refresh(self, call: CallEngine) -> Command:
        """Fresh credentials, once for all the family's calls rejected together."""
        family = self._family
        async with family.loop_lock():
            fresh = None
            if call.wants_fresh():
                try:
                    fresh = await family.source.refresh()
                except Exception as exc:
                    return call.refresh_failed(exc, now=time.monotonic())
            return call.refreshed(fresh, now=time.monotonic())

    async def credentials(self) -> Credentials:
        """The credentials the source gives now, checked, as the next call would use them.

        Raises:
            CookiesNotFoundError: the source has none (its message says why).
        """
        self._check_open()
        credentials: Credentials = await self._family.source.get()
        return credentials

    async def ask(self, messages: MessagesInput, **params: Unpack[CallParams]) -> str:
        """Send messages (or one prompt string) and return the reply's text."""
        reply = await self.complete(messages, **params)
        return reply.text

    def ask_many(
        self, prompts: Prompts, *, concurrency: int = 8, **params: Unpack[CallParams]
    ) -> AskMany:
        """Ask every prompt, at most ``concurrency`` at once; results as they complete.

        ``prompts`` is any iterable or async iterable, pulled lazily. Use it in
        an ``async with`` block:

        ```python
        async with client.ask_many(prompts, concurrency=8) as results:
            async for result in results:
                ...
        ```

        A failed prompt gives an [`AskResult`][aichat_adapters.AskResult] with
        ``error`` set; it never stops the others. Leaving the block early
        (``break``, an exception) cancels what is still in flight.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(f"concurrency must be an int >= 1, got {concurrency!r}")
        return AskMany(self.ask, prompts, concurrency, params)

    def chat(self, system: str | None = None) -> AsyncChat:
        """A multi-turn [`AsyncChat`][aichat_adapters.AsyncChat] that keeps its history.

        Args:
            system: A system message that opens the conversation.
        """
        return AsyncChat(self, system)

    def conversation(self, system: str | None = None) -> AsyncChat:
        """The same as [`chat`][aichat_adapters.AsyncAichatClient.chat] (its former name)."""
        return self.chat(system)

    async def aclose(self) -> None:
        """Release the connection pool; the client (and its copies) cannot be used after."""
        family = self._family
        family.closed = True
        transport, family.transport = family.transport, None
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
    """A chat on an [`AsyncAichatClient`][aichat_adapters.AsyncAichatClient];
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
