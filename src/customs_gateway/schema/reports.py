"""Report fields: trade flows, clearance times, inspection rates (GraphQL types over the service).

The same :class:`~customs_gateway.reports.ReportService` answers the CSV downloads, so a report
reads the same in a spreadsheet as here. Amounts are decimal strings (``Decimal`` never becomes a
binary float on the way out); durations are whole minutes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from ..domain import Authority, Direction
from ..errors import InvalidInput
from ..reports import (
    ClearanceRow,
    Flow,
    GroupKey,
    InspectionRow,
    Interval,
    Percentiles,
    ReportFilter,
    ReportService,
    TradeFlowRow,
)
from .access import ruled_field
from .context import Info
from .fields import resolver

__all__ = ["ReportFilterInput", "ReportQueries"]

strawberry.enum(GroupKey, name="TradeFlowGroup", description="What tradeFlow rows are grouped by.")
strawberry.enum(Interval, name="ReportInterval", description="The length of a tradeFlow period.")


@strawberry.input(description="Whole UTC days, both inclusive (at most 366), some crossings, one or both directions.")
class ReportFilterInput:
    from_: dt.date = strawberry.field(name="from", description="First UTC day.")
    to: dt.date = strawberry.field(description="Last UTC day (inclusive).")
    crossing_points: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Crossing point ids, e.g. [KHORGOS]; all when omitted."
    )
    direction: Direction | None = strawberry.field(default=None, description="Only this direction.")


def report_service(info: Info) -> ReportService:
    return _service(info)


def report_filter(info: Info, f: ReportFilterInput) -> ReportFilter:
    return _service(info).filter(
        start=f.from_, end=f.to, crossing_ids=[str(c) for c in f.crossing_points or ()], direction=f.direction
    )


def _service(info: Info) -> ReportService:
    service = info.context.reports
    if service is None:
        raise InvalidInput("reports are not available on this gateway")
    return service


@strawberry.type(
    description="One side's trade in a bucket: as that authority recorded it, each on its own declaration date."
)
class SideFlow:
    value_usd: Decimal | None = ruled_field(
        "SideFlow.valueUsd", "Goods value in USD at NBK rates of each record's declaration date."
    )
    gross_kg: Decimal = strawberry.field(description="Gross mass, kg.")
    trucks: int = strawberry.field(description="Records (truck trips) with goods in the bucket.")

    @classmethod
    def of(cls, flow: Flow) -> SideFlow:
        return cls(value_usd=flow.value_usd, gross_kg=flow.gross_kg, trucks=flow.trucks)


@strawberry.type(description="A mirror comparison: China's and Kazakhstan's records of the same bucket, side by side.")
class TradeFlow:
    period_start: dt.date = strawberry.field(description="First day of the period (a Monday for WEEK).")
    crossing_point: strawberry.ID | None = strawberry.field(description="When grouped by CROSSING.")
    direction: Direction | None = strawberry.field(description="When grouped by DIRECTION.")
    hs_chapter: str | None = strawberry.field(description="When grouped by HS_CHAPTER (2 digits).")
    hs6: str | None = strawberry.field(description="When grouped by HS6.")
    china: SideFlow = strawberry.field(description="As GACC recorded it (export or import manifests).")
    kazakhstan: SideFlow = strawberry.field(description="As KGD recorded it (preliminary information).")
    value_gap_usd: Decimal | None = ruled_field("TradeFlow.valueGapUsd", "China's value minus Kazakhstan's.")
    kazakhstan_to_china_value_ratio: Decimal | None = ruled_field(
        "TradeFlow.kazakhstanToChinaValueRatio",
        "Kazakhstan's value / China's, 4 decimals; null when China recorded none.",
    )

    @classmethod
    def of(cls, row: TradeFlowRow) -> TradeFlow:
        return cls(
            period_start=row.period,
            crossing_point=strawberry.ID(row.crossing) if row.crossing else None,
            direction=row.direction,
            hs_chapter=row.hs_chapter,
            hs6=row.hs6,
            china=SideFlow.of(row.china),
            kazakhstan=SideFlow.of(row.kazakhstan),
            value_gap_usd=row.value_gap_usd,
            kazakhstan_to_china_value_ratio=row.value_ratio,
        )


@strawberry.type(
    description="Percentiles of durations in whole minutes (exact at one-minute resolution, nearest rank)."
)
class DurationPercentiles:
    count: int = strawberry.field(description="Durations measured.")
    open: int = strawberry.field(description="Records without their final event yet (not measured).")
    p50_minutes: int | None = strawberry.field(description="Median, minutes; null when nothing was measured.")
    p90_minutes: int | None = strawberry.field(description="90th percentile, minutes.")
    p99_minutes: int | None = strawberry.field(description="99th percentile, minutes.")

    @classmethod
    def of(cls, p: Percentiles) -> DurationPercentiles:
        return cls(count=p.count, open=p.open, p50_minutes=p.p50, p90_minutes=p.p90, p99_minutes=p.p99)


@strawberry.type(
    description="Clearance times of one crossing and direction. Per side: from that side's declaration to its "
    "release (importing side) or exit (exporting side). Door to door: from the exporting side's declaration to "
    "the importing side's release, for every trip whose two records were both declared within the report's days "
    "(on the same UTC day or not)."
)
class ClearanceTimes:
    crossing_point: strawberry.ID = strawberry.field(description="Crossing point id.")
    direction: Direction = strawberry.field(description="Which way the trucks crossed.")
    china: DurationPercentiles = strawberry.field(description="GACC: declaration to exit (export) / release (import).")
    kazakhstan: DurationPercentiles = strawberry.field(
        description="KGD: preliminary information to release (import) / exit (export)."
    )
    door_to_door: DurationPercentiles = strawberry.field(
        description="Exporting side's declaration to importing side's release."
    )

    @classmethod
    def of(cls, row: ClearanceRow) -> ClearanceTimes:
        return cls(
            crossing_point=strawberry.ID(row.crossing),
            direction=row.direction,
            china=DurationPercentiles.of(row.china),
            kazakhstan=DurationPercentiles.of(row.kazakhstan),
            door_to_door=DurationPercentiles.of(row.door_to_door),
        )


@strawberry.type(description="Inspections of one kind, channel and outcome by one authority at one crossing.")
class InspectionRate:
    crossing_point: strawberry.ID = strawberry.field(description="Crossing point id.")
    authority: Authority = strawberry.field(description="The inspecting (or recognizing) authority.")
    kind: str = strawberry.field(description="InspectionKind (XRAY_SCAN, DOCUMENT_CHECK, …).")
    risk_channel: str | None = strawberry.field(description="Kazakhstan's risk corridor; null for China.")
    outcome: str = strawberry.field(description="NO_FINDINGS or VIOLATION.")
    inspections: int = strawberry.field(description="Inspections the authority did itself.")
    saved_by_recognition: int = strawberry.field(
        description="Times the authority recognized the other side's inspection instead of repeating it."
    )
    trucks: int = strawberry.field(description="The authority's records at the crossing in the window.")
    rate: Decimal | None = strawberry.field(description="inspections / trucks, 4 decimals; null without trucks.")

    @classmethod
    def of(cls, row: InspectionRow) -> InspectionRate:
        return cls(
            crossing_point=strawberry.ID(row.crossing),
            authority=row.authority,
            kind=row.kind,
            risk_channel=row.risk_channel,
            outcome=row.outcome,
            inspections=row.inspections,
            saved_by_recognition=row.saved_by_recognition,
            trucks=row.trucks,
            rate=row.rate,
        )


@strawberry.type
class ReportQueries:
    @resolver(
        description="Trade by crossing, direction, HS chapter or HS-6 per day, week or month: value in USD, mass "
        "and trucks as each authority recorded them (mirror statistics)."
    )
    async def trade_flow(
        self,
        info: Info,
        filter: ReportFilterInput,
        group_by: list[GroupKey] | None = None,
        interval: Interval = Interval.DAY,
    ) -> list[TradeFlow]:
        rows = await _service(info).trade_flow(report_filter(info, filter), group_by or (), interval)
        return [TradeFlow.of(row) for row in rows]

    @resolver(description="Clearance times p50/p90/p99 per crossing and direction, per side and door to door.")
    async def clearance_times(self, info: Info, filter: ReportFilterInput) -> list[ClearanceTimes]:
        rows = await _service(info).clearance_times(report_filter(info, filter))
        return [ClearanceTimes.of(row) for row in rows]

    @resolver(
        description="Inspections by crossing, authority, kind, channel and outcome, with the inspections saved by "
        "mutual recognition and the rate per truck. Per crossing: 'direction' is not accepted."
    )
    async def inspection_rates(self, info: Info, filter: ReportFilterInput) -> list[InspectionRate]:
        rows = await _service(info).inspection_rates(report_filter(info, filter))
        return [InspectionRate.of(row) for row in rows]
