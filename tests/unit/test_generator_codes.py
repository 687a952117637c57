"""The generator's code tables and check characters: ISO 6346, USCC, BIN, VIN, NB rates, catalog."""

from __future__ import annotations

import datetime as dt
import random
import string
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_sim.catalog import CATALOG, PRODUCTS_BY_DIRECTION
from customs_sim.iso6346 import OWNER_CODES, check_digit, is_valid, make_number
from customs_sim.model import Direction
from customs_sim.people import bin_check_digit, build_pools, uscc_check_char, vin_check_digit
from customs_sim.rates import CURRENCIES, convert, cross_rate, is_business_day, nbk_rate


@pytest.mark.parametrize("number", ["CSQU3054383", "BICU1234565", "MSKU9070323"])
def test_known_valid_container_numbers(number: str) -> None:
    assert is_valid(number)


@pytest.mark.parametrize("number", ["CSQU3054384", "CSQU305438", "csqu3054383", "CSQA3054383", "CSQU 3054383"])
def test_invalid_container_numbers(number: str) -> None:
    assert not is_valid(number)


@given(
    st.text(string.ascii_uppercase, min_size=3, max_size=3),
    st.sampled_from("UJZ"),
    st.integers(0, 999_999),
)
def test_check_digit_makes_any_number_valid(owner: str, category: str, serial: int) -> None:
    prefix = f"{owner}{category}{serial:06d}"
    assert is_valid(f"{prefix}{check_digit(prefix)}")
    assert not is_valid(f"{prefix}{(check_digit(prefix) + 1) % 10}")


@given(st.integers(0, 2**32))
def test_generated_numbers_are_valid_and_never_remainder_ten(seed: int) -> None:
    number = make_number(random.Random(seed))
    assert is_valid(number) and number[:4] in OWNER_CODES
    weighted = sum(
        (int(ch) if ch.isdigit() else [v for v in range(10, 39) if v % 11][ord(ch) - 65]) << i
        for i, ch in enumerate(number[:10])
    )
    assert weighted % 11 != 10


def test_company_and_vehicle_ids_carry_valid_check_characters() -> None:
    pools = build_pools(7)
    assert uscc_check_char("91350100M000100Y4") == "3"  # a published example (GB 32100 annex)
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"  # the textbook VIN example
    entries = pools.trucks[:300]
    for entry in entries:
        assert vin_check_digit(entry.truck.vin) == entry.truck.vin[8]
        carrier = entry.carrier
        if carrier.country.value == "CN":
            assert len(carrier.id) == 18 and carrier.id.startswith("9165")
            assert uscc_check_char(carrier.id[:17]) == carrier.id[17]
        else:
            assert len(carrier.id) == 12 and carrier.id.isdigit()
            assert bin_check_digit(carrier.id[:11]) == int(carrier.id[11])
    assert 140 <= len({e.carrier.id for e in pools.trucks}) <= 150
    assert 5500 <= len(pools.trucks) <= 6500


@pytest.mark.parametrize(
    ("day", "low", "high"),
    [("2024-01-15", 440, 456), ("2024-07-15", 465, 500), ("2024-12-10", 515, 530), ("2025-11-28", 510, 530)],
)
def test_usd_rate_follows_history(day: str, low: int, high: int) -> None:
    assert low <= nbk_rate(dt.date.fromisoformat(day), "USD") <= high


def test_rates_are_2dp_consistent_and_repeat_on_weekends() -> None:
    day = dt.date(2020, 1, 1)
    while day <= dt.date(2030, 12, 31):
        usd, cny = nbk_rate(day, "USD"), nbk_rate(day, "CNY")
        assert usd.as_tuple().exponent == -2
        assert Decimal("6.2") < usd / cny < Decimal("7.4")
        day += dt.timedelta(days=37)
    friday = dt.date(2025, 11, 28)
    for offset in (1, 2):
        for currency in CURRENCIES:
            assert nbk_rate(friday + dt.timedelta(days=offset), currency) == nbk_rate(friday, currency)
    assert not is_business_day(dt.date(2025, 12, 16))  # Independence Day
    assert nbk_rate(dt.date(2025, 6, 2), "USD") != nbk_rate(dt.date(2025, 6, 3), "USD")
    with pytest.raises(ValueError, match="2020-2030"):
        nbk_rate(dt.date(2019, 12, 31), "USD")


def test_conversion_rule() -> None:
    day = dt.date(2025, 3, 4)
    amount = Decimal("1000.00")
    expected = (amount * nbk_rate(day, "USD") / nbk_rate(day, "CNY")).quantize(Decimal("0.01"))
    assert convert(amount, day, "USD", "CNY") == expected
    assert convert(amount, day, "USD", "USD") is amount
    assert Decimal("7.0") < cross_rate(day, "USD", "CNY") < Decimal("7.5")


def test_catalog_codes() -> None:
    cn_to_kz = {"870380", "870323", "870421", "842952", "851713", "847130", "841810", "401110", "392690",
                "640299", "611020", "940320", "730890", "854143"}  # fmt: skip
    assert {p.hs6 for p in PRODUCTS_BY_DIRECTION[Direction.CN_TO_KZ]} == cn_to_kz
    assert {p.hs6 for p in PRODUCTS_BY_DIRECTION[Direction.KZ_TO_CN]} == {
        "740311", "260300", "720241", "100199", "120600", "120400"
    }  # fmt: skip
    for product in CATALOG:
        assert product.cn_code[:6] == product.kz_code[:6] == product.hs6
        assert product.cn_code != product.kz_code and len(product.cn_code + product.cn_ciq) == 13
        assert product.misclassified_as[0] != product.hs6
        assert product.misclassified_as[1][:6] == product.misclassified_as[0]
