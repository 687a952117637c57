"""A bulkhead per upstream: a bounded number of calls in flight, and a bounded wait for a slot.

Without it one slow authority holds every worker of the gateway: requests pile up waiting on it
while the healthy authority's answers sit behind them. With it, at most ``limit`` calls to an
upstream run at once; a caller that would wait longer than ``max_wait_s`` for a slot gets
:class:`TooManyConcurrentCalls` (``UPSTREAM_UNAVAILABLE``) at once, and the rest of its operation
goes on. The slot is held for one attempt only, never across a retry's backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..domain import Authority
from ..errors import UpstreamUnavailable

__all__ = ["ConcurrencyLimiter", "TooManyConcurrentCalls"]


class TooManyConcurrentCalls(UpstreamUnavailable):
    """No slot for this upstream within the allowed wait: the gateway sheds the call itself."""


class ConcurrencyLimiter:
    """An ``asyncio.Semaphore`` with a wait bound and counters for /readyz and metrics."""

    def __init__(self, authority: Authority, limit: int, max_wait_s: float) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._authority = authority
        self._semaphore = asyncio.Semaphore(limit)
        self.limit = limit
        self.max_wait_s = max_wait_s
        self.in_flight = 0
        self.waiting = 0

    @asynccontextmanager
    async def slot(self, max_wait_s: float | None = None, *, endpoint: str | None = None) -> AsyncIterator[None]:
        """Hold one slot for the block; wait at most ``max_wait_s`` (default: the configured bound)."""
        if self._semaphore.locked():
            await self._wait_for_slot(max_wait_s, endpoint)
        else:
            # A free slot is taken without suspending: no timer to arm (and cancel) for the wait.
            await self._semaphore.acquire()
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            self._semaphore.release()

    async def _wait_for_slot(self, max_wait_s: float | None, endpoint: str | None) -> None:
        wait = self.max_wait_s if max_wait_s is None else min(max_wait_s, self.max_wait_s)
        self.waiting += 1
        try:
            async with asyncio.timeout(max(wait, 0.0)):
                await self._semaphore.acquire()
        except TimeoutError as exc:
            raise TooManyConcurrentCalls(
                self._authority, "too many concurrent calls", endpoint=endpoint, retry_after_s=None
            ) from exc
        finally:
            self.waiting -= 1
