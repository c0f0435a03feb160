"""The ASGI app: the guard and the access log around Starlette's routes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
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
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


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


async def _send_problem(send: Send, problem: Problem) -> None:
    body = problem.body()
    start = {"type": "http.response.start", "status": problem.status}
    await send({**start, "headers": problem.raw_headers(body)})
    await send({"type": "http.response.body", "body": body})


class _NoAnswer(Response):
    """What a request whose client went away gets: nothing (the log says 499)."""

    def __init__(self) -> None:
        super().__init__(status_code=CLOSED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return


@contextlib.asynccontextmanager
async def _time_limit(seconds: float) -> AsyncIterator[None]:
    """A block cut by ``TimeoutError`` after ``seconds``: asyncio's own timeout where there
    is one (a timer; anyio's cancel scope costs several times more), else anyio's (trio)."""
    if sys.version_info >= (3, 11):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            async with asyncio.timeout(seconds):
                yield
            return
    with anyio.fail_after(seconds):
        yield


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


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
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
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
                scope[_ERROR_CODE] = problem.code
                await _send_problem(logged, problem)
        except Exception as error:  # a bug: one line in the log, a 500 to the client
            logger.error("internal error (%s) serving a request", type(error).__name__)
            if status == CLOSED:
                scope[_ERROR_CODE] = "internal_error"
                await _send_problem(logged, problem_for(error))
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
        if problem is None:
            await self._router(scope, receive, send)
        else:
            scope[_ERROR_CODE] = problem.code
            await _send_problem(send, problem)

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        code = scope.get(_ERROR_CODE)
        logger.info(
            '%s "%s %s" %d %.1f ms%s',
            peer,
            _shown(scope["method"].encode("latin-1")),
            _shown(scope.get("raw_path") or scope["path"].encode("utf-8", "backslashreplace")),
            status,
            (time.perf_counter() - started) * 1000,
            f" {code}" if code else "",
        )

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

    async def _chat(self, request: Request) -> Response:
        scope = request.scope
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != "application/json":
            problem = Problem(
                415,
                "send the body as JSON, with the header 'Content-Type: application/json'",
                "invalid_request_error",
                "unsupported_media_type",
            )
            return _problem(problem, scope)
        raw = await self._body(request)
        if raw is None:
            return _NoAnswer()
        if isinstance(raw, Problem):
            return _problem(raw, scope)
        try:
            chat = parse_chat(raw, self.settings.models)
        except RequestProblem as refused:
            return _problem(refused.problem, scope)
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
            return _problem(problem, scope)
        try:
            outcome = await self._call(chat, request.receive)
        finally:
            self._gate.leave()
        if outcome is None:  # the client went away: nobody to answer
            return _NoAnswer()
        if isinstance(outcome, Reply):
            if chat.stream:
                return Response(
                    stream(chat, outcome.text), media_type="text/event-stream", headers=_SSE_HEADERS
                )
            return Response(completion(chat, outcome.text), media_type="application/json")
        names: list[str] = []
        if isinstance(outcome, AuthenticationError):
            names = (await credentials_report(self.client))["cookies"]
        return _problem(problem_for(outcome, names), scope)

    async def _body(self, request: Request) -> bytes | Problem | None:
        """The request body, read under the cap and the time limit, never more.

        ``None`` when the client went away.
        """
        limit = self.settings.max_body
        too_large = Problem(
            413,
            f"the body is larger than this server's limit of {limit} bytes (--max-body)",
            "invalid_request_error",
            "request_too_large",
        )
        length = request.headers.get("content-length")
        if length is not None and length.isascii() and length.isdigit() and int(length) > limit:
            return too_large  # not one byte read: uvicorn discards the body as it comes
        chunks: list[bytes] = []
        size = 0
        receive = request.receive
        try:
            async with _time_limit(self.settings.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            return Problem(
                408,
                f"the body did not arrive within {self.settings.body_timeout:g} s",
                "invalid_request_error",
                "request_timeout",
            )

    async def _complete(self, chat: ChatRequest) -> Reply | Exception:
        """The call, once the gate gives it a place; its error as a value."""
        try:
            async with self._gate.place():
                # The prompt is format_prompt's text already: a string is sent as it is.
                return await self.client.complete(chat.prompt, **chat.params)
        except Exception as error:
            return error

    async def _call(self, chat: ChatRequest, receive: Receive) -> Reply | Exception | None:
        """The site's answer (or its error); ``None`` when the client went away first.

        A client that disconnects, while waiting in the queue or while its call is
        at the site, cancels the call. On asyncio this takes two plain tasks; on
        another loop (trio), a task group.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return await self._call_in_group(chat, receive)
        call = loop.create_task(self._complete(chat))

        async def watch() -> None:
            await _until_disconnect(receive)
            call.cancel()

        watcher = loop.create_task(watch())
        try:
            return await call
        except asyncio.CancelledError:
            if watcher.done() and not watcher.cancelled():
                return None  # the client went away
            raise
        finally:
            watcher.cancel()

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
