"""Report partials, percentiles, filters and the memo: pure functions, checked by properties."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.crossings import CrossingRegistry
from customs_gateway.domain import Direction
from customs_gateway.errors import InvalidInput
from customs_gateway.reports import ChunkPartial, Flow, GapTotals, ReportLimits, TripGap, make_filter, parse_csv_params
from customs_gateway.reports.filters import GroupKey, Interval, period_start
from customs_gateway.reports.memo import PartialMemo
from customs_gateway.reports.partials import MAX_MINUTES, add_histogram, minutes_between, percentile
from customs_gateway.reports.valuation import LARGEST_KEPT, ValuationPartial

minutes_lists = st.lists(st.integers(min_value=0, max_value=5000), max_size=300)
short_minutes = st.lists(st.integers(min_value=0, max_value=5000), max_size=8)
quantiles = st.sampled_from([0.01, 0.5, 0.9, 0.99, 1.0])
decimals = st.integers(min_value=0, max_value=10**11).map(lambda cents: Decimal(cents).scaleb(-2))
hs6_codes = st.sampled_from(["870380", "851713", "740311", "100199", "847130"])


def histogram(values: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def nearest_rank(values: list[int], q: float) -> int | None:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1] if ordered else None


@given(minutes_lists, quantiles)
def test_percentile_of_a_histogram_is_the_nearest_rank_of_its_values(values: list[int], q: float) -> None:
    assert percentile(histogram(values), q) == nearest_rank(values, q)


@given(minutes_lists, minutes_lists, quantiles)
def test_merged_histograms_give_the_percentile_of_all_values(a: list[int], b: list[int], q: float) -> None:
    merged = histogram(a)
    add_histogram(merged, histogram(b))
    assert percentile(merged, q) == nearest_rank(a + b, q)


@given(st.integers(min_value=-(10**7), max_value=10**8))
def test_minutes_are_floored_and_bounded(seconds: int) -> None:
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    got = minutes_between(start, start + dt.timedelta(seconds=seconds))
    assert got == max(0, min(MAX_MINUTES, seconds // 60))


zones = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=5))])


@given(
    start=st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1), timezones=zones),
    delta=st.one_of(
        st.timedeltas(-dt.timedelta(days=2), dt.timedelta(days=2)),
        st.timedeltas(-dt.timedelta(days=40), dt.timedelta(days=40)),
        st.builds(  # next to a minute's end
            lambda minutes, seconds, micro: dt.timedelta(minutes=minutes, seconds=seconds, microseconds=micro),
            st.integers(-3000, 50_000),
            st.sampled_from([0, 1, 58, 59, 60]),
            st.sampled_from([0, 1, 500_000, 999_999]),
        ),
    ),
    zone=zones,
)
def test_minutes_are_the_timedelta_floored_to_minutes(start: dt.datetime, delta: dt.timedelta, zone: dt.tzinfo) -> None:
    # Microseconds, negative gaps and two offsets: the minutes are the timedelta's floor division.
    end = (start + delta).astimezone(zone)
    expected = (end - start) // dt.timedelta(minutes=1)
    assert minutes_between(start, end) == max(0, min(MAX_MINUTES, expected))


flows = st.builds(Flow, decimals, decimals, st.integers(min_value=0, max_value=10**6))


@st.composite
def chunk_partials(draw: st.DrawFn) -> ChunkPartial:
    partial = ChunkPartial()
    for side in (partial.china, partial.kazakhstan):
        side.total = draw(flows)
        side.hs6 = draw(st.dictionaries(hs6_codes, flows, max_size=3))
        side.chapter_trucks = {code[:2]: flow.trucks for code, flow in side.hs6.items()}
        side.unpriced = draw(st.integers(min_value=0, max_value=9))
        side.clearance = histogram(draw(short_minutes))
        side.open = draw(st.integers(min_value=0, max_value=9))
    partial.door_to_door = histogram(draw(short_minutes))
    partial.linked = draw(st.integers(min_value=0, max_value=999))
    return partial


@given(chunk_partials())
def test_a_partial_survives_its_cache_parts(partial: ChunkPartial) -> None:
    back = ChunkPartial.from_parts(partial.parts())
    assert back.china == partial.china and back.kazakhstan == partial.kazakhstan
    assert back.door_to_door == partial.door_to_door and back.linked == partial.linked


@given(chunk_partials())
def test_only_the_parts_read_are_filled(partial: ChunkPartial) -> None:
    flow_only = ChunkPartial.from_parts({"flow": partial.parts()["flow"]})
    assert flow_only.china.total == partial.china.total
    assert flow_only.china.hs6 == {} and flow_only.china.clearance == {} and flow_only.door_to_door == {}


@given(chunk_partials(), chunk_partials())
def test_adding_partials_adds_their_totals(a: ChunkPartial, b: ChunkPartial) -> None:
    want = a.china.total.trucks + b.china.total.trucks, a.kazakhstan.total.value_usd + b.kazakhstan.total.value_usd
    a.add(b)
    assert (a.china.total.trucks, a.kazakhstan.total.value_usd) == want


def trip_gap(index: int, gap: Decimal, carrier: str) -> TripGap:
    return TripGap(
        "KHORGOS", Direction.CN_TO_KZ, dt.date(2025, 3, 1), f"B{index:05d}", f"P{index:05d}", carrier, "名",
        Decimal(1000), Decimal(1000) + gap, gap, None,
    )  # fmt: skip


@given(st.lists(st.tuples(st.integers(-(10**6), 10**6), st.sampled_from(["A", "B"])), max_size=3 * LARGEST_KEPT))
def test_valuation_partials_keep_the_largest_gaps_and_round_trip(gaps: list[tuple[int, str]]) -> None:
    partial = ValuationPartial(largest=[trip_gap(i, Decimal(g), c) for i, (g, c) in enumerate(gaps)])
    for carrier in ("A", "B"):
        partial.by_carrier[carrier] = GapTotals(Decimal(1), Decimal(2), Decimal(1), 1)
    back = ValuationPartial.from_bytes(partial.to_bytes())
    ranked = sorted(gaps, key=lambda g: -abs(g[0]))[:LARGEST_KEPT]
    assert sorted(abs(g.gap_usd) for g in back.largest) == sorted(Decimal(abs(g)) for g, _ in ranked)
    own = back.for_carrier("A")
    assert set(own.by_carrier) == {"A"} and all(g.carrier_id == "A" for g in own.largest)
    assert own.by_hs6 == {}


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)), st.sampled_from(list(Interval)))
def test_periods_start_on_their_first_day(day: dt.date, interval: Interval) -> None:
    start = period_start(day, interval)
    assert start <= day
    if interval is Interval.WEEK:
        assert start.weekday() == 0 and (day - start).days < 7
    elif interval is Interval.MONTH:
        assert start == day.replace(day=1)
    else:
        assert start == day


class _Crossing:
    def __init__(self, crossing_id: str) -> None:
        self.id, self.name, self.phase = crossing_id, crossing_id, 0
        self.cn_port_code, self.cn_name, self.cn_name_latin = crossing_id + "cn", "cn", "cn"
        self.cn_locode, self.cn_locode_official = None, False
        self.kz_checkpoint_code, self.kz_name, self.kz_name_latin = crossing_id + "kz", "kz", "kz"
        self.kz_locode, self.kz_locode_official = None, False


REGISTRY = CrossingRegistry.from_settings([_Crossing("KHORGOS"), _Crossing("BAKHTY")])
TODAY = dt.date(2025, 4, 1)


def test_a_filter_is_whole_days_up_to_today() -> None:
    f = make_filter(REGISTRY, ReportLimits(), start=dt.date(2025, 3, 30), end=dt.date(2025, 4, 5), today=TODAY)
    assert f.days == [dt.date(2025, 3, 30), dt.date(2025, 3, 31), dt.date(2025, 4, 1)]
    assert [c.id for c in f.crossings] == ["KHORGOS", "BAKHTY"]
    assert f.directions == (Direction.CN_TO_KZ, Direction.KZ_TO_CN)


@pytest.mark.parametrize(
    ("start", "end", "crossings", "message"),
    [
        (dt.date(2025, 3, 2), dt.date(2025, 3, 1), (), "before"),
        (dt.date(2025, 1, 1), dt.date(2025, 3, 1), (), "at most 31 days"),
        (dt.date(2025, 5, 1), dt.date(2025, 5, 2), (), "future"),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 1), ("KHORGOS", "ATLANTIS"), "unknown crossing point 'ATLANTIS'"),
    ],
)
def test_bad_filters_say_what_is_wrong(start: dt.date, end: dt.date, crossings: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_filter(REGISTRY, ReportLimits(max_days=31), start=start, end=end, crossing_ids=crossings, today=TODAY)


def test_csv_parameters_take_repeated_or_comma_separated_lists() -> None:
    params = parse_csv_params(
        {
            "from": ["2025-03-01"],
            "to": ["2025-03-02"],
            "crossing": ["KHORGOS,BAKHTY", "DULATA"],
            "groupBy": ["crossing", "HS6"],
            "interval": ["week"],
            "direction": ["kz_to_cn"],
        }
    )
    assert params.crossing_ids == ("KHORGOS", "BAKHTY", "DULATA")
    assert params.group_by == (GroupKey.CROSSING, GroupKey.HS6)
    assert params.interval is Interval.WEEK and params.direction is Direction.KZ_TO_CN


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"to": ["2025-03-02"]}, "'from' is required"),
        ({"from": ["2025-03-01"], "to": ["2025-03-02"], "limit": ["5"]}, "unknown parameter"),
        ({"from": ["2025-03-01"], "to": ["2025-03-02", "2025-03-03"]}, "more than once"),
        ({"from": ["2025-03-01"], "to": ["2025-03-02"], "interval": ["YEAR"]}, "'interval' must be one of"),
        ({"from": ["2025-03-01"], "to": ["2025-03-02"], "direction": ["UP"]}, "'direction' must be one of"),
    ],
)
def test_bad_csv_parameters_are_refused(params: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_csv_params(params)


def test_the_memo_is_bounded_in_bytes_and_forgets_what_expired() -> None:
    now = [100.0]
    memo: PartialMemo[bytes] = PartialMemo(max_bytes=10, clock=lambda: now[0])
    memo.put("a", b"12345", fresh_until=200, size=5)
    memo.put("b", b"12345", fresh_until=150, size=5)
    assert memo.get_many(["a"]) == {"a": b"12345"}  # a is now the most recently used
    memo.put("c", b"123", fresh_until=200, size=3)  # over 10 bytes: the least recently used (b) goes
    assert memo.get_many(["a", "b", "c"]) == {"a": b"12345", "c": b"123"}
    assert memo.size_bytes == 8
    now[0] = 201
    assert memo.get_many(["a", "c"]) == {} and memo.size_bytes == 0
