"""``valuationGaps``: totals, by HS-6, by carrier, largest trips (GraphQL types over the service).

The per-carrier parts (``byCarrier``, ``largest``: they name carriers and their trips) are
separate fields so a field rule can be placed on each; a carrier principal's report is already
cut to its own figures by the service.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from ..domain import Direction
from ..errors import InvalidInput
from ..reports import GapRow, GapTotals, TripGap, ValuationReport
from .access import ruled_field
from .fields import resolver

__all__ = ["ValuationGaps", "check_first"]

MAX_FIRST = 100


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(f"first must be 1..{MAX_FIRST}")
    return first


@strawberry.type(description="Linked trips' values in USD (each side at the NBK rates of its own declaration date).")
class ValuationTotals:
    china_usd: Decimal = strawberry.field(description="China's recorded value, USD.")
    kazakhstan_usd: Decimal = strawberry.field(description="Kazakhstan's recorded value, USD.")
    gap_usd: Decimal | None = ruled_field(
        "ValuationTotals.gapUsd", "Sum of importer − exporter gaps: negative when the importing side declared less."
    )
    trips: int = strawberry.field(description="Linked trips counted.")

    @classmethod
    def of(cls, totals: GapTotals) -> ValuationTotals:
        return cls(
            china_usd=totals.china_usd, kazakhstan_usd=totals.kazakhstan_usd, gap_usd=totals.gap_usd, trips=totals.trips
        )


@strawberry.type(description="Gap totals of the lines each side declared under one HS-6 subheading.")
class Hs6ValuationGap:
    hs6: str = strawberry.field(description="HS-6 subheading (each side's own lines under it).")
    totals: ValuationTotals = strawberry.field(description="Values and gap of those lines.")
    relative_gap: Decimal | None = ruled_field("Hs6ValuationGap.relativeGap", "gapUsd / chinaUsd, 4 decimals.")

    @classmethod
    def of(cls, row: GapRow) -> Hs6ValuationGap:
        return cls(hs6=row.key, totals=ValuationTotals.of(row.totals), relative_gap=row.relative_gap)


@strawberry.type(description="Gap totals of one carrier's linked trips.")
class CarrierValuationGap:
    carrier_id: str = strawberry.field(description="The carrier's id (USCC or BIN) as recorded.")
    carrier_name: str | None = strawberry.field(description="As China recorded it.")
    totals: ValuationTotals = strawberry.field(description="Values and gap of the carrier's trips.")
    relative_gap: Decimal | None = ruled_field("CarrierValuationGap.relativeGap", "gapUsd / chinaUsd, 4 decimals.")

    @classmethod
    def of(cls, row: GapRow) -> CarrierValuationGap:
        return cls(
            carrier_id=row.key,
            carrier_name=row.name,
            totals=ValuationTotals.of(row.totals),
            relative_gap=row.relative_gap,
        )


@strawberry.type(description="One linked trip's value gap.")
class TripValuationGap:
    crossing_point: strawberry.ID = strawberry.field(description="Crossing point id.")
    direction: Direction = strawberry.field(description="Which way the truck crossed.")
    day: dt.date = strawberry.field(description="UTC day of the exporting side's declaration.")
    china_batch_no: str = strawberry.field(description="GACC batch number.")
    kazakhstan_pi_number: str = strawberry.field(description="KGD preliminary-information number.")
    carrier_id: str = strawberry.field(description="The carrier's id as recorded.")
    carrier_name: str = strawberry.field(description="As China recorded it.")
    china_usd: Decimal = strawberry.field(description="China's total, USD.")
    kazakhstan_usd: Decimal = strawberry.field(description="Kazakhstan's total, USD.")
    gap_usd: Decimal | None = ruled_field("TripValuationGap.gapUsd", "Importer − exporter, USD.")
    relative_gap: Decimal | None = ruled_field(
        "TripValuationGap.relativeGap", "(importer − exporter) / exporter, 4 decimals."
    )

    @classmethod
    def of(cls, gap: TripGap) -> TripValuationGap:
        return cls(
            crossing_point=strawberry.ID(gap.crossing),
            direction=gap.direction,
            day=gap.day,
            china_batch_no=gap.china_batch_no,
            kazakhstan_pi_number=gap.kazakhstan_pi_number,
            carrier_id=gap.carrier_id,
            carrier_name=gap.carrier_name,
            china_usd=gap.china_usd,
            kazakhstan_usd=gap.kazakhstan_usd,
            gap_usd=gap.gap_usd,
            relative_gap=gap.relative_gap,
        )


@strawberry.type(
    description="Valuation gaps of the trips both authorities recorded, both records declared within the "
    "report's days (on the same UTC day or not): totals, by HS-6, by carrier and the largest trips."
)
class ValuationGaps:
    report: strawberry.Private[ValuationReport]

    @resolver(description="All linked trips together.")
    def total(self) -> ValuationTotals:
        return ValuationTotals.of(self.report.total)

    @resolver(description="Linked trips left out because a needed exchange rate was missing.")
    def unpriced_trips(self) -> int:
        return self.report.unpriced

    @resolver(description="HS-6 subheadings, largest absolute gap first.")
    def by_hs6(self, first: int = 20) -> list[Hs6ValuationGap]:
        return [Hs6ValuationGap.of(row) for row in self.report.by_hs6[: check_first(first)]]

    @resolver(description="Carriers, largest absolute gap first (per-carrier data).")
    def by_carrier(self, first: int = 20) -> list[CarrierValuationGap]:
        return [CarrierValuationGap.of(row) for row in self.report.by_carrier[: check_first(first)]]

    @resolver(description="The trips with the largest absolute gaps (per-carrier data).")
    def largest(self, first: int = 20) -> list[TripValuationGap]:
        return [TripValuationGap.of(gap) for gap in self.report.largest[: check_first(first)]]
