"""Tariff codes join on HS-6 only; container numbers carry an ISO 6346 check digit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import container_numbers, tariff_codes

from customs_gateway.codes import container_check_digit, hs6, hs_chapter, is_valid_container


@pytest.mark.parametrize(
    ("code", "expected_hs6"),
    [
        ("870380", "870380"),
        ("87038000", "870380"),
        ("8703800090", "870380"),  # China, 10 digits
        ("8703800002", "870380"),  # EAEU ТН ВЭД: same HS-6, different national digits
        ("8703800090101", "870380"),  # China, 10 + 3 inspection-quarantine digits
        ("0101210000", "010121"),
    ],
)
def test_hs6_is_the_first_six_digits(code: str, expected_hs6: str) -> None:
    assert hs6(code) == expected_hs6
    assert hs_chapter(code) == expected_hs6[:2]


@pytest.mark.parametrize(
    "code",
    ["", "87038", "8703800", "870380009", "87038000901", "870380009010", "87038000901011",
     "8703.80.0090", "8703 80 0090", "870380009O", "８７０３８０００９０", "0003800090", " 8703800090"],
)  # fmt: skip
def test_anything_but_a_6_8_10_or_13_digit_code_is_a_value_error(code: str) -> None:
    with pytest.raises(ValueError):
        hs6(code)
    with pytest.raises(ValueError):
        hs_chapter(code)


@given(code=tariff_codes())
@settings(max_examples=100)
def test_hs6_and_chapter_are_prefixes(code: str) -> None:
    assert code.startswith(hs6(code))
    assert len(hs6(code)) == 6
    assert hs_chapter(code) == code[:2] == hs6(code)[:2]


def test_the_iso_6346_example_is_valid() -> None:
    assert is_valid_container("CSQU3054383")
    assert container_check_digit("CSQU305438") == 3


def test_a_remainder_of_ten_gives_check_digit_zero() -> None:
    # C 13·1 + S 30·2 + Q 28·4 + U 32·8 + 7·512 = 4025 = 11·365 + 10
    assert container_check_digit("CSQU000007") == 0
    assert is_valid_container("CSQU0000070")
    assert not any(is_valid_container(f"CSQU000007{digit}") for digit in range(1, 10))


@given(number=container_numbers())
@settings(max_examples=100)
def test_valid_numbers_are_valid_and_any_other_check_digit_is_not(number: str) -> None:
    assert is_valid_container(number)
    others = [number[:10] + str(d) for d in range(10) if str(d) != number[10]]
    assert not any(is_valid_container(other) for other in others)


@given(number=container_numbers(), position=st.integers(4, 9), delta=st.integers(1, 9))
@settings(max_examples=100)
def test_a_single_serial_digit_typo_is_caught_unless_the_remainder_wraps(
    number: str, position: int, delta: int
) -> None:
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    # Mod 11 catches every single substitution; only the 10 → 0 folding can hide one.
    if container_check_digit(wrong[:10]) != 0 or number[10] != "0":
        assert not is_valid_container(wrong)


@pytest.mark.parametrize(
    "number",
    ["", "CSQU305438", "CSQU30543833", "csqu3054383", "CSQU 305438 3", "CSQX3054383", "CS1U3054383",
     "CSQU30543８3"],
)  # fmt: skip
def test_malformed_container_numbers_are_invalid(number: str) -> None:
    assert not is_valid_container(number)
