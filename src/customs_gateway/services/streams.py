"""Time-ordered streams of one authority's records, pulled page by page, and their merge.

A list page never fetches a whole time window: each authority's records are read from the
cursor's instant onwards, one upstream page at a time, and only as far as the page needs. A
stream that fails ends (its error is kept for the page to report); the others go on. Every
stream counts its upstream pages against a per-request cap, so a filter the upstreams cannot
apply (HS prefix, status) can never turn one GraphQL request into an unbounded scan.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..domain import Authority
from ..errors import UpstreamError
from ..ids import Cursor
from ..sources.base import Page

__all__ = ["MAX_PAGES_PER_AUTHORITY", "MergedStreams", "PageBudget", "Stream"]

T = TypeVar("T")

MAX_PAGES_PER_AUTHORITY = 10  # upstream list pages one GraphQL request may read per authority


@dataclass
class PageBudget:
    """Upstream list pages left per authority for this request."""

    left: dict[Authority, int] = field(
        default_factory=lambda: dict.fromkeys(Authority, MAX_PAGES_PER_AUTHORITY)
    )

    def take(self, authority: Authority) -> bool:
        if self.left[authority] <= 0:
            return False
        self.left[authority] -= 1
        return True


class Stream(Generic[T]):
    """One query's items in upstream order, from page ``first_page`` on.

    ``fetch(n)`` returns the n-th page (0-based here; each source maps it to its own paging);
    ``position`` gives an item's place in the merged order; items at or before ``after`` are
    skipped (the cursor's own instant is re-read, so ties at that instant resolve by key).
    """

    def __init__(
        self,
        authority: Authority,
        fetch: Callable[[int], Awaitable[Page[T]]],
        page_size: int,
        position: Callable[[T], Cursor],
        after: Cursor | None,
    ) -> None:
        self.authority = authority
        self._fetch = fetch
        self._page_size = page_size
        self._position = position
        self._after = after.sort_key() if after else None
        self._buffer: deque[tuple[Sequence[T], int]] = deque()  # (page items, index)
        self._next_page = 0
        self._seen = 0
        self._total: int | None = None
        self.exhausted = False
        self.capped = False
        self.error: UpstreamError | None = None
        self.pages = 0

    @property
    def live(self) -> bool:
        return not (self.exhausted or self.capped or self.error is not None)

    async def head(self, budget: PageBudget) -> T | None:
        """The next item (not consumed), fetching pages as needed; None when the stream ended.

        Items are read (mapped, for a lazy page) only here, as they reach the head: what a
        page fetched beyond the need is never mapped. A record that breaks the contract ends
        the stream with that error, like a failed fetch.
        """
        while True:
            while not self._buffer and self.live:
                await self._fill(budget)
            if not self._buffer:
                return None
            items, index = self._buffer[0]
            try:
                item = items[index]
            except UpstreamError as exc:
                self.error = exc
                self._buffer.clear()
                return None
            if self._after is None or self._position(item).sort_key() > self._after:
                return item
            self._buffer.popleft()  # at or before the cursor: read on an earlier page

    def pop(self) -> T:
        items, index = self._buffer.popleft()
        return items[index]

    def position(self, item: T) -> Cursor:
        return self._position(item)

    async def _fill(self, budget: PageBudget) -> None:
        if self._total is not None and self._seen >= self._total:
            self.exhausted = True
            return
        if not budget.take(self.authority):
            self.capped = True
            return
        try:
            page = await self._fetch(self._next_page)
        except UpstreamError as exc:
            self.error = exc
            return
        self.pages += 1
        self._next_page += 1
        self._total = page.total if self._total is None else min(self._total, page.total)
        self._seen += len(page.items)
        self._buffer.extend((page.items, index) for index in range(len(page.items)))
        if len(page.items) < self._page_size or self._seen >= self._total:
            self.exhausted = True


class MergedStreams(Generic[T]):
    """Several streams merged by position (instant, authority, key): the next item of all."""

    def __init__(self, streams: list[Stream[T]], budget: PageBudget) -> None:
        self.streams = streams
        self.budget = budget
        self._seen: set[tuple[dt.datetime, str, str]] = set()

    async def next(self) -> tuple[Cursor, T] | None:
        while True:
            # Streams that need a page fetch it concurrently (both authorities in one round).
            items = await asyncio.gather(*(stream.head(self.budget) for stream in self.streams))
            heads = [
                (stream.position(item).sort_key(), index)
                for index, (stream, item) in enumerate(zip(self.streams, items, strict=True))
                if item is not None
            ]
            if not heads:
                return None
            _, index = heapq.nsmallest(1, heads)[0]
            stream = self.streams[index]
            item = stream.pop()
            position = stream.position(item)
            if position.sort_key() in self._seen:  # the same record from two overlapping queries
                continue
            self._seen.add(position.sort_key())
            return position, item

    @property
    def capped(self) -> bool:
        """Whether some stream stopped at the page cap (more may follow)."""
        return any(s.capped for s in self.streams)

    @property
    def errors(self) -> list[UpstreamError]:
        return [s.error for s in self.streams if s.error is not None]
