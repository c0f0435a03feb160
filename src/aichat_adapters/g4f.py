"""A drop-in for g4f's ``Aichat`` provider, built on aichat-client.

Swap one import and keep the calls::

    # before
    from g4f.Provider import Aichat
    # after
    from aichat_adapters.g4f import Aichat

    reply = await Aichat.create_async(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "Hello, how are you?"}],
        cookies={"cookie_name": "cookie_value"},
    )

The request body is the one g4f sends. What differs: errors are typed
subclasses of the ones g4f raised (``RuntimeError`` for missing cookies,
``Exception`` for a refusal), TLS is verified, failed attempts are retried with
backoff, and without ``cookies`` the default cookie chain is asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import attrs

from aichat_adapters._async_client import AsyncAichatClient
from aichat_adapters._client import AichatClient
from aichat_core import DEFAULT_BASE_URL, InvalidRequestError, MessagesInput

__all__ = ["Aichat"]

_SUPPORTED = ("cookies", "temperature", "top_p", "timeout", "base_url")


@attrs.frozen
class _Call:
    """One provider call, checked: the client's options and the request's parameters."""

    client: Mapping[str, Any]
    params: Mapping[str, Any]


def _checked_call(model: str | None, proxy: str | None, kwargs: Mapping[str, Any]) -> _Call:
    """Sort the provider's keyword arguments into client options and request parameters.

    Raises:
        InvalidRequestError: an unsupported keyword argument, or ``stream=True``.
    """
    options = dict(kwargs)
    if options.pop("stream", False):
        raise InvalidRequestError(
            "stream=True is not supported: chat-gpt.org answers in one piece "
            "(Aichat.supports_stream is False)"
        )
    unknown = sorted(set(options) - set(_SUPPORTED))
    if unknown:
        raise InvalidRequestError(
            f"Aichat got unsupported keyword argument(s): {', '.join(unknown)}; "
            f"supported: {', '.join(_SUPPORTED)} and proxy (stream only as False)"
        )
    client: dict[str, Any] = {
        # As in g4f, empty cookies mean "none given": the default chain is asked.
        "cookies": options.get("cookies") or None,
        "proxy": proxy or None,
        "base_url": options.get("base_url") or DEFAULT_BASE_URL,
    }
    if options.get("timeout") is not None:
        client["timeout"] = options["timeout"]
    params = {
        "model": model,
        "temperature": options.get("temperature"),
        "top_p": options.get("top_p"),
    }
    return _Call(client=client, params=params)


class Aichat:
    """The chat-gpt.org provider, with g4f's class attributes and methods.

    Keyword arguments of both methods: ``cookies`` (a mapping or a
    ``"a=b; c=d"`` string; the default cookie chain when absent), ``temperature``,
    ``top_p``, ``timeout`` (seconds per attempt) and ``base_url`` (a mirror or the
    stub server). ``model`` is ``None``, ``""`` or ``"gpt-3.5-turbo"``.
    """

    url: ClassVar[str] = "https://chat-gpt.org/chat"
    working: ClassVar[bool] = True
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = False
    supports_gpt_35_turbo: ClassVar[bool] = True
    supports_gpt_4: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = True

    @classmethod
    async def create_async(
        cls,
        model: str | None,
        messages: MessagesInput,
        proxy: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Send the messages and return the reply's text.

        Args:
            model: ``None``, ``""`` or ``"gpt-3.5-turbo"``.
            messages: g4f-style dicts (``role``, ``content``), or ``Message`` values.
            proxy: A proxy URL.
            **kwargs: ``cookies``, ``temperature``, ``top_p``, ``timeout``, ``base_url``.

        Returns:
            The reply's text.

        Raises:
            CookiesNotFoundError: no cookies given or found (a ``RuntimeError``).
            ServiceError: the service answered ``{"response": false}`` (an ``Exception``).
            InvalidRequestError: bad model, messages or arguments (a ``ValueError``).
        """
        call = _checked_call(model, proxy, kwargs)
        async with AsyncAichatClient(**call.client) as client:
            return await client.ask(messages, **call.params)

    @classmethod
    def create_completion(
        cls,
        model: str | None,
        messages: MessagesInput,
        stream: bool = False,
        **kwargs: Any,
    ) -> Iterator[str]:
        """g4f's synchronous provider call: a generator yielding the whole reply once.

        Blocking and loop-free, so it also works inside a running event loop.
        Takes ``proxy`` and the keyword arguments of :meth:`create_async`.

        Raises:
            InvalidRequestError: ``stream=True``; otherwise the errors of
                :meth:`create_async`, raised when the generator is advanced.
        """
        proxy = kwargs.pop("proxy", None)
        call = _checked_call(model, proxy, {"stream": stream, **kwargs})
        with AichatClient(**call.client) as client:
            yield client.ask(messages, **call.params)
