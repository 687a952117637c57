"""The root Query: crossing points, vehicles, manifests and inspections."""

from __future__ import annotations

import re

import strawberry

from ..errors import InvalidInput
from ..ids import decode_inspection_id
from ..plates import parse_user_plate
from ..services import InspectionQuery, ManifestQuery, inspection_by_key, list_inspections, list_manifests
from .access import filter_inspections, filter_trips, require_inspection_visible, require_trip_visible, scope_page
from .common import CrossingPoint
from .connections import InspectionConnection, InspectionFilter, ManifestConnection, ManifestFilter
from .context import Info
from .entities import Inspection, Manifest, Vehicle
from .fields import resolver, selects
from .reports import ReportFilterInput, ReportQueries, report_filter, report_service
from .valuation_report import ValuationGaps

__all__ = ["Query"]

_HS_PREFIX = re.compile(r"[0-9]{2,13}")


def _hs_prefix(value: str | None) -> str | None:
    if value is None:
        return None
    if not _HS_PREFIX.fullmatch(value):
        raise InvalidInput("hsPrefix must be 2 to 13 digits")
    return value


def _wants_arrival(info: Info) -> bool:
    return selects(info, "timeline") or selects(info, "kazakhstan", "arrival")


@strawberry.type(description="Ask about trucks crossing between China and Kazakhstan, as both customs see them.")
class Query(ReportQueries):
    @resolver(description="The configured crossing points: both posts of each pair and the phase.")
    def crossing_points(self, info: Info) -> list[CrossingPoint]:
        now = info.context.now()
        return [CrossingPoint.of(crossing, now) for crossing in info.context.crossings.all]

    @resolver(description="One crossing point by id (e.g. KHORGOS).")
    def crossing_point(self, info: Info, id: strawberry.ID) -> CrossingPoint | None:
        crossing = info.context.crossings.by_id(str(id))
        return None if crossing is None else CrossingPoint.of(crossing, info.context.now())

    @resolver(
        description="A vehicle by its plate in any spelling: 新F12345, 新F·12345, full-width, XINF12345, "
        "123ABC02 or 123 ABC 02."
    )
    def vehicle(self, plate: str) -> Vehicle:
        return Vehicle(plate_id=parse_user_plate(plate))

    @resolver(
        description="One trip by the gateway's id, a Chinese batch number, a Kazakh preliminary-information "
        "number or a common manifest id. Null when no authority knows it."
    )
    async def manifest(self, info: Info, id: strawberry.ID) -> Manifest | None:
        trip = await info.context.gateway.manifest(str(id), with_arrival=_wants_arrival(info))
        return None if trip is None else Manifest(trip=await require_trip_visible(info, trip))

    @resolver(description="Trips in a time window, both authorities merged in time order, each trip once.")
    async def manifests(
        self, info: Info, filter: ManifestFilter | None = None, first: int = 20, after: str | None = None
    ) -> ManifestConnection:
        f = filter or ManifestFilter()
        query = ManifestQuery(
            crossing_ids=tuple(str(c) for c in f.crossing_points or ()),
            direction=f.direction,
            start=f.from_,
            end=f.to,
            plate=parse_user_plate(f.plate) if f.plate else None,
            hs_prefix=_hs_prefix(f.hs_prefix),
            statuses=tuple(f.status or ()),
        )
        page = await list_manifests(info.context.gateway, query, first, after, info.context.now)
        return ManifestConnection(page=await scope_page(info, page, lambda trips: filter_trips(info, trips)))

    @resolver(description="Inspections of both authorities in a time window, in time order.")
    async def inspections(
        self, info: Info, filter: InspectionFilter | None = None, first: int = 20, after: str | None = None
    ) -> InspectionConnection:
        f = filter or InspectionFilter()
        query = InspectionQuery(
            crossing_ids=tuple(str(c) for c in f.crossing_points or ()),
            authority=f.authority,
            direction=f.direction,
            start=f.from_,
            end=f.to,
            plate=parse_user_plate(f.plate) if f.plate else None,
            hs_prefix=_hs_prefix(f.hs_prefix),
            outcome=f.outcome,
        )
        page = await list_inspections(info.context.gateway, query, first, after, info.context.now)
        return InspectionConnection(page=await scope_page(info, page, lambda items: filter_inspections(info, items)))

    @resolver(description="One inspection by its stable id.")
    async def inspection(self, info: Info, id: strawberry.ID) -> Inspection | None:
        key = decode_inspection_id(str(id))
        if key is None:
            raise InvalidInput("not an inspection id")
        item = await inspection_by_key(info.context.gateway, key.authority, key.record_id, key.inspection_id)
        return None if item is None else Inspection.of(await require_inspection_visible(info, item))

    @resolver(
        description="Valuation gaps of linked trips: totals, by HS-6, by carrier and the largest gaps. A carrier "
        "sees only its own figures."
    )
    async def valuation_gaps(self, info: Info, filter: ReportFilterInput) -> ValuationGaps | None:
        carrier_id = info.context.principal.carrier_id  # set for the carrier role only
        report = await report_service(info).valuation_gaps(report_filter(info, filter), carrier_id=carrier_id)
        return ValuationGaps(report=report)
