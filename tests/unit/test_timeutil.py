"""Wire times: Beijing wall time for GACC, ISO-8601 with the border posts' offset for KGD."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from tests.strategies import aware_datetimes

from customs_gateway.timeutil import (
    CN_TZ,
    KZ_OFFSET_SWITCH,
    format_cn_time,
    format_kz_time,
    kz_offset,
    parse_cn_time,
    parse_kz_time,
    to_utc,
)

UTC = dt.UTC
PLUS5 = dt.timezone(dt.timedelta(hours=5))


def test_cn_time_is_beijing_wall_time() -> None:
    parsed = parse_cn_time("20251128093015")
    assert parsed == dt.datetime(2025, 11, 28, 1, 30, 15, tzinfo=UTC)
    assert parsed.utcoffset() == dt.timedelta(hours=8)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2025112809301",  # 13 digits
        "202511280930150",  # 15 digits
        "2025-11-28 09:30:15",
        "20251128093015+0800",
        "20251128093015\n",
        "20251332093015",  # month 13
        "20250230093015",  # 30 February
        "20251128246000",  # hour 24
        "２０２５１１２８０９３０１５",  # full-width digits
    ],
)
def test_malformed_cn_time_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cn_time(text)


def test_format_cn_time_converts_to_beijing() -> None:
    assert format_cn_time(dt.datetime(2025, 11, 28, 10, 15, tzinfo=PLUS5)) == "20251128131500"
    assert format_cn_time(dt.datetime(1999, 12, 31, 16, 0, 0, 999_999, tzinfo=UTC)) == "20000101000000"


@pytest.mark.parametrize(
    ("text", "offset", "instant"),
    [
        ("2025-11-28T10:15:00+05:00", 5 * 60, dt.datetime(2025, 11, 28, 5, 15, tzinfo=UTC)),
        ("2023-11-28T10:15:00+06:00", 6 * 60, dt.datetime(2023, 11, 28, 4, 15, tzinfo=UTC)),
        ("2025-11-28T10:15+05:00", 5 * 60, dt.datetime(2025, 11, 28, 5, 15, tzinfo=UTC)),
        ("2025-11-28T05:15:00Z", 0, dt.datetime(2025, 11, 28, 5, 15, tzinfo=UTC)),
        ("2025-11-28T10:15:00.5+05:00", 5 * 60, dt.datetime(2025, 11, 28, 5, 15, 0, 500_000, tzinfo=UTC)),
        (
            "2025-11-28T01:45:00.123456789-03:30",
            -210,
            dt.datetime(2025, 11, 28, 5, 15, 0, 123_456, tzinfo=UTC),
        ),
    ],
)
def test_kz_time_keeps_its_offset(text: str, offset: int, instant: dt.datetime) -> None:
    parsed = parse_kz_time(text)
    assert parsed == instant
    assert parsed.utcoffset() == dt.timedelta(minutes=offset)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2025-11-28T10:15:00",  # no offset: the whole point
        "2025-11-28",
        "2025-11-28 10:15:00+05:00",
        "2025-11-28T10:15:00+0500",
        "2025-11-28T10:15:00+05",
        "20251128T101500+05:00",
        "2025-11-28T10:15:00+25:00",
        "2025-02-30T10:15:00+05:00",
        "2025-11-28T10:15:00+05:00 ",
        "2025-11-28t10:15:00z",
        "２０２５-11-28T10:15:00+05:00",
    ],
)
def test_malformed_kz_time_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_kz_time(text)


def test_format_kz_time_uses_the_border_posts_offset() -> None:
    assert format_kz_time(dt.datetime(2025, 11, 28, 13, 15, tzinfo=CN_TZ)) == "2025-11-28T10:15:00+05:00"
    assert (
        format_kz_time(dt.datetime(2023, 11, 28, 4, 15, 59, 999_999, tzinfo=UTC))
        == "2023-11-28T10:15:59+06:00"
    )


def test_kz_offset_switches_at_midnight_of_1_march_2024_local() -> None:
    last_plus6 = KZ_OFFSET_SWITCH - dt.timedelta(microseconds=1)
    assert dt.datetime(2024, 2, 29, 18, tzinfo=UTC) == KZ_OFFSET_SWITCH
    assert (kz_offset(last_plus6), kz_offset(KZ_OFFSET_SWITCH)) == (
        dt.timedelta(hours=6),
        dt.timedelta(hours=5),
    )
    assert format_kz_time(last_plus6) == "2024-02-29T23:59:59+06:00"
    assert format_kz_time(KZ_OFFSET_SWITCH) == "2024-02-29T23:00:00+05:00"


@given(at=aware_datetimes())
@settings(max_examples=100)
def test_kz_offset_is_six_hours_exactly_before_the_switch(at: dt.datetime) -> None:
    expected = dt.timedelta(hours=6) if to_utc(at) < KZ_OFFSET_SWITCH else dt.timedelta(hours=5)
    assert kz_offset(at) == expected


@given(at=aware_datetimes())
@settings(max_examples=100)
def test_cn_time_round_trips_to_the_second(at: dt.datetime) -> None:
    parsed = parse_cn_time(format_cn_time(at))
    assert parsed == at.replace(microsecond=0)
    assert parsed.utcoffset() == dt.timedelta(hours=8)


@given(at=aware_datetimes())
@settings(max_examples=100)
def test_kz_time_round_trips_to_the_second(at: dt.datetime) -> None:
    parsed = parse_kz_time(format_kz_time(at))
    assert parsed == at.replace(microsecond=0)
    assert parsed.utcoffset() == kz_offset(at)


@given(at=aware_datetimes())
@settings(max_examples=50)
def test_to_utc_is_the_same_instant_at_offset_zero(at: dt.datetime) -> None:
    utc = to_utc(at)
    assert utc == at
    assert utc.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("function", [format_cn_time, format_kz_time, kz_offset, to_utc])
def test_naive_datetimes_are_refused(function: object) -> None:
    assert callable(function)
    with pytest.raises(ValueError, match="naive"):
        function(dt.datetime(2025, 11, 28, 10, 15))
