"""The reports use-case: partials per chunk, read through the cache, merged into report rows.

A report is the merge of its chunks' partials (:mod:`.partials`). Cached partials are read in
one multi-get; the missing chunks are scanned (:mod:`.scan`) with at most ``chunk_concurrency``
chunks in flight, each stored as soon as it is done. A day that is over long enough
(``settled_after_days``: trucks declared on it have been released or have left) is kept for
``ttl_settled_s``; more recent days for ``ttl_recent_s``; today for ``ttl_today_s``. Partials
hold no per-carrier data, so one cache entry serves every audience.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..cache import CachePolicy, EntityCache, Resource
from ..crossings import CrossingPoint, CrossingRegistry
from ..domain import Authority, Direction, Inspection
from ..errors import InvalidInput
from ..linking import LinkWindow
from ..sources.base import ChinaSource, KazakhstanSource
from .filters import GroupKey, Interval, ReportFilter, ReportLimits, make_filter, period_start
from .partials import ChunkPartial, Flow, InspectionPartial, SidePartial, percentile
from .scan import ChunkScanner, RatesByDay, gather_all

__all__ = [
    "ClearanceRow",
    "InspectionRow",
    "Percentiles",
    "ReportOptions",
    "ReportService",
    "TradeFlowRow",
]

_RATIO = Decimal("0.0001")
_CHUNKS = Resource("REPORTS", "trade-chunk-v1")
_INSPECTIONS = Resource("REPORTS", "inspection-chunk-v1")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    limits: ReportLimits = field(default_factory=ReportLimits)
    chunk_concurrency: int = 16
    china_concurrency: int = 12
    kazakhstan_concurrency: int = 6
    settled_after_days: int = 2
    ttl_settled_s: float = 7 * 24 * 3600
    ttl_recent_s: float = 300
    ttl_today_s: float = 60


@dataclass(frozen=True, slots=True)
class TradeFlowRow:
    """One bucket: each side's value, mass and trucks (a mirror comparison side by side)."""

    period: dt.date
    crossing: str | None
    direction: Direction | None
    hs_chapter: str | None
    hs6: str | None
    china: Flow
    kazakhstan: Flow

    @property
    def value_gap_usd(self) -> Decimal:
        """China's value minus Kazakhstan's."""
        return self.china.value_usd - self.kazakhstan.value_usd

    @property
    def value_ratio(self) -> Decimal | None:
        """Kazakhstan's value / China's, 4 decimals; None when China recorded none."""
        if not self.china.value_usd:
            return None
        return (self.kazakhstan.value_usd / self.china.value_usd).quantize(_RATIO)


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int
    open: int  # records (trips) without their final event yet, left out of the percentiles
    p50: int | None
    p90: int | None
    p99: int | None

    @classmethod
    def of(cls, histogram: dict[int, int], open_: int = 0) -> Percentiles:
        return cls(
            sum(histogram.values()),
            open_,
            percentile(histogram, 0.50),
            percentile(histogram, 0.90),
            percentile(histogram, 0.99),
        )


@dataclass(frozen=True, slots=True)
class ClearanceRow:
    crossing: str
    direction: Direction
    china: Percentiles
    kazakhstan: Percentiles
    door_to_door: Percentiles


@dataclass(frozen=True, slots=True)
class InspectionRow:
    crossing: str
    authority: Authority
    kind: str
    risk_channel: str | None
    outcome: str
    inspections: int  # done by the authority itself
    saved_by_recognition: int  # the other side's inspection recognized instead of repeating it
    trucks: int  # the authority's records at the crossing in the window (the rate's denominator)

    @property
    def rate(self) -> Decimal | None:
        """Inspections per truck, 4 decimals; None without trucks."""
        return (Decimal(self.inspections) / self.trucks).quantize(_RATIO) if self.trucks else None


@dataclass(slots=True)
class _TradeAccumulator:
    group_by: frozenset[GroupKey]
    interval: Interval
    rows: dict[tuple[object, ...], tuple[Flow, Flow]] = field(default_factory=dict)

    def fold(self, crossing: str, direction: Direction, day: dt.date, partial: ChunkPartial) -> None:
        head = (
            period_start(day, self.interval),
            crossing if GroupKey.CROSSING in self.group_by else None,
            direction if GroupKey.DIRECTION in self.group_by else None,
        )
        for index, side in enumerate((partial.china, partial.kazakhstan)):
            for key, flow in self._split(side):
                pair = self.rows.get((*head, *key))
                if pair is None:
                    pair = self.rows[(*head, *key)] = (Flow(), Flow())
                pair[index].add(flow)

    def _split(self, side: SidePartial) -> Iterable[tuple[tuple[str | None, str | None], Flow]]:
        if GroupKey.HS6 in self.group_by:
            for code, flow in side.hs6.items():
                yield (code[:2] if GroupKey.HS_CHAPTER in self.group_by else None, code), flow
        elif GroupKey.HS_CHAPTER in self.group_by:
            chapters: dict[str, Flow] = {}
            for code, flow in side.hs6.items():
                chapter = chapters.setdefault(code[:2], Flow())
                chapter.value_usd += flow.value_usd
                chapter.gross_kg += flow.gross_kg
            for chapter_code, flow in chapters.items():
                flow.trucks = side.chapter_trucks.get(chapter_code, 0)
                yield (chapter_code, None), flow
        elif side.total.trucks:  # an empty chunk adds no row
            yield (None, None), side.total

    def result(self) -> list[TradeFlowRow]:
        def order(key: tuple[object, ...]) -> tuple[str, ...]:
            return tuple("" if part is None else str(part) for part in key)

        return [
            TradeFlowRow(key[0], key[1], key[2], key[3], key[4], pair[0], pair[1])  # type: ignore[arg-type]
            for key, pair in sorted(self.rows.items(), key=lambda item: order(item[0]))
        ]


class ReportService:
    """Reports over both authorities; one instance per app (its semaphores bound all reports)."""

    def __init__(
        self,
        china: ChinaSource,
        kazakhstan: KazakhstanSource,
        crossings: CrossingRegistry,
        window: LinkWindow,
        options: ReportOptions,
        cache: EntityCache | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._china = china
        self._kazakhstan = kazakhstan
        self._crossings = crossings
        self._options = options
        self._cache = cache
        self._clock = clock
        self._chunk_slots = asyncio.Semaphore(options.chunk_concurrency)
        self._scanner = ChunkScanner(
            china,
            kazakhstan,
            window,
            china_slots=asyncio.Semaphore(options.china_concurrency),
            kazakhstan_slots=asyncio.Semaphore(options.kazakhstan_concurrency),
        )

    @property
    def limits(self) -> ReportLimits:
        return self._options.limits

    def filter(
        self,
        *,
        start: dt.date,
        end: dt.date,
        crossing_ids: Iterable[str] = (),
        direction: Direction | None = None,
    ) -> ReportFilter:
        return make_filter(
            self._crossings,
            self._options.limits,
            start=start,
            end=end,
            crossing_ids=tuple(crossing_ids),
            direction=direction,
            today=self._clock().astimezone(dt.UTC).date(),
        )

    # -- reports ----------------------------------------------------------------------------------

    async def trade_flow(self, f: ReportFilter, group_by: Iterable[GroupKey], interval: Interval) -> list[TradeFlowRow]:
        accumulator = _TradeAccumulator(frozenset(group_by), interval)
        await self._fold_chunks(f, accumulator.fold)
        rows = accumulator.result()
        self._check_rows(len(rows))
        return rows

    async def clearance_times(self, f: ReportFilter) -> list[ClearanceRow]:
        merged: dict[tuple[str, Direction], ChunkPartial] = {}

        def fold(crossing: str, direction: Direction, day: dt.date, partial: ChunkPartial) -> None:
            merged.setdefault((crossing, direction), ChunkPartial()).add(partial)

        await self._fold_chunks(f, fold)
        return [
            ClearanceRow(
                crossing,
                direction,
                Percentiles.of(p.china.clearance, p.china.open),
                Percentiles.of(p.kazakhstan.clearance, p.kazakhstan.open),
                Percentiles.of(p.door_to_door),
            )
            for (crossing, direction), p in sorted(merged.items())
        ]

    async def inspection_rates(self, f: ReportFilter) -> list[InspectionRow]:
        if f.direction is not None:
            raise InvalidInput("inspectionRates are per crossing and authority: leave 'direction' out")
        trucks: dict[tuple[str, Authority], int] = {}

        def fold_trucks(crossing: str, direction: Direction, day: dt.date, partial: ChunkPartial) -> None:
            for authority, side in ((Authority.GACC, partial.china), (Authority.KGD, partial.kazakhstan)):
                trucks[(crossing, authority)] = trucks.get((crossing, authority), 0) + side.total.trucks

        merged: dict[str, InspectionPartial] = {}

        def fold_inspections(crossing: str, day: dt.date, partial: InspectionPartial) -> None:
            merged.setdefault(crossing, InspectionPartial()).add(partial)

        await gather_all([self._fold_chunks(f, fold_trucks), self._fold_inspections(f, fold_inspections)])
        rows = []
        for crossing, partial in sorted(merged.items()):
            for key in sorted(partial.counts):
                authority, kind, channel, outcome = key
                saved = partial.recognized.get(key, 0)
                rows.append(
                    InspectionRow(
                        crossing,
                        Authority(authority),
                        kind,
                        channel or None,
                        outcome,
                        partial.counts[key] - saved,
                        saved,
                        trucks.get((crossing, Authority(authority)), 0),
                    )
                )
        self._check_rows(len(rows))
        return rows

    def _check_rows(self, rows: int) -> None:
        if rows > self._options.limits.max_rows:
            raise InvalidInput(
                f"the report has {rows} rows, more than {self._options.limits.max_rows}: "
                "use a coarser interval, fewer group keys or a shorter window"
            )

    # -- chunks -----------------------------------------------------------------------------------

    def _policy(self, day: dt.date) -> CachePolicy:
        today = self._clock().astimezone(dt.UTC).date()
        if day >= today:
            return CachePolicy(self._options.ttl_today_s)
        if (today - day).days > self._options.settled_after_days:
            return CachePolicy(self._options.ttl_settled_s)
        return CachePolicy(self._options.ttl_recent_s)

    async def _cached(self, resource: Resource, keys: list[str]) -> dict[str, bytes]:
        if self._cache is None:
            return {}
        hits = await self._cache.get_many(resource, keys)
        return {key: hit.value for key, hit in hits.items() if hit.is_fresh and isinstance(hit.value, bytes)}

    async def _store(self, resource: Resource, key: str, value: bytes, day: dt.date) -> None:
        if self._cache is not None:
            await self._cache.set(resource, key, value, self._policy(day))

    async def _fold_chunks(
        self, f: ReportFilter, fold: Callable[[str, Direction, dt.date, ChunkPartial], None]
    ) -> None:
        chunks = {
            f"{crossing.id}:{direction.value}:{day.isoformat()}": (crossing, direction, day)
            for crossing in f.crossings
            for direction in f.directions
            for day in f.days
        }
        cached = await self._cached(_CHUNKS, list(chunks))
        for key, data in cached.items():
            crossing, direction, day = chunks[key]
            fold(crossing.id, direction, day, ChunkPartial.from_bytes(data))
        missing = [(key, chunk) for key, chunk in chunks.items() if key not in cached]
        if not missing:
            return
        rates = await self._rates(f)

        async def one(key: str, crossing: CrossingPoint, direction: Direction, day: dt.date) -> None:
            async with self._chunk_slots:
                partial = await self._scanner.scan(crossing, direction, day, rates)
            await self._store(_CHUNKS, key, partial.to_bytes(), day)
            fold(crossing.id, direction, day, partial)

        await gather_all([one(key, *chunk) for key, chunk in missing])

    async def _rates(self, f: ReportFilter) -> RatesByDay:
        # Beijing dates and KGD's rate dates lie within a day of the UTC declaration day.
        return await self._kazakhstan.exchange_rates_range(f.start - dt.timedelta(days=1), f.end + dt.timedelta(days=1))

    async def _fold_inspections(self, f: ReportFilter, fold: Callable[[str, dt.date, InspectionPartial], None]) -> None:
        chunks = {f"{crossing.id}:{day.isoformat()}": (crossing, day) for crossing in f.crossings for day in f.days}
        cached = await self._cached(_INSPECTIONS, list(chunks))
        for key, data in cached.items():
            crossing, day = chunks[key]
            fold(crossing.id, day, InspectionPartial.from_bytes(data))

        async def one(key: str, crossing: CrossingPoint, day: dt.date) -> None:
            async with self._chunk_slots:
                partial = await self._scan_inspections(crossing, day)
            await self._store(_INSPECTIONS, key, partial.to_bytes(), day)
            fold(crossing.id, day, partial)

        await gather_all([one(key, *chunk) for key, chunk in chunks.items() if key not in cached])

    async def _scan_inspections(self, crossing: CrossingPoint, day: dt.date) -> InspectionPartial:
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        end = start + dt.timedelta(days=1)
        partial = InspectionPartial()

        async def count(items: Awaitable[list[Inspection]]) -> None:
            for inspection in await items:
                key = (
                    inspection.authority.value,
                    inspection.kind.value,
                    inspection.risk_channel.value if inspection.risk_channel is not None else "",
                    inspection.outcome.value,
                )
                partial.count(key, recognized=inspection.recognized_inspection_id is not None)

        await gather_all(
            [
                count(_collect(self._china.iter_inspections(crossing.china.code, start, end))),
                count(_collect(self._kazakhstan.iter_controls(crossing.kazakhstan.code, start, end))),
            ]
        )
        return partial


async def _collect(items: AsyncIterator[Inspection]) -> list[Inspection]:
    return [item async for item in items]
