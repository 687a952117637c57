"""Reading one chunk — (crossing, direction, UTC day) — from both authorities into a partial.

Each side is paged with the largest page its API serves (GACC 100, KGD 500); after the first page
announces the total, the remaining pages are fetched concurrently, bounded by one semaphore per
authority shared by every chunk of the report, so a 90-day report keeps a fixed number of calls
in flight and a fixed number of pages in memory. Records are folded into the partial page by page
and dropped; only a small stub per record (times, plate, common id) is kept until the chunk's
door-to-door linking is done; the records it leaves unlinked are kept as loose ends (the
partial's ``loose`` part) for a report to link across its days (:func:`link_loose_ends`).

Trade flow needs no linking: each side's records count in the bucket of that side's own
declaration (how mirror statistics are built). Door to door needs both sides of a trip: linked
within the chunk by common manifest id; the rest (ids on different days, and every record
without one) are linked by a report over the loose ends of all its days, by common id, else by
vehicle and time (see :func:`link_stubs`), so where midnight UTC falls never changes a pair.

Pages are read with the sources' scan methods: each record as a :class:`ScanRecord` (times,
plate, common id, carrier, totals, goods lines' HS-6, mass and value), not the whole domain
record; mapping every record in full was most of a cold report's CPU time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import operator
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, NamedTuple, TypeVar

from ..crossings import CrossingPoint
from ..domain import Direction, ExchangeRate, PlateId
from ..linking import LinkWindow
from ..money import minor_to_decimal, usd_minor
from ..plates import same_vehicle
from ..sources.base import MASS_PLACES, MONEY_PLACES, ChinaSource, KazakhstanSource, Page, RecordQuery, ScanRecord
from .partials import ChunkPartial, Flow, LooseEnd, LooseEnds, SidePartial, add_histogram, minutes_between
from .valuation_fold import UsdFactors, ValuationFold

__all__ = [
    "ChunkScanner",
    "RatesByDay",
    "SideFold",
    "Stub",
    "UsdFactors",
    "door_to_door",
    "fold_record",
    "gather_all",
    "link_loose_ends",
    "link_stubs",
    "loose_ends",
]

T = TypeVar("T")
_ZERO: Final = Decimal(0)
RatesByDay = Mapping[dt.date, Mapping[str, ExchangeRate]]
_CN_PAGE: Final = 100  # GACC's largest page
_KZ_PAGE: Final = 500  # KGD's largest page
# Stub(...) / LooseEnd(...) without its interpreted generated __new__ (see sources/kazakhstan/scan.py).
_new: Final = tuple.__new__


class Stub(NamedTuple):
    """What door-to-door linking needs of one record."""

    common_id: str | None
    plate: PlateId
    declared_at: dt.datetime
    final_at: dt.datetime | None  # release (importing side) / exit (exporting side)
    record: ScanRecord  # kept until the chunk is linked
    usd_by_hs6: dict[str, int]  # the priced lines in US cents: valuation reuses them, not converting again


# What linking reads of a record: a chunk's stubs, or loose ends pooled over a report's days.
S = TypeVar("S", Stub, LooseEnd)

# A group's running sums in exact integers: US cents, priced lines, grams, lines, trucks.
# Final (here and in the other modules setup.py compiles): mypyc makes a Final name a C constant,
# any other module global a dictionary lookup at every use.
_USD: Final = 0
_PRICED: Final = 1
_GRAMS: Final = 2
_LINES: Final = 3
_TRUCKS: Final = 4


class SideFold:
    """One side's records of a chunk folded in exact integers (cents, grams), turned into the
    :class:`SidePartial`'s ``Decimal`` figures once per group at the end (:meth:`into`) rather
    than added up as ``Decimal`` line by line: the same figures, digits and exponents alike."""

    __slots__ = ("chapter_trucks", "clearance", "hs6", "open", "total", "unpriced")

    def __init__(self) -> None:
        self.total = [0, 0, 0, 0, 0]
        self.hs6: dict[str, list[int]] = {}
        self.chapter_trucks: dict[str, int] = {}
        self.unpriced = 0
        self.clearance: dict[int, int] = {}
        self.open = 0

    def into(self, side: SidePartial) -> None:
        side.total.add(_flow(self.total))
        for code, sums in self.hs6.items():
            side.hs6.setdefault(code, Flow()).add(_flow(sums))
        for chapter, trucks in self.chapter_trucks.items():
            side.chapter_trucks[chapter] = side.chapter_trucks.get(chapter, 0) + trucks
        side.unpriced += self.unpriced
        add_histogram(side.clearance, self.clearance)
        side.open += self.open


def _flow(sums: list[int]) -> Flow:
    # Decimal sums of 2-place amounts have 2 places, of 3-place masses 3 places; a sum of
    # nothing is Decimal(0): exactly what adding the Decimals one by one gave.
    return Flow(
        minor_to_decimal(sums[_USD], MONEY_PLACES) if sums[_PRICED] else _ZERO,
        minor_to_decimal(sums[_GRAMS], MASS_PLACES) if sums[_LINES] else _ZERO,
        sums[_TRUCKS],
    )


def fold_record(side: SideFold, record: ScanRecord, factors: UsdFactors) -> Stub:
    """One side's record into its fold, valued at the NBK rates of its own rate date (China:
    the Beijing date of the declaration; Kazakhstan: the date KGD applied), line by line in
    US cents rounded half-even (``money.convert``'s figure)."""
    usd_by_hs6: dict[str, int] = {}
    seen_hs6: set[str] = set()
    seen_chapters: set[str] = set()
    groups = side.hs6
    day = record.rate_date
    # The record's own sums in local integers, added to the side's total once; the factor looked
    # up again only when the currency changes (a record's lines are nearly always in one).
    usd_sum = priced = grams_sum = lines = 0
    factor_currency: str | None = None
    factor: tuple[int, int] | None = None
    for hs6, grams, minor, currency in record.goods:
        sums = groups.get(hs6)
        if sums is None:
            sums = groups[hs6] = [0, 0, 0, 0, 0]
        if currency != factor_currency:
            factor = factors.get(day, currency)
            factor_currency = currency
        if factor is None:
            side.unpriced += 1
        else:
            usd = usd_minor(minor, factor)
            sums[_USD] += usd
            sums[_PRICED] += 1
            usd_sum += usd
            priced += 1
            usd_by_hs6[hs6] = usd_by_hs6.get(hs6, 0) + usd
        sums[_GRAMS] += grams
        sums[_LINES] += 1
        grams_sum += grams
        lines += 1
        if hs6 not in seen_hs6:
            seen_hs6.add(hs6)
            sums[_TRUCKS] += 1
        seen_chapters.add(hs6[:2])
    total = side.total
    total[_USD] += usd_sum
    total[_PRICED] += priced
    total[_GRAMS] += grams_sum
    total[_LINES] += lines
    total[_TRUCKS] += 1
    for chapter in seen_chapters:
        side.chapter_trucks[chapter] = side.chapter_trucks.get(chapter, 0) + 1
    if record.final_at is None:
        side.open += 1
    else:
        minutes = minutes_between(record.declared_at, record.final_at)
        side.clearance[minutes] = side.clearance.get(minutes, 0) + 1
    stub = (record.common_manifest_id, record.plate, record.declared_at, record.final_at, record, usd_by_hs6)
    return _new(Stub, stub)


def _plate_key(plate: PlateId) -> str:
    # A Chinese plate may come without its province ("F12345"): bucket on what both spellings keep.
    return plate.canonical[-6:]


def link_stubs(
    exporting: Sequence[S], importing: Sequence[S], window: LinkWindow, *, by_vehicle: bool = True
) -> list[tuple[S, S]]:
    """The trips both sides recorded in the chunk (or in the loose ends of a report's chunks), as
    (exporting, importing) pairs.

    A pair is the same common manifest id, else the same vehicle with the importing record
    registered within ``window`` of the exporting declaration (nearest first); each record is
    used once. ``by_vehicle=False``: by common manifest id only (a chunk's own linking).
    """
    by_common = {stub.common_id: stub for stub in importing if stub.common_id}
    by_plate: dict[str, list[S]] = {}
    for stub in importing if by_vehicle else ():
        if not stub.common_id:
            by_plate.setdefault(_plate_key(stub.plate), []).append(stub)
    used: set[int] = set()
    pairs: list[tuple[S, S]] = []
    earliest, latest = -window.before, window.after
    for anchor in exporting:
        partner: S | None = None
        if anchor.common_id:
            partner = by_common.get(anchor.common_id)
        elif by_vehicle:
            candidates = [
                stub
                for stub in by_plate.get(_plate_key(anchor.plate), ())
                if id(stub) not in used
                and same_vehicle(stub.plate, anchor.plate)
                and earliest <= stub.declared_at - anchor.declared_at <= latest
            ]
            if candidates:
                partner = min(candidates, key=lambda stub: abs(stub.declared_at - anchor.declared_at))
        if partner is None or id(partner) in used:
            continue
        used.add(id(partner))
        pairs.append((anchor, partner))
    return pairs


def loose_ends(
    exporting: Sequence[Stub],
    importing: Sequence[Stub],
    pairs: Sequence[tuple[Stub, Stub]],
    factors: UsdFactors,
    rates: RatesByDay,
) -> LooseEnds:
    """The chunk's records that ``pairs`` did not take, each valued once in US cents at its own
    rate day (what :meth:`ValuationFold.fold_pair` would work out of it)."""
    linked = {id(stub) for pair in pairs for stub in pair}
    return LooseEnds(
        [_loose_end(stub, factors, rates) for stub in exporting if id(stub) not in linked],
        [_loose_end(stub, factors, rates) for stub in importing if id(stub) not in linked],
    )


def _loose_end(stub: Stub, factors: UsdFactors, rates: RatesByDay) -> LooseEnd:
    record = stub.record
    factor = factors.get(record.rate_date, record.currency)
    usd: int | None = None
    # A day without any rate table leaves the trip out, even one valued in USD (as fold_pair).
    if factor is not None and rates.get(record.rate_date) is not None:
        usd = usd_minor(record.total_minor, factor)
    carrier = record.carrier
    end = (
        stub.common_id,
        stub.plate,
        stub.declared_at,
        stub.final_at,
        record.key,
        carrier.id,
        carrier.name,
        usd,
        stub.usd_by_hs6,
    )
    return _new(LooseEnd, end)


# A loose end's (declared_at, key), in C: a warm report sorts every loose end of its days.
_DECLARED: Final = operator.itemgetter(2, 4)


def link_loose_ends(loose: LooseEnds, window: LinkWindow) -> list[tuple[LooseEnd, LooseEnd]]:
    """The trips whose two records their chunks left loose — declared on different UTC days, or
    without a common manifest id — linked by :func:`link_stubs` over the loose ends pooled from a
    report's chunks of one (crossing, direction), exporting records in order of declaration. Each
    loose end is in one chunk only and was linked by none, so no record is ever in two pairs; a
    trip whose other record lies outside the report's days has no partner here and is not counted."""
    return link_stubs(sorted(loose.exporting, key=_DECLARED), sorted(loose.importing, key=_DECLARED), window)


def door_to_door(pairs: Iterable[tuple[S, S]]) -> dict[int, int]:
    """Minutes from the exporting declaration to the importing side's final event, per pair."""
    histogram: dict[int, int] = {}
    for exporting, importing in pairs:
        if importing.final_at is not None:
            minutes = minutes_between(exporting.declared_at, importing.final_at)
            histogram[minutes] = histogram.get(minutes, 0) + 1
    return histogram


class ChunkScanner:
    """Pages both authorities for one chunk; ``china_slots`` / ``kazakhstan_slots`` bound the
    calls in flight per authority across every chunk sharing this scanner."""

    def __init__(
        self,
        china: ChinaSource,
        kazakhstan: KazakhstanSource,
        window: LinkWindow,
        *,
        china_slots: asyncio.Semaphore,
        kazakhstan_slots: asyncio.Semaphore,
    ) -> None:
        self._china = china
        self._kazakhstan = kazakhstan
        self._window = window
        self._cn_slots = china_slots
        self._kz_slots = kazakhstan_slots

    async def scan(
        self, crossing: CrossingPoint, direction: Direction, day: dt.date, rates: RatesByDay
    ) -> ChunkPartial:
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        end = start + dt.timedelta(days=1)
        partial = ChunkPartial()
        factors = UsdFactors(rates)
        cn_fold, kz_fold = SideFold(), SideFold()
        cn_query = RecordQuery(post_code=crossing.china.code, direction=direction, start=start, end=end)
        kz_query = RecordQuery(post_code=crossing.kazakhstan.code, direction=direction, start=start, end=end)

        async def china() -> list[Stub]:
            return await _all_pages(
                lambda page: self._china.manifest_scan_page(cn_query, page + 1, _CN_PAGE),
                _CN_PAGE,
                self._cn_slots,
                lambda record: fold_record(cn_fold, record, factors),
            )

        async def kazakhstan() -> list[Stub]:
            return await _all_pages(
                lambda page: self._kazakhstan.record_scan_page(kz_query, page * _KZ_PAGE, _KZ_PAGE),
                _KZ_PAGE,
                self._kz_slots,
                lambda record: fold_record(kz_fold, record, factors),
            )

        cn_stubs, kz_stubs = await gather_all([china(), kazakhstan()])
        cn_fold.into(partial.china)
        kz_fold.into(partial.kazakhstan)
        exporting, importing = (cn_stubs, kz_stubs) if direction is Direction.CN_TO_KZ else (kz_stubs, cn_stubs)
        # By common id only: the same vehicle and time are matched over the report's days
        # (link_loose_ends), so a truck's trip before midnight never takes the importing record
        # of its next one because that one fell in the chunk and its own did not.
        pairs = link_stubs(exporting, importing, self._window, by_vehicle=False)
        partial.door_to_door = door_to_door(pairs)
        partial.linked = len(pairs)
        valuation = ValuationFold()
        for pair in pairs:
            cn_stub, kz_stub = pair if direction is Direction.CN_TO_KZ else (pair[1], pair[0])
            valuation.fold_pair(
                cn_stub.record,
                kz_stub.record,
                rates,
                crossing.id,
                day,
                lines_usd=(cn_stub.usd_by_hs6, kz_stub.usd_by_hs6),
                factors=factors,
            )
        partial.valuation = valuation.partial()
        partial.loose = loose_ends(exporting, importing, pairs, factors, rates)
        return partial


async def _all_pages(
    fetch: Callable[[int], Awaitable[Page[T]]],
    size: int,
    slots: asyncio.Semaphore,
    fold: Callable[[T], Stub],
) -> list[Stub]:
    """Page 0, then every further page the total announces, concurrently within ``slots``; each
    page is folded as it arrives and dropped."""

    async def one(number: int) -> int:
        async with slots:
            page = await fetch(number)
        for record in page.items:
            stubs.append(fold(record))
        return page.total

    stubs: list[Stub] = []
    total = await one(0)
    pages = math.ceil(total / size)
    if pages > 1:
        await gather_all([one(number) for number in range(1, pages)])
    return stubs


async def gather_all(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; the first failure cancels the rest and is raised as itself (not as an
    ``ExceptionGroup``), so a gateway error keeps its code for the client."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failed:
        raise _first_leaf(failed) from None
    return [task.result() for task in tasks]


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
