"""Money in US dollars at the National Bank of Kazakhstan's rate of the day. Decimal only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from ..domain import ExchangeRate, Money

__all__ = ["UsdValue", "to_usd"]

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class UsdValue:
    amount_usd: Decimal | None  # None when the day's rates lack the currency
    rate_date: dt.date | None  # None when no conversion was needed (already USD)
    rate_source: str | None
    kzt_per_unit: Decimal | None  # NBK: tenge per unit of the money's currency
    kzt_per_usd: Decimal | None


def to_usd(money: Money, rates: Mapping[str, ExchangeRate]) -> UsdValue:
    """Convert through tenge: amount × (KZT per unit) / (KZT per USD), rounded to the cent."""
    if money.currency == "USD":
        return UsdValue(money.amount, None, None, None, None)
    unit, usd = rates.get(money.currency), rates.get("USD")
    if unit is None or usd is None or not usd.kzt_per_unit:
        return UsdValue(None, None, None, None, None)
    amount = (money.amount * unit.kzt_per_unit / usd.kzt_per_unit).quantize(_CENT, ROUND_HALF_EVEN)
    return UsdValue(amount, unit.date, unit.source, unit.kzt_per_unit, usd.kzt_per_unit)
