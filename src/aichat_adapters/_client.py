"""The blocking client."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from aichat_adapters._base import BaseChat, BaseClient
from aichat_adapters._retrying import retry_call
from aichat_adapters._transports import HttpxTransport
from aichat_core import (
    DEFAULT_BASE_URL,
    CallParams,
    InvalidRequestError,
    MessagesInput,
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
            default chain (``AICHAT_COOKIES``, then the cookies file) is used.
        base_url: The service, or a mirror or the stub server.
        proxy: A proxy URL for the built-in transport.
        timeout: Seconds for each attempt.
        max_retries: Retries after the first attempt (default 2).
        deadline: Seconds for the whole call, attempts and waits together.
        verify: TLS verification for the built-in transport.
        headers: Extra headers, replacing the defaults of the same name.
        transport: Your own :class:`~aichat_core.Transport`.
        http_client: Your own ``httpx.Client`` (not closed by :meth:`close`).
        retry_policy: Full control of retries; ``max_retries`` and
            ``deadline``, when given, override its fields.
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
        transport: Transport | None = None,
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
        if self.source_is_async(self.cookie_source):
            raise InvalidRequestError(
                "cookie_source.get_cookies() is async; use AsyncAichatClient, or give a "
                "source with a plain get_cookies()"
            )
        self._transport = transport
        self._http_client = http_client
        self._lock = threading.Lock()

    @property
    def transport(self) -> Transport:
        """The transport, built on first use."""
        if self._transport is None:
            with self._lock:
                if self._transport is None:
                    self._transport = HttpxTransport(
                        self._http_client, proxy=self._proxy, verify=self._verify
                    )
        return self._transport

    def complete(
        self,
        messages: MessagesInput,
        **params: Unpack[CallParams],
    ) -> Reply:
        """Send messages and return the :class:`~aichat_core.Reply` with its metadata."""
        started = time.monotonic()
        prepared = prepare_call(messages, **params)
        source = self.cookie_source
        request = self.build(prepared, self.checked_cookies(source, source.get_cookies()))
        transport = self.transport

        def send(timeout: float) -> Reply:
            sent_at = time.monotonic()
            return self.read(transport.send(request, timeout=timeout), request, sent_at)

        reply, attempts = retry_call(send, self.retry_policy, timeout=self.timeout)
        return self.finish(reply, attempts, started)

    def ask(
        self,
        messages: MessagesInput,
        **params: Unpack[CallParams],
    ) -> str:
        """Send messages (or one prompt string) and return the reply's text."""
        return self.complete(messages, **params).text

    def conversation(self, system: str | None = None) -> Chat:
        """A multi-turn chat that keeps its history."""
        return Chat(self, system)

    def close(self) -> None:
        """Release the connection pool."""
        with self._lock:
            if self._transport is not None:
                self._transport.close()

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
    """A conversation on an :class:`AichatClient`: each :meth:`ask` sends the whole history."""

    def __init__(self, client: AichatClient, system: str | None = None) -> None:
        super().__init__(system)
        self.client = client

    def ask(self, text: str, **params: Unpack[CallParams]) -> str:
        """Add a user message, send the history, keep and return the answer."""
        asked = self.history.with_user(text)
        reply = self.client.complete(asked.messages, **params)
        self.history = asked.with_assistant(reply.text)
        return reply.text
