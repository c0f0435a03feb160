"""The blocking client: a thin driver of the call engine."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from aichat_adapters._base import BaseChat, BaseClient
from aichat_adapters._edges import SyncSource, Wiring, sync_source
from aichat_adapters._logging import log_exchange, log_retry
from aichat_adapters._options import check_http_client, checked_transport
from aichat_adapters.transports import HttpxTransport
from aichat_core import (
    AichatError,
    CallParams,
    CookieSource,
    Credentials,
    CredentialsSource,
    MessagesInput,
    Reply,
    RetryPolicy,
    Transport,
    prepare_call,
)
from aichat_core._engine import CallEngine, Command, Done, Fail, Refresh, Save, Send, Sleep

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AichatClient", "Chat"]


class AichatClient(BaseClient[SyncSource, Transport]):
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
        cookie_source: CookieSource | CredentialsSource | None = None,
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
            asynchronous=False,
        )
        self._family.transport = checked_transport(transport, asynchronous=False)
        check_http_client(http_client, asynchronous=False)
        self._http_client = http_client

    def _wrap_source(
        self, cookies: Mapping[str, str] | str | None, cookie_source: object | None, wiring: Wiring
    ) -> SyncSource:
        return sync_source(cookies, cookie_source, wiring)

    @property
    def transport(self) -> Transport:
        """The transport, built on first use."""
        family = self._family
        transport: Transport | None = family.transport
        if transport is None:
            with family.lock:
                transport = family.transport
                if transport is None:
                    options = self._options
                    transport = family.transport = HttpxTransport(
                        self._http_client, proxy=options.proxy, verify=options.verify
                    )
        return transport

    def complete(self, messages: MessagesInput, **params: Unpack[CallParams]) -> Reply:
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
        command = call.start(family.source.get(), version, now=time.monotonic(), wall=time.time())
        while True:
            if type(command) is Send:
                sent_at = time.monotonic()
                try:
                    response = transport.send(command.request, timeout=command.timeout)
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
                family.sleep(command.seconds)
                command = call.slept(now=time.monotonic())
            elif type(command) is Save:
                if family.source.save is not None:
                    family.source.save(command.cookies)
                command = call.saved()
            else:
                assert type(command) is Refresh
                command = self._refresh(call)

    def _refresh(self, call: CallEngine) -> Command:
        """Fresh credentials, once for all the family's calls rejected together."""
        family = self._family
        with family.refresh_lock:
            fresh = None
            if call.wants_fresh():
                try:
                    fresh = family.source.refresh()
                except Exception as exc:
                    return call.refresh_failed(exc, now=time.monotonic())
            return call.refreshed(fresh, now=time.monotonic())

    def credentials(self) -> Credentials:
        """The credentials the source gives now, checked, as the next call would use them.

        Raises:
            CookiesNotFoundError: the source has none (its message says why).
        """
        self._check_open()
        credentials: Credentials = self._family.source.get()
        return credentials

    def ask(self, messages: MessagesInput, **params: Unpack[CallParams]) -> str:
        """Send messages (or one prompt string) and return the reply's text."""
        return self.complete(messages, **params).text

    def chat(self, system: str | None = None) -> Chat:
        """A multi-turn [`Chat`][aichat_adapters.Chat] that keeps its history.

        Args:
            system: A system message that opens the conversation.
        """
        return Chat(self, system)

    def conversation(self, system: str | None = None) -> Chat:
        """The same as [`chat`][aichat_adapters.AichatClient.chat] (its former name)."""
        return self.chat(system)

    def close(self) -> None:
        """Release the connection pool; the client (and its copies) cannot be used after."""
        family = self._family
        with family.lock:
            family.closed = True
            transport, family.transport = family.transport, None
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


class Chat(BaseChat):
    """A chat on an [`AichatClient`][aichat_adapters.AichatClient]: each
    [`ask`][aichat_adapters.Chat.ask] sends the whole history (a
    [`Conversation`][aichat_core.Conversation])."""

    def __init__(self, client: AichatClient, system: str | None = None) -> None:
        super().__init__(system)
        self.client = client

    def ask(self, text: str, **params: Unpack[CallParams]) -> str:
        """Add a user message, send the history, keep and return the answer."""
        asked = self.history.with_user(text)
        reply = self.client.complete(asked.messages, **params)
        self.history = asked.with_assistant(reply.text)
        return reply.text
