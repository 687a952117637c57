"""Lists of trips: a time window of manifests, and one vehicle's history.

``manifests`` merges both authorities' time-ordered streams lazily from the cursor (see
:func:`list_manifests`); a vehicle's history is small, so both authorities' records of it are
read at once and joined with :func:`~customs_gateway.linking.link_records`. Either way each trip
appears once, anchored on its exporting side's record, and when one authority fails the other's
records still come back as trips whose missing side carries that authority's error.
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
from ..ids import Cursor, RecordKey, decode_cursor
from ..linking import Link, LinkedTrip, TripStatus, best_partner, link_records, trip_status
from ..plates import plate_search_keys, same_vehicle
from ..sources.base import Page, RecordQuery
from .paging import PageResult, check_first, resolve_window
from .streams import MergedStreams, PageBudget, Stream
from .trips import AnyRecord, Gateway, Trip, mutually_findable, plate_candidates, record_key, record_time

__all__ = ["ManifestQuery", "list_manifests", "vehicle_trips"]

T = TypeVar("T")
_HISTORY_PAGE = 100
_CHINA_PAGE = 100  # the GACC list maximum
_KAZAKHSTAN_PAGE = 500  # the KGD list maximum
_MIN_PAGE = 20


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


def is_anchor(record: AnyRecord) -> bool:
    """Whether the record is its trip's exporting side (the record a trip is listed by)."""
    if isinstance(record, ChinaManifestRecord):
        return record.direction is Direction.CN_TO_KZ
    return record.direction is Direction.KZ_TO_CN


def position_of(record: AnyRecord) -> Cursor:
    key = record_key(record)
    return Cursor(record_time(record).astimezone(dt.UTC), key.authority, key.key)


def record_streams(
    gw: Gateway,
    crossings: Sequence[CrossingPoint],
    query: RecordQuery,
    plates: dict[str, list[str]] | None,
    after: Cursor | None,
    china_size: int,
    kazakhstan_limit: int,
) -> list[Stream[AnyRecord]]:
    """Both authorities' records matching ``query``, one stream per post (one for all posts)."""
    every = len(crossings) == len(gw.crossings.all)
    streams: list[Stream[AnyRecord]] = []
    for crossing in [None] if every else crossings:
        cn_query = dataclasses.replace(
            query,
            post_code=crossing.china.code if crossing else None,
            plates=tuple(dict.fromkeys(plates[Authority.GACC.value])) if plates else (),
        )
        kz_query = dataclasses.replace(
            query,
            post_code=crossing.kazakhstan.code if crossing else None,
            plates=tuple(dict.fromkeys(plates[Authority.KGD.value])) if plates else (),
        )
        streams.append(Stream(Authority.GACC, _china_pages(gw, cn_query, china_size), china_size, position_of, after))
        kz_pages = _kazakhstan_pages(gw, kz_query, kazakhstan_limit)
        streams.append(Stream(Authority.KGD, kz_pages, kazakhstan_limit, position_of, after))
    return streams


def _china_pages(gw: Gateway, query: RecordQuery, size: int) -> Callable[[int], Awaitable[Page[AnyRecord]]]:
    async def fetch(number: int) -> Page[AnyRecord]:
        page = await gw.china.manifest_page(query, number + 1, size)
        return Page(items=page.items, total=page.total)

    return fetch


def _kazakhstan_pages(gw: Gateway, query: RecordQuery, limit: int) -> Callable[[int], Awaitable[Page[AnyRecord]]]:
    async def fetch(number: int) -> Page[AnyRecord]:
        page = await gw.kazakhstan.record_page(query, number * limit, limit)
        return Page(items=page.items, total=page.total)

    return fetch


Partner = tuple[AnyRecord | None, Link]


class PageLinker:
    """Finds the other side of each record of a stretch of the merged streams, in batch.

    At phase ≥ 1 by common id: first among the records this request has already read, then
    through the by-common-id loaders (one call per 50 ids per authority). At phase 0 by plate
    and time: one list call per authority with every plate of the stretch (repeated plate
    filters) and the linking window around the stretch.
    """

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self._by_common: dict[tuple[Authority, str], AnyRecord] = {}

    def _remember(self, record: AnyRecord) -> None:
        if record.common_manifest_id:
            self._by_common[(record_key(record).authority, record.common_manifest_id)] = record

    async def partners(self, records: Sequence[AnyRecord]) -> list[Partner | UpstreamError]:
        for record in records:
            self._remember(record)
        results: list[Partner | UpstreamError | None] = [None] * len(records)
        by_common: list[tuple[int, Awaitable[AnyRecord | None]]] = []
        by_plate: list[int] = []
        for index, record in enumerate(records):
            other = Authority.KGD if isinstance(record, ChinaManifestRecord) else Authority.GACC
            common_id = record.common_manifest_id
            if common_id and self.gw.phase_of(record) >= 1:
                known = self._by_common.get((other, common_id))
                if known is not None:
                    results[index] = self.gw_best(record, [known])
                elif other is Authority.GACC:
                    by_common.append((index, self.gw.lookups.china_by_common_id(common_id)))
                else:
                    by_common.append((index, self.gw.lookups.kazakhstan_by_common_id(common_id)))
            else:
                by_plate.append(index)

        async def common(index: int, lookup: Awaitable[AnyRecord | None]) -> None:
            try:
                found = await lookup
            except UpstreamError as exc:
                results[index] = exc
                return
            results[index] = self.gw_best(records[index], [found] if found is not None else [])

        async def plates(indexes: list[int]) -> None:
            group = [records[i] for i in indexes]
            try:
                found = await self._plate_links(group)
            except UpstreamError as exc:
                for i in indexes:
                    results[i] = exc
                return
            for i, record in zip(indexes, group, strict=True):
                results[i] = found.get(record_key(record), (None, Link.none()))

        await asyncio.gather(
            *(common(i, lookup) for i, lookup in by_common),
            *([plates(by_plate)] if by_plate else []),
        )
        final: list[Partner | UpstreamError] = []
        for result in results:
            assert result is not None
            final.append(result)
        return final

    async def _plate_links(self, group: Sequence[AnyRecord]) -> dict[RecordKey, Partner]:
        """Phase 0: both authorities' records of these vehicles (one list call each, every plate
        repeated in it) over two linking windows around the stretch.

        An exporting record's partner is its best candidate, exactly as ``manifest(id:)`` finds
        it. An importing record counts as taken only when some exporting record picks it: two
        windows are read so that every exporting candidate's own candidates are at hand, and
        the decision agrees with the one made when that exporting record is listed.
        """
        vehicles = [r.vehicle.plate for r in group]
        times = [record_time(r) for r in group]
        cn_found, kz_found = await asyncio.gather(
            plate_candidates(self.gw, Authority.GACC, vehicles, None, None, times, reach=2),
            plate_candidates(self.gw, Authority.KGD, vehicles, None, None, times, reach=2),
        )
        pool: dict[RecordKey, AnyRecord] = {record_key(r): r for r in (*cn_found, *kz_found, *group)}
        by_post: dict[tuple[str | None, Direction], list[AnyRecord]] = defaultdict(list)
        for record in pool.values():
            crossing = self.gw.crossing_of(record)
            by_post[(crossing.id if crossing else None, record.direction)].append(record)
        chosen: dict[RecordKey, Partner] = {}

        def pick(exporter: AnyRecord) -> Partner:
            key = record_key(exporter)
            if key not in chosen:
                crossing = self.gw.crossing_of(exporter)
                # Only what the exporting record's own plate query would return: the decision
                # must not depend on which record of the pair the stretch started from.
                candidates = [
                    c
                    for c in by_post[(crossing.id if crossing else None, exporter.direction)]
                    if mutually_findable(exporter, c)
                ]
                chosen[key] = self.gw_best(exporter, candidates)
            return chosen[key]

        def takers(importer: AnyRecord) -> list[tuple[AnyRecord, Link]]:
            """Exporting records whose best candidate is ``importer``, the best first."""
            crossing = self.gw.crossing_of(importer)
            found = [
                (exporter, link)
                for exporter in by_post[(crossing.id if crossing else None, importer.direction)]
                if is_anchor(exporter)
                for partner, link in [pick(exporter)]
                if partner is not None and record_key(partner) == record_key(importer)
            ]
            found.sort(key=lambda taken: (-taken[1].confidence, abs(record_time(taken[0]) - record_time(importer))))
            return found

        links: dict[RecordKey, Partner] = {}
        for record in group:
            if is_anchor(record):
                partner, link = pick(record)
                # Two exporting records wanting one importing record: the better one gets it.
                won = partner is not None and record_key(takers(partner)[0][0]) == record_key(record)
                links[record_key(record)] = (partner, link) if won else (None, Link.none())
            else:
                best = takers(record)
                links[record_key(record)] = best[0] if best else (None, Link.none())
        return links

    def gw_best(self, record: AnyRecord, candidates: Sequence[AnyRecord]) -> Partner:
        partner, link = best_partner(record, candidates, phase=self.gw.phase_of(record), window=self.gw.window)
        return partner, link


def _trip_of(gw: Gateway, record: AnyRecord, partner: Partner | UpstreamError) -> Trip:
    crossing = gw.crossing_of(record)
    if isinstance(partner, UpstreamError):
        return gw.remember(Trip.one_sided(record, crossing, partner))
    other, link = partner
    cn = record if isinstance(record, ChinaManifestRecord) else other
    kz = record if isinstance(record, KazakhstanPIRecord) else other
    assert cn is None or isinstance(cn, ChinaManifestRecord)
    assert kz is None or isinstance(kz, KazakhstanPIRecord)
    return gw.remember(Trip.linked(LinkedTrip(cn, kz, link), crossing))


async def list_manifests(
    gw: Gateway, query: ManifestQuery, first: int, after: str | None, now: Callable[[], dt.datetime]
) -> PageResult[Trip]:
    """One page of trips in anchor-time order, read lazily from both authorities.

    Each trip is listed once, at its exporting side's record; an importing side's record is
    listed only when it has no partner. Records are pulled from both authorities' streams from
    the cursor on, linked in batches, filtered, until ``first`` trips (plus one, to know whether
    more follow) are found, the streams end, or the per-request page cap is reached.
    """
    check_first(first)
    start, end = resolve_window(query.start, query.end, now)
    crossings = _selected(gw, query.crossing_ids)
    selected = {c.id for c in crossings}
    cursor = decode_cursor(after) if after is not None else None
    since = max(start, cursor.at) if cursor is not None else start
    plates = plate_search_keys(query.plate) if query.plate else None
    # Pages sized to the need: a stretch of n trips holds about n records of each authority.
    china_size = min(_CHINA_PAGE, max(_MIN_PAGE, 2 * (first + 1)))
    kazakhstan_limit = min(_KAZAKHSTAN_PAGE, max(_MIN_PAGE, 2 * (first + 1)))
    base = RecordQuery(direction=query.direction, start=since, end=end)
    streams = record_streams(gw, crossings, base, plates, cursor, china_size, kazakhstan_limit)
    merged = MergedStreams(streams, PageBudget())
    linker = PageLinker(gw)
    edges: list[tuple[Cursor, Trip]] = []
    scanned: Cursor | None = None
    exhausted = False
    while len(edges) <= first and not exhausted:
        batch: list[tuple[Cursor, AnyRecord]] = []
        anchors = 0
        while anchors < first + 1 - len(edges):
            taken = await merged.next()
            if taken is None:
                exhausted = True
                break
            position, record = taken
            crossing = gw.crossing_of(record)
            if crossing is None or crossing.id not in selected:
                continue
            batch.append(taken)
            anchors += is_anchor(record)
        if not batch:
            break
        scanned = batch[-1][0]
        partners = await linker.partners([record for _, record in batch])
        for (position, record), partner in zip(batch, partners, strict=True):
            if not is_anchor(record) and not isinstance(partner, UpstreamError) and partner[0] is not None:
                continue  # listed with its exporting side's record
            trip = _trip_of(gw, record, partner)
            if _matches(trip, query):
                edges.append((position, trip))
    failures = tuple(merged.errors)
    if len(failures) == len(merged.streams):
        raise failures[0]
    has_next = len(edges) > first or (not exhausted and merged.capped)
    resume = scanned if len(edges) <= first and has_next else None
    return PageResult(
        edges[:first], has_next, cursor is not None, start, end, failures=failures, resume=resume
    )


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
    """The vehicle's trips as either authority recorded them, newest first.

    One list call per authority with every spelling that authority may use (repeated plate
    filters); the newest page is read when the history is longer than one page.
    """
    check_first(first)
    keys = plate_search_keys(plate)
    cn_query = RecordQuery(plates=tuple(dict.fromkeys(keys[Authority.GACC.value])))
    kz_query = RecordQuery(plates=tuple(dict.fromkeys(keys[Authority.KGD.value])))

    async def cn() -> list[ChinaManifestRecord]:
        page = await gw.china.manifest_page(cn_query, 1, _HISTORY_PAGE)
        if page.total > len(page.items):  # ascending upstream order: the newest are on the last page
            page = await gw.china.manifest_page(cn_query, -(-page.total // _HISTORY_PAGE), _HISTORY_PAGE)
        return list(page.items)

    async def kz() -> list[KazakhstanPIRecord]:
        page = await gw.kazakhstan.record_page(kz_query, 0, _HISTORY_PAGE)
        if page.total > len(page.items):
            page = await gw.kazakhstan.record_page(kz_query, max(page.total - _HISTORY_PAGE, 0), _HISTORY_PAGE)
        return list(page.items)

    cn_result, kz_result = await asyncio.gather(_settle(cn()), _settle(kz()))
    if not isinstance(cn_result, UpstreamError):
        cn_result = [r for r in cn_result if same_vehicle(r.vehicle.plate, plate)]
    if not isinstance(kz_result, UpstreamError):
        kz_result = [r for r in kz_result if same_vehicle(r.vehicle.plate, plate)]
    trips = _trips(gw, cn_result, kz_result)
    trips.sort(key=lambda trip: (_anchor(trip)[0], _anchor(trip)[2]), reverse=True)
    return trips[:first]
