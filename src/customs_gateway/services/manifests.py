"""Lists of trips: a time window of manifests, and one vehicle's history.

Both authorities are asked concurrently; their records are grouped by crossing and direction and
joined with :func:`~customs_gateway.linking.link_records`, so each trip appears once, anchored
on its exporting side's record. When one authority fails, the other's records still come back
as trips whose missing side (and everything that needs it) carries that authority's error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..crossings import CrossingPoint
from ..domain import Authority, ChinaManifestRecord, Direction, KazakhstanPIRecord, PlateId
from ..errors import InvalidInput, UpstreamError
from ..ids import Cursor
from ..linking import Link, LinkedTrip, TripStatus, link_records, trip_status
from ..plates import plate_search_keys, same_vehicle
from ..sources.base import RecordQuery
from .paging import PageResult, check_first, paginate, resolve_window
from .trips import Gateway, Trip

__all__ = ["ManifestQuery", "list_manifests", "vehicle_trips"]

T = TypeVar("T")
_HISTORY_PAGE = 100


@dataclass(frozen=True, slots=True)
class ManifestQuery:
    crossing_ids: tuple[str, ...] = ()
    direction: Direction | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    plate: PlateId | None = None
    hs_prefix: str | None = None
    statuses: tuple[TripStatus, ...] = ()


async def _collect(calls: Sequence[Awaitable[list[T]]]) -> list[T]:
    results = await asyncio.gather(*calls)
    return [item for result in results for item in result]


async def _settle(awaitable: Awaitable[list[T]]) -> list[T] | UpstreamError:
    """An authority's records, or the UpstreamError it failed with (anything else propagates)."""
    try:
        return await awaitable
    except UpstreamError as exc:
        return exc


def _trips(
    gw: Gateway,
    china: Sequence[ChinaManifestRecord] | UpstreamError,
    kazakhstan: Sequence[KazakhstanPIRecord] | UpstreamError,
) -> list[Trip]:
    """Join, per crossing and direction; one side failed → the other's records alone."""
    if isinstance(china, UpstreamError) and isinstance(kazakhstan, UpstreamError):
        raise china
    if isinstance(china, UpstreamError):
        assert not isinstance(kazakhstan, UpstreamError)
        return [gw.remember(Trip.one_sided(kz, gw.crossing_of(kz), china)) for kz in kazakhstan]
    if isinstance(kazakhstan, UpstreamError):
        return [gw.remember(Trip.one_sided(cn, gw.crossing_of(cn), kazakhstan)) for cn in china]
    groups: dict[tuple[str | None, Direction], tuple[list[ChinaManifestRecord], list[KazakhstanPIRecord]]]
    groups = defaultdict(lambda: ([], []))
    crossings: dict[str | None, CrossingPoint | None] = {}
    for cn in {r.batch_no: r for r in china}.values():
        crossing = gw.crossing_of(cn)
        crossings[crossing.id if crossing else None] = crossing
        groups[(crossing.id if crossing else None, cn.direction)][0].append(cn)
    for kz in {r.pi_number: r for r in kazakhstan}.values():
        crossing = gw.crossing_of(kz)
        crossings[crossing.id if crossing else None] = crossing
        groups[(crossing.id if crossing else None, kz.direction)][1].append(kz)
    trips: list[Trip] = []
    for (crossing_id, _), (cn_records, kz_records) in groups.items():
        crossing = crossings[crossing_id]
        linked = link_records(cn_records, kz_records, phase=crossing.phase if crossing else 0, window=gw.window)
        trips.extend(gw.remember(Trip.linked(trip, crossing)) for trip in linked)
    return trips


def _anchor(trip: Trip) -> tuple[dt.datetime, Authority, str]:
    """Where the trip sits in time: its exporting record when known, else the record we have."""
    cn, kz = trip.china.peek(), trip.kazakhstan.peek()
    if cn is not None or kz is not None:
        linked = LinkedTrip(cn, kz, Link.none())
        return linked.anchor_time, linked.anchor_authority, linked.anchor_key
    raise RuntimeError("a listed trip always has a record")


def _matches(trip: Trip, query: ManifestQuery) -> bool:
    records: list[ChinaManifestRecord | KazakhstanPIRecord] = [
        r for r in (trip.china.peek(), trip.kazakhstan.peek()) if r is not None
    ]
    if query.plate is not None and not any(same_vehicle(r.vehicle.plate, query.plate) for r in records):
        return False
    if query.hs_prefix and not any(
        line.tariff_code.startswith(query.hs_prefix) or line.hs6.startswith(query.hs_prefix)
        for r in records
        for line in r.goods
    ):
        return False
    if query.statuses:
        cn, kz = trip.china.peek(), trip.kazakhstan.peek()
        if not (trip.china.known and trip.kazakhstan.known):
            return False
        return trip_status(cn, kz) in query.statuses
    return True


async def list_manifests(
    gw: Gateway, query: ManifestQuery, first: int, after: str | None, now: Callable[[], dt.datetime]
) -> PageResult[Trip]:
    check_first(first)
    start, end = resolve_window(query.start, query.end, now)
    crossings = _selected(gw, query.crossing_ids)
    # Partners of trips anchored inside the window may lie up to the linking window outside it.
    slack = max(gw.window.before, gw.window.after)
    base = RecordQuery(direction=query.direction, start=start - slack, end=end + slack)
    keys = plate_search_keys(query.plate) if query.plate else None

    def cn_queries() -> list[RecordQuery]:
        plates = tuple(dict.fromkeys(keys[Authority.GACC.value])) if keys else ()
        return [dataclasses.replace(base, post_code=c.china.code, plates=plates) for c in crossings]

    def kz_queries() -> list[RecordQuery]:
        plates = tuple(dict.fromkeys(keys[Authority.KGD.value])) if keys else ()
        return [dataclasses.replace(base, post_code=c.kazakhstan.code, plates=plates) for c in crossings]

    async def cn_all(q: RecordQuery) -> list[ChinaManifestRecord]:
        return [r async for r in gw.china.iter_manifests(q)]

    async def kz_all(q: RecordQuery) -> list[KazakhstanPIRecord]:
        return [r async for r in gw.kazakhstan.iter_records(q)]

    cn_result, kz_result = await asyncio.gather(
        _settle(_collect([cn_all(q) for q in cn_queries()])),
        _settle(_collect([kz_all(q) for q in kz_queries()])),
    )
    if query.statuses:
        for result in (cn_result, kz_result):
            if isinstance(result, UpstreamError):
                raise result  # a status needs both sides
    edges: list[tuple[Cursor, Trip]] = []
    for trip in _trips(gw, cn_result, kz_result):
        at, authority, key = _anchor(trip)
        if start <= at < end and _matches(trip, query):
            edges.append((Cursor(at.astimezone(dt.UTC), authority, key), trip))
    failures = tuple(r for r in (cn_result, kz_result) if isinstance(r, UpstreamError))
    return paginate(edges, first, after, start, end, failures=failures)


def _selected(gw: Gateway, crossing_ids: Sequence[str]) -> list[CrossingPoint]:
    if not crossing_ids:
        return list(gw.crossings.all)
    selected: list[CrossingPoint] = []
    for crossing_id in crossing_ids:
        crossing = gw.crossings.by_id(crossing_id)
        if crossing is None:
            raise InvalidInput(f"unknown crossing point: {crossing_id!r}")
        selected.append(crossing)
    return selected


async def vehicle_trips(gw: Gateway, plate: PlateId, first: int) -> list[Trip]:
    """The vehicle's trips as either authority recorded them, newest first."""
    check_first(first)
    keys = plate_search_keys(plate)

    async def cn(spelling: str) -> list[ChinaManifestRecord]:
        page = await gw.china.manifest_page(RecordQuery(plates=(spelling,)), 1, _HISTORY_PAGE)
        return list(page.items)

    async def kz(spelling: str) -> list[KazakhstanPIRecord]:
        page = await gw.kazakhstan.record_page(RecordQuery(plates=(spelling,)), 0, _HISTORY_PAGE)
        return list(page.items)

    cn_result, kz_result = await asyncio.gather(
        _settle(_collect([cn(s) for s in dict.fromkeys(keys[Authority.GACC.value])])),
        _settle(_collect([kz(s) for s in dict.fromkeys(keys[Authority.KGD.value])])),
    )
    if not isinstance(cn_result, UpstreamError):
        cn_result = [r for r in cn_result if same_vehicle(r.vehicle.plate, plate)]
    if not isinstance(kz_result, UpstreamError):
        kz_result = [r for r in kz_result if same_vehicle(r.vehicle.plate, plate)]
    trips = _trips(gw, cn_result, kz_result)
    trips.sort(key=lambda trip: (_anchor(trip)[0], _anchor(trip)[2]), reverse=True)
    return trips[:first]
