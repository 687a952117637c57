"""The report service over partials already in its memo: no authority is asked (the sources are
absent), so these check the folding, the row limit and the carrier cut on their own."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from customs_gateway.cache import CachePolicy, EntityCache, KeyBuilder, MemoryBackend
from customs_gateway.config import load_settings
from customs_gateway.crossings import CrossingRegistry
from customs_gateway.domain import Direction
from customs_gateway.errors import InvalidInput
from customs_gateway.linking import LinkWindow
from customs_gateway.plates import parse_plate
from customs_gateway.reports import ChunkPartial, Flow, ReportFilter, ReportLimits, ReportOptions, ReportService
from customs_gateway.reports.filters import GroupKey, Interval
from customs_gateway.reports.partials import LooseEnd, LooseEnds
from customs_gateway.reports.service import _CHUNK_PARTS
from customs_gateway.resilience import ManualClock

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gateway.toml"
SETTINGS = load_settings(
    CONFIG,
    china={"base_url": "http://127.0.0.1:9", "app_secret": "x"},
    kazakhstan={"base_url": "http://127.0.0.1:9", "client_secret": "y"},
)
REGISTRY = CrossingRegistry.from_settings(SETTINGS.crossings)
NOW = dt.datetime(2025, 4, 2, tzinfo=dt.UTC)


def service(max_rows: int = 50_000) -> ReportService:
    options = ReportOptions(limits=ReportLimits(max_rows=max_rows))
    absent: Any = None  # every chunk is in the memo: a call to a source would fail the test
    return ReportService(absent, absent, REGISTRY, LinkWindow(), options, None, lambda: NOW)


def warm(svc: ReportService, f: ReportFilter) -> None:
    """Put a partial for every chunk of ``f``: each side 1 truck of 10 USD and 2 kg a day, per HS-6."""
    for crossing in f.crossings:
        for direction in f.directions:
            for day in f.days:
                partial = ChunkPartial()
                for side in (partial.china, partial.kazakhstan):
                    side.total = Flow(Decimal(10), Decimal(2), 1)
                    side.hs6 = {"870380": Flow(Decimal(4), Decimal(1), 1), "851713": Flow(Decimal(6), Decimal(1), 1)}
                    side.chapter_trucks = {"87": 1, "85": 1}
                key = f"{crossing.id}:{direction.value}:{day.isoformat()}"
                for parts in ("flow", "hs"):
                    svc._chunk_memo.put(f"{parts}|{key}", partial, time.time() + 600, 100)


async def test_a_warm_report_sums_its_partials_per_period() -> None:
    svc = service()
    f = svc.filter(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    warm(svc, f)
    rows = await svc.trade_flow(f, [GroupKey.CROSSING], Interval.MONTH)
    assert [(r.crossing, r.china.trucks, r.kazakhstan.value_usd) for r in rows] == [
        (c.id, 31 * 2, Decimal(31 * 2 * 10)) for c in sorted(REGISTRY.all, key=lambda c: c.id)
    ]
    weeks = await svc.trade_flow(f, [], Interval.WEEK)
    assert [r.period for r in weeks][:2] == [dt.date(2025, 2, 24), dt.date(2025, 3, 3)]  # Mondays
    assert sum(r.china.trucks for r in weeks) == 31 * 2 * len(REGISTRY.all)
    chapters = await svc.trade_flow(f, [GroupKey.HS_CHAPTER], Interval.MONTH)
    assert {(r.hs_chapter, r.china.value_usd) for r in chapters} == {
        ("85", Decimal(6 * 31 * 10)),
        ("87", Decimal(4 * 31 * 10)),
    }


async def test_too_many_rows_is_bad_user_input_with_a_way_out() -> None:
    svc = service(max_rows=100)
    f = svc.filter(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    warm(svc, f)
    assert len(await svc.trade_flow(f, [GroupKey.CROSSING], Interval.WEEK)) <= 100
    with pytest.raises(InvalidInput, match="coarser interval"):
        await svc.trade_flow(f, [GroupKey.CROSSING, GroupKey.DIRECTION, GroupKey.HS6], Interval.DAY)


async def store_days(svc: ReportService, ends: dict[dt.date, LooseEnds], fresh_s: dict[dt.date, float]) -> None:
    """Store KHORGOS CN_TO_KZ partials for the days of ``ends`` (their loose ends, no trip linked
    within a day) in the service's shared cache, every part, fresh for ``fresh_s``."""
    for day, loose in ends.items():
        key = f"KHORGOS:{Direction.CN_TO_KZ.value}:{day.isoformat()}"
        for part, data in ChunkPartial(loose=loose).parts().items():
            await svc._store(_CHUNK_PARTS[part], key, data, CachePolicy(fresh_s[day]))


async def test_trips_across_days_are_linked_once_and_again_only_when_a_chunk_is_no_longer_fresh() -> None:
    clock = ManualClock(1_750_000_000.0)
    backend = MemoryBackend(max_entries=1000, max_bytes=10**7)
    cache = EntityCache(backend, keys=KeyBuilder("t", 1), not_found_policy=CachePolicy(30), clock=clock)
    absent: Any = None  # every chunk is in the cache: a call to a source would fail the test
    svc = ReportService(absent, absent, REGISTRY, LinkWindow(), ReportOptions(), cache, lambda: NOW, clock)
    f = svc.filter(
        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2), crossing_ids=["KHORGOS"], direction=Direction.CN_TO_KZ
    )
    first, second = f.days
    declared = dt.datetime(2025, 3, 1, 22, tzinfo=dt.UTC)
    exporting = LooseEnd("M1", parse_plate("新F12345"), declared, None, "B1", "C1", "Carrier", 100_00, {})
    importing = LooseEnd(
        "M1", parse_plate("新F12345"), declared + dt.timedelta(hours=5), declared + dt.timedelta(hours=7),
        "PI1", "C1", "Carrier", 100_00, {},
    )  # fmt: skip
    fresh = {first: 600.0, second: 60.0}
    await store_days(svc, {first: LooseEnds([exporting], []), second: LooseEnds([], [importing])}, fresh)
    (row,) = await svc.clearance_times(f)
    assert (row.door_to_door.count, row.door_to_door.p50) == (1, 7 * 60)

    # While every chunk is fresh the linked result is reused: loose ends changed behind its back
    # (never done for real: a fresh chunk is not written again) do not show.
    await store_days(svc, {first: LooseEnds(), second: LooseEnds()}, fresh)
    (row,) = await svc.clearance_times(f)
    assert row.door_to_door.count == 1

    # Once the second day's chunk is no longer fresh, the days are linked again from what is there.
    clock.advance(61)
    await store_days(svc, {first: LooseEnds(), second: LooseEnds()}, fresh)
    (row,) = await svc.clearance_times(f)
    assert row.door_to_door.count == 0
