"""Plates: every spelling of one plate joins, and the parser never trips on upstream text."""

from __future__ import annotations

import dataclasses
import inspect
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import chinese_plates, plates, province_less, written_variants

from customs_gateway.domain import Country, PlateId
from customs_gateway.errors import InvalidInput
from customs_gateway.plates import (
    MAX_USER_PLATE_LENGTH,
    PROVINCE_BY_KEY,
    PROVINCES,
    _common_plate,
    _fold,
    _fold_slowly,
    _parse_chinese,
    _parse_generally,
    _parse_kazakh,
    _plate_id,
    _stable,
    normalize_plate_text,
    parse_plate,
    parse_user_plate,
    plate_search_keys,
    same_vehicle,
)
from customs_sim import plates as sim_plates


def test_province_table_is_a_bijection_onto_ascii_keys() -> None:
    assert len(PROVINCES) == 31  # 22 provinces, 5 autonomous regions, 4 municipalities
    assert len(set(PROVINCES.values())) == len(PROVINCES)
    assert {char: key for key, char in PROVINCE_BY_KEY.items()} == dict(PROVINCES)
    assert all(key.isascii() and key.isalpha() and key.isupper() for key in PROVINCES.values())


def test_province_keys_are_those_kgd_writes() -> None:
    assert {c: PROVINCES[c] for c in "新甘陕川豫冀鲁"} == {
        "新": "XIN", "甘": "GAN", "陕": "SHAAN", "川": "CHUAN", "豫": "YU", "冀": "JI", "鲁": "LU",
    }  # fmt: skip


XINJIANG = PlateId("XINF12345", "新F12345", "XINF12345", Country.CN, "新F", False, True)
XINJIANG_TRAILER = PlateId("XINF1234GUA", "新F1234挂", "XINF1234GUA", Country.CN, "新F", True, True)
NO_PROVINCE = PlateId("F12345", "F12345", "F12345", Country.CN, None, False, False)
KAZAKH = PlateId("123ABC02", "123ABC02", "123ABC02", Country.KZ, "02", False, True)
KAZAKH_TRAILER = PlateId("1234AB02", "1234AB02", "1234AB02", Country.KZ, "02", True, True)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("新F12345", XINJIANG),
        ("新F·12345", XINJIANG),
        ("新F 12345", XINJIANG),
        ("新Ｆ１２３４５", XINJIANG),
        ("新f12345", XINJIANG),
        ("XINF12345", XINJIANG),
        ("XIN F12345", XINJIANG),
        ("xin-f-12345", XINJIANG),
        ("F12345", NO_PROVINCE),
        ("新F1234挂", XINJIANG_TRAILER),
        ("XINF1234GUA", XINJIANG_TRAILER),
        ("新F·1234 挂", XINJIANG_TRAILER),
        ("123ABC02", KAZAKH),
        ("123 ABC 02", KAZAKH),
        ("123-ABC-02", KAZAKH),
        ("123авс02", KAZAKH),  # Cyrillic а, в, с typed for Latin A, B, C
        ("1234AB02", KAZAKH_TRAILER),
        ("1234 АВ 02", KAZAKH_TRAILER),
    ],
)
def test_written_forms_from_the_wire_docs(written: str, expected: PlateId) -> None:
    assert parse_plate(written) == expected


@pytest.mark.parametrize(
    ("written", "canonical", "native"),
    [
        ("京A12345", "JINGA12345", "京A12345"),
        ("津A12345", "JINA12345", "津A12345"),
        ("晋A12345", "SXA12345", "晋A12345"),
        ("渝A12345", "CQA12345", "渝A12345"),
        ("鄂A12345", "EA12345", "鄂A12345"),
        ("GANA12345", "GANA12345", "甘A12345"),
        ("JXA12345", "JXA12345", "赣A12345"),
        ("SHAANA1234GUA", "SHAANA1234GUA", "陕A1234挂"),
    ],
)
def test_provinces_sharing_a_syllable_get_distinct_keys(written: str, canonical: str, native: str) -> None:
    plate = parse_plate(written)
    assert (plate.canonical, plate.native, plate.country) == (canonical, native, Country.CN)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("A123BC77", "A123BC77"),  # a Russian plate
        ("А123ВС77", "A123BC77"),  # the same in Cyrillic: joins with the Latin spelling
        ("新FD12345", "新FD12345"),  # new-energy serials are not (yet) understood
        ("", ""),
        ("·· ", ""),
    ],
)
def test_anything_else_is_other_with_its_letters_and_digits(written: str, canonical: str) -> None:
    plate = parse_plate(written)
    assert (plate.country, plate.canonical, plate.region) == (Country.OTHER, canonical, None)


@given(plate=plates(), data=st.data())
@settings(max_examples=200)
def test_every_written_variant_parses_to_the_plate(plate: PlateId, data: st.DataObject) -> None:
    assert parse_plate(data.draw(written_variants(plate), label="written")) == plate


@given(plate=plates())
@settings(max_examples=100)
def test_canonical_and_native_round_trip(plate: PlateId) -> None:
    assert parse_plate(plate.canonical) == plate
    assert parse_plate(plate.native) == plate


@given(text=st.text(max_size=40))
@settings(max_examples=200)
def test_parse_never_raises_and_is_idempotent_on_canonical(text: str) -> None:
    plate = parse_plate(text)
    assert parse_plate(plate.canonical).canonical == plate.canonical


@given(plate=chinese_plates())
@settings(max_examples=50)
def test_a_province_less_plate_is_the_same_vehicle(plate: PlateId) -> None:
    short = parse_plate(province_less(plate))
    assert (short.country, short.province_known, short.region) == (Country.CN, False, None)
    assert short.trailer == plate.trailer
    assert same_vehicle(short, plate)
    assert same_vehicle(plate, short)


@given(a=plates(), b=plates())
@settings(max_examples=50)
def test_different_plates_are_different_vehicles(a: PlateId, b: PlateId) -> None:
    assert same_vehicle(a, b) == (a.canonical == b.canonical)


@given(a=chinese_plates(), b=chinese_plates())
@settings(max_examples=50)
def test_province_less_plates_match_only_their_own_suffix(a: PlateId, b: PlateId) -> None:
    assert same_vehicle(parse_plate(province_less(a)), b) == (province_less(a) == province_less(b))


def test_province_less_plates_are_not_matched_with_each_other_by_suffix() -> None:
    assert not same_vehicle(parse_plate("F12345"), parse_plate("E12345"))
    assert not same_vehicle(parse_plate("F12345"), parse_plate("123ABC02"))


def test_search_keys_for_a_chinese_plate_include_the_province_less_spelling() -> None:
    assert plate_search_keys(parse_plate("新F·12345")) == {
        "GACC": ["新F12345"],
        "KGD": ["XINF12345", "F12345"],
    }
    assert plate_search_keys(parse_plate("新F1234挂")) == {
        "GACC": ["新F1234挂"],
        "KGD": ["XINF1234GUA", "F1234GUA"],
    }


def test_search_keys_for_a_province_less_plate_guess_xinjiang_at_gacc() -> None:
    assert plate_search_keys(parse_plate("F12345")) == {"GACC": ["新F12345"], "KGD": ["XINF12345", "F12345"]}


def test_search_keys_for_a_kazakh_plate_are_canonical_on_both_sides() -> None:
    assert plate_search_keys(parse_plate("123 ABC 02")) == {"GACC": ["123ABC02"], "KGD": ["123ABC02"]}


@given(plate=plates())
@settings(max_examples=50)
def test_every_search_key_parses_back_to_the_same_vehicle(plate: PlateId) -> None:
    for keys in plate_search_keys(plate).values():
        assert all(same_vehicle(parse_plate(key), plate) for key in keys)


@pytest.mark.parametrize("text", ["", "   ", "·-·", "你好", "hello", "12", "X" * (MAX_USER_PLATE_LENGTH + 1)])
def test_user_input_that_is_no_plate_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_user_plate(text)
    assert caught.value.code == "BAD_USER_INPUT"


def test_user_input_error_says_what_a_plate_looks_like() -> None:
    with pytest.raises(InvalidInput, match=r"expected e\.g\. 新F12345"):
        parse_user_plate("hello")


@pytest.mark.parametrize("text", ["新F·12345", "F12345", "123 abc 02", "A123BC77"])
def test_user_input_that_is_a_plate_is_parsed(text: str) -> None:
    assert parse_user_plate(text) == parse_plate(text)


@given(plate=plates(), data=st.data())
@settings(max_examples=50)
def test_user_input_accepts_every_written_variant(plate: PlateId, data: st.DataObject) -> None:
    assert parse_user_plate(data.draw(written_variants(plate), label="written")) == plate


@given(
    text=st.text(
        st.sampled_from([*"AFZXINaf0159·- ", "新", "京", "挂", "Ａ", "１", "А", "Ж", "ǅ", "ß", "ﬁ", "\u00a0"]),
        max_size=12,
    ),
    latin=st.booleans(),
)
def test_what_looks_stable_is_what_folding_leaves_alone(text: str, latin: bool) -> None:
    # plates._fold skips the fold for such text: the fold must agree that it has nothing to do.
    if _stable(text):
        assert _fold_slowly(text, latin=latin) == text
    assert _fold(text, latin=latin) == _fold_slowly(text, latin=latin)


@given(text=st.text(st.sampled_from([*"0123456789ABCFGUXIN", "新", "挂", "٣"]), max_size=11))
def test_a_plate_is_chinese_or_kazakh_by_its_first_character(text: str) -> None:
    # parse_plate tries only the Kazakh form for a leading digit, only the Chinese one otherwise.
    norm = normalize_plate_text(text)
    assert _parse_chinese(norm) is None or _parse_kazakh(norm) is None
    if norm[:1].isdigit():
        assert _parse_chinese(norm) is None
    else:
        assert _parse_kazakh(norm) is None
    found = _parse_chinese(norm) or _parse_kazakh(norm)
    if found is not None:
        assert parse_plate(text) == found


def test_plates_are_built_with_exactly_plateids_fields() -> None:
    # plates._plate_id sets PlateId's slots without its generated __init__: that is the same only
    # while PlateId has these fields, in this order, and nothing else to run at construction.
    fields = dataclasses.fields(PlateId)
    assert [f.name for f in fields] == list(inspect.signature(_plate_id).parameters)
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields)
    assert not hasattr(PlateId, "__post_init__")


@given(text=st.one_of(st.text(max_size=16), plates().map(lambda plate: plate.native)))
@settings(max_examples=200)
def test_a_parsed_plate_is_the_plate_its_constructor_builds(text: str) -> None:
    parsed = parse_plate(text)
    built = PlateId(**{f.name: getattr(parsed, f.name) for f in dataclasses.fields(PlateId)})
    assert (parsed, hash(parsed), repr(parsed), type(parsed)) == (built, hash(built), repr(built), PlateId)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.canonical = "X"  # type: ignore[misc]


def simulated_spellings(count: int) -> list[str]:
    """Plates as the simulators write them (both sides, every prefix, trailers, every variant)."""
    rng = random.Random(20250110)
    prefixes = [*sim_plates.XINJIANG_PREFIXES, *sim_plates.CN_OTHER_PREFIXES]
    written = []
    for _ in range(count):
        chinese = rng.random() < 0.5
        if chinese:
            prefix = rng.choice(prefixes)
            plate = sim_plates.cn_trailer_plate(rng, prefix) if rng.random() < 0.2 else sim_plates.cn_plate(rng, prefix)
        else:
            region = f"{rng.randrange(1, 20):02d}"
            plate = sim_plates.kz_trailer_plate(rng, region) if rng.random() < 0.2 else sim_plates.kz_plate(rng, region)
        by_side = sim_plates.written_by_cn if rng.random() < 0.5 else sim_plates.written_by_kz
        written.append(by_side(rng, plate, chinese))
    return written


def test_the_common_forms_read_directly_are_read_as_the_general_parse_reads_them() -> None:
    # parse_plate reads the forms most records carry without normalizing or matching: the same
    # plate as the general way, and most of what the simulators write takes that way.
    written = simulated_spellings(4000)
    direct = [(text, _common_plate(text)) for text in written]
    assert all(plate == _parse_generally(text) for text, plate in direct if plate is not None)
    assert all(parse_plate(text) == _parse_generally(text) for text in written)
    assert sum(plate is not None for _, plate in direct) > len(written) // 2
    taken = {plate.country for _, plate in direct if plate is not None}
    assert taken == {Country.CN, Country.KZ}
    assert {plate.province_known for _, plate in direct if plate is not None} == {True, False}


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=size, max_size=size)


# Text around the shapes read directly: a head that is or is not a province, a prefecture that is
# or is not a capital, serials with letters, non-ASCII and non-Latin digits, trailing marks.
near_chinese = st.builds(
    lambda head, prefecture, serial, tail: head + prefecture + serial + tail,
    st.sampled_from(["", "新", "豫", "京", "XIN", "YU", "E", "JI", "SX", "X", "新新", "1", "·"]),
    st.sampled_from(["A", "F", "Z", "I", "f", "Ｆ", "1", "新"]),
    st.one_of(_digits(5), st.text(st.sampled_from("0123456789ABZ１٣"), min_size=3, max_size=6)),
    st.sampled_from(["", "", "", "挂", "GUA", "02", " "]),
)
near_kazakh = st.builds(
    lambda number, series, region: number + series + region,
    st.one_of(_digits(3), st.text(st.sampled_from("0123456789١A"), min_size=2, max_size=4)),
    st.one_of(
        st.text(st.sampled_from("ABCZ"), min_size=3, max_size=3), st.text(st.sampled_from("ABCZabАÄ1"), max_size=4)
    ),
    st.one_of(_digits(2), st.text(st.sampled_from("0123456789١A"), min_size=1, max_size=3)),
)


@given(
    text=st.one_of(
        near_chinese,
        near_kazakh,
        st.text(st.sampled_from([*"0123456789ABEFGIJNUXZ", "新", "豫", "挂", "·", " ", "Ｆ", "１", "٣"]), max_size=11),
        plates().flatmap(written_variants),
        plates().map(lambda plate: plate.canonical),
        chinese_plates().map(province_less),
    )
)
@settings(max_examples=500)
def test_a_plate_read_directly_is_the_plate_the_general_parse_gives(text: str) -> None:
    plate = _common_plate(text)
    if plate is not None:
        assert plate == _parse_generally(text)
        assert type(plate) is PlateId
    assert parse_plate(text) == _parse_generally(text)
