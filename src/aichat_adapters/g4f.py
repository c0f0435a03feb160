"""A drop-in for g4f's ``Aichat`` provider, built on aichat-client.

Swap one import and keep the calls (g4f 0.1.x):

```python
# before
from g4f.Provider import Aichat
# after
from aichat_adapters.g4f import Aichat

reply = await Aichat.create_async(
    model="gpt-3.5-turbo",
    messages=[{"role": "user", "content": "Hello, how are you?"}],
    cookies={"cookie_name": "cookie_value"},
)
```

The same class is a provider for today's g4f (8.x):

```python
from g4f.client import Client

client = Client(provider=Aichat)
completion = client.chat.completions.create(
    model="gpt-3.5-turbo",
    messages=[{"role": "user", "content": "Hello, how are you?"}],
    cookies={"cookie_name": "cookie_value"},
)
print(completion.choices[0].message.content)
```

The request body is the one g4f sends. What differs: errors are typed
subclasses of the ones g4f raised (``RuntimeError`` for missing cookies,
``Exception`` for a refusal), TLS is verified, failed attempts are retried with
backoff, and without ``cookies`` the default cookie chain is asked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from aichat_adapters._async_client import AsyncAichatClient
from aichat_adapters._client import AichatClient
from aichat_core import InvalidRequestError, MessagesInput

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Aichat"]

logger = logging.getLogger("aichat")

_MODEL = "gpt-3.5-turbo"


class _Options(TypedDict, total=False):
    """The keyword arguments of the provider's methods (besides ``proxy`` and ``stream``).

    The generation parameters are [`CallParams`][aichat_core.CallParams] but
    ``model``, a parameter of its own here; a test keeps the two in step.
    """

    temperature: float | None
    top_p: float | None
    presence_penalty: float | None
    frequency_penalty: float | None
    cookies: Mapping[str, str] | str | None
    timeout: float | None
    base_url: str | None
    # Passed by g4f 8.x; chat-gpt.org has no such options, so they are ignored.
    provider: object
    api_key: str | None
    max_tokens: int | None
    stop: str | list[str] | None
    conversation: object
    ignore_stream: bool | None
    stream_timeout: float | None
    web_search: bool | str | None


_GENERATION = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
_CLIENT = ("cookies", "timeout", "base_url", "proxy")
_IGNORED = (
    "provider",
    "api_key",
    "max_tokens",
    "stop",
    "conversation",
    "ignore_stream",
    "stream_timeout",
    "web_search",
)
_ACCEPTED = frozenset((*_GENERATION, *_CLIENT, *_IGNORED, "stream"))


@attrs.frozen
class _Call:
    """One provider call, checked: the client's options and the request's parameters."""

    client: Mapping[str, Any]
    params: Mapping[str, Any]


def _checked_call(model: str | None, options: Mapping[str, Any]) -> _Call:
    """Sort the provider's keyword arguments into client options and request parameters.

    g4f's own arguments that chat-gpt.org cannot honour are dropped with a
    debug log (names only); ``stream=True`` gives the reply in one piece.

    Raises:
        InvalidRequestError: an unknown keyword argument.
    """
    unknown = sorted(set(options) - _ACCEPTED)
    if unknown:
        raise InvalidRequestError(
            f"Aichat got unsupported keyword argument(s): {', '.join(unknown)}; "
            f"supported: {', '.join((*_GENERATION, *_CLIENT))} "
            f"(and g4f's own {', '.join(('stream', *_IGNORED))}, which are ignored)"
        )
    ignored = [name for name in ("stream", *_IGNORED) if options.get(name) not in (None, False)]
    if ignored:
        logger.debug(
            "g4f Aichat ignores %s: chat-gpt.org answers in one piece and has no such options",
            ", ".join(ignored),
        )
    # Options not given (or empty, as g4f treats empty cookies) keep the client's
    # defaults: the default cookie chain, and the client's own base_url and proxy.
    client = {name: options[name] for name in _CLIENT if options.get(name) not in (None, "", {})}
    params = {name: options[name] for name in _GENERATION if name in options}
    return _Call(client=client, params={"model": model, **params})


class Aichat:
    """The chat-gpt.org provider, for g4f 0.1.x and as ``provider=`` for g4f 8.x.

    Keyword arguments of every method: ``cookies`` (a mapping or a
    ``"a=b; c=d"`` string; the default cookie chain when absent), ``temperature``,
    ``top_p``, ``presence_penalty``, ``frequency_penalty``, ``timeout`` (seconds
    per attempt), ``base_url`` (a mirror or the stub server) and ``proxy``.
    ``model`` is ``None``, ``""`` or ``"gpt-3.5-turbo"``.

    g4f 8.x also passes ``stream``, ``provider``, ``api_key``, ``max_tokens``,
    ``stop``, ``conversation``, ``ignore_stream``, ``stream_timeout`` and
    ``web_search``: they are accepted and ignored (a debug line on the
    ``aichat`` logger names them). ``stream=True`` gives the whole reply as one
    chunk. Any other keyword argument raises
    [`InvalidRequestError`][aichat_core.InvalidRequestError].
    """

    url: ClassVar[str] = "https://chat-gpt.org/chat"
    working: ClassVar[bool] = True
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = False
    supports_gpt_35_turbo: ClassVar[bool] = True
    supports_gpt_4: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    # g4f 8.x reads these:
    label: ClassVar[str] = "Aichat (aichat-client)"
    default_model: ClassVar[str] = _MODEL
    models: ClassVar[tuple[str, ...]] = (_MODEL,)
    use_stream_timeout: ClassVar[bool] = False
    live: ClassVar[int] = 0
    """g4f 8.x counts successful (+1) and failed (-1) calls here."""

    @classmethod
    def get_dict(cls) -> dict[str, str]:
        """g4f 8.x's description of the provider: ``name``, ``url`` and ``label``."""
        return {"name": cls.__name__, "url": cls.url, "label": cls.label}

    @classmethod
    def get_models(cls, **kwargs: object) -> list[str]:
        """The models (``gpt-3.5-turbo``), for g4f 8.x's ``client.models.get_all()``."""
        return list(cls.models)

    @classmethod
    async def create_async(
        cls,
        model: str | None,
        messages: MessagesInput,
        proxy: str | None = None,
        stream: bool | None = False,
        **kwargs: Unpack[_Options],
    ) -> str:
        """Send the messages and return the reply's text.

        Args:
            model: ``None``, ``""`` or ``"gpt-3.5-turbo"``.
            messages: g4f-style dicts (``role``, ``content``), or ``Message`` values.
            proxy: A proxy URL.
            stream: Ignored: the reply comes in one piece.
            **kwargs: ``cookies``, ``temperature``, ``top_p``, ``presence_penalty``,
                ``frequency_penalty``, ``timeout``, ``base_url``, and g4f's own.

        Returns:
            The reply's text.

        Raises:
            CookiesNotFoundError: no cookies given or found (a ``RuntimeError``).
            ServiceError: the service answered ``{"response": false}`` (an ``Exception``).
            InvalidRequestError: bad model, messages or arguments (a ``ValueError``).
        """
        call = _checked_call(model, {"proxy": proxy, "stream": stream, **kwargs})
        async with AsyncAichatClient(**call.client) as client:
            return await client.ask(messages, **call.params)

    @classmethod
    async def create_async_generator(
        cls,
        model: str | None,
        messages: MessagesInput,
        proxy: str | None = None,
        stream: bool | None = False,
        **kwargs: Unpack[_Options],
    ) -> AsyncIterator[str]:
        """g4f 8.x's asynchronous provider call: an async generator yielding the reply once.

        Takes the arguments of `create_async`, and raises its errors when the
        generator is advanced.
        """
        yield await cls.create_async(model, messages, proxy, stream, **kwargs)

    @classmethod
    def create_completion(
        cls,
        model: str | None,
        messages: MessagesInput,
        stream: bool | None = False,
        proxy: str | None = None,
        **kwargs: Unpack[_Options],
    ) -> Iterator[str]:
        """g4f's synchronous provider call: a generator yielding the whole reply once.

        Blocking and loop-free, so it also works inside a running event loop.
        Takes the arguments of `create_async`, and raises its errors when the
        generator is advanced.
        """
        call = _checked_call(model, {"proxy": proxy, "stream": stream, **kwargs})
        with AichatClient(**call.client) as client:
            yield client.ask(messages, **call.params)
