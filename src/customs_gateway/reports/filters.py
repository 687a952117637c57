"""What a report is asked for, checked once for GraphQL and CSV alike.

A report covers whole UTC days, ``start`` to ``end`` both inclusive: partial aggregates are cached
per (crossing, direction, day), and a day that is over never changes, so day boundaries are what
make a warm report a sum of cached partials. Every limit is checked here, with a message a client
can act on (:class:`~customs_gateway.errors.InvalidInput`, ``BAD_USER_INPUT``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..crossings import CrossingPoint, CrossingRegistry
from ..domain import Direction
from ..errors import InvalidInput

__all__ = [
    "CsvParams",
    "GroupKey",
    "Interval",
    "ReportFilter",
    "ReportLimits",
    "make_filter",
    "parse_csv_params",
    "period_start",
]


class GroupKey(StrEnum):
    CROSSING = "CROSSING"
    DIRECTION = "DIRECTION"
    HS_CHAPTER = "HS_CHAPTER"
    HS6 = "HS6"


class Interval(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"  # ISO weeks, starting on Monday
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class ReportLimits:
    max_days: int = 366
    max_rows: int = 50_000


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Whole UTC days ``start``..``end`` (inclusive), some crossings, one or both directions."""

    start: dt.date
    end: dt.date
    crossings: tuple[CrossingPoint, ...]
    direction: Direction | None = None

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def directions(self) -> tuple[Direction, ...]:
        return (self.direction,) if self.direction is not None else (Direction.CN_TO_KZ, Direction.KZ_TO_CN)


def make_filter(
    registry: CrossingRegistry,
    limits: ReportLimits,
    *,
    start: dt.date,
    end: dt.date,
    crossing_ids: Sequence[str] = (),
    direction: Direction | None = None,
    today: dt.date,
) -> ReportFilter:
    """Validate a report's filter; unknown crossings, reversed or too long windows are refused."""
    if end < start:
        raise InvalidInput(f"'to' ({end}) is before 'from' ({start})")
    days = (end - start).days + 1
    if days > limits.max_days:
        raise InvalidInput(f"a report covers at most {limits.max_days} days; {start}..{end} is {days} days")
    if start > today:
        raise InvalidInput(f"'from' ({start}) is in the future")
    crossings: list[CrossingPoint] = []
    for crossing_id in dict.fromkeys(crossing_ids):
        crossing = registry.by_id(crossing_id)
        if crossing is None:
            known = ", ".join(c.id for c in registry.all)
            raise InvalidInput(f"unknown crossing point {crossing_id[:40]!r}; known: {known}")
        crossings.append(crossing)
    return ReportFilter(start, min(end, today), tuple(crossings) or registry.all, direction)


def period_start(day: dt.date, interval: Interval) -> dt.date:
    """The first day of the DAY / WEEK (Monday) / MONTH bucket holding ``day``."""
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


@dataclass(frozen=True, slots=True)
class CsvParams:
    """A CSV request's query string, parsed: the filter's raw parts and the shaping options."""

    start: dt.date
    end: dt.date
    crossing_ids: tuple[str, ...]
    direction: Direction | None
    group_by: tuple[GroupKey, ...]
    interval: Interval
    view: str | None = None  # which table of a report with several (valuation gaps)
    carrier_id: str | None = None  # set by the endpoint from the principal, never from the query


_CSV_KNOWN = frozenset({"from", "to", "crossing", "direction", "groupBy", "interval"})


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name, ())
    if len(values) > 1:
        raise InvalidInput(f"'{name}' given more than once")
    return values[0] if values else None


def _date(params: Mapping[str, Sequence[str]], name: str) -> dt.date:
    text = _one(params, name)
    if text is None:
        raise InvalidInput(f"'{name}' is required (a date, YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date YYYY-MM-DD, not {text[:40]!r}") from None


def _enum(kind: type[StrEnum], name: str, text: str) -> StrEnum:
    try:
        return kind(text.strip().upper())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"'{name}' must be one of {allowed}, not {text[:40]!r}") from None


def parse_csv_params(
    params: Mapping[str, Sequence[str]], *, shaped: bool = True, views: Sequence[str] = ()
) -> CsvParams:
    """``?from=2025-01-01&to=2025-03-31&crossing=KHORGOS&direction=CN_TO_KZ&groupBy=CROSSING,HS6
    &interval=WEEK``: repeated or comma-separated lists; unknown parameters are refused, not ignored.
    ``shaped=False`` (reports without groups or periods) refuses ``groupBy`` and ``interval`` too;
    ``views`` (the tables of a report with several) allows ``view``, the first being the default."""
    known = (_CSV_KNOWN if shaped else _CSV_KNOWN - {"groupBy", "interval"}) | ({"view"} if views else set())
    if unknown := sorted(set(params) - known):
        raise InvalidInput(f"unknown parameter(s): {', '.join(name[:40] for name in unknown)}")
    crossing_ids = tuple(
        part.strip() for value in params.get("crossing", ()) for part in value.split(",") if part.strip()
    )
    direction_text = _one(params, "direction")
    direction = None if direction_text is None else Direction(_enum(Direction, "direction", direction_text))
    group_by = tuple(
        GroupKey(_enum(GroupKey, "groupBy", part))
        for value in params.get("groupBy", ())
        for part in value.split(",")
        if part.strip()
    )
    interval_text = _one(params, "interval")
    interval = Interval.DAY if interval_text is None else Interval(_enum(Interval, "interval", interval_text))
    view = _one(params, "view") if views else None
    if view is not None and view not in views:
        raise InvalidInput(f"'view' must be one of {', '.join(views)}, not {view[:40]!r}")
    return CsvParams(
        _date(params, "from"),
        _date(params, "to"),
        crossing_ids,
        direction,
        group_by,
        interval,
        view or (views[0] if views else None),
    )
