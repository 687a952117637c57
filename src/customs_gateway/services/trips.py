"""One truck trip as the schema sees it, and finding trips by any of their ids.

A :class:`Trip` holds the record it was found by and resolves the other side lazily, so that a
failing authority costs only the fields that need it. :class:`Gateway` is the per-request
use-case object: it owns the identity map (one :class:`Trip` per trip per request) and the
partner searches against each authority.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence

from ..crossings import CrossingPoint, CrossingRegistry
from ..domain import Authority, ChinaManifestRecord, Direction, KazakhstanPIRecord
from ..errors import UpstreamError
from ..ids import IdKind, RecordKey, classify_manifest_id, decode_manifest_id, encode_manifest_id
from ..linking import Link, LinkedTrip, LinkMethod, LinkWindow, best_partner, exporting_authority
from ..plates import plate_search_keys
from ..sources.base import ChinaSource, KazakhstanSource, RecordQuery
from .lazy import Lazy
from .lookups import Lookups

__all__ = ["Gateway", "Trip"]

_PARTNER_PAGE = 100  # candidates per partner query: one truck rarely crosses more often in 3 days


class Trip:
    """Both sides of one trip; each side a :class:`Lazy` (ready, failed or still to look up)."""

    def __init__(
        self,
        *,
        known: RecordKey,
        direction: Direction,
        crossing: CrossingPoint | None,
        china: Lazy[ChinaManifestRecord | None],
        kazakhstan: Lazy[KazakhstanPIRecord | None],
        link: Lazy[Link],
    ) -> None:
        self.known = known
        self.direction = direction
        self.crossing = crossing
        self.china = china
        self.kazakhstan = kazakhstan
        self.link = link

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
    def one_sided(
        cls,
        record: ChinaManifestRecord | KazakhstanPIRecord,
        crossing: CrossingPoint | None,
        other_side_error: BaseException,
    ) -> Trip:
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

    async def stable_id(self) -> str:
        """The exporting side's record when there is one; the known record's when that side fails."""
        exporter = exporting_authority(self.direction)
        if self.known.authority is exporter:
            return encode_manifest_id(self.known)
        try:
            if exporter is Authority.GACC:
                cn = await self.china.get()
                anchor = RecordKey(Authority.GACC, cn.batch_no) if cn else self.known
            else:
                kz = await self.kazakhstan.get()
                anchor = RecordKey(Authority.KGD, kz.pi_number) if kz else self.known
        except UpstreamError:
            anchor = self.known  # still resolves: it decodes to the record we do have
        return encode_manifest_id(anchor)

    async def sides(self) -> tuple[ChinaManifestRecord | None, KazakhstanPIRecord | None]:
        """Both records, asked of both authorities concurrently; raises the first side's failure."""
        cn, kz = await asyncio.gather(self.china.get(), self.kazakhstan.get())
        return cn, kz

    async def exporting_record(self) -> ChinaManifestRecord | KazakhstanPIRecord:
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
    ) -> None:
        self.china = china
        self.kazakhstan = kazakhstan
        self.lookups = lookups
        self.crossings = crossings
        self.window = window
        self._trips: dict[RecordKey, Trip] = {}

    # -- identity map ------------------------------------------------------------------------

    def remember(self, trip: Trip) -> Trip:
        """The request's one Trip for this trip (an earlier one wins), indexed by both records."""
        existing = self._trips.get(trip.known)
        if existing is not None:
            return existing
        self._trips[trip.known] = trip
        for lazy, authority in ((trip.china, Authority.GACC), (trip.kazakhstan, Authority.KGD)):
            if lazy.known:
                self._index_side(trip, authority)
        return trip

    def _index_side(self, trip: Trip, authority: Authority) -> None:
        record = trip.china.peek() if authority is Authority.GACC else trip.kazakhstan.peek()
        if isinstance(record, ChinaManifestRecord):
            self._trips.setdefault(RecordKey(Authority.GACC, record.batch_no), trip)
            self.lookups.prime_china(record)
        elif isinstance(record, KazakhstanPIRecord):
            self._trips.setdefault(RecordKey(Authority.KGD, record.pi_number), trip)
            self.lookups.prime_kazakhstan(record)

    def crossing_of(self, record: ChinaManifestRecord | KazakhstanPIRecord) -> CrossingPoint | None:
        if isinstance(record, ChinaManifestRecord):
            return self.crossings.by_port(record.port_code)
        return self.crossings.by_checkpoint(record.checkpoint_code)

    def trip_from(self, record: ChinaManifestRecord | KazakhstanPIRecord) -> Trip:
        """The trip of a record, its other side looked up on demand."""
        key = (
            RecordKey(Authority.GACC, record.batch_no)
            if isinstance(record, ChinaManifestRecord)
            else RecordKey(Authority.KGD, record.pi_number)
        )
        if (existing := self._trips.get(key)) is not None:
            return existing
        partner: Lazy[tuple[ChinaManifestRecord | KazakhstanPIRecord | None, Link]] = Lazy(
            lambda: self.find_partner(record)
        )

        async def other() -> ChinaManifestRecord | KazakhstanPIRecord | None:
            found, _ = await partner.get()
            return found

        async def link() -> Link:
            _, found_link = await partner.get()
            return found_link

        async def china() -> ChinaManifestRecord | None:
            found = await other()
            return found if isinstance(found, ChinaManifestRecord) else None

        async def kazakhstan() -> KazakhstanPIRecord | None:
            found = await other()
            return found if isinstance(found, KazakhstanPIRecord) else None

        if isinstance(record, ChinaManifestRecord):
            trip = Trip(
                known=key, direction=record.direction, crossing=self.crossing_of(record),
                china=Lazy.ready(record), kazakhstan=Lazy(kazakhstan), link=Lazy(link),
            )  # fmt: skip
        else:
            trip = Trip(
                known=key, direction=record.direction, crossing=self.crossing_of(record),
                china=Lazy(china), kazakhstan=Lazy.ready(record), link=Lazy(link),
            )  # fmt: skip
        return self.remember(trip)

    # -- finding -----------------------------------------------------------------------------

    async def manifest(self, any_id: str) -> Trip | None:
        """The trip named by a stable id, a batch number, a PI number or a common manifest id."""
        kind, value = classify_manifest_id(any_id)
        if kind is IdKind.COMMON_MANIFEST_ID:
            return await self._by_common_id(value)
        if kind is IdKind.STABLE:
            key = decode_manifest_id(value)
            assert key is not None  # classify_manifest_id checked it decodes
        elif kind is IdKind.CHINA_BATCH_NO:
            key = RecordKey(Authority.GACC, value)
        else:
            key = RecordKey(Authority.KGD, value)
        return await self.by_record(key)

    async def by_record(self, key: RecordKey) -> Trip | None:
        if (existing := self._trips.get(key)) is not None:
            return existing
        record: ChinaManifestRecord | KazakhstanPIRecord | None
        if key.authority is Authority.GACC:
            record = await self.lookups.china_manifest(key.key)
        else:
            record = await self.lookups.kazakhstan_record(key.key)
        return None if record is None else self.trip_from(record)

    async def _by_common_id(self, common_id: str) -> Trip | None:
        """Both authorities asked at once: the common id needs neither side's record first."""
        query = RecordQuery(common_manifest_id=common_id)
        cn_result, kz_result = await asyncio.gather(
            self.china.manifest_page(query, 1, 10),
            self.kazakhstan.record_page(query, 0, 10),
            return_exceptions=True,
        )
        for result in (cn_result, kz_result):
            if isinstance(result, BaseException) and not isinstance(result, UpstreamError):
                raise result
        cn = (
            next((r for r in cn_result.items if r.common_manifest_id == common_id), None)
            if not isinstance(cn_result, BaseException)
            else None
        )
        kz = (
            next((r for r in kz_result.items if r.common_manifest_id == common_id), None)
            if not isinstance(kz_result, BaseException)
            else None
        )
        if isinstance(cn_result, BaseException) and isinstance(kz_result, BaseException):
            raise cn_result
        if isinstance(cn_result, BaseException):
            return None if kz is None else self.remember(Trip.one_sided(kz, self.crossing_of(kz), cn_result))
        if isinstance(kz_result, BaseException):
            return None if cn is None else self.remember(Trip.one_sided(cn, self.crossing_of(cn), kz_result))
        if cn is None and kz is None:
            return None
        link = Link(LinkMethod.COMMON_MANIFEST_ID, 1.0) if cn and kz else Link.none()
        linked = LinkedTrip(cn, kz, link)
        record = cn or kz
        assert record is not None
        return self.remember(Trip.linked(linked, self.crossing_of(record)))

    async def find_partner(
        self, record: ChinaManifestRecord | KazakhstanPIRecord
    ) -> tuple[ChinaManifestRecord | KazakhstanPIRecord | None, Link]:
        """The other authority's record of the same trip: by common id at phase ≥ 1, else by
        plate (every spelling that authority may have used) within the linking window."""
        crossing = self.crossing_of(record)
        phase = crossing.phase if crossing else 0
        queries = self._partner_queries(record, crossing)
        candidates: list[ChinaManifestRecord | KazakhstanPIRecord] = []
        if isinstance(record, ChinaManifestRecord):
            kz_pages = await asyncio.gather(*(self.kazakhstan.record_page(q, 0, _PARTNER_PAGE) for q in queries))
            candidates.extend(item for page in kz_pages for item in page.items)
        else:
            cn_pages = await asyncio.gather(*(self.china.manifest_page(q, 1, _PARTNER_PAGE) for q in queries))
            candidates.extend(item for page in cn_pages for item in page.items)
        partner, link = best_partner(record, candidates, phase=phase, window=self.window)
        if isinstance(partner, ChinaManifestRecord):
            self.lookups.prime_china(partner)
        elif isinstance(partner, KazakhstanPIRecord):
            self.lookups.prime_kazakhstan(partner)
        return partner, link

    def _partner_queries(
        self, record: ChinaManifestRecord | KazakhstanPIRecord, crossing: CrossingPoint | None
    ) -> Sequence[RecordQuery]:
        to_china = isinstance(record, KazakhstanPIRecord)
        if crossing is not None and crossing.has_common_manifest and record.common_manifest_id:
            return [RecordQuery(common_manifest_id=record.common_manifest_id)]
        at = record.registered_at if isinstance(record, KazakhstanPIRecord) else record.declared_at
        exporting = exporting_authority(record.direction)
        record_is_exporter = (exporting is Authority.KGD) == to_china
        # The window is defined on (importing time − exporting time) ∈ [−before, +after].
        if record_is_exporter:
            start, end = at - self.window.before, at + self.window.after
        else:
            start, end = at - self.window.after, at + self.window.before
        post = None
        if crossing is not None:
            post = crossing.china.code if to_china else crossing.kazakhstan.code
        spellings = plate_search_keys(record.vehicle.plate)[Authority.GACC.value if to_china else Authority.KGD.value]
        base = RecordQuery(post_code=post, direction=record.direction, start=start, end=end + dt.timedelta(seconds=1))
        return [dataclasses.replace(base, plates=tuple(dict.fromkeys(spellings)))]
