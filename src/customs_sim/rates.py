"""National Bank of Kazakhstan exchange rates, simulated: deterministic, smooth and plausible.

Each rate is a piecewise-linear curve through hand-picked anchors (from the published history:
USD/KZT ~448 in January 2024, ~470–500 mid-2024, ~520–525 late 2024, 500–530 in 2025), times a
small per-day noise that is a pure function of the date, so any day can be asked alone and every
run agrees. CNY, EUR and RUB are derived from USD/KZT through their own USD cross curves, which
keeps CNY/KZT consistent with USD/CNY ~7.1–7.3.

The National Bank publishes on business days only; a weekend or a Kazakh public holiday repeats
the previous business day's rate (what KGD applies on those days).

Conversion rule (the one both simulated authorities agree on, see :func:`convert`)::

    convert(amount, day, a, b) = amount                                        if a == b
                               = (amount * nbk_rate(day, a) / nbk_rate(day, b)).quantize(0.01, HALF_UP)
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

__all__ = ["CURRENCIES", "convert", "cross_rate", "is_business_day", "nbk_rate"]

CURRENCIES: tuple[str, ...] = ("USD", "CNY", "EUR", "RUB")

_CENT = Decimal("0.01")
_FIRST = dt.date(2020, 1, 1)
_LAST = dt.date(2030, 12, 31)

# (date, value) anchors; the curve is linear between them and flat beyond the ends.
_USD_KZT: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2020, 1, 1), 381.0),
    (dt.date(2020, 4, 1), 446.0),
    (dt.date(2020, 6, 1), 404.0),
    (dt.date(2020, 11, 1), 432.0),
    (dt.date(2021, 3, 1), 418.0),
    (dt.date(2021, 9, 1), 426.0),
    (dt.date(2022, 1, 1), 434.0),
    (dt.date(2022, 3, 10), 505.0),
    (dt.date(2022, 6, 1), 428.0),
    (dt.date(2022, 10, 1), 476.0),
    (dt.date(2023, 1, 1), 462.0),
    (dt.date(2023, 6, 1), 448.0),
    (dt.date(2023, 10, 1), 476.0),
    (dt.date(2024, 1, 1), 449.0),
    (dt.date(2024, 4, 1), 447.0),
    (dt.date(2024, 6, 15), 465.0),
    (dt.date(2024, 8, 1), 478.0),
    (dt.date(2024, 10, 15), 490.0),
    (dt.date(2024, 11, 25), 515.0),
    (dt.date(2024, 12, 15), 523.0),
    (dt.date(2025, 1, 15), 525.0),
    (dt.date(2025, 3, 1), 500.0),
    (dt.date(2025, 5, 15), 513.0),
    (dt.date(2025, 8, 15), 538.0),
    (dt.date(2025, 10, 1), 530.0),
    (dt.date(2025, 12, 1), 520.0),
    (dt.date(2026, 6, 1), 528.0),
    (dt.date(2027, 1, 1), 535.0),
    (dt.date(2030, 12, 31), 575.0),
)
_USD_CNY: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2020, 1, 1), 6.96),
    (dt.date(2020, 6, 1), 7.10),
    (dt.date(2021, 1, 1), 6.50),
    (dt.date(2022, 3, 1), 6.32),
    (dt.date(2022, 11, 1), 7.25),
    (dt.date(2023, 1, 15), 6.78),
    (dt.date(2023, 9, 1), 7.29),
    (dt.date(2024, 1, 1), 7.10),
    (dt.date(2024, 7, 1), 7.27),
    (dt.date(2024, 9, 30), 7.02),
    (dt.date(2025, 1, 10), 7.33),
    (dt.date(2025, 4, 10), 7.30),
    (dt.date(2025, 9, 1), 7.14),
    (dt.date(2025, 12, 1), 7.08),
    (dt.date(2030, 12, 31), 7.00),
)
_EUR_USD: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2020, 1, 1), 1.12),
    (dt.date(2021, 1, 1), 1.22),
    (dt.date(2022, 9, 1), 1.00),
    (dt.date(2023, 7, 1), 1.09),
    (dt.date(2024, 10, 1), 1.11),
    (dt.date(2025, 1, 10), 1.03),
    (dt.date(2025, 7, 1), 1.17),
    (dt.date(2025, 12, 1), 1.16),
    (dt.date(2030, 12, 31), 1.15),
)
_USD_RUB: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2020, 1, 1), 62.0),
    (dt.date(2020, 12, 1), 76.0),
    (dt.date(2022, 3, 10), 120.0),
    (dt.date(2022, 7, 1), 55.0),
    (dt.date(2023, 1, 1), 70.0),
    (dt.date(2023, 10, 10), 100.0),
    (dt.date(2024, 6, 1), 89.0),
    (dt.date(2024, 11, 27), 110.0),
    (dt.date(2025, 4, 1), 84.0),
    (dt.date(2025, 12, 1), 79.0),
    (dt.date(2030, 12, 31), 95.0),
)

# Kazakh public holidays with fixed dates (month, day); moving ones (Kurban Ait) are left out.
_HOLIDAYS = frozenset(
    {
        (1, 1),
        (1, 2),
        (1, 7),
        (3, 8),
        (3, 21),
        (3, 22),
        (3, 23),
        (5, 1),
        (5, 7),
        (5, 9),
        (7, 6),
        (8, 30),
        (10, 25),
        (12, 16),
    }
)


def _curve(anchors: tuple[tuple[dt.date, float], ...], day: dt.date) -> float:
    ordinals = [a.toordinal() for a, _ in anchors]
    x = day.toordinal()
    i = bisect.bisect_right(ordinals, x)
    if i == 0:
        return anchors[0][1]
    if i == len(anchors):
        return anchors[-1][1]
    (d0, v0), (d1, v1) = anchors[i - 1], anchors[i]
    t = (x - d0.toordinal()) / (d1.toordinal() - d0.toordinal())
    return v0 + (v1 - v0) * t


def _noise(day: dt.date, name: str, amplitude: float) -> float:
    """A deterministic multiplicative wobble in ``[1 - amplitude, 1 + amplitude]`` for this day."""
    digest = hashlib.blake2b(f"{name}:{day.isoformat()}".encode(), digest_size=8).digest()
    unit = int.from_bytes(digest, "big") / 2**64
    return 1.0 + amplitude * (2.0 * unit - 1.0)


def is_business_day(day: dt.date) -> bool:
    """Whether the National Bank publishes rates on ``day`` (not a weekend or fixed holiday)."""
    return day.weekday() < 5 and (day.month, day.day) not in _HOLIDAYS


def _publication_day(day: dt.date) -> dt.date:
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


@lru_cache(maxsize=8192)
def nbk_rate(day: dt.date, currency: str) -> Decimal:
    """KZT per one unit of ``currency`` on ``day``, 2 decimals (USD, CNY, EUR, RUB; KZT is 1).

    Raises:
        ValueError: unknown currency, or a day outside 2020–2030.
    """
    if currency == "KZT":
        return Decimal("1.00")
    if currency not in CURRENCIES:
        raise ValueError(f"no National Bank rate for {currency!r}")
    if not _FIRST <= day <= _LAST:
        raise ValueError(f"rates are simulated for 2020-2030 only, not {day}")
    pub = _publication_day(day)
    usd = _curve(_USD_KZT, pub) * _noise(pub, "USD", 0.004)
    if currency == "USD":
        value = usd
    elif currency == "CNY":
        value = usd / (_curve(_USD_CNY, pub) * _noise(pub, "USDCNY", 0.0015))
    elif currency == "EUR":
        value = usd * _curve(_EUR_USD, pub) * _noise(pub, "EURUSD", 0.002)
    else:
        value = usd / (_curve(_USD_RUB, pub) * _noise(pub, "USDRUB", 0.004))
    return Decimal(f"{value:.2f}")


def cross_rate(day: dt.date, from_cur: str, to_cur: str) -> Decimal:
    """Units of ``to_cur`` per unit of ``from_cur`` through the two KZT rates (unrounded quotient)."""
    if from_cur == to_cur:
        return Decimal(1)
    return nbk_rate(day, from_cur) / nbk_rate(day, to_cur)


def convert(amount: Decimal, day: dt.date, from_cur: str, to_cur: str) -> Decimal:
    """``amount`` of ``from_cur`` in ``to_cur`` at the National Bank rates of ``day``, 2 decimals.

    Multiplies before dividing (``amount * rate_from / rate_to``) so no intermediate rounding
    creeps in; same currency returns ``amount`` unchanged.
    """
    if from_cur == to_cur:
        return amount
    return (amount * nbk_rate(day, from_cur) / nbk_rate(day, to_cur)).quantize(_CENT, ROUND_HALF_UP)
