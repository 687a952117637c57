"""Bounded time windows and cursor pages, shared by the list use-cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import InvalidInput, UpstreamError
from ..ids import Cursor, decode_cursor

__all__ = [
    "DEFAULT_WINDOW",
    "MAX_FIRST",
    "MAX_WINDOW",
    "PageResult",
    "check_first",
    "paginate",
    "resolve_window",
]

T = TypeVar("T")

MAX_FIRST = 100
DEFAULT_WINDOW = dt.timedelta(hours=24)
# One page never walks more than this of either authority's data.
MAX_WINDOW = dt.timedelta(days=31)
# A default window ends at "now" rounded UP to this grain: the same dashboard refreshed within it
# asks both authorities for the same list (so list pages hit the cache instead of missing on every
# request with a new end instant). No record is declared in the future, so the rounding adds none.
DEFAULT_END_GRAIN_S = 15


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    edges: list[tuple[Cursor, T]]
    has_next_page: bool
    has_previous_page: bool
    start: dt.datetime
    end: dt.datetime
    # Authorities that failed: their items are missing from this page (the schema reports them).
    failures: tuple[UpstreamError, ...] = ()
    # Where the scan stopped when it hit the page cap before filling the page: the end cursor
    # then points here (past records read and filtered out) rather than at the last edge.
    resume: Cursor | None = None


def resolve_window(
    start: dt.datetime | None, end: dt.datetime | None, now: Callable[[], dt.datetime]
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC: ``end`` defaults to now (rounded up to :data:`DEFAULT_END_GRAIN_S`),
    ``start`` to 24 h before ``end``.

    Raises:
        InvalidInput: naive times, start not before end, or longer than :data:`MAX_WINDOW`.
    """
    for value, name in ((start, "from"), (end, "to")):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a UTC offset (e.g. 2025-11-28T10:00:00+05:00)")
    if end is None:
        end = start + DEFAULT_WINDOW if start is not None else _round_up(now())
    if start is None:
        start = end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidInput("from must be before to")
    if end - start > MAX_WINDOW:
        raise InvalidInput(f"the time window may span at most {MAX_WINDOW.days} days")
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _round_up(instant: dt.datetime) -> dt.datetime:
    epoch = instant.timestamp()
    rounded = -(-epoch // DEFAULT_END_GRAIN_S) * DEFAULT_END_GRAIN_S
    return dt.datetime.fromtimestamp(rounded, dt.UTC)


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(f"first must be between 1 and {MAX_FIRST}")
    return first


def paginate(
    items: Sequence[tuple[Cursor, T]],
    first: int,
    after: str | None,
    start: dt.datetime,
    end: dt.datetime,
    *,
    failures: tuple[UpstreamError, ...] = (),
) -> PageResult[T]:
    """Sort by cursor, skip up to and including ``after``, take ``first``."""
    check_first(first)
    ordered = sorted(items, key=lambda item: item[0].sort_key())
    has_previous = False
    if after is not None:
        position = decode_cursor(after).sort_key()
        before = len(ordered)
        ordered = [item for item in ordered if item[0].sort_key() > position]
        has_previous = len(ordered) < before
    return PageResult(ordered[:first], len(ordered) > first, has_previous, start, end, failures)
