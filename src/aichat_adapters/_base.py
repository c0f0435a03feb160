"""What the blocking and async clients share: the composition root and the options."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aichat_adapters._edges import SourceEdge, Wiring, user_agent_of
from aichat_adapters._family import Family
from aichat_adapters._logging import configure_logging
from aichat_adapters._options import ClientOptions, check_transport_options
from aichat_core import USER_AGENT, Conversation, InvalidRequestError, RetryPolicy
from aichat_core._engine import CallSettings

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BaseChat", "BaseClient"]

S = TypeVar("S", bound=SourceEdge)
T = TypeVar("T")


class BaseClient(Generic[S, T]):
    """Options and the family shared by [`AichatClient`][aichat_adapters.AichatClient] and
    [`AsyncAichatClient`][aichat_adapters.AsyncAichatClient]; each drives the call engine."""

    _family: Family[S, T]
    _settings: CallSettings

    def __init__(
        self,
        *,
        cookies: Mapping[str, str] | str | None,
        cookie_source: object | None,
        base_url: str | None,
        proxy: str | None,
        timeout: float,
        max_retries: int | None,
        deadline: float | None,
        verify: bool | str,
        headers: Mapping[str, str] | None,
        transport: object | None,
        http_client: object | None,
        retry_policy: RetryPolicy | None,
        asynchronous: bool,
    ) -> None:
        from aichat_adapters._budget import RetryBudget
        from aichat_adapters._jar import SessionJar

        configure_logging()
        check_transport_options(transport, http_client, proxy, verify)
        options = ClientOptions.check(
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            retry_policy=retry_policy,
            headers=headers,
            proxy=proxy,
            verify=verify,
            builds_transport=transport is None and http_client is None,
        )
        wiring = Wiring(
            base_url=options.base_url,
            host=options.host,
            proxy=options.proxy,
            proxy_known=transport is None and http_client is None,
            user_agent=options.headers.get("user-agent"),
        )
        source = self._wrap_source(cookies, cookie_source, wiring)
        budget = RetryBudget.for_policy(options.retry_policy)
        self._family = Family(source, SessionJar(options.host), budget, _sleep(asynchronous))
        self._user_agent = user_agent_of(transport, USER_AGENT)
        self._use(options)

    def _wrap_source(
        self, cookies: Mapping[str, str] | str | None, cookie_source: object | None, wiring: Wiring
    ) -> S:
        """The client's source, wrapped at the edge (``sync_source`` or ``async_source``)."""
        raise NotImplementedError

    def _use(self, options: ClientOptions) -> None:
        self._options = options
        self._settings = CallSettings(
            base_url=options.base_url,
            headers=options.headers,
            user_agent=self._user_agent,
            timeout=options.timeout,
            policy=options.retry_policy,
            refresh_margin=self._family.source.refresh_margin,
        )

    @property
    def base_url(self) -> str:
        """The service's URL, checked, without a trailing slash."""
        return self._options.base_url

    @property
    def timeout(self) -> float:
        """Seconds for each attempt, as a whole."""
        return self._options.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        """When to retry and how long to wait."""
        return self._options.retry_policy

    @property
    def headers(self) -> Mapping[str, str]:
        """Extra headers sent with every request (names lower-case)."""
        return self._options.headers

    @property
    def cookie_source(self) -> Any:
        """Where the cookies come from (the object given, or the one built)."""
        return self._family.source.source

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> Self:
        """A client with some options changed, sharing this one's family: its pool, cookies,
        retry budget and refresh lock.

        ``headers`` are added to this client's. This client is unchanged;
        closing either one closes the pool they share.
        """
        clone = copy.copy(self)
        clone._use(
            self._options.changed(
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                headers=headers,
                retry_policy=retry_policy,
            )
        )
        return clone

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"cookie_source={self.cookie_source!r}, timeout={self.timeout!r}, "
            f"max_retries={self.retry_policy.max_retries!r})"
        )

    def _check_open(self) -> None:
        if self._family.closed:
            raise InvalidRequestError("this client is closed; build a new one")


def _sleep(asynchronous: bool) -> Callable[[float], Any]:
    if asynchronous:
        import anyio

        return anyio.sleep
    import time

    return time.sleep


class BaseChat:
    """The history that [`Chat`][aichat_adapters.Chat] and
    [`AsyncChat`][aichat_adapters.AsyncChat] keep; only ``ask`` differs."""

    def __init__(self, system: str | None = None) -> None:
        self.system = system
        self.history = Conversation.start(system)

    def reset(self) -> None:
        """Forget every turn, keeping the system message if there was one."""
        self.history = Conversation.start(self.system)
