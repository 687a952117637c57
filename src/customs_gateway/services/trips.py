"""One truck trip as the schema sees it, and finding trips by any of their ids.

A :class:`Trip` holds the record it was found by and resolves the other side lazily, so that a
failing authority costs only the fields that need it. :class:`Gateway` is the per-request
use-case object: it owns the identity map (one :class:`Trip` per trip per request) and the
partner searches against each authority.

Round trips for ``manifest(id:)`` (each round asks both authorities concurrently):

- stable id at a phase ≥ 1 crossing: one round — both sides' records and inspections by common
  id, and the NBK rates of the days around the anchor date (one range call);
- stable id at phase 0: the anchor and its inspections by key, the partner by plate and time
  window (one list call), the rates; then the partner's inspections;
- common manifest id: one round, as for a stable id;
- batch / PI number: the record and its inspections, the rates; then the partner (by common id
  with its inspections, or by plate and window and then its inspections).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ..crossings import CrossingPoint, CrossingRegistry
from ..discrepancies import DiscrepancyThresholds
from ..domain import (
    ArrivalNotice,
    Authority,
    ChinaManifestRecord,
    Direction,
    Inspection,
    KazakhstanPIRecord,
    PlateId,
)
from ..errors import UpstreamError
from ..ids import (
    IdKind,
    ManifestKey,
    RecordKey,
    classify_manifest_id,
    decode_manifest_id,
    decode_manifest_key,
    encode_manifest_id,
)
from ..linking import Link, LinkedTrip, LinkMethod, LinkWindow, best_partner, exporting_authority, match
from ..plates import parse_plate, plate_search_keys
from ..recognition import RecognitionPolicy
from ..sources.base import PLATES_LIMIT, ChinaSource, KazakhstanSource, RecordQuery
from .lazy import Lazy
from .lookups import Lookups

__all__ = [
    "AnyRecord",
    "Gateway",
    "Trip",
    "manifest_key_of",
    "mutually_findable",
    "plate_candidates",
    "record_key",
    "record_time",
]

AnyRecord = ChinaManifestRecord | KazakhstanPIRecord
T = TypeVar("T")
_CHINA_PAGE = 100  # the GACC list maximum
_KAZAKHSTAN_PAGE = 500  # the KGD list maximum
_RATE_DAYS = dt.timedelta(days=2)  # rates prefetched around a trip's date (records use the day's rate)


def record_key(record: AnyRecord) -> RecordKey:
    if isinstance(record, ChinaManifestRecord):
        return RecordKey(Authority.GACC, record.batch_no)
    return RecordKey(Authority.KGD, record.pi_number)


def record_time(record: AnyRecord) -> dt.datetime:
    return record.declared_at if isinstance(record, ChinaManifestRecord) else record.registered_at


def _findable(record: AnyRecord) -> set[str]:
    """Canonical plates of the other authority's records that our plate query for ``record``'s
    vehicle can return (the spellings we send, understood)."""
    other = Authority.KGD if isinstance(record, ChinaManifestRecord) else Authority.GACC
    return {parse_plate(spelling).canonical for spelling in plate_search_keys(record.vehicle.plate)[other.value]}


def mutually_findable(a: AnyRecord, b: AnyRecord) -> bool:
    """Whether a plate query from either record finds the other.

    A Chinese truck from outside Xinjiang that KGD stores without its province (``A76748``)
    is found from the Chinese record (``冀A76748`` → ``A76748``) but not back (``A76748`` →
    ``新A76748``). Linking such a pair by plate only when both directions find each other keeps
    the answer independent of which record a list or a lookup starts from.
    """
    return b.vehicle.plate.canonical in _findable(a) and a.vehicle.plate.canonical in _findable(b)


def manifest_key_of(record: AnyRecord, crossing: CrossingPoint | None) -> ManifestKey:
    """The immutable facts of an anchor record that make up its manifest id."""
    return ManifestKey(
        anchor=record_key(record),
        crossing_id=crossing.id if crossing else None,
        direction=record.direction,
        common_manifest_id=record.common_manifest_id,
        plate=record.vehicle.plate.canonical,
        declared_at=record_time(record).astimezone(dt.UTC),
    )


class Trip:
    """Both sides of one trip; each side a :class:`Lazy` (ready, failed or still to look up).

    ``china_inspections`` / ``kazakhstan_inspections`` are set when the trip was resolved with
    its inspections in the same round (by common id); otherwise inspections come through the
    per-request loaders by record key. ``arrival`` likewise: KGD's arrival notification of a
    CN→KZ trip, asked for by common id in that same round.
    """

    def __init__(
        self,
        *,
        known: RecordKey,
        direction: Direction,
        crossing: CrossingPoint | None,
        china: Lazy[ChinaManifestRecord | None],
        kazakhstan: Lazy[KazakhstanPIRecord | None],
        link: Lazy[Link],
        china_inspections: Lazy[list[Inspection]] | None = None,
        kazakhstan_inspections: Lazy[list[Inspection]] | None = None,
    ) -> None:
        self.known = known
        self.direction = direction
        self.crossing = crossing
        self.china = china
        self.kazakhstan = kazakhstan
        self.link = link
        self.china_inspections = china_inspections
        self.kazakhstan_inspections = kazakhstan_inspections
        self.arrival: Lazy[ArrivalNotice | None] | None = None

    @classmethod
    def linked(cls, trip: LinkedTrip, crossing: CrossingPoint | None) -> Trip:
        return cls(
            known=RecordKey(trip.anchor_authority, trip.anchor_key),
            direction=trip.direction,
            crossing=crossing,
            china=Lazy.ready(trip.china),
            kazakhstan=Lazy.ready(trip.kazakhstan),
            link=Lazy.ready(trip.link),
        )

    @classmethod
    def one_sided(cls, record: AnyRecord, crossing: CrossingPoint | None, other_side_error: BaseException) -> Trip:
        """A record whose other side could not be asked: those fields carry ``other_side_error``."""
        if isinstance(record, ChinaManifestRecord):
            return cls(
                known=RecordKey(Authority.GACC, record.batch_no),
                direction=record.direction,
                crossing=crossing,
                china=Lazy.ready(record),
                kazakhstan=Lazy.failed(other_side_error),
                link=Lazy.failed(other_side_error),
            )
        return cls(
            known=RecordKey(Authority.KGD, record.pi_number),
            direction=record.direction,
            crossing=crossing,
            china=Lazy.failed(other_side_error),
            kazakhstan=Lazy.ready(record),
            link=Lazy.failed(other_side_error),
        )

    async def arrival_notice(self, kz: KazakhstanPIRecord, lookups: Lookups) -> ArrivalNotice | None:
        """KGD's arrival notification of this trip's Kazakh record: the one asked for by common id
        in the round that found the trip, else by PI number."""
        if self.arrival is not None:
            return await self.arrival.get()
        return await lookups.arrival(kz.pi_number)

    def inspections_lazy(self, authority: Authority) -> Lazy[list[Inspection]] | None:
        return self.china_inspections if authority is Authority.GACC else self.kazakhstan_inspections

    async def stable_id(self) -> str:
        """Anchored on the exporting side's record when there is one (else the record we have)."""
        return encode_manifest_id(manifest_key_of(await self.exporting_record(), self.crossing))

    async def sides(self) -> tuple[ChinaManifestRecord | None, KazakhstanPIRecord | None]:
        """Both records, asked of both authorities concurrently; raises the first side's failure."""
        cn, kz = await asyncio.gather(self.china.get(), self.kazakhstan.get())
        return cn, kz

    async def exporting_record(self) -> AnyRecord:
        """The exporting side's record if it can be had, else the record the trip was found by."""
        exporter = exporting_authority(self.direction)
        first, second = (self.china, self.kazakhstan) if exporter is Authority.GACC else (self.kazakhstan, self.china)
        for side in (first, second):
            try:
                record = await side.get()
            except UpstreamError:
                continue
            if record is not None:
                return record
        raise RuntimeError("a trip always has the record it was found by")


class Gateway:
    """Per-request use-cases over both authorities."""

    def __init__(
        self,
        *,
        china: ChinaSource,
        kazakhstan: KazakhstanSource,
        lookups: Lookups,
        crossings: CrossingRegistry,
        window: LinkWindow,
        recognition: RecognitionPolicy | None = None,
        thresholds: DiscrepancyThresholds | None = None,
    ) -> None:
        self.china = china
        self.kazakhstan = kazakhstan
        self.lookups = lookups
        self.crossings = crossings
        self.window = window
        self.recognition = recognition or RecognitionPolicy()
        self.thresholds = thresholds or DiscrepancyThresholds()
        self._trips: dict[RecordKey, Trip] = {}

    # -- identity map ------------------------------------------------------------------------

    def remember(self, trip: Trip) -> Trip:
        """The request's one Trip for this trip (an earlier one wins), indexed by both records."""
        existing = self._trips.get(trip.known)
        if existing is not None:
            return existing
        self._trips[trip.known] = trip
        for record in (trip.china.peek(), trip.kazakhstan.peek()):
            if record is not None:
                self._index(trip, record)
        return trip

    def _index(self, trip: Trip, record: AnyRecord) -> None:
        self._trips.setdefault(record_key(record), trip)
        if isinstance(record, ChinaManifestRecord):
            self.lookups.prime_china(record)
        else:
            self.lookups.prime_kazakhstan(record)

    def known_trip(self, key: RecordKey) -> Trip | None:
        return self._trips.get(key)

    def crossing_of(self, record: AnyRecord) -> CrossingPoint | None:
        if isinstance(record, ChinaManifestRecord):
            return self.crossings.by_port(record.port_code)
        return self.crossings.by_checkpoint(record.checkpoint_code)

    def phase_of(self, record: AnyRecord) -> int:
        crossing = self.crossing_of(record)
        return crossing.phase if crossing else 0

    def trip_with_partner(
        self, record: AnyRecord, partner: Lazy[tuple[AnyRecord | None, Link]], **inspections: Lazy[list[Inspection]]
    ) -> Trip:
        """The trip of ``record`` whose other side is whatever ``partner`` resolves to."""
        if (existing := self._trips.get(record_key(record))) is not None:
            return existing

        async def link() -> Link:
            return (await partner.get())[1]

        async def china() -> ChinaManifestRecord | None:
            found = (await partner.get())[0]
            return found if isinstance(found, ChinaManifestRecord) else None

        async def kazakhstan() -> KazakhstanPIRecord | None:
            found = (await partner.get())[0]
            return found if isinstance(found, KazakhstanPIRecord) else None

        crossing = self.crossing_of(record)
        if isinstance(record, ChinaManifestRecord):
            trip = Trip(
                known=record_key(record), direction=record.direction, crossing=crossing,
                china=Lazy.ready(record), kazakhstan=Lazy(kazakhstan), link=Lazy(link), **inspections,
            )  # fmt: skip
        else:
            trip = Trip(
                known=record_key(record), direction=record.direction, crossing=crossing,
                china=Lazy(china), kazakhstan=Lazy.ready(record), link=Lazy(link), **inspections,
            )  # fmt: skip
        return self.remember(trip)

    def trip_from(self, record: AnyRecord) -> Trip:
        """The trip of a record, its other side looked up on demand."""
        return self.trip_with_partner(record, Lazy(lambda: self.find_partner(record)))

    # -- finding -----------------------------------------------------------------------------

    async def manifest(self, any_id: str, *, with_arrival: bool = False) -> Trip | None:
        """The trip named by a stable id, a batch number, a PI number or a common manifest id.

        ``with_arrival``: the caller will want KGD's arrival notification (the timeline): for a
        CN→KZ trip at a phase ≥ 1 crossing it is then asked for by common id in the same round
        as the records, instead of by PI number in a round of its own.
        """
        kind, value = classify_manifest_id(any_id)
        if kind is IdKind.COMMON_MANIFEST_ID:
            return await self.by_common_id(value, rates_day=_day_in_common_id(value))
        if kind is IdKind.STABLE:
            full = decode_manifest_key(value)
            if full is not None:
                return await self._by_manifest_key(full, with_arrival=with_arrival)
            key = decode_manifest_id(value)
            assert key is not None  # classify_manifest_id checked it decodes
        elif kind is IdKind.CHINA_BATCH_NO:
            key = RecordKey(Authority.GACC, value)
        else:
            key = RecordKey(Authority.KGD, value)
        return await self._by_record_key_eager(key, with_arrival=with_arrival)

    async def by_record(self, key: RecordKey) -> Trip | None:
        """The trip of a record (through the loaders); its other side on demand."""
        if (existing := self._trips.get(key)) is not None:
            return existing
        record = await self._record(key)
        return None if record is None else self.trip_from(record)

    async def _record(self, key: RecordKey) -> AnyRecord | None:
        if key.authority is Authority.GACC:
            return await self.lookups.china_manifest(key.key)
        return await self.lookups.kazakhstan_record(key.key)

    def _inspections_by_key(self, key: RecordKey) -> Lazy[list[Inspection]]:
        if key.authority is Authority.GACC:
            return Lazy(lambda: self.lookups.china_inspections(key.key)).start()
        return Lazy(lambda: self.lookups.kazakhstan_controls(key.key)).start()

    def _prefetch_rates(self, day: dt.date | None) -> None:
        if day is not None:
            self.lookups.prefetch_rates(day - _RATE_DAYS, day + _RATE_DAYS)

    async def _by_record_key_eager(self, key: RecordKey, *, with_arrival: bool = False) -> Trip | None:
        """A batch / PI number: round 1 the record, its inspections and the rates; then the partner."""
        if (existing := self._trips.get(key)) is not None:
            return existing
        self._prefetch_rates(_day_in_key(key))
        own_inspections = self._inspections_by_key(key)
        record = await self._record(key)
        if record is None:
            return None
        partner: Lazy[tuple[AnyRecord | None, Link]] = Lazy(lambda: self.find_partner(record)).start()
        other_inspections: Lazy[list[Inspection]] = Lazy(lambda: self._partner_inspections(record, partner))
        common_id = record.common_manifest_id
        by_common = common_id is not None and self.phase_of(record) >= 1
        if by_common:
            other_inspections.start()  # by common id: in the same round as the partner itself
        if isinstance(record, ChinaManifestRecord):
            trip = self.trip_with_partner(
                record, partner, china_inspections=own_inspections, kazakhstan_inspections=other_inspections
            )
        else:
            trip = self.trip_with_partner(
                record, partner, kazakhstan_inspections=own_inspections, china_inspections=other_inspections
            )
        if with_arrival and by_common and common_id and record.direction is Direction.CN_TO_KZ and trip.arrival is None:
            trip.arrival = Lazy(lambda: self.lookups.arrival_by_common_id(common_id)).start()  # that round too
        return trip

    async def _partner_inspections(
        self, record: AnyRecord, partner: Lazy[tuple[AnyRecord | None, Link]]
    ) -> list[Inspection]:
        common_id = record.common_manifest_id
        if common_id and self.phase_of(record) >= 1:
            if isinstance(record, ChinaManifestRecord):
                return await self.lookups.kazakhstan_controls_by_common_id(common_id)
            return await self.lookups.china_inspections_by_common_id(common_id)
        found, _ = await partner.get()
        if isinstance(found, ChinaManifestRecord):
            return await self.lookups.china_inspections(found.batch_no)
        if isinstance(found, KazakhstanPIRecord):
            return await self.lookups.kazakhstan_controls(found.pi_number)
        return []

    async def _by_manifest_key(self, key: ManifestKey, *, with_arrival: bool = False) -> Trip | None:
        """A stable id: everything in one concurrent round where a common id allows it."""
        if (existing := self._trips.get(key.anchor)) is not None:
            return existing
        crossing = self.crossings.by_id(key.crossing_id) if key.crossing_id else None
        if key.common_manifest_id and crossing is not None and crossing.phase >= 1:
            return await self.by_common_id(
                key.common_manifest_id,
                anchor=key.anchor,
                expected=key.direction if with_arrival else None,
                rates_day=key.declared_at.date(),
            )
        self._prefetch_rates(key.declared_at.date())
        own_inspections = self._inspections_by_key(key.anchor)
        anchor: Lazy[AnyRecord | None] = Lazy(lambda: self._record(key.anchor)).start()
        plate = parse_plate(key.plate) if key.plate else None
        other = Authority.KGD if key.anchor.authority is Authority.GACC else Authority.GACC
        candidates: Lazy[list[AnyRecord]] = Lazy(
            lambda: self._plate_candidates(other, [plate] if plate else [], crossing, key.direction, [key.declared_at])
        ).start()

        async def find() -> tuple[AnyRecord | None, Link]:
            record, found = await asyncio.gather(anchor.get(), candidates.get())
            assert record is not None  # only asked for after the anchor was found
            return self._best(record, [c for c in found if mutually_findable(record, c)])

        record = await anchor.get()
        if record is None:
            return None
        partner: Lazy[tuple[AnyRecord | None, Link]] = Lazy(find).start()
        other_inspections: Lazy[list[Inspection]] = Lazy(lambda: self._partner_inspections(record, partner))
        if isinstance(record, ChinaManifestRecord):
            return self.trip_with_partner(
                record, partner, china_inspections=own_inspections, kazakhstan_inspections=other_inspections
            )
        return self.trip_with_partner(
            record, partner, kazakhstan_inspections=own_inspections, china_inspections=other_inspections
        )

    async def by_common_id(
        self,
        common_id: str,
        anchor: RecordKey | None = None,
        expected: Direction | None = None,
        rates_day: dt.date | None = None,
    ) -> Trip | None:
        """Both authorities asked at once for records and inspections (and, for a CN→KZ trip,
        KGD's arrival notification): the common id needs neither side's record first.
        ``anchor``: the record a stable id named (its trip is then found under that key even
        before it is resolved); ``expected``: the trip's direction when the id says it (a stable id) and the caller
        wants the arrival; ``rates_day``: the trip's date when known, for the NBK rates around it
        (asked in this round too, after KGD's record lookups: see below)."""
        lookups = self.lookups
        # The calls go out one after the other (each costs a few hundred µs of CPU to send) in
        # the order they are started: KGD's first. KGD answers later (an XML exchange behind an
        # OAuth token; and it gets up to four calls of the round to China's two), so a call to it
        # sent last would finish the round last: the round lasts as long as its slowest call
        # *plus* the time it waited to be sent.
        kz: Lazy[KazakhstanPIRecord | None] = Lazy(lambda: lookups.kazakhstan_by_common_id(common_id)).start()
        kz_inspections: Lazy[list[Inspection]] = Lazy(
            lambda: lookups.kazakhstan_controls_by_common_id(common_id)
        ).start()
        arrival: Lazy[ArrivalNotice | None] | None = None
        if expected is Direction.CN_TO_KZ:  # KGD notifies arrivals into Kazakhstan only
            arrival = Lazy(lambda: lookups.arrival_by_common_id(common_id)).start()
        # The rates after KGD's records and controls: KGD answers a round's calls one after the
        # other, and the record is what most fields wait for; only money in USD waits for rates.
        self._prefetch_rates(rates_day)
        cn: Lazy[ChinaManifestRecord | None] = Lazy(lambda: lookups.china_by_common_id(common_id)).start()
        cn_inspections: Lazy[list[Inspection]] = Lazy(lambda: lookups.china_inspections_by_common_id(common_id)).start()
        cn_result, kz_result = await asyncio.gather(_settle(cn.get()), _settle(kz.get()))
        if isinstance(cn_result, UpstreamError) and isinstance(kz_result, UpstreamError):
            raise cn_result
        present = [r for r in (cn_result, kz_result) if isinstance(r, ChinaManifestRecord | KazakhstanPIRecord)]
        if not present:
            return None
        record = present[0]
        known = anchor if anchor is not None and any(record_key(r) == anchor for r in present) else None
        link: Lazy[Link]
        if isinstance(cn_result, UpstreamError):
            link = Lazy.failed(cn_result)
        elif isinstance(kz_result, UpstreamError):
            link = Lazy.failed(kz_result)
        else:
            link = Lazy.ready(self._common_link(cn_result, kz_result))
        direction = record.direction
        trip = Trip(
            known=known or _anchor_of(cn_result, kz_result, direction),
            direction=direction,
            crossing=self.crossing_of(record),
            china=cn,
            kazakhstan=kz,
            link=link,
            china_inspections=cn_inspections,
            kazakhstan_inspections=kz_inspections,
        )
        if direction is Direction.CN_TO_KZ:
            trip.arrival = arrival
        return self.remember(trip)

    def _common_link(self, cn: ChinaManifestRecord | None, kz: KazakhstanPIRecord | None) -> Link:
        if cn is None or kz is None:
            return Link.none()
        found = match(cn, kz, phase=max(self.phase_of(cn), 1), window=self.window)
        return found or Link(LinkMethod.COMMON_MANIFEST_ID, 1.0)

    def _best(self, record: AnyRecord, candidates: Sequence[AnyRecord]) -> tuple[AnyRecord | None, Link]:
        partner, link = best_partner(record, candidates, phase=self.phase_of(record), window=self.window)
        if isinstance(partner, ChinaManifestRecord):
            self.lookups.prime_china(partner)
        elif isinstance(partner, KazakhstanPIRecord):
            self.lookups.prime_kazakhstan(partner)
        return partner, link

    async def find_partner(self, record: AnyRecord) -> tuple[AnyRecord | None, Link]:
        """The other authority's record of the same trip: by common id at phase ≥ 1, else by
        plate (every spelling that authority may have used) within the linking window."""
        if record.common_manifest_id and self.phase_of(record) >= 1:
            other: AnyRecord | None
            if isinstance(record, ChinaManifestRecord):
                other = await self.lookups.kazakhstan_by_common_id(record.common_manifest_id)
            else:
                other = await self.lookups.china_by_common_id(record.common_manifest_id)
            return self._best(record, [other] if other is not None else [])
        other_authority = Authority.KGD if isinstance(record, ChinaManifestRecord) else Authority.GACC
        candidates = await self._plate_candidates(
            other_authority, [record.vehicle.plate], self.crossing_of(record), record.direction, [record_time(record)]
        )
        return self._best(record, [c for c in candidates if mutually_findable(record, c)])

    async def _plate_candidates(
        self,
        authority: Authority,
        plates: Sequence[PlateId],
        crossing: CrossingPoint | None,
        direction: Direction,
        times: Sequence[dt.datetime],
    ) -> list[AnyRecord]:
        """``authority``'s records of these vehicles around these times: one list call per 50
        spellings (the linking window on both sides of the earliest and latest time)."""
        return await plate_candidates(self, authority, plates, crossing, direction, times)


async def plate_candidates(
    gw: Gateway,
    authority: Authority,
    plates: Sequence[PlateId],
    crossing: CrossingPoint | None,
    direction: Direction | None,
    times: Sequence[dt.datetime],
    reach: int = 1,
) -> list[AnyRecord]:
    """``authority``'s records of these vehicles within ``reach`` linking windows of ``times``.

    Every spelling that authority may use goes into one query (at most 50 per call, calls run
    concurrently); the window spans the earliest time minus the larger linking bound to the
    latest plus it, so it holds every candidate of every record in one stretch of a list.
    """
    spellings = list(dict.fromkeys(s for plate in plates for s in plate_search_keys(plate)[authority.value]))
    if not spellings or not times:
        return []
    slack = max(gw.window.before, gw.window.after) * reach
    start, end = min(times) - slack, max(times) + slack + dt.timedelta(seconds=1)
    post = None
    if crossing is not None:
        post = crossing.china.code if authority is Authority.GACC else crossing.kazakhstan.code
    chunks = [tuple(spellings[i : i + PLATES_LIMIT]) for i in range(0, len(spellings), PLATES_LIMIT)]
    queries = [RecordQuery(post_code=post, direction=direction, start=start, end=end, plates=c) for c in chunks]
    fetch: Callable[[RecordQuery], Awaitable[list[AnyRecord]]]
    if authority is Authority.GACC:

        async def fetch(query: RecordQuery) -> list[AnyRecord]:
            return [r async for r in gw.china.iter_manifests(query, _CHINA_PAGE)]

    else:

        async def fetch(query: RecordQuery) -> list[AnyRecord]:
            return [r async for r in gw.kazakhstan.iter_records(query, _KAZAKHSTAN_PAGE)]

    results = await asyncio.gather(*(fetch(q) for q in queries))
    return [record for result in results for record in result]


async def _settle(awaitable: Awaitable[T]) -> T | UpstreamError:
    try:
        return await awaitable
    except UpstreamError as exc:
        return exc


def _anchor_of(cn: object, kz: object, direction: Direction) -> RecordKey:
    exporter = exporting_authority(direction)
    order = (cn, kz) if exporter is Authority.GACC else (kz, cn)
    for record in order:
        if isinstance(record, ChinaManifestRecord | KazakhstanPIRecord):
            return record_key(record)
    raise RuntimeError("a trip needs at least one record")


def _day_in_common_id(common_id: str) -> dt.date | None:
    """The date written into a common manifest id (``CKM-KHORGOS-20251128-00123``), if any: only
    used to ask for the rates early, so a wrong guess costs a later rate lookup, not an answer."""
    parts = common_id.split("-")
    try:
        return dt.datetime.strptime(parts[2], "%Y%m%d").date() if len(parts) == 4 else None
    except ValueError:
        return None


def _day_in_key(key: RecordKey) -> dt.date | None:
    """The local date written into a batch number (yyyyMMdd) or PI number (ddmmyy), if any."""
    try:
        if key.authority is Authority.GACC and len(key.key) >= 13:
            return dt.datetime.strptime(key.key[5:13], "%Y%m%d").date()
        if key.authority is Authority.KGD and len(key.key) >= 15:
            return dt.datetime.strptime(key.key[9:15], "%d%m%y").date()
    except ValueError:
        return None
    return None
