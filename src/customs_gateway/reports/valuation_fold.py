"""A chunk's linked trips valued in exact integers, turned into a :class:`ValuationPartial` once.

A cold report values every trip it links (about a third of its records) by totals, by HS-6 and
by carrier. :class:`ValuationFold` adds up US cents as integers and makes the partial's
``Decimal`` figures once per group at the end (:meth:`ValuationFold.partial`) instead of a
``GapTotals`` per trip and HS-6 and three ``Decimal`` additions each: the same figures, digits
and exponents alike (a sum of 2-place amounts has 2 places; a side without any line under a code
adds ``Decimal(0)``, so its sum stays ``0`` until one has).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

from ..discrepancies import relative_gap
from ..domain import Direction, ExchangeRate
from ..money import minor_to_decimal, usd_factor, usd_minor
from ..sources.base import MONEY_PLACES, ScanLine, ScanRecord
from .valuation import LARGEST_KEPT, GapTotals, TripGap, ValuationPartial

__all__ = ["UsdFactors", "ValuationFold"]

_ZERO: Final = Decimal(0)
RatesByDay = Mapping[dt.date, Mapping[str, ExchangeRate]]
# A trip total's and a carrier's sums: China's cents, Kazakhstan's cents, gap cents, trips.
_CN: Final = 0
_KZ: Final = 1
_GAP: Final = 2
_TRIPS: Final = 3
# An HS-6's: China's cents, China's trips with the code, the same for Kazakhstan, gap cents, trips.
_H_CN: Final = 0
_H_CN_SEEN: Final = 1
_H_KZ: Final = 2
_H_KZ_SEEN: Final = 3
_H_GAP: Final = 4
_H_TRIPS: Final = 5


class UsdFactors:
    """Each (rate day, currency)'s factor to US cents (:func:`~customs_gateway.money.usd_factor`),
    worked out once per chunk: its records share a handful of rate days and currencies. None:
    no rate that day (the line is left out of value, as ``convert``'s KeyError leaves it)."""

    __slots__ = ("_factors", "_rates")

    def __init__(self, rates: RatesByDay) -> None:
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


def _lines_usd(lines: Iterable[ScanLine], day: dt.date, factors: UsdFactors) -> dict[str, int]:
    """Priced lines in US cents by HS-6 (``money.convert``'s figure, line by line)."""
    by_hs6: dict[str, int] = {}
    for line in lines:
        factor = factors.get(day, line.currency)
        if factor is None:  # no rate for the currency that day: left out rather than guessed
            continue
        by_hs6[line.hs6] = by_hs6.get(line.hs6, 0) + usd_minor(line.value_minor, factor)
    return by_hs6


def _cents(cents: int) -> Decimal:
    return minor_to_decimal(cents, MONEY_PLACES)


def _totals(sums: list[int]) -> GapTotals:
    if not sums[_TRIPS]:
        return GapTotals()
    return GapTotals(_cents(sums[_CN]), _cents(sums[_KZ]), _cents(sums[_GAP]), sums[_TRIPS])


class ValuationFold:
    """The linked trips of one chunk; :meth:`partial` gives their :class:`ValuationPartial`."""

    __slots__ = ("_by_carrier", "_by_hs6", "_floor", "_largest", "_names", "_total", "unpriced")

    def __init__(self) -> None:
        self._total = [0, 0, 0, 0]
        self._by_carrier: dict[str, list[int]] = {}
        self._names: dict[str, str] = {}
        self._by_hs6: dict[str, list[int]] = {}
        self._largest: list[TripGap] = []
        # The sort key of the last gap kept by the last trim: a trip whose key is above it can
        # never be among the largest kept, so no TripGap is made for it (most trips of a chunk).
        self._floor: tuple[Decimal, str] | None = None
        self.unpriced = 0  # linked trips left out: a needed rate was missing

    def fold_pair(
        self,
        china: ScanRecord,
        kazakhstan: ScanRecord,
        rates: RatesByDay,
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
        (``money.usd_minor``, the same rounding)."""
        if factors is None:
            factors = UsdFactors(rates)
        cn_factor = factors.get(china.rate_date, china.currency)
        kz_factor = factors.get(kazakhstan.rate_date, kazakhstan.currency)
        # A day without any rate table leaves the trip out, even a trip valued in USD (as before).
        no_table = rates.get(china.rate_date) is None or rates.get(kazakhstan.rate_date) is None
        if cn_factor is None or kz_factor is None or no_table:
            self.unpriced += 1
            return
        cn_usd = usd_minor(china.total_minor, cn_factor)
        kz_usd = usd_minor(kazakhstan.total_minor, kz_factor)
        importing_is_kz = china.direction is Direction.CN_TO_KZ
        gap = kz_usd - cn_usd if importing_is_kz else cn_usd - kz_usd
        carrier = china.carrier.id or kazakhstan.carrier.id or china.carrier.name
        sums = self._by_carrier.get(carrier)
        if sums is None:
            sums = self._by_carrier[carrier] = [0, 0, 0, 0]
            self._names[carrier] = china.carrier.name
        for totals in (self._total, sums):
            totals[_CN] += cn_usd
            totals[_KZ] += kz_usd
            totals[_GAP] += gap
            totals[_TRIPS] += 1
        if lines_usd is None:
            lines_usd = (
                _lines_usd(china.goods, china.rate_date, factors),
                _lines_usd(kazakhstan.goods, kazakhstan.rate_date, factors),
            )
        self._fold_codes(*lines_usd, importing_is_kz=importing_is_kz)
        key = (-abs(_cents(gap)), china.key)
        if self._floor is not None and key > self._floor:
            return
        cn_decimal, kz_decimal = _cents(cn_usd), _cents(kz_usd)
        self._largest.append(
            TripGap(
                crossing,
                china.direction,
                day,
                china.key,
                kazakhstan.key,
                carrier,
                china.carrier.name,
                cn_decimal,
                kz_decimal,
                _cents(gap),
                relative_gap(cn_decimal, kz_decimal, china.direction),
            )
        )
        if len(self._largest) > 2 * LARGEST_KEPT:
            self._largest.sort(key=lambda trip: (-abs(trip.gap_usd), trip.china_batch_no))
            del self._largest[LARGEST_KEPT:]
            last = self._largest[-1]
            self._floor = (-abs(last.gap_usd), last.china_batch_no)

    def _fold_codes(self, china: Mapping[str, int], kazakhstan: Mapping[str, int], *, importing_is_kz: bool) -> None:
        for code in china.keys() | kazakhstan.keys():
            sums = self._by_hs6.get(code)
            if sums is None:
                sums = self._by_hs6[code] = [0, 0, 0, 0, 0, 0]
            cn, kz = china.get(code), kazakhstan.get(code)
            if cn is not None:
                sums[_H_CN] += cn
                sums[_H_CN_SEEN] += 1
            if kz is not None:
                sums[_H_KZ] += kz
                sums[_H_KZ_SEEN] += 1
            cn_cents, kz_cents = cn or 0, kz or 0
            sums[_H_GAP] += kz_cents - cn_cents if importing_is_kz else cn_cents - kz_cents
            sums[_H_TRIPS] += 1

    def partial(self) -> ValuationPartial:
        """The chunk's valuation, in the partial's ``Decimal`` figures."""
        return ValuationPartial(
            total=_totals(self._total),
            unpriced=self.unpriced,
            by_hs6={
                code: GapTotals(
                    _cents(sums[_H_CN]) if sums[_H_CN_SEEN] else _ZERO,
                    _cents(sums[_H_KZ]) if sums[_H_KZ_SEEN] else _ZERO,
                    _cents(sums[_H_GAP]),
                    sums[_H_TRIPS],
                )
                for code, sums in self._by_hs6.items()
            },
            by_carrier={carrier: _totals(sums) for carrier, sums in self._by_carrier.items()},
            carrier_names=dict(self._names),
            largest=list(self._largest),
        )
