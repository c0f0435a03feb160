"""What both clearance sources do alike: bind to a client, and share one run among callers."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

from aichat_adapters.clearance._common import check_seconds, host_of, origin_of, still_valid
from aichat_adapters.clearance._flight import Earn, Flights
from aichat_core import Credentials, InvalidRequestError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["EarnedSource", "check_margin", "check_timeout"]


def check_timeout(value: object) -> float:
    """The ``timeout`` option: seconds > 0."""
    return check_seconds("timeout", value)


def check_margin(value: object) -> float:
    """The ``refresh_margin`` option: seconds >= 0."""
    return check_seconds("refresh_margin", value, allow_zero=True)


class EarnedSource:
    """A credentials source whose credentials a run earns (a browser, a FlareSolverr call).

    A subclass is an attrs class with the fields below and ``_earner``, which
    makes the run; calls share one run through ``_flights``.
    """

    __slots__ = ()

    url: str | None
    proxy: str | None
    refresh_margin: float
    cookie_names: tuple[str, ...]
    _flights: Flights
    #: A run blocks: the async client awaits the ``a`` methods instead.
    blocking: ClassVar[bool] = True

    @property
    def domain(self) -> str | None:
        """The host whose cookies it earns (``url``'s); ``None`` while unbound."""
        return None if self.url is None else host_of(self.url)

    def bind(self, *, base_url: str, proxy: str | None) -> Self:
        """This source for a client: ``url`` defaults to ``base_url``'s origin, and the
        clearance is earned through the client's ``proxy``.

        Called once by the client's constructor. A source built with a ``url``
        keeps it. When nothing changes, the source itself is returned (its
        credentials in memory are shared).
        """
        url = self.url if self.url is not None else origin_of(base_url)
        if url == self.url and proxy == self.proxy:
            return self
        return attrs.evolve(self, url=url, proxy=proxy)  # type: ignore[misc]

    def get_credentials(self) -> Credentials:
        """The credentials in memory while valid, else a run's (see the class's Raises)."""
        self._check_bound()
        return self._flights.get(self._earner, self._valid)

    def refresh_credentials(self) -> Credentials:
        """Earn the credentials again (or join a run in progress) and return them.

        Raises:
            AichatError: as `get_credentials`.
        """
        self._check_bound()
        return self._flights.refresh(self._earner)

    async def aget_credentials(self) -> Credentials:
        """`get_credentials` for async code (asyncio or trio); cancelling it stops the run.

        Raises:
            AichatError: as `get_credentials`.
        """
        self._check_bound()
        return await self._flights.aget(self._earner, self._valid)

    async def arefresh_credentials(self) -> Credentials:
        """`refresh_credentials` for async code (asyncio or trio).

        Raises:
            AichatError: as `get_credentials`.
        """
        self._check_bound()
        return await self._flights.arefresh(self._earner)

    def get_cookies(self) -> dict[str, str]:
        """The cookies of `get_credentials` (for code that expects a cookie source)."""
        return dict(self.get_credentials().cookies)

    def refresh_cookies(self) -> dict[str, str]:
        """The cookies of `refresh_credentials`."""
        return dict(self.refresh_credentials().cookies)

    def _earner(self, refresh: bool, stale: Credentials | None) -> Earn:
        raise NotImplementedError

    def _check_bound(self) -> None:
        if self.url is None:
            raise InvalidRequestError(
                f"{type(self).__name__} has no url to open: give url='https://...', or pass "
                "it to a client as cookie_source=..., which sets it to the client's base_url"
            )

    def _valid(self, credentials: Credentials) -> bool:
        return still_valid(credentials, self.cookie_names, self.refresh_margin)
