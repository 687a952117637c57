"""The reports use-case: partials per chunk, read through the cache, merged into report rows.

A report is the merge of its chunks' partials (:mod:`.partials`). Cached partials are read in
one multi-get; the missing chunks are scanned (:mod:`.scan`) with at most ``chunk_concurrency``
chunks in flight, each stored as soon as it is done. A day that is over long enough
(``settled_after_days``: trucks declared on it have been released or have left) is kept for
``ttl_settled_s``; more recent days for ``ttl_recent_s``; today for ``ttl_today_s``. Partials
hold no per-carrier data, so one cache entry serves every audience.

Door to door and valuation gaps count trips, and a trip's two records may be declared on
different UTC days: each chunk links what it can and keeps the rest as loose ends (their own cache
part); such a report pools the loose ends of its days per (crossing, direction) and links them
(:func:`~.scan.link_loose_ends`). A trip whose other record lies outside the report's days is
not counted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from ..cache import CacheHit, CachePolicy, EntityCache, Resource
from ..crossings import CrossingPoint, CrossingRegistry
from ..domain import Authority, Direction, Inspection
from ..errors import InvalidInput
from ..linking import LinkWindow
from ..resilience import detached_deadline
from ..sources.base import ChinaSource, KazakhstanSource
from .filters import GroupKey, Interval, ReportFilter, ReportLimits, make_filter
from .memo import PartialMemo
from .partials import PARTS, ChunkPartial, InspectionPartial, LooseEnds, Part, add_histogram
from .pool import ScanPool
from .rows import (
    ClearanceRow,
    InspectionRow,
    Percentiles,
    TradeAccumulator,
    TradeFlowRow,
    ValuationReport,
)
from .scan import ChunkScanner, RatesByDay, door_to_door, gather_all, link_loose_ends
from .valuation import ValuationPartial
from .valuation_fold import ValuationFold

__all__ = ["ReportOptions", "ReportService"]

_CHUNK_PARTS: dict[Part, Resource] = {part: Resource("REPORTS", f"chunk-{part}-v1") for part in PARTS}
_INSPECTIONS = Resource("REPORTS", "inspection-chunk-v1")


def _derived_key(kind: str, f: ReportFilter) -> str:
    """What a result derived from all of ``f``'s chunks is memoized under."""
    crossings = ",".join(crossing.id for crossing in f.crossings)
    direction = "" if f.direction is None else f.direction.value
    return f"{kind}|{crossings}|{direction}|{f.start.isoformat()}|{f.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class ReportOptions:
    limits: ReportLimits = field(default_factory=ReportLimits)
    chunk_concurrency: int = 8
    china_concurrency: int = 6
    kazakhstan_concurrency: int = 4
    settled_after_days: int = 2
    ttl_settled_s: float = 7 * 24 * 3600
    ttl_recent_s: float = 300
    ttl_today_s: float = 60
    memo_bytes: int = 32 * 1024 * 1024  # the in-process first level (see .memo)
    scan_deadline_s: float = 300.0  # budget for scanning a report's missing chunks


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
        wall_clock: Callable[[], float] = time.time,
        *,
        pool: ScanPool | None = None,
    ) -> None:
        """``pool``: worker processes that scan missing chunks (:mod:`.pool`); without one they are
        scanned here, with ``china`` and ``kazakhstan``."""
        self._china = china
        self._kazakhstan = kazakhstan
        self._crossings = crossings
        self._window = window
        self._options = options
        self._cache = cache
        self._clock = clock
        self._wall = wall_clock
        self._chunk_memo: PartialMemo[ChunkPartial] = PartialMemo(options.memo_bytes, wall_clock)
        self._inspection_memo: PartialMemo[InspectionPartial] = PartialMemo(options.memo_bytes // 8, wall_clock)
        # Cross-day linking's results per report filter, kept while every chunk they came from is.
        self._door_memo: PartialMemo[dict[tuple[str, Direction], tuple[dict[int, int], int]]] = PartialMemo(
            options.memo_bytes // 8, wall_clock
        )
        self._gap_memo: PartialMemo[ValuationPartial] = PartialMemo(options.memo_bytes // 8, wall_clock)
        self._chunk_slots = asyncio.Semaphore(options.chunk_concurrency)
        self._scanner = ChunkScanner(
            china,
            kazakhstan,
            window,
            china_slots=asyncio.Semaphore(options.china_concurrency),
            kazakhstan_slots=asyncio.Semaphore(options.kazakhstan_concurrency),
        )
        self._pool = pool

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
        groups = frozenset(group_by)
        accumulator = TradeAccumulator(groups, interval)
        detailed = bool(groups & {GroupKey.HS6, GroupKey.HS_CHAPTER})
        await self._fold_chunks(f, accumulator.fold, ("hs",) if detailed else ("flow",))
        rows = accumulator.result()
        self._check_rows(len(rows))
        return rows

    async def clearance_times(self, f: ReportFilter) -> list[ClearanceRow]:
        merged: dict[tuple[str, Direction], ChunkPartial] = {}
        key = _derived_key("door", f)
        across = self._door_memo.get(key)

        def fold(crossing: str, direction: Direction, day: dt.date, partial: ChunkPartial) -> None:
            merged.setdefault((crossing, direction), ChunkPartial()).add(partial)

        fresh_until = await self._fold_chunks(f, fold, ("times",) if across is not None else ("times", "loose"))
        if across is None:  # the trips whose two records fall on different days
            across = {}
            for group, p in merged.items():
                pairs = link_loose_ends(p.loose, self._window)
                across[group] = (door_to_door(pairs), len(pairs))
            size = sum(16 * len(histogram) for histogram, _ in across.values())
            self._door_memo.put(key, across, fresh_until, size)
        for group, p in merged.items():
            histogram, linked = across.get(group, ({}, 0))
            add_histogram(p.door_to_door, histogram)
            p.linked += linked
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

    async def valuation_gaps(self, f: ReportFilter, *, carrier_id: str | None = None) -> ValuationReport:
        """Gaps of the trips linked within each chunk and across the report's days (a trip is
        listed under its exporting record's UTC day); ``carrier_id`` cuts the report to what that
        carrier may see of itself (its own totals and trips, no HS-6 rows of others' goods)."""
        merged = ValuationPartial()
        loose: dict[tuple[str, Direction], LooseEnds] = {}
        key = _derived_key("gaps", f)
        across = self._gap_memo.get(key)

        def fold(crossing: str, direction: Direction, day: dt.date, partial: ChunkPartial) -> None:
            merged.add(partial.valuation)
            loose.setdefault((crossing, direction), LooseEnds()).add(partial.loose)

        fresh_until = await self._fold_chunks(f, fold, ("gaps",) if across is not None else ("gaps", "loose"))
        if across is None:
            trips = ValuationFold()
            for (crossing, direction), ends in sorted(loose.items()):
                for exporting, importing in link_loose_ends(ends, self._window):
                    china, kazakhstan = (
                        (exporting, importing) if direction is Direction.CN_TO_KZ else (importing, exporting)
                    )
                    trips.fold_loose(
                        china, kazakhstan, direction, crossing, exporting.declared_at.astimezone(dt.UTC).date()
                    )
            across = trips.partial()
            self._gap_memo.put(key, across, fresh_until, len(across.to_bytes()))
        merged.add(across)
        return ValuationReport.of(merged if carrier_id is None else merged.for_carrier(carrier_id))

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

        await gather_all([self._fold_chunks(f, fold_trucks, ("flow",)), self._fold_inspections(f, fold_inspections)])
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

    async def _cached(self, resource: Resource, keys: list[str]) -> dict[str, CacheHit]:
        """Fresh entries of the shared cache (none without one)."""
        if self._cache is None or not keys:
            return {}
        hits = await self._cache.get_many(resource, keys)
        return {key: hit for key, hit in hits.items() if hit.is_fresh and isinstance(hit.value, bytes)}

    async def _store(self, resource: Resource, key: str, value: bytes, policy: CachePolicy) -> None:
        if self._cache is not None:
            await self._cache.set(resource, key, value, policy)

    async def _fold_chunks(
        self,
        f: ReportFilter,
        fold: Callable[[str, Direction, dt.date, ChunkPartial], None],
        parts: tuple[Part, ...],
    ) -> float:
        """Fold every chunk of ``f``: decoded from the memo, else the ``parts`` it needs from the
        shared cache, else scanned (all parts of a scanned chunk are stored). Returns the
        wall-clock second until which every chunk folded stays fresh (what a result derived from
        them may be kept for)."""
        chunks = {
            f"{crossing.id}:{direction.value}:{day.isoformat()}": (crossing, direction, day)
            for crossing in f.crossings
            for direction in f.directions
            for day in f.days
        }
        prefix = "+".join(parts) + "|"
        # Loose ends are read once per report filter (their linked result is memoized, see
        # clearance_times): kept decoded they would only fill the memo (several times their bytes).
        chunk_memo: PartialMemo[ChunkPartial] = self._chunk_memo if "loose" not in parts else PartialMemo(0)
        decoded = chunk_memo.get_many_until(prefix + key for key in chunks)
        fresh_until = min((until for _, until in decoded.values()), default=math.inf)
        rest = [key for key in chunks if prefix + key not in decoded]
        found = [await self._cached(_CHUNK_PARTS[part], rest) for part in parts]
        missing = []
        for key, (crossing, direction, day) in chunks.items():
            memo = decoded.get(prefix + key)
            partial = None if memo is None else memo[0]
            if partial is None and all(key in hits for hits in found):
                raw = {part: hits[key] for part, hits in zip(parts, found, strict=True)}
                encoded = {part: hit.value for part, hit in raw.items() if isinstance(hit.value, bytes)}
                partial = ChunkPartial.from_parts(encoded)
                size = sum(len(data) for data in encoded.values())
                until = min(hit.fresh_until for hit in raw.values())
                fresh_until = min(fresh_until, until)
                chunk_memo.put(prefix + key, partial, until, size)
            if partial is None:
                missing.append((key, crossing, direction, day))
            else:
                fold(crossing.id, direction, day, partial)
        if not missing:
            return fresh_until

        async def one(key: str, crossing: CrossingPoint, direction: Direction, day: dt.date) -> None:
            async with self._chunk_slots:
                encoded = await self._scan(crossing, direction, day, rates)
            # Only what this report reads is decoded; every part is stored as the scan encoded it.
            partial = ChunkPartial.from_parts({part: encoded[part] for part in parts})
            policy = self._policy(day)
            for part, data in encoded.items():
                await self._store(_CHUNK_PARTS[part], key, data, policy)
            size = sum(len(encoded[part]) for part in parts)
            until = self._wall() + policy.fresh_s
            scanned_until.append(until)
            chunk_memo.put(prefix + key, partial, until, size)
            fold(crossing.id, direction, day, partial)

        # The partials outlive this request (cached for every later one): their own budget.
        scanned_until: list[float] = []
        with detached_deadline(self._options.scan_deadline_s):
            rates = await self._rates(f)
            await gather_all([one(*chunk) for chunk in missing])
        return min([fresh_until, *scanned_until])

    async def _scan(
        self, crossing: CrossingPoint, direction: Direction, day: dt.date, rates: RatesByDay
    ) -> dict[Part, bytes]:
        """One chunk's partial, encoded: by a worker process when there is a pool, else here."""
        if self._pool is not None:
            return await self._pool.scan(crossing, direction, day, rates)
        return (await self._scanner.scan(crossing, direction, day, rates)).parts()

    async def _rates(self, f: ReportFilter) -> RatesByDay:
        # Beijing dates and KGD's rate dates lie within a day of the UTC declaration day.
        return await self._kazakhstan.exchange_rates_range(f.start - dt.timedelta(days=1), f.end + dt.timedelta(days=1))

    async def _fold_inspections(self, f: ReportFilter, fold: Callable[[str, dt.date, InspectionPartial], None]) -> None:
        chunks = {f"{crossing.id}:{day.isoformat()}": (crossing, day) for crossing in f.crossings for day in f.days}
        cached: dict[str, InspectionPartial] = self._inspection_memo.get_many(chunks)
        for key, hit in (await self._cached(_INSPECTIONS, [k for k in chunks if k not in cached])).items():
            assert isinstance(hit.value, bytes)
            cached[key] = InspectionPartial.from_bytes(hit.value)
            self._inspection_memo.put(key, cached[key], hit.fresh_until, len(hit.value))
        for key, partial in cached.items():
            crossing, day = chunks[key]
            fold(crossing.id, day, partial)

        async def one(key: str, crossing: CrossingPoint, day: dt.date) -> None:
            async with self._chunk_slots:
                partial = await self._scan_inspections(crossing, day)
            policy = self._policy(day)
            data = partial.to_bytes()
            await self._store(_INSPECTIONS, key, data, policy)
            self._inspection_memo.put(key, partial, self._wall() + policy.fresh_s, len(data))
            fold(crossing.id, day, partial)

        with detached_deadline(self._options.scan_deadline_s):
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
