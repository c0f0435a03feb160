"""Checking one call before anything is sent: its messages, model and parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

import attrs

from aichat_core._errors import InvalidRequestError
from aichat_core._messages import MessagesInput, to_messages
from aichat_core._params import GenerationParams, check_model
from aichat_core._prompt import format_prompt

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["CallParams", "PreparedCall", "check_params", "check_text", "prepare_call"]

_DEFAULT_PARAMS = GenerationParams()


class CallParams(TypedDict, total=False):
    """The per-call keyword arguments of ``ask``/``complete``; ``None`` means the default."""

    model: str | None
    temperature: float | None
    top_p: float | None
    presence_penalty: float | None
    frequency_penalty: float | None


@attrs.frozen
class PreparedCall:
    """A call checked and ready to send: its prompt and parameters."""

    prompt: str
    params: GenerationParams


def check_params(**params: Unpack[CallParams]) -> GenerationParams:
    """The generation parameters of a call, model included, checked.

    Raises ``InvalidRequestError`` for an unknown name, a value out of range,
    or a model other than ``gpt-3.5-turbo``.
    """
    model = params.pop("model", None)
    check_model(model)
    if not params:
        return _DEFAULT_PARAMS
    return _DEFAULT_PARAMS.merged(**cast("dict[str, float | None]", params))


def check_text(text: str, what: str = "the prompt") -> str:
    """Refuse text that UTF-8 cannot carry (a lone surrogate); return it unchanged."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"{what} has a lone surrogate at position {exc.start} ({text[exc.start]!r}), "
            "which UTF-8 cannot encode; fix the text (it was probably decoded with "
            "errors='surrogateescape')"
        ) from None
    return text


def prepare_call(messages: MessagesInput, **params: Unpack[CallParams]) -> PreparedCall:
    """Check messages, model and parameters, and build the prompt; no I/O.

    Raises ``InvalidRequestError`` for anything that cannot be sent, an empty
    prompt included.
    """
    generation = check_params(**params)
    # A plain string is one user message: its prompt is itself (format_prompt's rule).
    prompt = messages if isinstance(messages, str) else format_prompt(to_messages(messages))
    check_text(prompt)
    if not prompt.strip():
        raise InvalidRequestError("the prompt is empty; give some text to ask")
    return PreparedCall(prompt=prompt, params=generation)
