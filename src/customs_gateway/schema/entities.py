"""The federation entities: Manifest (one trip), Vehicle and Inspection, keyed by stable ids.

Fields that need one authority resolve on their own, so when that authority fails only they
come back null with an error (``extensions.code``, ``extensions.authority``); fields that join
both sides need both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import strawberry

from ..domain import (
    Authority,
    ChinaManifestRecord,
    Direction,
    GoodsLine,
    InspectionKind,
    InspectionOutcome,
    KazakhstanPIRecord,
    PlateId,
    RiskChannel,
)
from ..domain import Inspection as InspectionRecord
from ..errors import InvalidInput, UpstreamError
from ..ids import InspectionKey, RecordKey, decode_inspection_id, encode_inspection_id, encode_manifest_id
from ..linking import BorderEventKind, Link, LinkMethod, TripStatus, border_events, exporting_authority, trip_status
from ..plates import parse_user_plate
from ..security.rules import Subject
from ..services import (
    InspectionItem,
    Lazy,
    Trip,
    inspection_by_key,
    trip_inspections,
    trip_inspections_now,
    vehicle_trips,
)
from ..services.trips import AnyRecord, manifest_key_of
from .access import filter_trips, require_inspection_visible, require_trip_visible
from .common import CrossingPoint, Driver, Instant, Party, Plate, instant
from .context import Info
from .fields import MaybeAwaitable, now_or_later, resolver
from .intelligence import Discrepancy, LinkEvidence, manifest_discrepancies, repeated_inspection_avoided
from .records import ChinaManifest, DeclaredGoods, KazakhstanPreliminaryInformation, Totals, record_owner

__all__ = [
    "BorderEvent",
    "GoodsItem",
    "Inspection",
    "Manifest",
    "ManifestLink",
    "ManifestTotals",
    "RecognizedInspection",
    "Vehicle",
]

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="A recognized inspection: the other side's inspection this one accepted.")
class RecognizedInspection:
    authority: Authority = strawberry.field(description="The authority that did the recognized inspection.")
    inspection_id: str = strawberry.field(description="That authority's own inspection number.")


@strawberry.federation.type(keys=["id"], description="An inspection or control by one authority.")
class Inspection:
    item: strawberry.Private[InspectionItem]

    @staticmethod
    def of(item: InspectionItem) -> Inspection:
        return Inspection(item=item)

    @property
    def _record(self) -> InspectionRecord:
        return self.item.inspection

    def rule_subject(self) -> Subject:
        return Subject(authority=self._record.authority)

    @resolver(description="Stable id of the inspection.")
    def id(self) -> strawberry.ID:
        r = self._record
        return strawberry.ID(encode_inspection_id(InspectionKey(r.authority, r.record_id, r.id)))

    @resolver(description="The authority that inspected.")
    def authority(self) -> Authority:
        return self._record.authority

    @resolver(description="That authority's own inspection / control number.")
    def number(self) -> str:
        return self._record.id

    @resolver(description="The batch number / PI number of the inspected record.")
    def record_id(self) -> str:
        return self._record.record_id

    @resolver(description="Form of inspection in the common vocabulary.")
    def kind(self) -> InspectionKind:
        return self._record.kind

    @resolver(description="The authority's own wording, e.g. H986机检 or ИДК.")
    def kind_original(self) -> str:
        return self._record.kind_original

    @resolver(description="Result.")
    def outcome(self) -> InspectionOutcome:
        return self._record.outcome

    @resolver(description="Kazakhstan's risk corridor (KGD controls only).")
    def risk_channel(self) -> RiskChannel | None:
        return self._record.risk_channel

    @resolver(description="When it started.")
    def started_at(self) -> Instant:
        return instant(self._record.started_at)

    @resolver(description="When it finished.")
    def finished_at(self) -> Instant | None:
        at = self._record.finished_at
        return instant(at) if at else None

    @resolver(description="The inspecting customs office's code.")
    def office(self) -> str:
        return self._record.office

    @resolver(description="The authority's internal note, in its own language.")
    def note(self) -> str | None:
        return self._record.note

    @resolver(description="Set when this is a recognition of the other side's inspection (phase 2).")
    def recognizes(self) -> RecognizedInspection | None:
        r = self._record
        if not r.recognized_inspection_id:
            return None
        other = r.recognized_authority or (Authority.KGD if r.authority is Authority.GACC else Authority.GACC)
        return RecognizedInspection(authority=other, inspection_id=r.recognized_inspection_id)

    @resolver(
        description="Whether the other authority accepted this inspection instead of repeating it (a "
        "recognition it recorded, counted only under the configured rules of the crossing's phase).",
        graphql_type=bool | None,
    )
    def recognized_by_other_side(self) -> MaybeAwaitable[bool | None]:
        return now_or_later(self.item.recognized_by_other_side, _same)

    @resolver(description="The trip this inspection belongs to.")
    async def manifest(self, info: Info) -> Manifest | None:
        trip = await info.context.gateway.by_record(RecordKey(self._record.authority, self._record.record_id))
        return None if trip is None else Manifest(trip=await require_trip_visible(info, trip))

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Inspection | None:
        key = decode_inspection_id(str(id))
        if key is None:
            raise InvalidInput("not an inspection id")
        item = await inspection_by_key(info.context.gateway, key.authority, key.record_id, key.inspection_id)
        return None if item is None else cls.of(await require_inspection_visible(info, item))


@strawberry.type(description="How the two authorities' records of this trip were joined.")
class ManifestLink:
    method: LinkMethod = strawberry.field(description="COMMON_MANIFEST_ID, PLATE_AND_TIME or NONE.")
    confidence: float = strawberry.field(
        description="Confidence of the join, 0 to 1: 1 for a common id; at most 0.95 by plate and time."
    )
    evidence: LinkEvidence | None = strawberry.field(
        description="What the join rests on (plates, time apart, HS-6 overlap, masses); null when not joined."
    )


@strawberry.type(description="A step of the trip as one authority recorded it.")
class BorderEvent:
    kind: BorderEventKind = strawberry.field(description="What happened.")
    authority: Authority = strawberry.field(description="Who recorded it.")
    at: Instant = strawberry.field(description="When.")
    record_id: str = strawberry.field(description="The record (or notification) it comes from.")
    description: str = strawberry.field(description="What it means, in the authority's language and English.")


@strawberry.type(description="Each side's totals, resolved separately.")
class ManifestTotals:
    trip: strawberry.Private[Trip]

    @resolver(description="Totals as GACC recorded them; null when China has no record.")
    async def china(self) -> Totals | None:
        record = await self.trip.china.get()
        return None if record is None else ChinaManifest(record=record, trip=self.trip).totals()

    @resolver(description="Totals as KGD recorded them; null when Kazakhstan has no record.")
    async def kazakhstan(self) -> Totals | None:
        record = await self.trip.kazakhstan.get()
        return None if record is None else KazakhstanPreliminaryInformation(record=record, trip=self.trip).totals()


@strawberry.type(description="One goods item of the trip, with each authority's declaration of it side by side.")
class GoodsItem:
    line_no: int = strawberry.field(description="Item number (both sides number items alike).")
    hs6: str = strawberry.field(description="HS-6 subheading (the exporting side's when both declared it).")
    china_line: strawberry.Private[Lazy[DeclaredGoods | None]]
    kazakhstan_line: strawberry.Private[Lazy[DeclaredGoods | None]]

    @resolver(description="The item as GACC declared it.", graphql_type=DeclaredGoods | None)
    def china(self) -> MaybeAwaitable[DeclaredGoods | None]:
        return now_or_later(self.china_line, _same)

    @resolver(description="The item as KGD recorded it.", graphql_type=DeclaredGoods | None)
    def kazakhstan(self) -> MaybeAwaitable[DeclaredGoods | None]:
        return now_or_later(self.kazakhstan_line, _same)

    @resolver(
        description="Whether both sides declared the same HS-6; null when one side lacks it.", graphql_type=bool | None
    )
    def hs6_agrees(self) -> MaybeAwaitable[bool | None]:
        if self.china_line.known and self.kazakhstan_line.known:
            return _agree(self.china_line.peek(), self.kazakhstan_line.peek())

        async def later() -> bool | None:
            cn, kz = await asyncio.gather(self.china_line.get(), self.kazakhstan_line.get())
            return _agree(cn, kz)

        return later()


def _same(value: T) -> T:
    return value


def _agree(cn: DeclaredGoods | None, kz: DeclaredGoods | None) -> bool | None:
    return None if cn is None or kz is None else cn.hs6 == kz.hs6


def _exporting_now(trip: Trip) -> AnyRecord | None:
    """``trip.exporting_record()`` when both records it may need are already known, else None."""
    exporter = exporting_authority(trip.direction)
    sides = (trip.china, trip.kazakhstan) if exporter is Authority.GACC else (trip.kazakhstan, trip.china)
    for side in sides:
        if not side.known:
            return None
        record = side.peek()
        if record is not None:
            return record
    return None


def _with_exporting(trip: Trip, then: Callable[[AnyRecord], R]) -> MaybeAwaitable[R]:
    record = _exporting_now(trip)
    if record is not None:
        return then(record)

    async def later() -> R:
        return then(await trip.exporting_record())

    return later()


async def _settled(lazy: Lazy[ChinaManifestRecord | None] | Lazy[KazakhstanPIRecord | None]) -> object:
    try:
        return await lazy.get()
    except UpstreamError as exc:
        return exc


@strawberry.federation.type(keys=["id"], description="A truck or trailer, known by its plate in any spelling.")
class Vehicle:
    plate_id: strawberry.Private[PlateId]
    written: strawberry.Private[str | None] = None

    @property
    def _plate(self) -> PlateId:
        return self.plate_id

    @resolver(description="Stable id: the canonical plate (e.g. XINF12345, 123ABC02).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self._plate.canonical)

    @resolver(description="The plate: native, Latin, canonical, country and region.")
    def plate(self) -> Plate:
        return Plate.of(self._plate, self.written)

    @resolver(description="The vehicle's trips as either authority recorded them, newest first.")
    async def manifests(self, info: Info, first: int = 20) -> list[Manifest]:
        trips = await filter_trips(info, await vehicle_trips(info.context.gateway, self._plate, first))
        return [Manifest(trip=trip) for trip in trips]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Vehicle:
        return cls(plate_id=parse_user_plate(str(id)))


@strawberry.federation.type(
    keys=["id"],
    description=(
        "One truck trip across one crossing point, unified from GACC's road manifest and KGD's "
        "preliminary information. Fields from one side resolve on their own: when an authority is "
        "unavailable, only its fields are null, with an error naming it."
    ),
)
class Manifest:
    trip: strawberry.Private[Trip]

    @resolver(description="Stable, opaque id (anchored on the exporting side's record).", graphql_type=strawberry.ID)
    def id(self) -> MaybeAwaitable[strawberry.ID]:
        crossing = self.trip.crossing
        return _with_exporting(self.trip, lambda r: strawberry.ID(encode_manifest_id(manifest_key_of(r, crossing))))

    @resolver(description="The crossing point.")
    def crossing_point(self, info: Info) -> CrossingPoint | None:
        crossing = self.trip.crossing
        return None if crossing is None else CrossingPoint.of(crossing, info.context.now())

    @resolver(description="Direction of the trip.")
    def direction(self) -> Direction:
        return self.trip.direction

    @resolver(description="Where the trip stands, judged from both records.", graphql_type=TripStatus | None)
    def status(self) -> MaybeAwaitable[TripStatus | None]:
        if self.trip.china.known and self.trip.kazakhstan.known:
            return trip_status(self.trip.china.peek(), self.trip.kazakhstan.peek())

        async def later() -> TripStatus | None:
            cn, kz = await self.trip.sides()
            return trip_status(cn, kz)

        return later()

    @resolver(description="How the two sides' records were joined.", graphql_type=ManifestLink | None)
    def link(self) -> MaybeAwaitable[ManifestLink | None]:
        return now_or_later(self.trip.link, _link)

    @resolver(
        description="Where the two authorities' records disagree (value, HS-6, gross mass, packages, a missing "
        "side), each with a severity; empty when they agree. Null when an authority could not be asked."
    )
    async def discrepancies(self, info: Info) -> list[Discrepancy] | None:
        return await manifest_discrepancies(self.trip, info)

    @resolver(
        description="Whether one authority accepted the other's inspection instead of repeating it (mutual "
        "recognition, counted under the configured rules of the crossing's phase)."
    )
    async def repeated_inspection_avoided(self, info: Info) -> bool | None:
        return await repeated_inspection_avoided(self.trip, info)

    @resolver(description="Common manifest id, where the crossing has one.", graphql_type=str | None)
    def common_manifest_id(self) -> MaybeAwaitable[str | None]:
        return _with_exporting(self.trip, lambda record: record.common_manifest_id)

    @resolver(description="The truck (as the exporting side recorded it).", graphql_type=Vehicle)
    def vehicle(self) -> MaybeAwaitable[Vehicle]:
        return _with_exporting(self.trip, lambda r: Vehicle(plate_id=r.vehicle.plate, written=r.vehicle.written))

    @resolver(description="The trailer, if any.")
    async def trailer(self) -> Vehicle | None:
        trailer = (await self.trip.exporting_record()).trailer
        return None if trailer is None else Vehicle(plate_id=trailer.plate, written=trailer.written)

    @resolver(description="The carrier (as the exporting side recorded it).")
    async def carrier(self) -> Party:
        return Party.of((await self.trip.exporting_record()).carrier)

    @resolver(description="The driver (as the exporting side recorded them).")
    async def driver(self) -> Driver | None:
        return Driver.of((await self.trip.exporting_record()).driver)

    @resolver(description="Goods items, each with both sides' declarations.", graphql_type=list[GoodsItem] | None)
    def goods(self) -> MaybeAwaitable[list[GoodsItem] | None]:
        if self.trip.china.known and self.trip.kazakhstan.known:
            return _pair_goods(self.trip, self.trip.china.peek(), self.trip.kazakhstan.peek())

        async def later() -> list[GoodsItem] | None:
            cn, kz = await asyncio.gather(_settled(self.trip.china), _settled(self.trip.kazakhstan))
            if isinstance(cn, UpstreamError) and isinstance(kz, UpstreamError):
                raise cn
            return _pair_goods(self.trip, cn, kz)

        return later()

    @resolver(description="Each side's totals.")
    def totals(self) -> ManifestTotals:
        return ManifestTotals(trip=self.trip)

    @resolver(description="Border events of both sides, in time order.")
    async def timeline(self, info: Info) -> list[BorderEvent] | None:
        cn, kz = await self.trip.sides()
        # KGD notifies arrivals into Kazakhstan only: no call for an export.
        imported = kz is not None and kz.direction is Direction.CN_TO_KZ
        arrival = await self.trip.arrival_notice(kz, info.context.loaders) if kz and imported else None
        return [
            BorderEvent(
                kind=e.kind, authority=e.authority, at=instant(e.at), record_id=e.record_id, description=e.description
            )
            for e in border_events(cn, kz, arrival)
        ]

    @resolver(description="Both sides' inspections, in time order.", graphql_type=list[Inspection] | None)
    def inspections(self, info: Info) -> MaybeAwaitable[list[Inspection] | None]:
        gw, trip = info.context.gateway, self.trip
        cn, kz = trip_inspections_now(gw, trip, Authority.GACC), trip_inspections_now(gw, trip, Authority.KGD)
        if cn is not None and kz is not None:
            return _in_time_order(cn, kz)

        async def later() -> list[Inspection] | None:
            both = await asyncio.gather(
                trip_inspections(gw, trip, Authority.GACC), trip_inspections(gw, trip, Authority.KGD)
            )
            return _in_time_order(*both)

        return later()

    @resolver(description="GACC's own record; null when China has none.", graphql_type=ChinaManifest | None)
    def china(self) -> MaybeAwaitable[ChinaManifest | None]:
        trip = self.trip
        return now_or_later(trip.china, lambda r: None if r is None else ChinaManifest(record=r, trip=trip))

    @resolver(
        description="KGD's own record; null when Kazakhstan has none.",
        graphql_type=KazakhstanPreliminaryInformation | None,
    )
    def kazakhstan(self) -> MaybeAwaitable[KazakhstanPreliminaryInformation | None]:
        trip = self.trip
        return now_or_later(
            trip.kazakhstan, lambda r: None if r is None else KazakhstanPreliminaryInformation(record=r, trip=trip)
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Manifest | None:
        trip = await info.context.gateway.manifest(str(id))
        return None if trip is None else cls(trip=await require_trip_visible(info, trip))


def _link(link: Link) -> ManifestLink:
    evidence = None if link.evidence is None else LinkEvidence.of(link.evidence)
    return ManifestLink(method=link.method, confidence=link.confidence, evidence=evidence)


def _in_time_order(cn: list[InspectionItem], kz: list[InspectionItem]) -> list[Inspection]:
    items = sorted([*cn, *kz], key=lambda i: (i.inspection.started_at, i.inspection.id))
    return [Inspection.of(item) for item in items]


def _pair_goods(trip: Trip, cn: object, kz: object) -> list[GoodsItem]:
    def lines(side: object) -> dict[int, GoodsLine] | None:
        if isinstance(side, ChinaManifestRecord | KazakhstanPIRecord):
            return {line.line_no: line for line in side.goods}
        return {} if side is None else None

    def day(side: object) -> dt.date:
        if isinstance(side, ChinaManifestRecord):
            return side.declared_at.date()
        if isinstance(side, KazakhstanPIRecord):
            return side.exchange_rate.date
        raise TypeError("no record")

    cn_lines, kz_lines = lines(cn), lines(kz)
    numbers = sorted({*(cn_lines or {}), *(kz_lines or {})})
    exporter_first = trip.direction is Direction.CN_TO_KZ
    items: list[GoodsItem] = []
    for number in numbers:
        sides: list[Lazy[DeclaredGoods | None]] = []
        for found, record in ((cn_lines, cn), (kz_lines, kz)):
            if found is None:
                assert isinstance(record, UpstreamError)
                sides.append(Lazy.failed(record))
            else:
                line = found.get(number)
                owner = (
                    record_owner(record) if isinstance(record, ChinaManifestRecord | KazakhstanPIRecord) else Subject()
                )
                sides.append(Lazy.ready(DeclaredGoods.of(line, day(record), owner) if line else None))
        cn_line, kz_line = (cn_lines or {}).get(number), (kz_lines or {}).get(number)
        preferred = (cn_line or kz_line) if exporter_first else (kz_line or cn_line)
        assert preferred is not None
        items.append(GoodsItem(line_no=number, hs6=preferred.hs6, china_line=sides[0], kazakhstan_line=sides[1]))
    return items
