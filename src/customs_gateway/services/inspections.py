"""Inspections of both authorities: per trip, and as a time-ordered list over a window.

"Recognized by the other side" (phase-2 mutual recognition) is read from the *other*
authority's records: a KGD control naming a GACC inspection as the foreign control it accepted,
counted only where the configured rules of the crossing's phase allow it (``recognition.py``).
It is resolved separately, so when that authority fails only this flag carries the error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..crossings import CrossingPoint
from ..domain import (
    Authority,
    ChinaManifestRecord,
    Direction,
    Inspection,
    InspectionOutcome,
    KazakhstanPIRecord,
    PlateId,
)
from ..errors import UpstreamError
from ..ids import Cursor, RecordKey
from ..plates import same_vehicle
from ..recognition import recognized_ids
from .lazy import Lazy
from .manifests import _selected, _settle
from .paging import PageResult, check_first, paginate, resolve_window
from .trips import Gateway, Trip

__all__ = [
    "InspectionItem",
    "InspectionQuery",
    "inspection_by_key",
    "list_inspections",
    "trip_inspections",
    "trip_inspections_now",
]

# A recognition is recorded after the inspection it recognizes: look this far past the window.
_RECOGNITION_LAG = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class InspectionItem:
    inspection: Inspection
    recognized_by_other_side: Lazy[bool]


@dataclass(frozen=True, slots=True)
class InspectionQuery:
    crossing_ids: tuple[str, ...] = ()
    authority: Authority | None = None
    direction: Direction | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    plate: PlateId | None = None
    hs_prefix: str | None = None
    outcome: InspectionOutcome | None = None


async def trip_inspections(gw: Gateway, trip: Trip, authority: Authority) -> list[InspectionItem]:
    """One side's inspections of the trip; each knows lazily whether the other side recognized it."""
    known = trip_inspections_now(gw, trip, authority)
    if known is not None:
        return known
    own = await _side(gw, trip, authority)
    other = _other(authority)
    phase = _phase(trip)

    async def other_ids() -> set[str]:
        return recognized_ids(own, await _side(gw, trip, other), phase, gw.recognition)

    others: Lazy[set[str]] = Lazy(other_ids)
    return [InspectionItem(i, _membership(others, i.id)) for i in own]


def trip_inspections_now(gw: Gateway, trip: Trip, authority: Authority) -> list[InspectionItem] | None:
    """:func:`trip_inspections` without waiting, when that side's inspections were asked for in the
    trip's first round and have arrived (recognition too when the other side's have); else None.

    Why: fields answered at once cost graphql-core no awaitable and no task, and on a cold
    ``manifest(id:)`` they run after the last upstream answer, on the request's critical path.
    """
    prefetched = trip.inspections_lazy(authority)
    if prefetched is None or not prefetched.known:
        return None
    own = prefetched.peek() or []
    other = _other(authority)
    other_prefetched = trip.inspections_lazy(other)
    phase = _phase(trip)
    others: Lazy[set[str]]
    if other_prefetched is not None and other_prefetched.known:
        others = Lazy.ready(recognized_ids(own, other_prefetched.peek() or [], phase, gw.recognition))
    else:

        async def other_ids() -> set[str]:
            return recognized_ids(own, await _side(gw, trip, other), phase, gw.recognition)

        others = Lazy(other_ids)
    return [InspectionItem(i, _membership(others, i.id)) for i in own]


async def _side(gw: Gateway, trip: Trip, side: Authority) -> list[Inspection]:
    """One side's inspections: the list asked for in the trip's first round, else by record key."""
    prefetched = trip.inspections_lazy(side)
    if prefetched is not None:
        return await prefetched.get()
    if side is Authority.GACC:
        cn = await trip.china.get()
        return await gw.lookups.china_inspections(cn.batch_no) if cn else []
    kz = await trip.kazakhstan.get()
    return await gw.lookups.kazakhstan_controls(kz.pi_number) if kz else []


def _other(authority: Authority) -> Authority:
    return Authority.KGD if authority is Authority.GACC else Authority.GACC


def _phase(trip: Trip) -> int:
    return trip.crossing.phase if trip.crossing else 0


async def list_inspections(
    gw: Gateway, query: InspectionQuery, first: int, after: str | None, now: Callable[[], dt.datetime]
) -> PageResult[InspectionItem]:
    check_first(first)
    start, end = resolve_window(query.start, query.end, now)
    crossings = _selected(gw, query.crossing_ids)
    end_ext = end + _RECOGNITION_LAG

    async def cn_all(crossing: CrossingPoint) -> list[Inspection]:
        return [i async for i in gw.china.iter_inspections(crossing.china.code, start, end_ext)]

    async def kz_all(crossing: CrossingPoint) -> list[Inspection]:
        return [i async for i in gw.kazakhstan.iter_controls(crossing.kazakhstan.code, start, end_ext)]

    async def gather_all(fetch: Callable[[CrossingPoint], Awaitable[list[Inspection]]]) -> list[Inspection]:
        results = await asyncio.gather(*(fetch(c) for c in crossings))
        return [i for result in results for i in result]

    wanted = {query.authority} if query.authority else {Authority.GACC, Authority.KGD}
    cn_result, kz_result = await asyncio.gather(_settle(gather_all(cn_all)), _settle(gather_all(kz_all)))
    failures = [r for a, r in ((Authority.GACC, cn_result), (Authority.KGD, kz_result)) if a in wanted]
    errors = [r for r in failures if isinstance(r, UpstreamError)]
    if len(errors) == len(failures):
        raise errors[0]  # nothing wanted answered
    items: list[InspectionItem] = []
    for authority, own, other in (
        (Authority.GACC, cn_result, kz_result),
        (Authority.KGD, kz_result, cn_result),
    ):
        if authority not in wanted or isinstance(own, UpstreamError):
            continue
        recognized: Lazy[set[str]] = (
            Lazy.failed(other)
            if isinstance(other, UpstreamError)
            else Lazy.ready(recognized_ids(own, other, lambda i: _phase_at(gw, i), gw.recognition))
        )
        for inspection in own:
            if start <= inspection.started_at < end and (query.outcome is None or inspection.outcome is query.outcome):
                items.append(InspectionItem(inspection, _membership(recognized, inspection.id)))
    if query.direction or query.plate or query.hs_prefix:
        items = await _filter_by_record(gw, items, query)
    edges = [
        (Cursor(i.inspection.started_at.astimezone(dt.UTC), i.inspection.authority, i.inspection.id), i) for i in items
    ]
    return paginate(edges, first, after, start, end, failures=tuple(errors))


def _phase_at(gw: Gateway, inspection: Inspection) -> int:
    """The joint-supervision phase of the crossing whose office did the inspection."""
    if inspection.authority is Authority.GACC:
        crossing = gw.crossings.by_port(inspection.office)
    else:
        crossing = gw.crossings.by_checkpoint(inspection.office)
    return crossing.phase if crossing else 0


def _membership(ids: Lazy[set[str]], inspection_id: str) -> Lazy[bool]:
    if ids.known:
        known = ids.peek()
        return Lazy.ready(known is not None and inspection_id in known)

    async def check() -> bool:
        return inspection_id in await ids.get()

    return Lazy(check)


async def _filter_by_record(
    gw: Gateway, items: Sequence[InspectionItem], query: InspectionQuery
) -> list[InspectionItem]:
    """Filters on the inspected record (direction, plate, goods): records fetched in batches."""

    async def record(i: Inspection) -> ChinaManifestRecord | KazakhstanPIRecord | None:
        if i.authority is Authority.GACC:
            return await gw.lookups.china_manifest(i.record_id)
        return await gw.lookups.kazakhstan_record(i.record_id)

    records = await asyncio.gather(*(record(item.inspection) for item in items))
    kept: list[InspectionItem] = []
    for item, rec in zip(items, records, strict=True):
        if rec is None:
            continue
        if query.direction and rec.direction is not query.direction:
            continue
        if query.plate and not same_vehicle(rec.vehicle.plate, query.plate):
            continue
        if query.hs_prefix and not any(
            line.tariff_code.startswith(query.hs_prefix) or line.hs6.startswith(query.hs_prefix) for line in rec.goods
        ):
            continue
        kept.append(item)
    return kept


async def inspection_by_key(
    gw: Gateway, authority: Authority, record_id: str, inspection_id: str
) -> InspectionItem | None:
    """One inspection by its stable key, through the trip (so recognition resolves the same way)."""
    trip = await gw.by_record(RecordKey(authority, record_id))
    if trip is None:
        return None
    for item in await trip_inspections(gw, trip, authority):
        if item.inspection.id == inspection_id:
            return item
    return None
