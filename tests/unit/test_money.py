"""Money: strict wire amounts, China currency codes, conversion through tenge in Decimal only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import amount_strings, amounts, exchange_rates

from customs_gateway.domain import ExchangeRate, Money
from customs_gateway.money import (
    MAX_AMOUNT_DIGITS,
    cn_currency,
    convert,
    minor_to_decimal,
    parse_amount,
    parse_minor,
    usd_amount,
    usd_factor,
    usd_minor,
)

DAY = dt.date(2025, 11, 28)
# The rates of the KGD wire-format example.
NBK = {
    currency: ExchangeRate(currency, Decimal(value), DAY, "NBK")
    for currency, value in {"USD": "521.34", "CNY": "73.41", "EUR": "604.10", "RUB": "6.52"}.items()
}
CENT = Decimal("0.01")


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ("120000.00", 2, "120000.00"),
        ("12345.678", 3, "12345.678"),
        ("1.5", 2, "1.50"),
        ("7", 2, "7.00"),
        ("0", 0, "0"),
        ("0.000", 3, "0.000"),
        ("9" * MAX_AMOUNT_DIGITS, 0, "9" * MAX_AMOUNT_DIGITS),
    ],
)
def test_amounts_are_exact_with_exactly_places_decimals(text: str, places: int, expected: str) -> None:
    parsed = parse_amount(text, places)
    assert type(parsed) is Decimal
    assert str(parsed) == expected


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("", 2), ("-1.00", 2), ("+1.00", 2), ("1e5", 2), ("1E+5", 2), ("NaN", 2), ("inf", 2),
        ("Infinity", 2), (" 1.00", 2), ("1.00\n", 2), ("1.", 2), (".5", 2), ("1.234", 2), ("1.5", 0),
        ("1,000.00", 2), ("1 000.00", 2), ("１.００", 2), ("0x10", 2), ("1" * (MAX_AMOUNT_DIGITS + 1), 2),
        ("1" * MAX_AMOUNT_DIGITS + ".1", 2), ("1.00", -1),
    ],
)  # fmt: skip
def test_anything_but_a_plain_amount_is_a_value_error(text: str, places: int) -> None:
    with pytest.raises(ValueError):
        parse_amount(text, places)


@given(amount=amounts(places=3))
@settings(max_examples=100)
def test_wire_amount_round_trips(amount: Decimal) -> None:
    parsed = parse_amount(f"{amount:f}", 3)
    assert parsed == amount
    assert parsed.as_tuple().exponent == -3


@given(text=amount_strings(places=3))
@settings(max_examples=100)
def test_shorter_fractions_are_padded_not_changed(text: str) -> None:
    assert parse_amount(text, 3) == Decimal(text)


@pytest.mark.parametrize(("code", "iso"), [("142", "CNY"), ("502", "USD"), ("300", "EUR"), ("332", "RUB")])
def test_china_currency_codes(code: str, iso: str) -> None:
    assert cn_currency(code) == iso


@pytest.mark.parametrize("code", ["", "CNY", "344", "999", " 142", "142 "])
def test_unknown_china_currency_code_is_a_value_error(code: str) -> None:
    with pytest.raises(ValueError, match="currency code"):
        cn_currency(code)


def test_conversion_matches_the_kgd_wire_example() -> None:
    assert convert(Money(Decimal("170000.00"), "USD"), "KZT", NBK) == Money(Decimal("88627800.00"), "KZT")
    assert convert(Money(Decimal("41000.00"), "USD"), "KZT", NBK).amount == Decimal("21374940.00")


def test_usd_amount_goes_through_tenge() -> None:
    # 1 000 000 CNY × 73.41 / 521.34 = 140 810.2198…
    assert usd_amount(Money(Decimal("1000000.00"), "CNY"), NBK) == Decimal("140810.22")


def test_rounding_is_half_even_to_cents() -> None:
    assert usd_amount(Money(Decimal("0.125"), "USD"), {}) == Decimal("0.12")
    assert usd_amount(Money(Decimal("0.135"), "USD"), {}) == Decimal("0.14")


def test_a_missing_rate_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        usd_amount(Money(Decimal("1.00"), "JPY"), NBK)
    with pytest.raises(KeyError):
        usd_amount(Money(Decimal("1.00"), "CNY"), {"CNY": NBK["CNY"]})


def test_tenge_needs_no_rate_for_itself() -> None:
    assert convert(Money(Decimal("521.34"), "KZT"), "USD", {"USD": NBK["USD"]}).amount == Decimal("1.00")


def test_floats_are_refused_not_rounded() -> None:
    with pytest.raises(TypeError):
        usd_amount(Money(0.1, "CNY"), NBK)  # type: ignore[arg-type]
    float_rate = {"CNY": ExchangeRate("CNY", 73.41, DAY, "NBK"), "USD": NBK["USD"]}  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        usd_amount(Money(Decimal("1.00"), "CNY"), float_rate)


@pytest.mark.parametrize("bad_rate", ["0", "-73.41"])
def test_a_non_positive_rate_is_a_value_error(bad_rate: str) -> None:
    rates = {"CNY": ExchangeRate("CNY", Decimal(bad_rate), DAY, "NBK"), "USD": NBK["USD"]}
    with pytest.raises(ValueError, match="not positive"):
        usd_amount(Money(Decimal("1.00"), "CNY"), rates)


@given(amount=amounts(places=2))
@settings(max_examples=100)
def test_usd_to_usd_is_the_identity_without_any_rate(amount: Decimal) -> None:
    result = usd_amount(Money(amount, "USD"), {})
    assert type(result) is Decimal
    assert result == amount


@given(amount=amounts(places=2, max_digits=15), rates=exchange_rates(("USD", "CNY")))
@settings(max_examples=100)
def test_usd_to_cny_and_back_is_within_one_cent(amount: Decimal, rates: dict[str, ExchangeRate]) -> None:
    # The CNY leg is rounded to a fen, the USD leg to a cent: a fen is worth at most a cent here
    # only when the yuan is worth at most a dollar, so bound by the rate ratio as well.
    cny = convert(Money(amount, "USD"), "CNY", rates)
    back = usd_amount(cny, rates)
    ratio = rates["CNY"].kzt_per_unit / rates["USD"].kzt_per_unit
    assert type(back) is Decimal and type(cny.amount) is Decimal
    assert abs(back - amount) <= CENT / 2 + CENT / 2 * ratio


@given(amount=amounts(places=2, max_digits=15))
@settings(max_examples=100)
def test_cny_to_usd_and_back_with_real_rates_is_within_the_rounding_of_a_cent(amount: Decimal) -> None:
    usd = usd_amount(Money(amount, "CNY"), NBK)
    back = convert(Money(usd, "USD"), "CNY", NBK).amount
    ratio = NBK["USD"].kzt_per_unit / NBK["CNY"].kzt_per_unit  # ≈ 7.1 yuan per dollar
    assert abs(back - amount) <= CENT / 2 * ratio + CENT / 2


@given(amount=amounts(places=2, max_digits=15))
@settings(max_examples=100)
def test_usd_cny_usd_with_real_rates_is_within_one_cent(amount: Decimal) -> None:
    cny = convert(Money(amount, "USD"), "CNY", NBK)
    assert abs(usd_amount(cny, NBK) - amount) <= CENT


# -- exact integers of minor units (the reports' scan path) -------------------------------------


@given(
    text=st.one_of(
        amount_strings(places=3),
        st.text(st.sampled_from("0123456789.-+_ e\u0663\u00b2"), max_size=22),
        st.integers(0, 10**19).map(str),
    ),
    places=st.integers(-1, 4),
)
@settings(max_examples=300)
def test_minor_units_accept_and_refuse_what_parse_amount_does(text: str, places: int) -> None:
    try:
        expected = parse_amount(text, places)
    except ValueError:
        with pytest.raises(ValueError):
            parse_minor(text, places)
        return
    minor = parse_minor(text, places)
    assert type(minor) is int
    assert minor == expected.scaleb(places)
    assert str(minor_to_decimal(minor, places)) == str(expected)  # the same digits and exponent


@given(amount=amounts(places=2), rates=exchange_rates(), currency=st.sampled_from(["USD", "CNY", "EUR", "RUB", "KZT"]))
@settings(max_examples=300)
def test_cents_by_integer_factor_are_convert_s_figure(
    amount: Decimal, rates: dict[str, ExchangeRate], currency: str
) -> None:
    minor = int(amount.scaleb(2))
    expected = convert(Money(amount, currency), "USD", rates).amount
    assert usd_minor(minor, usd_factor(currency, rates)) == expected.scaleb(2)


def test_cents_round_half_even_on_exact_ties() -> None:
    # 1.00 at 1.25 / 2.00 KZT: 0.625 USD -> 0.62; at 1.35 / 2.00: 0.675 -> 0.68.
    for rate, cents in (("1.25", 62), ("1.35", 68)):
        rates = {
            "USD": ExchangeRate("USD", Decimal("2.00"), DAY, "NBK"),
            "CNY": ExchangeRate("CNY", Decimal(rate), DAY, "NBK"),
        }
        assert convert(Money(Decimal("1.00"), "CNY"), "USD", rates).amount == Decimal(cents).scaleb(-2)
        assert usd_minor(100, usd_factor("CNY", rates)) == cents


def test_factors_fail_as_convert_fails() -> None:
    with pytest.raises(KeyError):
        usd_factor("CNY", {"USD": NBK["USD"]})
    assert usd_factor("USD", {}) == (1, 1)  # USD needs no rate
    bad = {**NBK, "CNY": ExchangeRate("CNY", Decimal("0"), DAY, "NBK")}
    with pytest.raises(ValueError, match="not positive"):
        usd_factor("CNY", bad)
