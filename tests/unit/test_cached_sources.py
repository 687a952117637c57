"""The pieces of the cached sources: the exact record codec, TTL classes by state, the stale
report, and the resource reader over a real (in-memory) entity cache."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import arrival_notices, china_records, exchange_rates, inspections, kazakhstan_records

from customs_gateway.cache import CacheConfig, CacheCounters, MemoryBackend, TtlClass, create_cache
from customs_gateway.domain import ChinaManifestRecord, Direction, Inspection, KazakhstanPIRecord, RecordStatus
from customs_gateway.sources.cached import CodecError, StaleReport, TtlRules, codec_for, collect_stale
from customs_gateway.sources.cached.reader import CachedResource, DecodedMemo
from customs_gateway.sources.cached.values import DayRates


def offsets(value: object) -> list[dt.timedelta | None]:
    """Every datetime's UTC offset inside a value (equality of aware datetimes ignores them)."""
    found: list[dt.timedelta | None] = []
    if isinstance(value, dt.datetime):
        found.append(value.utcoffset())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            found += offsets(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            found += offsets(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += offsets(item)
    return found


def exponents(value: object) -> list[object]:
    """Every Decimal's exponent (``Decimal("1.50") == Decimal("1.5")``, but they print differently)."""
    if isinstance(value, Decimal):
        return [value.as_tuple().exponent]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [e for field in dataclasses.fields(value) for e in exponents(getattr(value, field.name))]
    if isinstance(value, tuple | list):
        return [e for item in value for e in exponents(item)]
    if isinstance(value, dict):
        return [e for item in value.values() for e in exponents(item)]
    return []


def assert_exact(decoded: object, original: object) -> None:
    assert decoded == original
    assert offsets(decoded) == offsets(original)
    assert exponents(decoded) == exponents(original)


@settings(max_examples=60, deadline=None)
@given(china_records())
def test_china_records_round_trip_exactly(record: ChinaManifestRecord) -> None:
    codec = codec_for(ChinaManifestRecord)
    assert_exact(codec.decode(codec.encode(record)), record)


@settings(max_examples=60, deadline=None)
@given(kazakhstan_records())
def test_kazakhstan_records_round_trip_exactly(record: KazakhstanPIRecord) -> None:
    codec = codec_for(KazakhstanPIRecord)
    assert_exact(codec.decode(codec.encode(record)), record)


@settings(deadline=None)  # whole records drawn: slow on a loaded machine, not wrong
@given(st.lists(inspections(), max_size=4).map(tuple), arrival_notices(), exchange_rates())
def test_inspections_arrivals_and_rates_round_trip_exactly(
    found: tuple[Inspection, ...], arrival: object, rates: dict[str, object]
) -> None:
    for annotation, value in (
        (tuple[Inspection, ...], found),
        (type(arrival), arrival),
        (DayRates, DayRates(dt.date(2025, 3, 1), rates)),  # type: ignore[arg-type]
    ):
        codec = codec_for(annotation)
        assert_exact(codec.decode(codec.encode(value)), value)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"{}", b"[]", b'["a"]', b"[" + b"null," * 22 + b"null]", b"null"],
)
def test_bytes_that_are_not_a_record_are_refused(payload: bytes) -> None:
    with pytest.raises(CodecError):
        codec_for(ChinaManifestRecord).decode(payload)


@settings(deadline=None)  # whole records drawn: slow on a loaded machine, not wrong
@given(china_records())
def test_a_field_of_the_wrong_type_is_refused(record: ChinaManifestRecord) -> None:
    codec = codec_for(ChinaManifestRecord)
    tampered = codec.encode(dataclasses.replace(record, total_packages=True))  # type: ignore[arg-type]
    with pytest.raises(CodecError):
        codec.decode(tampered)


@settings(deadline=None)  # whole records drawn: slow on a loaded machine, not wrong
@given(china_records(), kazakhstan_records())
def test_records_are_final_once_their_side_is_done_with_the_trip(
    cn: ChinaManifestRecord, kz: KazakhstanPIRecord
) -> None:
    rules = TtlRules(3600, lambda: 0.0)
    expected_cn = cn.status is RecordStatus.EXITED or (
        cn.status is RecordStatus.RELEASED and cn.direction is Direction.KZ_TO_CN
    )
    expected_kz = kz.status is RecordStatus.EXITED or (
        kz.status is RecordStatus.RELEASED and kz.direction is Direction.CN_TO_KZ
    )
    assert (rules.china_record(cn) is TtlClass.FINAL) == expected_cn
    assert (rules.kazakhstan_record(kz) is TtlClass.FINAL) == expected_kz


@settings(deadline=None)  # whole records drawn: slow on a loaded machine, not wrong
@given(st.lists(inspections(), min_size=1, max_size=4))
def test_inspections_are_final_once_settled(found: list[Inspection]) -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp()
    rules = TtlRules(3600, lambda: now)
    finished = [i.finished_at for i in found]
    settled = all(f is not None for f in finished) and all(now - f.timestamp() >= 3600 for f in finished if f)
    assert (rules.inspections(found) is TtlClass.FINAL) == settled
    assert rules.inspections([]) is TtlClass.IN_PROGRESS


def test_rates_of_a_day_that_is_over_in_kazakhstan_are_final() -> None:
    # 2025-03-01 20:00 UTC is already 2025-03-02 01:00 in Kazakhstan (UTC+5).
    rules = TtlRules(0, lambda: dt.datetime(2025, 3, 1, 20, 0, tzinfo=dt.UTC).timestamp())
    assert rules.rates(dt.date(2025, 3, 1)) is TtlClass.PAST_RATE
    assert rules.rates(dt.date(2025, 3, 2)) is TtlClass.CURRENT_RATE


def test_the_stale_report_keeps_one_entry_per_resource_with_the_oldest_age() -> None:
    report = StaleReport()
    assert not report
    report.add("CHINA", "manifest", 3.0)
    report.add("CHINA", "manifest", 7.5)
    report.add("CHINA", "manifest", 1.0)
    report.add("KAZAKHSTAN", "pi_record", 2.0)
    assert report.as_extension() == [
        {"authority": "CHINA", "resource": "manifest", "ageSeconds": 7.5},
        {"authority": "KAZAKHSTAN", "resource": "pi_record", "ageSeconds": 2.0},
    ]


def test_the_decoded_memo_is_bounded_and_only_answers_for_the_same_bytes() -> None:
    memo: DecodedMemo[str] = DecodedMemo(2)
    memo.put("a", b"1", "one")
    memo.put("b", b"2", "two")
    assert memo.get("a", b"1") == "one"
    assert memo.get("a", b"other bytes") is None
    memo.put("c", b"3", "three")  # evicts b, the least recently used
    assert memo.get("b", b"2") is None and len(memo) == 2


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_reader_fetches_misses_only_and_reports_stale_answers_with_their_age() -> None:
    clock = Clock()
    config = CacheConfig(ttl={"final_s": 10, "in_progress_s": 10}, stale_grace_s=100)  # type: ignore[arg-type]
    counters = CacheCounters()
    backend = MemoryBackend(max_entries=100, max_bytes=10**6)
    cache = create_cache(config, observer=counters, backend=backend, clock=clock)
    reader = CachedResource(cache, config, "CHINA", "rates", codec_for(DayRates), lambda v: TtlClass.FINAL)
    asked: list[list[str]] = []
    upstream = {"2025-03-01": DayRates(dt.date(2025, 3, 1), {}), "2025-03-02": DayRates(dt.date(2025, 3, 2), {})}

    async def fetch(keys: list[str]) -> dict[str, DayRates | None]:
        asked.append(list(keys))
        return {key: upstream.get(key) for key in keys}

    assert await reader.load(["2025-03-01"], fetch) == {"2025-03-01": upstream["2025-03-01"]}
    found = await reader.load(["2025-03-01", "2025-03-02", "nope", "2025-03-01"], fetch)
    assert found == {"2025-03-01": upstream["2025-03-01"], "2025-03-02": upstream["2025-03-02"], "nope": None}
    assert asked == [["2025-03-01"], ["2025-03-02", "nope"]]
    clock.now += 15  # 5 s past the 10 s TTL, within the grace
    with collect_stale() as report:
        again = await reader.load(["2025-03-01"], fetch)
    await cache.drain()
    assert again == {"2025-03-01": upstream["2025-03-01"]}
    assert report.as_extension() == [{"authority": "CHINA", "resource": "rates", "ageSeconds": 15.0}]
    assert counters.stale_serves["rates"] == 1 and counters.misses["rates"] == 3
    await cache.close()


async def test_an_entry_that_does_not_decode_is_refetched_never_served() -> None:
    config = CacheConfig()
    cache = create_cache(config, backend=MemoryBackend(max_entries=100, max_bytes=10**6))
    reader = CachedResource(cache, config, "CHINA", "manifest", codec_for(DayRates), lambda v: TtlClass.FINAL)
    await cache.set_many(reader.resource, {"2025-03-01": b'["garbage"]'}, config.policy(TtlClass.FINAL))
    good = DayRates(dt.date(2025, 3, 1), {})

    async def fetch(keys: list[str]) -> dict[str, DayRates | None]:
        return {key: good for key in keys}

    assert await reader.load(["2025-03-01"], fetch) == {"2025-03-01": good}
    await cache.close()
