"""``POST /v1/chat/completions``: OpenAI's request read and checked, the answers in its shapes.

Nothing here does I/O: a request body goes in, a `ChatRequest` or a
[`Problem`][] comes out; a reply goes in, the JSON or the SSE bytes come out.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from aichat_adapters.serve._errors import Problem
from aichat_core import CallParams, InvalidRequestError, Message, prepare_call

__all__ = ["ChatRequest", "RequestProblem", "completion", "estimate_tokens", "parse_chat", "stream"]

_PARAMS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # NaN and Infinity are not JSON


class RequestProblem(Exception):
    """A request that cannot be served; carries its 400 answer."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _bad(message: str, param: str | None, code: str = "invalid_value") -> RequestProblem:
    return RequestProblem(Problem(400, message, "invalid_request_error", code, param))


def _unsupported(param: str, what: str) -> RequestProblem:
    return _bad(
        f"{param}: {what} is not supported: chat-gpt.org answers with one plain text reply",
        param,
        "unsupported_parameter",
    )


@attrs.frozen
class ChatRequest:
    """A chat completion request, checked: what to send, and how to answer."""

    messages: tuple[Message, ...] = attrs.field(repr=False)
    prompt: str = attrs.field(repr=False)  # the format_prompt text the site will get
    params: CallParams
    model: str
    stream: bool
    include_usage: bool


def _reject_unsupported(body: Mapping[str, Any]) -> None:
    n = body.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise _unsupported("n", f"n={n!r} (more than one choice)")
    for name in ("tools", "functions"):
        if body.get(name):
            raise _unsupported(name, "tool and function calling")
    for name in ("tool_choice", "function_call"):
        if body.get(name) not in (None, "none", "auto"):
            raise _unsupported(name, "forcing a tool or function call")
    response_format = body.get("response_format")
    if response_format is not None and response_format != {"type": "text"}:
        kind = response_format.get("type") if isinstance(response_format, dict) else response_format
        raise _unsupported("response_format", f"response_format {kind!r} (only 'text' is)")
    if body.get("logprobs") not in (None, False):
        raise _unsupported("logprobs", "logprobs")
    if body.get("top_logprobs") not in (None, 0):
        raise _unsupported("top_logprobs", "top_logprobs")
    if body.get("audio") is not None:
        raise _unsupported("audio", "audio output")
    modalities = body.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise _unsupported("modalities", f"modalities {modalities!r} (only ['text'] is)")


def _messages(value: object) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise _bad("messages must be a non-empty list of messages", "messages")
    messages: list[Message] = []
    for index, item in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise _bad(f"{where} must be an object with a role and a content", where)
        role = item.get("role")
        if role in ("tool", "function"):
            raise _unsupported(f"{where}.role", f"a {role!r} message (tool calling)")
        if not isinstance(role, str) or role not in _ROLES:
            raise _bad(
                f"{where}.role must be 'system', 'developer', 'user' or 'assistant', not {role!r}",
                f"{where}.role",
            )
        content = item.get("content")
        if content is None:
            raise _bad(f"{where}.content is missing: give the message's text", f"{where}.content")
        try:
            messages.append(Message.from_dict({"role": _ROLES[role], "content": content}))
        except InvalidRequestError as error:
            raise _bad(f"{where}.content: {error}", f"{where}.content") from None
    return tuple(messages)


def _params(body: Mapping[str, Any]) -> CallParams:
    params: CallParams = {}
    for name in _PARAMS:
        value = body.get(name)
        if value is not None:
            params[name] = value  # type: ignore[literal-required]
    return params


def parse_chat(raw: bytes, models: Sequence[str]) -> ChatRequest:
    """Read and check a request body; ``RequestProblem`` (400) names what is wrong."""
    try:
        body = _DECODER.decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad("the body is not UTF-8 text; send JSON", None, "invalid_json") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError, too many digits, nesting
        reason = error.msg if isinstance(error, json.JSONDecodeError) else type(error).__name__
        raise _bad(f"the body is not valid JSON ({reason})", None, "invalid_json") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object with model and messages", None)
    model = body.get("model")
    if model is None:
        model = models[0]
    elif model not in models:
        shown = model if isinstance(model, str) else type(model).__name__
        raise _bad(
            f"model {shown[:100]!r} is not served here; use one of {', '.join(models)} "
            "(GET /v1/models lists them)",
            "model",
            "model_not_found",
        )
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad(f"stream must be true or false, not {stream!r}", "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad(
            'stream_options must be an object such as {"include_usage": true}', "stream_options"
        )
    include_usage = (options or {}).get("include_usage")
    if include_usage is not None and not isinstance(include_usage, bool):
        raise _bad(
            "stream_options.include_usage must be true or false", "stream_options.include_usage"
        )
    _reject_unsupported(body)
    messages = _messages(body.get("messages"))
    params = _params(body)
    try:
        prepared = prepare_call(messages, **params)
    except InvalidRequestError as error:
        param = next((name for name in _PARAMS if str(error).startswith(name)), "messages")
        raise _bad(str(error), param) from None
    return ChatRequest(messages, prepared.prompt, params, model, bool(stream), bool(include_usage))


def estimate_tokens(text: str) -> int:
    """An estimate of a text's tokens: one per 4 bytes of UTF-8, rounded up.

    OpenAI's rule of thumb for English; the site reports no token counts.
    """
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4)


def _usage(request: ChatRequest, text: str) -> dict[str, Any]:
    prompt, reply = estimate_tokens(request.prompt), estimate_tokens(text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": reply,
        "total_tokens": prompt + reply,
        "estimated": True,
    }


# Built once: json.dumps with options builds an encoder for each call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))
_COMPACT_ASCII = json.JSONEncoder(check_circular=False, separators=(",", ":"))


def _dumps(value: object) -> bytes:
    try:
        return _COMPACT.encode(value).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the site: JSON escapes carry it
        return _COMPACT_ASCII.encode(value).encode("ascii")


def _id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)


def completion(request: ChatRequest, text: str) -> bytes:
    """The ``chat.completion`` JSON for a reply's text."""
    return _dumps(
        {
            "id": _id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(request, text),
        }
    )


def stream(request: ChatRequest, text: str) -> bytes:
    """The whole SSE answer for a reply's text: role, content, finish, [usage], ``[DONE]``.

    The site answers in one piece, so the text is one content chunk: splitting it
    would only make clients wait for what is already here.
    """
    head = {"id": _id(), "object": "chat.completion.chunk", "created": int(time.time())}
    head["model"] = request.model
    extra: dict[str, Any] = {"usage": None} if request.include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + _dumps({**head, "choices": [choice], **extra}) + b"\n\n"

    parts = [chunk({"role": "assistant", "content": ""}, None)]
    if text:
        parts.append(chunk({"content": text}, None))
    parts.append(chunk({}, "stop"))
    if request.include_usage:
        usage = {**head, "choices": [], "usage": _usage(request, text)}
        parts.append(b"data: " + _dumps(usage) + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)
