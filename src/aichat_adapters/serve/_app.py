"""The ASGI app: the guard and the access log around Starlette's routes.

``POST /v1/chat/completions``, the route that carries the load, is answered in ASGI terms
without Starlette's layers; the other routes go through its router.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aichat_adapters._async_client import AsyncAichatClient
from aichat_adapters.serve._chat import ChatRequest, RequestProblem, completion, parse_chat, stream
from aichat_adapters.serve._errors import Problem, problem_for
from aichat_adapters.serve._gate import Gate
from aichat_adapters.serve._guard import Guard
from aichat_adapters.serve._health import credentials_report, health
from aichat_adapters.serve._settings import DEFAULT_MODELS, Settings
from aichat_core import AuthenticationError, InvalidRequestError, Reply

__all__ = ["ServeApp", "create_app"]

logger = logging.getLogger("aichat.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

QUEUE_RETRY_AFTER = 1
"""Seconds a client is told to wait when the queue is full (calls take about that long)."""

CLOSED = 499
"""The status logged for a request whose client went away before the answer (nginx's)."""

_ERROR_CODE = "aichat.serve.error"  # the scope key an answer's error code is logged from
_ACCESS = '%s "%s %s" %d %.1f ms%s'  # the access log line: peer "METHOD path" status time[ code]
_CHAT_PATH = "/v1/chat/completions"
_JSON = "application/json"
_JSON_TYPE = (b"content-type", b"application/json")
_SSE_HEADERS = [
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"content-type", b"text/event-stream; charset=utf-8"),
]


def _shown(raw: bytes, limit: int = 200) -> str:
    """Bytes a client chose (a path, a method), safe to log or quote: escaped and short."""
    text = raw[:limit].decode("ascii", "backslashreplace")
    if not text.isprintable():  # the usual path and method are: no need to look at each
        text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text + ("..." if len(raw) > limit else "")


def _problem(problem: Problem, scope: Scope) -> Response:
    scope[_ERROR_CODE] = problem.code
    return Response(
        problem.body(), problem.status, dict(problem.headers), media_type="application/json"
    )


async def _send_problem(send: Send, problem: Problem, scope: Scope) -> None:
    scope[_ERROR_CODE] = problem.code
    body = problem.body()
    start = {"type": "http.response.start", "status": problem.status}
    await send({**start, "headers": problem.raw_headers(body)})
    await send({"type": "http.response.body", "body": body})


async def _answer(send: Send, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """A 200 with its whole body: the two messages ASGI needs, with Content-Length."""
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _over(length: bytes, limit: int) -> bool:
    """Whether a declared ``Content-Length`` (ASCII digits) is over ``limit``, however many
    digits it has (``int`` refuses more than 4,300)."""
    digits = length.lstrip(b"0")
    return len(digits) > len(str(limit)) or int(digits or b"0") > limit


def _is_chat(scope: Scope) -> bool:
    """``POST /v1/chat/completions`` at the root (mounted elsewhere: the router decides)."""
    return scope["path"] == _CHAT_PATH and scope["method"] == "POST" and not scope.get("root_path")


class _Endpoint:
    """An ASGI app as a route's endpoint (Starlette takes a method for a request handler)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _asyncio_task() -> asyncio.Task[Any] | None:
    """The asyncio task running this request; ``None`` on another loop (trio)."""
    try:
        return asyncio.current_task()
    except RuntimeError:  # no asyncio loop running
        return None


def _uncancel(task: asyncio.Task[Any]) -> int:
    """Take back one cancellation of ``task``; how many are still asked for (Python 3.10
    counts none)."""
    if sys.version_info >= (3, 11):
        return task.uncancel()
    return 0  # pragma: no cover


class ServeApp:
    """The OpenAI-compatible ASGI app; build it with
    [`create_app`][aichat_adapters.serve.create_app].

    Attributes:
        client: The client every call goes through (the app never closes it).
        settings: The options it was built with, checked.
    """

    def __init__(self, client: AsyncAichatClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._guard = Guard(settings)
        self._gate = Gate(settings.concurrency, settings.queue)
        self._created = int(time.time())
        routes = [
            Route(_CHAT_PATH, _Endpoint(self._chat), methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/models/{model:path}", self._model, methods=["GET"]),
            Route("/health", self._health, methods=["GET"]),
        ]
        self._router = Starlette(
            routes=routes, exception_handlers={HTTPException: self._http_exception}
        )
        inner: Callable[[Scope, Receive, Send], Awaitable[None]] = self._authorized
        if settings.cors_origins:
            inner = CORSMiddleware(
                self._authorized,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
                max_age=600,
            )
        self._inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI scope: every HTTP request is guarded and logged."""
        if scope["type"] != "http":  # lifespan; websockets get Starlette's refusal
            await self._router(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLOSED

        async def logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            problem = self._check(scope)
            if problem is None:
                await self._inner(scope, receive, logged)
            else:
                await _send_problem(logged, problem, scope)
        except Exception as error:  # a bug: one line in the log, a 500 to the client
            logger.error("internal error (%s) serving a request", type(error).__name__)
            if status == CLOSED:
                await _send_problem(logged, problem_for(error), scope)
        finally:
            self._log(scope, status, started)

    def _check(self, scope: Scope) -> Problem | None:
        host = origin = None
        hosts = 0
        for name, value in scope["headers"]:
            if name == b"host":
                host, hosts = value.decode("latin-1"), hosts + 1
            elif name == b"origin":
                origin = value.decode("latin-1")
        problem = self._guard.host(host if hosts == 1 else None)
        if problem is None and origin is not None:
            problem = self._guard.origin(origin, preflight=scope["method"] == "OPTIONS")
        return problem

    async def _authorized(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
        problem = self._guard.key(authorization)
        if problem is not None:
            await _send_problem(send, problem, scope)
        elif _is_chat(scope):
            # The router's own choice, without its layers (the app, two middlewares, the
            # route, a Request, a Response): the one route that carries the load.
            await self._chat(scope, receive, send)
        else:
            await self._router(scope, receive, send)

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        code = scope.get(_ERROR_CODE)
        args = (
            peer,
            _shown(scope["method"].encode("latin-1")),
            _shown(scope.get("raw_path") or scope["path"].encode("utf-8", "backslashreplace")),
            status,
            (time.perf_counter() - started) * 1000,
            f" {code}" if code else "",
        )
        # What logger.info does, less its walk up the stack for the caller (a third of its
        # cost): the record names this method as where it comes from.
        file, line = _LOG_SOURCE
        record = logger.makeRecord(
            logger.name, logging.INFO, file, line, _ACCESS, args, None, "_log"
        )
        logger.handle(record)

    # ------------------------------------------------------------------ routes

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        method = _shown(request.method.encode("latin-1"))
        path = _shown(request.scope.get("raw_path") or b"")
        if exc.status_code == 405:
            headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
            allowed = headers.get("allow", "")
            problem = Problem(
                405,
                f"{method} is not allowed on {path}; use {allowed}",
                "invalid_request_error",
                "method_not_allowed",
                headers=(("allow", allowed),),
            )
        elif exc.status_code == 404:
            problem = Problem(
                404,
                f"no route {method} {path}: this server answers POST /v1/chat/completions, "
                "GET /v1/models and GET /health (OpenAI clients take base_url=http://HOST:PORT/v1)",
                "invalid_request_error",
                "unknown_url",
            )
        else:
            problem = Problem(exc.status_code, str(exc.detail), "invalid_request_error")
        return _problem(problem, request.scope)

    def _model_card(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": self._created, "owned_by": "chat-gpt.org"}

    async def _models(self, request: Request) -> Response:
        cards = [self._model_card(name) for name in self.settings.models]
        body = json.dumps({"object": "list", "data": cards}).encode("utf-8")
        return Response(body, media_type="application/json")

    async def _model(self, request: Request) -> Response:
        name = request.path_params["model"]
        if name not in self.settings.models:
            problem = Problem(
                404,
                f"model {_shown(name.encode('utf-8', 'backslashreplace'), 100)!r} is not served "
                f"here; the models are {', '.join(self.settings.models)}",
                "invalid_request_error",
                "model_not_found",
                "model",
            )
            return _problem(problem, request.scope)
        body = json.dumps(self._model_card(name)).encode("utf-8")
        return Response(body, media_type="application/json")

    async def _health(self, request: Request) -> Response:
        body = json.dumps(await health(self.client)).encode("utf-8")
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /v1/chat/completions``, in ASGI terms: one answer in two messages, or
        none when the client went away (the log says 499)."""
        media = length = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers
            if name == b"content-type" and media is None:
                media = value
            elif name == b"content-length" and length is None:
                length = value
        if media is None or media.decode("latin-1").partition(";")[0].strip().lower() != _JSON:
            problem = Problem(
                415,
                "send the body as JSON, with the header 'Content-Type: application/json'",
                "invalid_request_error",
                "unsupported_media_type",
            )
            await _send_problem(send, problem, scope)
            return
        task = _asyncio_task()
        raw = await self._body(length, receive, task)
        if raw is None:
            return
        if isinstance(raw, Problem):
            await _send_problem(send, raw, scope)
            return
        try:
            chat = parse_chat(raw, self.settings.models)
        except RequestProblem as refused:
            await _send_problem(send, refused.problem, scope)
            return
        if not self._gate.admit():
            problem = Problem(
                429,
                f"this server is busy: {self._gate.concurrency} calls are at the site and "
                f"{self._gate.capacity - self._gate.concurrency} more are waiting; "
                f"try again in {QUEUE_RETRY_AFTER} s",
                "rate_limit_error",
                "queue_full",
                headers=(("retry-after", str(QUEUE_RETRY_AFTER)),),
            )
            await _send_problem(send, problem, scope)
            return
        try:
            outcome = await self._call(chat, receive, task)
        finally:
            self._gate.leave()
        if outcome is None:  # the client went away: nobody to answer
            return
        if isinstance(outcome, Reply):
            if chat.stream:
                await _answer(send, list(_SSE_HEADERS), stream(chat, outcome.text))
            else:
                await _answer(send, [_JSON_TYPE], completion(chat, outcome.text))
            return
        names: list[str] = []
        if isinstance(outcome, AuthenticationError):
            names = (await credentials_report(self.client))["cookies"]
        await _send_problem(send, problem_for(outcome, names), scope)

    async def _body(
        self, length: bytes | None, receive: Receive, task: asyncio.Task[Any] | None
    ) -> bytes | Problem | None:
        """The request body, read under the cap and the time limit, never more.

        ``None`` when the client went away. ``task``: the request's, on asyncio.
        """
        limit = self.settings.max_body
        if length is not None and length.isdigit() and _over(length, limit):
            return self._too_large()  # not one byte read: uvicorn discards the body as it comes
        seconds = self.settings.body_timeout
        try:
            if sys.version_info >= (3, 11) and task is not None:
                # asyncio's own timeout: a timer (anyio's cancel scope costs several times more)
                async with asyncio.timeout(seconds):
                    return await self._read(receive, limit)
            with anyio.fail_after(seconds):
                return await self._read(receive, limit)
        except TimeoutError:
            return Problem(
                408,
                f"the body did not arrive within {seconds:g} s",
                "invalid_request_error",
                "request_timeout",
            )

    def _too_large(self) -> Problem:
        return Problem(
            413,
            f"the body is larger than this server's limit of {self.settings.max_body} bytes "
            "(--max-body)",
            "invalid_request_error",
            "request_too_large",
        )

    async def _read(self, receive: Receive, limit: int) -> bytes | Problem | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)  # one chunk, the usual case: that chunk, not a copy

    async def _complete(self, chat: ChatRequest) -> Reply | Exception:
        """The call, once the gate gives it a place; its error as a value."""
        try:
            async with self._gate.place():
                # The prompt is format_prompt's text already: a string is sent as it is.
                return await self.client.complete(chat.prompt, **chat.params)
        except Exception as error:
            return error

    async def _call(
        self, chat: ChatRequest, receive: Receive, task: asyncio.Task[Any] | None
    ) -> Reply | Exception | None:
        """The site's answer (or its error); ``None`` when the client went away first.

        A client that disconnects, while waiting in the queue or while its call is
        at the site, cancels the call. On asyncio the call runs in the request's own
        ``task``, and a watcher task cancels that task when ``receive`` says the client
        is gone: one task more, no loop turn more. On another loop (trio), a task group.
        """
        if task is None:
            return await self._call_in_group(chat, receive)
        gone = False

        async def watch() -> None:
            nonlocal gone
            await _until_disconnect(receive)
            gone = True
            task.cancel()

        watcher = task.get_loop().create_task(watch())
        try:
            outcome = await self._complete(chat)
        except asyncio.CancelledError:
            if gone and _uncancel(task) == 0:
                return None  # the client went away (and nobody else cancelled the request)
            raise
        finally:
            watcher.cancel()
        if gone:  # the call ended with the cancellation unheard: the client is gone all the same
            _uncancel(task)
            return None
        return outcome

    async def _call_in_group(self, chat: ChatRequest, receive: Receive) -> Reply | Exception | None:
        outcome: Reply | Exception | None = None
        gone = False
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                nonlocal gone
                await _until_disconnect(receive)
                gone = True
                group.cancel_scope.cancel()

            group.start_soon(watch)
            outcome = await self._complete(chat)
            group.cancel_scope.cancel()
        return None if gone else outcome


_LOG_SOURCE = (ServeApp._log.__code__.co_filename, ServeApp._log.__code__.co_firstlineno)
"""Where an access log record says it comes from: `ServeApp._log`."""


def create_app(
    client: AsyncAichatClient,
    *,
    api_key: str | None = None,
    allowed_hosts: Iterable[str] = (),
    cors_origins: Iterable[str] = (),
    concurrency: int = 8,
    queue: int = 64,
    max_body: int = 1 << 20,
    models: Iterable[str] = DEFAULT_MODELS,
    body_timeout: float = 30.0,
) -> ServeApp:
    """The OpenAI-compatible ASGI app, calling the site through ``client``.

    Serve it with any ASGI server (``uvicorn.run(app)``), or mount it in your
    own Starlette or FastAPI app. Every option is checked here, before any I/O.

    Args:
        client: The async client every call goes through; the app never closes it.
        api_key: The key clients must send (``Authorization: Bearer KEY``),
            compared in constant time. ``None``: any key, or none, is accepted;
            serve the app on loopback only then.
        allowed_hosts: Host names clients may reach the server by, besides
            ``localhost``, ``127.0.0.1`` and ``[::1]`` (any port). Any other
            ``Host`` gets 403 (DNS rebinding).
        cors_origins: Web origins (``"https://app.example.com"``) allowed to
            call the server from a browser. None by default: a request with any
            other ``Origin`` gets 403.
        concurrency: Calls at the site at once.
        queue: Calls that may wait for a place; past that, 429 with ``Retry-After``.
        max_body: The largest request body, in bytes; a larger one gets 413.
        models: The model names the server answers as; the first is the default.
        body_timeout: Seconds a client has to send its request body; then 408.

    Raises:
        InvalidRequestError: an option is not valid.
    """
    if not isinstance(client, AsyncAichatClient):
        raise InvalidRequestError(
            f"create_app takes an AsyncAichatClient, not {type(client).__name__}"
        )
    settings = Settings.check(
        api_key=api_key,
        allowed_hosts=allowed_hosts,
        cors_origins=cors_origins,
        concurrency=concurrency,
        queue=queue,
        max_body=max_body,
        models=models,
        body_timeout=body_timeout,
    )
    return ServeApp(client, settings)
