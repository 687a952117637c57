"""Valuation gaps of linked trips: totals, by HS-6, by carrier, and the largest gaps.

Each trip's gap is :func:`customs_gateway.discrepancies.value_gap` (both totals in USD at the
NBK rates of each side's own declaration date; gap = importer − exporter, so an undervalued
import is negative) — the same number the trip's own discrepancy shows. By HS-6, each side's
lines count under their own HS-6 (a misclassified line shows as a gap in two subheadings).

The partial of a chunk holds every carrier's figures; it never leaves the service as is: a
carrier principal's report is cut to its own rows (:meth:`ValuationPartial.for_carrier`), and
the per-carrier parts are separate fields so a permission can sit on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from ..discrepancies import relative_gap
from ..domain import Direction, ExchangeRate
from ..money import minor_to_decimal, usd_factor, usd_minor
from ..sources.base import MONEY_PLACES, ScanLine, ScanRecord

__all__ = ["LARGEST_KEPT", "GapTotals", "TripGap", "UsdFactors", "ValuationPartial"]

LARGEST_KEPT = 100  # largest gaps kept per chunk (and so the most a report can list)
_ZERO = Decimal(0)


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


def _lines_usd(lines: Iterable[ScanLine], rates: Mapping[str, ExchangeRate]) -> dict[str, int]:
    """Priced lines in US cents by HS-6 (``money.convert``'s figure, line by line)."""
    by_hs6: dict[str, int] = {}
    for line in lines:
        try:
            usd = usd_minor(line.value_minor, usd_factor(line.currency, rates))
        except KeyError:  # no rate for the currency that day: left out rather than guessed
            continue
        by_hs6[line.hs6] = by_hs6.get(line.hs6, 0) + usd
    return by_hs6


def _usd(cents: int | None) -> Decimal:
    # A side without lines under the code adds Decimal(0), as before the sums were integers.
    return _ZERO if cents is None else minor_to_decimal(cents, MONEY_PLACES)


class UsdFactors:
    """Each (rate day, currency)'s factor to US cents (:func:`~customs_gateway.money.usd_factor`),
    worked out once per chunk: its records share a handful of rate days and currencies. None:
    no rate that day (the line is left out of value, as ``convert``'s KeyError leaves it)."""

    __slots__ = ("_factors", "_rates")

    def __init__(self, rates: Mapping[dt.date, Mapping[str, ExchangeRate]]) -> None:
        self._rates = rates
        self._factors: dict[tuple[dt.date, str], tuple[int, int] | None] = {}

    def get(self, day: dt.date, currency: str) -> tuple[int, int] | None:
        key = (day, currency)
        if key in self._factors:
            return self._factors[key]
        try:
            factor: tuple[int, int] | None = usd_factor(currency, self._rates.get(day, {}))
        except KeyError:
            factor = None
        self._factors[key] = factor
        return factor



@dataclass(slots=True)
class ValuationPartial:
    total: GapTotals = field(default_factory=GapTotals)
    unpriced: int = 0  # linked trips left out: a needed rate was missing
    by_hs6: dict[str, GapTotals] = field(default_factory=dict)
    by_carrier: dict[str, GapTotals] = field(default_factory=dict)
    carrier_names: dict[str, str] = field(default_factory=dict)
    largest: list[TripGap] = field(default_factory=list)
    # The sort key of the last gap kept by the last trim: a trip whose key is above it can never
    # be among the largest kept, so no TripGap is made for it (most trips of a busy chunk).
    _floor: tuple[Decimal, str] | None = field(default=None, compare=False, repr=False)

    def fold_pair(
        self,
        china: ScanRecord,
        kazakhstan: ScanRecord,
        rates: Mapping[dt.date, Mapping[str, ExchangeRate]],
        crossing: str,
        day: dt.date,
        *,
        lines_usd: tuple[Mapping[str, int], Mapping[str, int]] | None = None,
        factors: UsdFactors | None = None,
    ) -> None:
        """One linked trip. ``lines_usd``: each side's priced lines in US cents by HS-6 at these
        same rates, when the caller has them already (the scan converts every line once, for
        trade flow); ``factors``: the caller's :class:`UsdFactors` over the same rates.

        The trip's gap is :func:`~customs_gateway.discrepancies.totals_gap`'s, in integer cents
        (``money.usd_minor``, the same rounding) and then ``Decimal``."""
        if factors is None:
            factors = UsdFactors(rates)
        cn_factor = factors.get(china.rate_date, china.currency)
        kz_factor = factors.get(kazakhstan.rate_date, kazakhstan.currency)
        # A day without any rate table leaves the trip out, even a trip valued in USD (as before).
        no_table = rates.get(china.rate_date) is None or rates.get(kazakhstan.rate_date) is None
        if cn_factor is None or kz_factor is None or no_table:
            self.unpriced += 1
            return
        cn_usd = minor_to_decimal(usd_minor(china.total_minor, cn_factor), MONEY_PLACES)
        kz_usd = minor_to_decimal(usd_minor(kazakhstan.total_minor, kz_factor), MONEY_PLACES)
        importing_is_kz = china.direction is Direction.CN_TO_KZ
        gap_usd = kz_usd - cn_usd if importing_is_kz else cn_usd - kz_usd
        trip = GapTotals(cn_usd, kz_usd, gap_usd, 1)
        self.total.add(trip)
        carrier = china.carrier.id or kazakhstan.carrier.id or china.carrier.name
        self.by_carrier.setdefault(carrier, GapTotals()).add(trip)
        self.carrier_names.setdefault(carrier, china.carrier.name)
        if lines_usd is None:
            lines_usd = (
                _lines_usd(china.goods, rates[china.rate_date]),
                _lines_usd(kazakhstan.goods, rates[kazakhstan.rate_date]),
            )
        cn_hs6, kz_hs6 = lines_usd
        for code in cn_hs6.keys() | kz_hs6.keys():
            cn, kz = _usd(cn_hs6.get(code)), _usd(kz_hs6.get(code))
            self.by_hs6.setdefault(code, GapTotals()).add(GapTotals(cn, kz, kz - cn if importing_is_kz else cn - kz, 1))
        if self._floor is not None and (-abs(gap_usd), china.key) > self._floor:
            return
        self.largest.append(
            TripGap(
                crossing,
                china.direction,
                day,
                china.key,
                kazakhstan.key,
                carrier,
                china.carrier.name,
                cn_usd,
                kz_usd,
                gap_usd,
                relative_gap(cn_usd, kz_usd, china.direction),
            )
        )
        if len(self.largest) > 2 * LARGEST_KEPT:
            self._trim()

    def _trim(self) -> None:
        self.largest.sort(key=_largest_first)
        del self.largest[LARGEST_KEPT:]
        if len(self.largest) == LARGEST_KEPT:
            self._floor = _largest_first(self.largest[-1])

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
