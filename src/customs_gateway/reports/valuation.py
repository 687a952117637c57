"""Valuation gaps of linked trips: totals, by HS-6, by carrier, and the largest gaps.

Each trip's gap is :func:`customs_gateway.discrepancies.value_gap` (both totals in USD at the
NBK rates of each side's own declaration date; gap = importer − exporter, so an undervalued
import is negative) — the same number the trip's own discrepancy shows. By HS-6, each side's
lines count under their own HS-6 (a misclassified line shows as a gap in two subheadings).

The partial of a chunk holds every carrier's figures; it never leaves the service as is: a
carrier principal's report is cut to its own rows (:meth:`ValuationPartial.for_carrier`), and
the per-carrier parts are separate fields so a permission can sit on them. A scan adds a chunk's
trips up in :class:`~customs_gateway.reports.valuation_fold.ValuationFold`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import orjson

from ..domain import Direction

__all__ = ["LARGEST_KEPT", "GapTotals", "TripGap", "ValuationPartial"]

LARGEST_KEPT: Final = 100  # largest gaps kept per chunk (and so the most a report can list)
_ZERO: Final = Decimal(0)


@dataclass(slots=True)
class GapTotals:
    """Linked trips' values in USD on each side, and the sum of their gaps (importer − exporter)."""

    china_usd: Decimal = _ZERO
    kazakhstan_usd: Decimal = _ZERO
    gap_usd: Decimal = _ZERO
    trips: int = 0

    def add(self, other: GapTotals) -> None:
        self.china_usd += other.china_usd
        self.kazakhstan_usd += other.kazakhstan_usd
        self.gap_usd += other.gap_usd
        self.trips += other.trips

    def dump(self) -> list[Any]:
        return [str(self.china_usd), str(self.kazakhstan_usd), str(self.gap_usd), self.trips]

    @classmethod
    def load(cls, raw: list[Any]) -> GapTotals:
        return cls(Decimal(raw[0]), Decimal(raw[1]), Decimal(raw[2]), int(raw[3]))


@dataclass(frozen=True, slots=True)
class TripGap:
    crossing: str
    direction: Direction
    day: dt.date  # the chunk's UTC day
    china_batch_no: str
    kazakhstan_pi_number: str
    carrier_id: str
    carrier_name: str
    china_usd: Decimal
    kazakhstan_usd: Decimal
    gap_usd: Decimal
    relative_gap: Decimal | None

    def dump(self) -> list[Any]:
        return [
            self.crossing,
            self.direction.value,
            self.day.isoformat(),
            self.china_batch_no,
            self.kazakhstan_pi_number,
            self.carrier_id,
            self.carrier_name,
            str(self.china_usd),
            str(self.kazakhstan_usd),
            str(self.gap_usd),
            None if self.relative_gap is None else str(self.relative_gap),
        ]

    @classmethod
    def load(cls, raw: list[Any]) -> TripGap:
        return cls(
            raw[0],
            Direction(raw[1]),
            dt.date.fromisoformat(raw[2]),
            raw[3],
            raw[4],
            raw[5],
            raw[6],
            Decimal(raw[7]),
            Decimal(raw[8]),
            Decimal(raw[9]),
            None if raw[10] is None else Decimal(raw[10]),
        )


def _largest_first(gap: TripGap) -> tuple[Decimal, str]:
    return (-abs(gap.gap_usd), gap.china_batch_no)


@dataclass(slots=True)
class ValuationPartial:
    total: GapTotals = field(default_factory=GapTotals)
    unpriced: int = 0  # linked trips left out: a needed rate was missing
    by_hs6: dict[str, GapTotals] = field(default_factory=dict)
    by_carrier: dict[str, GapTotals] = field(default_factory=dict)
    carrier_names: dict[str, str] = field(default_factory=dict)
    largest: list[TripGap] = field(default_factory=list)

    def _trim(self) -> None:
        self.largest.sort(key=_largest_first)
        del self.largest[LARGEST_KEPT:]

    def add(self, other: ValuationPartial) -> None:
        self.total.add(other.total)
        self.unpriced += other.unpriced
        for code, totals in other.by_hs6.items():
            self.by_hs6.setdefault(code, GapTotals()).add(totals)
        for carrier, totals in other.by_carrier.items():
            self.by_carrier.setdefault(carrier, GapTotals()).add(totals)
        for carrier, name in other.carrier_names.items():
            self.carrier_names.setdefault(carrier, name)
        self.largest.extend(other.largest)
        self._trim()

    def for_carrier(self, carrier_id: str) -> ValuationPartial:
        """Only what one carrier may see of itself: its own totals, HS-6 rows left out."""
        own = self.by_carrier.get(carrier_id, GapTotals())
        return ValuationPartial(
            total=GapTotals(own.china_usd, own.kazakhstan_usd, own.gap_usd, own.trips),
            by_carrier={carrier_id: own} if own.trips else {},
            carrier_names={k: v for k, v in self.carrier_names.items() if k == carrier_id},
            largest=[gap for gap in self.largest if gap.carrier_id == carrier_id],
        )

    def to_bytes(self) -> bytes:
        self._trim()
        return orjson.dumps(
            [
                self.total.dump(),
                self.unpriced,
                {code: t.dump() for code, t in self.by_hs6.items()},
                {carrier: t.dump() for carrier, t in self.by_carrier.items()},
                self.carrier_names,
                [gap.dump() for gap in self.largest],
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ValuationPartial:
        total, unpriced, by_hs6, by_carrier, names, largest = orjson.loads(data)
        return cls(
            GapTotals.load(total),
            int(unpriced),
            {code: GapTotals.load(t) for code, t in by_hs6.items()},
            {carrier: GapTotals.load(t) for carrier, t in by_carrier.items()},
            {str(k): str(v) for k, v in names.items()},
            [TripGap.load(gap) for gap in largest],
        )
