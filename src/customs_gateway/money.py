"""Money on the wire and between currencies, in ``Decimal`` only.

GACC writes amounts as strings with 2 decimals and a China-customs numeric currency code
(``142`` CNY, ``502`` USD); KGD writes the invoice currency by ISO code plus the tenge value and
the National Bank of Kazakhstan (NBK) rate. To compare the two sides' values (the valuation-gap
reports) everything is converted through tenge with NBK rates, because those are the rates the
Kazakh side itself used. A binary float never enters: a float amount is a ``TypeError`` here, not
a rounding surprise three reports later.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from .domain import ExchangeRate, Money

__all__ = [
    "CN_CURRENCY_CODES",
    "MAX_AMOUNT_DIGITS",
    "cn_currency",
    "convert",
    "minor_to_decimal",
    "parse_amount",
    "parse_minor",
    "usd_amount",
    "usd_factor",
    "usd_minor",
]

#: China customs currency codes (海关币制代码) → ISO 4217. ``142`` and ``502`` are what the GACC
#: wire format uses; the rest is the customs table for currencies seen in this trade. Note that
#: RUB is 332: 344 is Russia's *country* code, a common mix-up.
CN_CURRENCY_CODES: Mapping[str, str] = MappingProxyType(
    {
        "110": "HKD",
        "116": "JPY",
        "121": "MOP",
        "132": "SGD",
        "142": "CNY",
        "300": "EUR",
        "302": "DKK",
        "303": "GBP",
        "326": "NOK",
        "330": "SEK",
        "331": "CHF",
        "332": "RUB",
        "501": "CAD",
        "502": "USD",
        "601": "AUD",
        "609": "NZD",
    }
)

#: More significant digits than any customs amount or mass has; beyond it the text is hostile.
MAX_AMOUNT_DIGITS: Final = 18

_KZT: Final = "KZT"
_USD: Final = "USD"
_CENT: Final = Decimal("0.01")
_AMOUNT: Final = re.compile(r"(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?")
# Enough precision that converting an 18-digit amount loses nothing before the final rounding.
_CONTEXT: Final = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])


def parse_amount(text: str, places: int) -> Decimal:
    """A non-negative decimal string with at most ``places`` decimals, as an exact ``Decimal``.

    The result always has exactly ``places`` decimals (``"1.5"``, 2 → ``Decimal("1.50")``), so equal
    amounts print alike. Signs, exponents, ``NaN``/``Infinity``, whitespace, non-ASCII digits and
    more than :data:`MAX_AMOUNT_DIGITS` digits are refused: the wire formats never use them.

    Raises:
        ValueError: anything but such a string (``places`` negative included).
    """
    if places < 0:
        raise ValueError(f"places must be >= 0, got {places}")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"not a plain decimal amount: {text!r}")
    integer, fraction = match["int"], match["frac"] or ""
    if len(fraction) > places:
        raise ValueError(f"amount {text!r} has more than {places} decimals")
    if len(integer) + len(fraction) > MAX_AMOUNT_DIGITS:
        raise ValueError(f"amount {text!r} has more than {MAX_AMOUNT_DIGITS} digits")
    if places == 0:
        return Decimal(integer)
    return Decimal(f"{integer}.{fraction.ljust(places, '0')}")


_SCALE: Final[tuple[int, ...]] = tuple(10**places for places in range(MAX_AMOUNT_DIGITS + 1))


def parse_minor(text: str, places: int) -> int:
    """:func:`parse_amount` in minor units, as an exact integer: ``"1.5"``, 2 → ``150``.

    Accepts and refuses exactly what :func:`parse_amount` does (``parse_minor(t, p) ==
    parse_amount(t, p) * 10**p``), without building a ``Decimal``: reports add up every goods
    line of their window, and exact integers are the cheap way to do it.

    Raises:
        ValueError: as :func:`parse_amount`.
    """
    # The digits without the first dot: all digits when the text is digits with at most one dot.
    dot = text.find(".")
    digits = text if dot < 0 else text.replace(".", "", 1)
    decimals = 0 if dot < 0 else len(text) - dot - 1
    if not (
        text.isascii()
        and digits.isdigit()
        and dot != 0  # digits before the dot
        and (decimals or dot < 0)  # and after it
        and decimals <= places <= MAX_AMOUNT_DIGITS
        and len(digits) <= MAX_AMOUNT_DIGITS
    ):
        return int(parse_amount(text, places).scaleb(places))  # or raises parse_amount's ValueError
    return int(digits) * _SCALE[places - decimals]


def minor_to_decimal(minor: int, places: int) -> Decimal:
    """``minor`` units as the ``Decimal`` :func:`parse_amount` gives (``150``, 2 → ``1.50``)."""
    return Decimal(minor).scaleb(-places)


def cn_currency(code: str) -> str:
    """China customs numeric currency code → ISO 4217 alpha-3 (``"142"`` → ``"CNY"``).

    Raises:
        ValueError: a code not in :data:`CN_CURRENCY_CODES`.
    """
    try:
        return CN_CURRENCY_CODES[code]
    except KeyError:
        raise ValueError(f"unknown China customs currency code: {code!r}") from None


def usd_amount(amount: Money, rates: Mapping[str, ExchangeRate]) -> Decimal:
    """``amount`` in US dollars through tenge at NBK rates, rounded half-even to cents.

    ``amount × kzt_per_unit[currency] / kzt_per_unit[USD]``. USD needs no rate (it is only
    rounded to cents); tenge needs no rate for itself.

    Raises:
        KeyError: a needed rate is missing from ``rates``.
        TypeError: the amount is not a ``Decimal``.
        ValueError: a rate is not positive.
    """
    return convert(amount, _USD, rates).amount


def convert(money: Money, to_currency: str, rates: Mapping[str, ExchangeRate]) -> Money:
    """``money`` in ``to_currency`` through tenge at NBK rates, rounded half-even to 2 decimals.

    Every currency is rounded to 2 decimals, the precision both authorities record amounts in.
    Converting to the same currency needs no rate.

    Raises:
        KeyError: a needed rate is missing from ``rates``.
        TypeError: the amount is not a ``Decimal``.
        ValueError: a rate is not positive.
    """
    if not isinstance(money.amount, Decimal):
        raise TypeError(f"money amount must be a Decimal, not {type(money.amount).__name__}")
    if money.currency == to_currency:
        return Money(money.amount.quantize(_CENT, context=_CONTEXT), to_currency)
    # The context's own operations, not ``localcontext``: the same arithmetic without entering
    # and leaving a context per call (a cold report converts every goods line it reads).
    tenge = _CONTEXT.multiply(money.amount, _kzt_per_unit(money.currency, rates))
    converted = _CONTEXT.divide(tenge, _kzt_per_unit(to_currency, rates)).quantize(_CENT, context=_CONTEXT)
    return Money(converted, to_currency)


def usd_factor(currency: str, rates: Mapping[str, ExchangeRate]) -> tuple[int, int]:
    """``(numerator, denominator)``: an amount of ``currency`` in minor units times
    numerator / denominator is its value in US cents, before rounding (see :func:`usd_minor`).

    Raises:
        KeyError, TypeError, ValueError: as :func:`convert` for the same rates.
    """
    if currency == _USD:
        return 1, 1
    numerator, denominator = _kzt_per_unit(currency, rates).as_integer_ratio()
    usd_numerator, usd_denominator = _kzt_per_unit(_USD, rates).as_integer_ratio()
    return numerator * usd_denominator, denominator * usd_numerator


def usd_minor(minor: int, factor: tuple[int, int]) -> int:
    """US cents of ``minor`` units at ``factor`` (:func:`usd_factor`), rounded half-even: exactly
    ``convert(Money(minor / 100, currency), "USD", rates).amount * 100`` for 2-decimal amounts.

    ``convert`` rounds the tenge quotient to 50 significant digits before rounding to cents; an
    exact quotient of such integers is either a tie (exact at 50 digits too) or further from
    one than 50 digits can blur, so that first rounding never changes the cent.
    """
    quotient, remainder = divmod(minor * factor[0], factor[1])
    twice = 2 * remainder
    if twice > factor[1] or (twice == factor[1] and quotient & 1):
        quotient += 1
    return quotient


def _kzt_per_unit(currency: str, rates: Mapping[str, ExchangeRate]) -> Decimal:
    if currency == _KZT:
        return Decimal(1)
    rate = rates[currency].kzt_per_unit
    if not isinstance(rate, Decimal):
        raise TypeError(f"exchange rate for {currency} must be a Decimal, not {type(rate).__name__}")
    if not rate > 0:
        raise ValueError(f"exchange rate for {currency} is not positive: {rate}")
    return rate
