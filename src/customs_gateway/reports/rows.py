"""The rows reports answer with, and how trade-flow partials fold into them.

Plain data: the GraphQL types and the CSV writer both read these, so derived figures (gaps,
ratios, rates) are computed once, here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain import Authority, Direction
from .filters import GroupKey, Interval, period_start
from .partials import ChunkPartial, Flow, SidePartial, percentile
from .valuation import GapTotals, TripGap, ValuationPartial

__all__ = [
    "ClearanceRow",
    "GapRow",
    "InspectionRow",
    "Percentiles",
    "TradeAccumulator",
    "TradeFlowRow",
    "ValuationReport",
]

_RATIO = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class TradeFlowRow:
    """One bucket: each side's value, mass and trucks (a mirror comparison side by side)."""

    period: dt.date
    crossing: str | None
    direction: Direction | None
    hs_chapter: str | None
    hs6: str | None
    china: Flow
    kazakhstan: Flow

    @property
    def value_gap_usd(self) -> Decimal:
        """China's value minus Kazakhstan's."""
        return self.china.value_usd - self.kazakhstan.value_usd

    @property
    def value_ratio(self) -> Decimal | None:
        """Kazakhstan's value / China's, 4 decimals; None when China recorded none."""
        if not self.china.value_usd:
            return None
        return (self.kazakhstan.value_usd / self.china.value_usd).quantize(_RATIO)


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int
    open: int  # records (trips) without their final event yet, left out of the percentiles
    p50: int | None
    p90: int | None
    p99: int | None

    @classmethod
    def of(cls, histogram: dict[int, int], open_: int = 0) -> Percentiles:
        return cls(
            sum(histogram.values()),
            open_,
            percentile(histogram, 0.50),
            percentile(histogram, 0.90),
            percentile(histogram, 0.99),
        )


@dataclass(frozen=True, slots=True)
class ClearanceRow:
    crossing: str
    direction: Direction
    china: Percentiles
    kazakhstan: Percentiles
    door_to_door: Percentiles


@dataclass(frozen=True, slots=True)
class InspectionRow:
    crossing: str
    authority: Authority
    kind: str
    risk_channel: str | None
    outcome: str
    inspections: int  # done by the authority itself
    saved_by_recognition: int  # the other side's inspection recognized instead of repeating it
    trucks: int  # the authority's records at the crossing in the window (the rate's denominator)

    @property
    def rate(self) -> Decimal | None:
        """Inspections per truck, 4 decimals; None without trucks."""
        return (Decimal(self.inspections) / self.trucks).quantize(_RATIO) if self.trucks else None


@dataclass(slots=True)
class TradeAccumulator:
    group_by: frozenset[GroupKey]
    interval: Interval
    rows: dict[tuple[object, ...], tuple[Flow, Flow]] = field(default_factory=dict)

    def fold(self, crossing: str, direction: Direction, day: dt.date, partial: ChunkPartial) -> None:
        head = (
            period_start(day, self.interval),
            crossing if GroupKey.CROSSING in self.group_by else None,
            direction if GroupKey.DIRECTION in self.group_by else None,
        )
        for index, side in enumerate((partial.china, partial.kazakhstan)):
            for key, flow in self._split(side):
                pair = self.rows.get((*head, *key))
                if pair is None:
                    pair = self.rows[(*head, *key)] = (Flow(), Flow())
                pair[index].add(flow)

    def _split(self, side: SidePartial) -> Iterable[tuple[tuple[str | None, str | None], Flow]]:
        if GroupKey.HS6 in self.group_by:
            for code, flow in side.hs6.items():
                yield (code[:2] if GroupKey.HS_CHAPTER in self.group_by else None, code), flow
        elif GroupKey.HS_CHAPTER in self.group_by:
            chapters: dict[str, Flow] = {}
            for code, flow in side.hs6.items():
                chapter = chapters.setdefault(code[:2], Flow())
                chapter.value_usd += flow.value_usd
                chapter.gross_kg += flow.gross_kg
            for chapter_code, flow in chapters.items():
                flow.trucks = side.chapter_trucks.get(chapter_code, 0)
                yield (chapter_code, None), flow
        elif side.total.trucks:  # an empty chunk adds no row
            yield (None, None), side.total

    def result(self) -> list[TradeFlowRow]:
        def order(key: tuple[object, ...]) -> tuple[str, ...]:
            return tuple("" if part is None else str(part) for part in key)

        return [
            TradeFlowRow(key[0], key[1], key[2], key[3], key[4], pair[0], pair[1])  # type: ignore[arg-type]
            for key, pair in sorted(self.rows.items(), key=lambda item: order(item[0]))
        ]


@dataclass(frozen=True, slots=True)
class GapRow:
    """Linked trips' gap totals under one key (an HS-6 or a carrier)."""

    key: str
    name: str | None  # the carrier's name; None for HS-6 rows
    totals: GapTotals

    @property
    def relative_gap(self) -> Decimal | None:
        """Sum of gaps / sum of the exporting sides' values is not well defined across directions:
        gap / China's value, 4 decimals (None when China's is 0)."""
        if not self.totals.china_usd:
            return None
        return (self.totals.gap_usd / self.totals.china_usd).quantize(_RATIO)


@dataclass(frozen=True, slots=True)
class ValuationReport:
    total: GapTotals
    unpriced: int
    by_hs6: list[GapRow]  # largest absolute gap first
    by_carrier: list[GapRow]
    largest: list[TripGap]

    @classmethod
    def of(cls, partial: ValuationPartial) -> ValuationReport:
        def ranked(rows: Iterable[GapRow]) -> list[GapRow]:
            return sorted(rows, key=lambda row: (-abs(row.totals.gap_usd), row.key))

        partial.add(ValuationPartial())  # trims and orders the largest gaps
        return cls(
            partial.total,
            partial.unpriced,
            ranked(GapRow(code, None, totals) for code, totals in partial.by_hs6.items()),
            ranked(
                GapRow(carrier, partial.carrier_names.get(carrier), totals)
                for carrier, totals in partial.by_carrier.items()
            ),
            list(partial.largest),
        )
