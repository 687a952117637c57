"""Cross-border intelligence on a manifest: the evidence of a link and where the two sides disagree.

The domain computes (``linking.LinkEvidence``, ``discrepancies.Discrepancy``); these types only
present it. Declared values stay behind the field rules: a value discrepancy shows its USD
amounts and gaps only under ``Discrepancy.valueGap`` (ruled like every declared value), never in
the generic ``china`` / ``kazakhstan`` text of the discrepancy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import strawberry

from .. import discrepancies as found
from .. import linking
from ..discrepancies import DiscrepancyKind, Severity
from ..domain import Authority, ChinaManifestRecord, KazakhstanPIRecord
from ..linking import PlateMatch
from ..security.rules import Subject
from ..services import Trip, trip_inspections
from .context import Info
from .fields import resolver

__all__ = [
    "Discrepancy",
    "LinkEvidence",
    "ValueGap",
    "manifest_discrepancies",
    "repeated_inspection_avoided",
    "trip_subject",
]

strawberry.enum(
    PlateMatch,
    description="How the two records' truck plates agreed: EXACT (same plate, any spelling), PROVINCE_MISSING "
    "(one side dropped the Chinese province, e.g. F12345 for 新F12345) or NOT_COMPARED (joined by common id).",
)
strawberry.enum(
    DiscrepancyKind,
    description="What the two authorities disagree on: VALUE_GAP, HS6_MISMATCH, MASS_MISMATCH, "
    "PACKAGE_COUNT_MISMATCH or OTHER_SIDE_MISSING.",
)
strawberry.enum(
    Severity,
    description="INFO (worth knowing, e.g. the other side may still register the trip), WARNING (beyond "
    "tolerance) or CRITICAL (far beyond: a likely valuation or declaration offence). Thresholds are configuration.",
)


def trip_subject(china: ChinaManifestRecord | None, kazakhstan: KazakhstanPIRecord | None) -> Subject:
    """Which carriers the trip's records name: what the declared-value rule looks at."""
    carriers = {r.carrier.id for r in (china, kazakhstan) if r is not None and r.carrier.id}
    return Subject(carriers=frozenset(carriers))


@strawberry.type(description="What the join of the two authorities' records rests on, as measured on them.")
class LinkEvidence:
    plate_match: PlateMatch = strawberry.field(description="How the truck plates agreed.")
    china_plate: str = strawberry.field(description="The truck plate as GACC wrote it (e.g. 新F·12345).")
    kazakhstan_plate: str = strawberry.field(description="The truck plate as KGD wrote it (e.g. XINF12345 or F12345).")
    time_delta_seconds: int = strawberry.field(
        description="Seconds from the exporting side's declaration to the importing side's registration, "
        "compared as instants (Beijing +08:00 against the Kazakh posts' +06:00 before 2024-03-01, +05:00 since)."
    )
    hs6_overlap: float = strawberry.field(
        description="Share of HS-6 subheadings both sides declared (Jaccard, 0 to 1)."
    )
    gross_mass_difference: Decimal | None = strawberry.field(
        description="Relative difference of the total gross masses, (importer − exporter) / exporter, "
        "4 decimals; null when the exporter's mass is 0."
    )
    common_manifest_id: str | None = strawberry.field(
        description="The common manifest id both records carry, when the join is by common id."
    )

    @staticmethod
    def of(evidence: linking.LinkEvidence) -> LinkEvidence:
        return LinkEvidence(
            plate_match=evidence.plate_match,
            china_plate=evidence.china_plate,
            kazakhstan_plate=evidence.kazakhstan_plate,
            time_delta_seconds=int(evidence.time_delta.total_seconds()),
            hs6_overlap=evidence.hs6_overlap,
            gross_mass_difference=evidence.mass_gap,
            common_manifest_id=evidence.common_manifest_id,
        )


@strawberry.type(
    description="Both sides' total value in US dollars, each at the National Bank of Kazakhstan rates of its "
    "own declaration date (China: the Beijing date of the manifest; Kazakhstan: the date of the rate KGD applied)."
)
class ValueGap:
    china_usd: Decimal = strawberry.field(description="GACC's total value in USD.")
    kazakhstan_usd: Decimal = strawberry.field(description="KGD's total value in USD.")
    china_rate_date: dt.date = strawberry.field(description="The date of the rates GACC's value was converted at.")
    kazakhstan_rate_date: dt.date = strawberry.field(description="The date of the rates KGD's value was converted at.")
    gap_usd: Decimal = strawberry.field(description="Importer's value minus exporter's, in USD.")
    relative_gap: Decimal | None = strawberry.field(
        description="(importer − exporter) / exporter, 4 decimals: negative when the import is declared below "
        "the export (undervaluation); null when the exporter's value is 0."
    )

    @staticmethod
    def of(gap: found.ValueGap) -> ValueGap:
        return ValueGap(
            china_usd=gap.china_usd,
            kazakhstan_usd=gap.kazakhstan_usd,
            china_rate_date=gap.china_rate_date,
            kazakhstan_rate_date=gap.kazakhstan_rate_date,
            gap_usd=gap.gap_usd,
            relative_gap=gap.relative_gap,
        )


@strawberry.type(description="One point where the two authorities' records of the trip disagree.")
class Discrepancy:
    owner: strawberry.Private[Subject]
    value: strawberry.Private[found.ValueGap | None]
    kind: DiscrepancyKind = strawberry.field(description="What they disagree on.")
    severity: Severity = strawberry.field(description="How much it matters, by the configured thresholds.")
    line_no: int | None = strawberry.field(description="The goods item (HS6_MISMATCH only).")
    unit: str | None = strawberry.field(
        description="Unit of china / kazakhstan: HS-6, kg, packages or record; null for VALUE_GAP (see valueGap)."
    )
    china: str | None = strawberry.field(
        description="GACC's side: its HS-6, gross kg, package count or batch number; null when China has none "
        "and for VALUE_GAP."
    )
    kazakhstan: str | None = strawberry.field(
        description="KGD's side: its HS-6, gross kg, package count or PI number; null when Kazakhstan has none "
        "and for VALUE_GAP."
    )
    relative_difference: Decimal | None = strawberry.field(
        description="(importer − exporter) / exporter for MASS_MISMATCH and PACKAGE_COUNT_MISMATCH, 4 decimals."
    )

    def rule_subject(self) -> Subject:
        return self.owner

    @resolver(description="Both sides' values in USD and the relative gap (VALUE_GAP only).")
    def value_gap(self) -> ValueGap | None:
        return None if self.value is None else ValueGap.of(self.value)

    @staticmethod
    def of(item: found.Discrepancy, owner: Subject) -> Discrepancy:
        is_value = item.kind is DiscrepancyKind.VALUE_GAP
        return Discrepancy(
            owner=owner,
            value=item.value_gap,
            kind=item.kind,
            severity=item.severity,
            line_no=item.line_no,
            unit=None if is_value else item.unit,
            china=None if is_value else item.china,
            kazakhstan=None if is_value else item.kazakhstan,
            relative_difference=None if is_value else item.relative_gap,
        )


async def manifest_discrepancies(trip: Trip, info: Info) -> list[Discrepancy]:
    """Both records (raises when an authority failed: the comparison needs both) and the NBK
    rates of each side's own date, compared under the configured thresholds."""
    cn, kz = await trip.sides()
    loaders = info.context.loaders
    cn_rates = await loaders.rates(found.china_rate_date(cn)) if cn is not None and kz is not None else None
    kz_rates = await loaders.rates(found.kazakhstan_rate_date(kz)) if cn is not None and kz is not None else None
    items = found.find_discrepancies(
        cn,
        kz,
        china_rates=cn_rates,
        kazakhstan_rates=kz_rates,
        now=info.context.now(),
        thresholds=info.context.gateway.thresholds,
    )
    owner = trip_subject(cn, kz)
    return [Discrepancy.of(item, owner) for item in items]


async def repeated_inspection_avoided(trip: Trip, info: Info) -> bool:
    """Whether some inspection of either side was recognized by the other under the rules."""
    gw = info.context.gateway
    cn, kz = await asyncio.gather(trip_inspections(gw, trip, Authority.GACC), trip_inspections(gw, trip, Authority.KGD))
    flags = await asyncio.gather(*(item.recognized_by_other_side.get() for item in (*cn, *kz)))
    return any(flags)
