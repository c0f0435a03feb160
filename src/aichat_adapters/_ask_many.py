"""``ask_many``: many prompts through a few workers, results as they complete.

The prompts are pulled lazily, one per free worker, and the results wait in
a buffer of ``concurrency``, so memory does not grow with the input. The task
group lives inside an ``async with`` block entered and left by the caller's
own task: leaving it early (``break``, an exception, an outer cancellation)
cancels what is in flight and nothing else (see PEP 789 for why an async
generator could not do this safely).
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from types import TracebackType
from typing import Any, TypeAlias

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from aichat_core import AichatError, InvalidRequestError, Message, MessagesInput

__all__ = ["AskMany", "AskResult", "Prompts"]

Prompts: TypeAlias = Iterable[MessagesInput] | AsyncIterable[MessagesInput]
"""What ``ask_many`` takes: any iterable or async iterable of prompts."""

_USAGE = (
    "use ask_many as: async with client.ask_many(prompts) as results: "
    "async for result in results: ..."
)


@attrs.frozen
class AskResult:
    """One answer of [`ask_many`][aichat_adapters.AsyncAichatClient.ask_many].

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


def _check_prompts(prompts: object) -> None:
    if isinstance(prompts, (str, bytes, bytearray, Mapping, Message)) or not isinstance(
        prompts, (Iterable, AsyncIterable)
    ):
        raise InvalidRequestError(
            f"prompts must be an iterable or async iterable of prompts, not "
            f"{type(prompts).__name__}; for one prompt, use ask()"
        )


def _unexpected(error: Exception) -> AichatError:
    wrapped = AichatError(f"unexpected {type(error).__name__} while asking: {error}")
    wrapped.__cause__ = error
    return wrapped


class AskMany:
    """The ``async with`` block of ``ask_many``; iterate it for
    [`AskResult`][aichat_adapters.AskResult]s."""

    def __init__(
        self,
        ask: Callable[..., Awaitable[str]],
        prompts: Prompts,
        concurrency: int,
        params: Mapping[str, Any],
    ) -> None:
        _check_prompts(prompts)
        self._ask = ask
        self._prompts = prompts
        self._concurrency = concurrency
        self._params = params
        self._group: TaskGroup | None = None
        self._results: MemoryObjectReceiveStream[AskResult] | None = None
        self._input_error: AichatError | None = None
        self._entered = False
        self._iterator: Iterator[MessagesInput] | AsyncIterator[MessagesInput] | None = None
        self._lock: anyio.Lock | None = None
        self._done = False
        self._pulled = 0

    async def __aenter__(self) -> AskMany:
        if self._entered:
            raise InvalidRequestError("an ask_many(...) block can be entered only once")
        self._entered = True
        send, self._results = anyio.create_memory_object_stream[AskResult](self._concurrency)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        prompts = self._prompts
        if isinstance(prompts, AsyncIterable):
            self._iterator, self._lock = aiter(prompts), anyio.Lock()
        else:
            self._iterator = iter(prompts)
        self._group.start_soon(self._run, send)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._group is not None
        assert self._results is not None
        self._group.cancel_scope.cancel()  # whatever is still in flight
        self._results.close()
        # The block's own exception is not the group's: it goes on as it is,
        # never wrapped in an ExceptionGroup. A cancellation from outside is
        # handed to the group, which lets it through.
        if exc is not None and isinstance(exc, anyio.get_cancelled_exc_class()):
            await self._group.__aexit__(exc_type, exc, tb)
        else:
            await self._group.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncIterator[AskResult]:
        if self._results is None:
            raise InvalidRequestError(_USAGE)
        return self

    async def __anext__(self) -> AskResult:
        results = self._results
        if results is None:
            raise InvalidRequestError(_USAGE)
        try:
            try:
                return results.receive_nowait()  # a result waiting: no trip to the scheduler
            except anyio.WouldBlock:
                return await results.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if self._input_error is not None:
                raise self._input_error from self._input_error.__cause__
            raise StopAsyncIteration from None

    async def _run(self, results: MemoryObjectSendStream[AskResult]) -> None:
        """Start the workers; the results stream ends when the last one is done."""
        async with anyio.create_task_group() as workers, results:
            for _ in range(self._concurrency):
                workers.start_soon(self._work, results.clone())

    async def _next_job(self) -> tuple[int, MessagesInput] | None:
        """The next prompt and its index, or ``None`` once the input is done (or failed).

        The workers take turns: a plain iterable is read between two awaits (one
        task runs at a time), an async one under a lock.
        """
        if self._done:
            return None
        try:
            if self._lock is None:
                prompt = next(self._iterator)  # type: ignore[arg-type]
            else:
                async with self._lock:
                    if self._finished():  # (while this worker waited for the lock)
                        return None
                    prompt = await anext(self._iterator)  # type: ignore[arg-type]
        except (StopIteration, StopAsyncIteration):
            self._done = True
            return None
        except Exception as exc:  # the caller's iterable failed
            self._done = True
            error = InvalidRequestError(
                f"reading the prompts failed after {self._pulled} of them: "
                f"{type(exc).__name__}: {exc}"
            )
            error.__cause__ = exc
            self._input_error = error
            return None
        index, self._pulled = self._pulled, self._pulled + 1
        return index, prompt

    def _finished(self) -> bool:
        return self._done

    async def _work(self, results: MemoryObjectSendStream[AskResult]) -> None:
        async with results:
            while (job := await self._next_job()) is not None:
                index, prompt = job
                try:
                    result = AskResult(index, prompt, text=await self._ask(prompt, **self._params))
                except AichatError as error:
                    result = AskResult(index, prompt, error=error)
                except Exception as error:  # any failure is this prompt's result
                    result = AskResult(index, prompt, error=_unexpected(error))
                try:
                    try:
                        results.send_nowait(result)  # room in the buffer: no scheduler trip
                    except anyio.WouldBlock:
                        await results.send(result)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return  # the block was left: nobody reads results any more
