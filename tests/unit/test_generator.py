"""The ground-truth generator: determinism, volumes, rates of corridors and flaws, ids, timelines."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

import pytest

from customs_sim.catalog import PRODUCTS_BY_DIRECTION
from customs_sim.generator import DatasetParams, day_trips, generate_trips
from customs_sim.model import Direction, EventKind, FlawKind, InspectionKind, Side, Trip
from customs_sim.rates import convert
from customs_sim.reference import CROSSINGS, CROSSINGS_BY_ID, cn_tz, kz_tz
from customs_sim.truthjson import from_json, to_json

# 20 days across the Kazakh clock change (2024-03-01), ~250 trucks a day: ~5,000 trips in < 1 s.
PARAMS = DatasetParams(seed=11, start=dt.date(2024, 2, 20), end=dt.date(2024, 3, 10), trucks_per_day=250)
FULL = sum(c.trucks_per_day for c in CROSSINGS)


@pytest.fixture(scope="module")
def trips() -> list[Trip]:
    return list(generate_trips(PARAMS))


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def test_two_runs_are_byte_identical() -> None:
    params = DatasetParams(seed=11, start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 2), trucks_per_day=80)
    first = b"\n".join(to_json(t) for t in generate_trips(params))
    second = b"\n".join(to_json(t) for t in generate_trips(params))
    assert first == second
    other_seed = DatasetParams(seed=12, start=params.start, end=params.start, trucks_per_day=20)
    assert first != b"\n".join(to_json(t) for t in generate_trips(other_seed))


def test_any_day_can_be_generated_alone(trips: list[Trip]) -> None:
    day = dt.date(2024, 3, 2)
    alone = [t for c in CROSSINGS for t in day_trips(PARAMS, day, c)]
    assert alone == [t for t in trips if t.day == day]


def test_order_is_day_then_crossing(trips: list[Trip]) -> None:
    rank = {c.id: i for i, c in enumerate(CROSSINGS)}
    keys = [(t.day, rank[t.crossing], t.trip_id) for t in trips]
    assert keys == sorted(keys)


def test_volume_and_crossing_shares(trips: list[Trip]) -> None:
    days = (PARAMS.end - PARAMS.start).days + 1
    assert len(trips) / days == pytest.approx(250, rel=0.06)
    by_crossing = Counter(t.crossing for t in trips)
    for crossing in CROSSINGS:
        expected = crossing.trucks_per_day / FULL
        assert _share(by_crossing[crossing.id], len(trips)) == pytest.approx(expected, abs=0.02)
    khorgos = [t for t in trips if t.crossing == "KHORGOS"]
    exports = sum(t.direction is Direction.CN_TO_KZ for t in khorgos)
    assert _share(exports, len(khorgos)) == pytest.approx(CROSSINGS_BY_ID["KHORGOS"].share_cn_to_kz, abs=0.03)


def test_full_volume_is_the_sum_of_the_crossings() -> None:
    params = DatasetParams(seed=11, start=dt.date(2025, 6, 4), end=dt.date(2025, 6, 4))  # a Wednesday
    count = sum(len(day_trips(params, params.start, c)) for c in CROSSINGS)
    assert count == pytest.approx(FULL * 1.05, rel=0.1)


def test_corridor_shares(trips: list[Trip]) -> None:
    assessed = [t.kz_corridor for t in trips if t.kz_corridor is not None]
    shares = Counter(assessed)
    assert _share(shares["GREEN"], len(assessed)) == pytest.approx(0.78, abs=0.02)
    assert _share(shares["YELLOW"], len(assessed)) == pytest.approx(0.20, abs=0.02)
    assert _share(shares["RED"], len(assessed)) == pytest.approx(0.02, abs=0.008)


def test_flaw_rates(trips: list[Trip]) -> None:
    exports = [t for t in trips if t.direction is Direction.CN_TO_KZ]
    under = sum(t.has_flaw(FlawKind.UNDERVALUATION) for t in exports)
    assert _share(under, len(exports)) == pytest.approx(1 / 8, abs=0.02)
    assert not any(t.has_flaw(FlawKind.UNDERVALUATION) for t in trips if t.direction is Direction.KZ_TO_CN)
    for kind, rate in ((FlawKind.HS_MISMATCH, 0.02), (FlawKind.MASS_MISMATCH, 0.02), (FlawKind.ONE_SIDE_ONLY, 0.01)):
        assert _share(sum(t.has_flaw(kind) for t in trips), len(trips)) == pytest.approx(rate, abs=0.006), kind


def test_trucks_come_back_and_registrations_split(trips: list[Trip]) -> None:
    plates = Counter(t.truck.plate for t in trips)
    assert plates.most_common(1)[0][1] >= 4  # a vehicle has a history
    assert _share(sum(t.truck.country is Side.CN for t in trips), len(trips)) == pytest.approx(0.55, abs=0.05)


CN_PLATE = re.compile(r"[新甘陕川豫冀鲁][A-HJ-NP-Z](?=(?:[0-9]*[A-HJ-NP-Z]){0,2}[0-9]*$)[0-9A-HJ-NP-Z]{5}")
CN_TRAILER = re.compile(r"[新甘陕川豫冀鲁][A-HJ-NP-Z][0-9]{4}挂")
KZ_PLATE = re.compile(r"[0-9]{3}[A-Z]{3}[0-9]{2}")
KZ_TRAILER = re.compile(r"[0-9]{4}[A-Z]{2}[0-9]{2}")
PINYIN = {"新": "XIN", "甘": "GAN", "陕": "SHAAN", "川": "CHUAN", "豫": "YU", "冀": "JI", "鲁": "LU"}


def test_plate_formats_and_written_forms(trips: list[Trip]) -> None:
    variants: Counter[str] = Counter()
    xinjiang = 0
    for t in trips:
        truck = t.truck
        if truck.country is Side.CN:
            assert CN_PLATE.fullmatch(truck.plate), truck.plate
            xinjiang += truck.plate.startswith("新")
            if t.cn_truck_plate_written is not None:
                written = t.cn_truck_plate_written
                variants["dot" if "·" in written else "full" if "Ｆ" in written or "１" in written else "plain"] += 1
            if t.kz_truck_plate_written is not None:
                body = truck.plate[1:]
                assert t.kz_truck_plate_written in (PINYIN[truck.plate[0]] + body, body)
        else:
            assert KZ_PLATE.fullmatch(truck.plate), truck.plate
            for written in (t.cn_truck_plate_written, t.kz_truck_plate_written):
                assert written is None or written.replace(" ", "") == truck.plate
        if t.trailer is not None:
            pattern = CN_TRAILER if t.trailer.country is Side.CN else KZ_TRAILER
            assert pattern.fullmatch(t.trailer.plate), t.trailer.plate
            if t.trailer.country is Side.CN and t.kz_trailer_plate_written is not None:
                assert t.kz_trailer_plate_written.endswith("GUA")
    cn_trucks = sum(t.truck.country is Side.CN for t in trips)
    assert _share(xinjiang, cn_trucks) == pytest.approx(0.85, abs=0.07)
    total = sum(variants.values())
    assert _share(variants["dot"], total) == pytest.approx(0.08, abs=0.02)
    assert _share(variants["full"], total) == pytest.approx(0.04, abs=0.015)


def test_ids_are_unique_and_well_formed(trips: list[Trip]) -> None:
    seen: set[str] = set()
    for t in trips:
        crossing = CROSSINGS_BY_ID[t.crossing]
        assert re.fullmatch(rf"T{t.day:%Y%m%d}-{t.crossing}-\d{{4}}", t.trip_id)
        if t.cn_batch_no is not None:
            flag = "E" if t.direction is Direction.CN_TO_KZ else "I"
            assert re.fullmatch(rf"{crossing.cn.code}{flag}20\d{{6}}\d{{5}}", t.cn_batch_no)
            declared = t.event(EventKind.CN_DECLARED)
            assert declared is not None
            assert t.cn_batch_no[5:13] == f"{declared.at.astimezone(cn_tz()):%Y%m%d}"
        if t.kz_pi_number is not None:
            assert re.fullmatch(rf"{crossing.kz.code}-\d{{6}}-\d{{7}}", t.kz_pi_number)
            submitted = t.event(EventKind.KZ_PI_SUBMITTED)
            assert submitted is not None
            assert t.kz_pi_number.split("-")[1] == f"{submitted.at.astimezone(kz_tz(submitted.at)):%d%m%y}"
        if crossing.phase >= 1:
            assert t.common_id is not None
            assert re.fullmatch(rf"CKM-{t.crossing}-{t.day:%Y%m%d}-\d{{5}}", t.common_id)
        else:
            assert t.common_id is None
        for inspection in t.inspections:
            if inspection.side is Side.CN:
                assert re.fullmatch(rf"CI{crossing.cn.code}20\d{{6}}\d{{7}}", inspection.id)
            else:
                assert re.fullmatch(rf"{crossing.kz.code}-\d{{6}}-K\d{{6}}-\d", inspection.id)
        ids = [t.trip_id, t.cn_batch_no, t.kz_pi_number, t.common_id, *(i.id for i in t.inspections)]
        for one in filter(None, ids):
            assert one not in seen
            seen.add(one)


def test_kazakh_control_numbers_follow_the_pi_and_start_order(trips: list[Trip]) -> None:
    for t in trips:
        ours = sorted((i for i in t.inspections if i.side is Side.KZ), key=lambda i: i.started_at)
        if not ours or t.kz_pi_number is None:
            continue
        office, day, seq = t.kz_pi_number.split("-")
        assert [i.id for i in ours] == [f"{office}-{day}-K{seq[-6:]}-{n}" for n in range(1, len(ours) + 1)]


def _local_hours_ok(at: dt.datetime, opens: dt.time, closes: dt.time, tz: dt.tzinfo) -> bool:
    if opens == closes:
        return True
    local = at.astimezone(tz).time()
    return opens <= local <= closes


def test_border_events_lie_within_working_hours(trips: list[Trip]) -> None:
    for t in trips:
        crossing = CROSSINGS_BY_ID[t.crossing]
        for event in t.events:
            if event.kind in (EventKind.CN_EXITED, EventKind.CN_ARRIVED, EventKind.CN_RELEASED):
                assert _local_hours_ok(event.at, crossing.cn.opens, crossing.cn.closes, cn_tz()), (t.trip_id, event)
            if event.kind in (EventKind.KZ_ARRIVED, EventKind.KZ_EXITED, EventKind.KZ_RELEASED):
                post = crossing.kz
                assert _local_hours_ok(event.at, post.opens, post.closes, kz_tz(event.at)), (t.trip_id, event)
            assert event.at.tzinfo is not None and event.at.utcoffset() == dt.timedelta(0)


def test_timeline_order_and_gaps(trips: list[Trip]) -> None:
    for t in trips:
        assert [e.at for e in t.events] == sorted(e.at for e in t.events)
        if t.direction is Direction.CN_TO_KZ:
            exited, arrived = t.event(EventKind.CN_EXITED), t.event(EventKind.KZ_ARRIVED)
            submitted, released = t.event(EventKind.KZ_PI_SUBMITTED), t.event(EventKind.KZ_RELEASED)
            if exited and arrived:
                assert dt.timedelta(minutes=20) <= arrived.at - exited.at
            if submitted and arrived:
                assert arrived.at - submitted.at >= dt.timedelta(hours=2)
            if arrived and released and t.kz_corridor == "GREEN":
                assert dt.timedelta(minutes=15) <= released.at - arrived.at
        else:
            exited, arrived = t.event(EventKind.KZ_EXITED), t.event(EventKind.CN_ARRIVED)
            if exited and arrived:
                assert dt.timedelta(minutes=20) <= arrived.at - exited.at <= dt.timedelta(minutes=90)
        for inspection in t.inspections:
            assert inspection.started_at < inspection.finished_at


def test_kazakh_offsets_change_on_1_march_2024(trips: list[Trip]) -> None:
    offsets = {
        e.at.astimezone(kz_tz(e.at)).utcoffset() for t in trips for e in t.events if e.kind is EventKind.KZ_PI_SUBMITTED
    }
    assert offsets == {dt.timedelta(hours=6), dt.timedelta(hours=5)}


def test_inspections_by_side_and_corridor(trips: list[Trip]) -> None:
    for t in trips:
        kz_kinds = {i.kind for i in t.inspections if i.side is Side.KZ}
        if t.kz_corridor == "GREEN":
            assert not kz_kinds
        if t.kz_corridor == "RED" and not t.in_transit:
            assert {InspectionKind.XRAY, InspectionKind.EXAMINATION} <= kz_kinds
    exports = [t for t in trips if t.direction is Direction.CN_TO_KZ and Side.CN in t.seen_by]
    scanned = sum(any(i.kind is InspectionKind.H986_SCAN for i in t.inspections) for t in exports)
    assert _share(scanned, len(exports)) == pytest.approx(0.35, abs=0.03)


def test_phase_2_recognition_of_the_chinese_scan(trips: list[Trip]) -> None:
    recognized = [(t, i) for t in trips for i in t.inspections if i.recognized_inspection_id is not None]
    assert recognized
    for t, inspection in recognized:
        assert CROSSINGS_BY_ID[t.crossing].phase >= 2
        assert inspection.side is Side.KZ and inspection.kind is InspectionKind.XRAY
        scans = {i.id: i for i in t.inspections if i.kind is InspectionKind.H986_SCAN and i.side is Side.CN}
        assert inspection.recognized_inspection_id in scans
        assert inspection.finished_at - inspection.started_at <= dt.timedelta(minutes=10)
        assert "КНР" in inspection.note


def test_goods_are_plausible(trips: list[Trip]) -> None:
    counts = Counter(len(t.items) for t in trips)
    assert set(counts) <= set(range(1, 9))
    assert counts[1] + counts[2] + counts[3] > 0.8 * len(trips)
    for t in trips:
        allowed = {p.hs6 for p in PRODUCTS_BY_DIRECTION[t.direction]}
        gross = sum((i.cn_gross_kg for i in t.items), Decimal(0))
        assert Decimal(1000) < gross <= Decimal(25_500), t.trip_id
        for item in t.items:
            assert item.hs6 in allowed
            assert len(item.cn_code) in (10, 13) and item.cn_code.startswith(item.hs6)
            assert len(item.kz_code) == 10 and item.kz_code.isdigit()
            assert item.net_kg < item.cn_gross_kg and item.net_kg < item.kz_gross_kg
            assert item.net_kg.as_tuple().exponent == -3 and item.cn_value.as_tuple().exponent == -2
            assert item.cn_value > 0


def test_money_agrees_by_the_documented_rule(trips: list[Trip]) -> None:
    for t in trips:
        submitted = t.event(EventKind.KZ_PI_SUBMITTED)
        if submitted is None:
            continue
        day = submitted.at.astimezone(kz_tz(submitted.at)).date()
        fair = [convert(i.cn_value, day, t.cn_currency, t.invoice_currency) for i in t.items]
        actual = [i.kz_value for i in t.items]
        if t.has_flaw(FlawKind.UNDERVALUATION):
            flaw = next(f for f in t.flaws if f.kind is FlawKind.UNDERVALUATION)
            assert flaw.ratio is not None and Decimal("0.29") < flaw.ratio < Decimal("0.81")
            assert sum(actual, Decimal(0)) < sum(fair, Decimal(0))
        else:
            assert actual == fair


def test_hs_and_mass_mismatches(trips: list[Trip]) -> None:
    for t in trips:
        wrong = [i for i in t.items if i.kz_code[:6] != i.hs6]
        if t.has_flaw(FlawKind.HS_MISMATCH):
            flaw = next(f for f in t.flaws if f.kind is FlawKind.HS_MISMATCH)
            assert [i.seq for i in wrong] == [flaw.item_seq]
        else:
            assert not wrong
        cn = sum((i.cn_gross_kg for i in t.items), Decimal(0))
        kz = sum((i.kz_gross_kg for i in t.items), Decimal(0))
        if t.has_flaw(FlawKind.MASS_MISMATCH):
            assert Decimal("0.05") < abs(kz / cn - 1) < Decimal("0.26")
        else:
            assert kz == cn


def test_one_side_only_trips_leave_no_trace_on_the_other_side(trips: list[Trip]) -> None:
    lonely = [t for t in trips if t.has_flaw(FlawKind.ONE_SIDE_ONLY)]
    assert {next(iter(t.seen_by)) for t in lonely} == {Side.CN, Side.KZ}
    for t in lonely:
        assert len(t.seen_by) == 1
        other = Side.KZ if Side.CN in t.seen_by else Side.CN
        assert not [e for e in t.events if e.kind.value.startswith(other.value)]
        assert not [i for i in t.inspections if i.side is other]
        if other is Side.KZ:
            assert t.kz_pi_number is None and t.kz_corridor is None and t.kz_truck_plate_written is None
        else:
            assert t.cn_batch_no is None and t.cn_truck_plate_written is None


def test_as_of_cuts_recent_trips_into_transit() -> None:
    as_of = dt.datetime(2025, 3, 3, 6, 30, tzinfo=dt.UTC)
    later = DatasetParams(seed=11, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 4), trucks_per_day=120)
    cut = DatasetParams(seed=11, start=later.start, end=later.end, trucks_per_day=120, as_of=as_of)
    full = {t.trip_id: t for t in generate_trips(later)}
    partial = list(generate_trips(cut))
    assert any(t.in_transit for t in partial)
    assert not any(t.in_transit for t in full.values() if t.day < dt.date(2025, 3, 2))
    assert len(partial) < len(full)
    for t in partial:
        assert all(e.at <= as_of for e in t.events) and t.events
        assert all(i.finished_at <= as_of for i in t.inspections)
        whole = full[t.trip_id]
        assert set(t.events) <= set(whole.events)
        assert t.items == whole.items and t.common_id == whole.common_id
        assert t.cn_batch_no in (None, whole.cn_batch_no) and t.kz_pi_number in (None, whole.kz_pi_number)
        assert t.in_transit == (len(t.events) < len(whole.events))


def test_json_round_trip_is_exact(trips: list[Trip]) -> None:
    for t in trips[::7]:
        assert from_json(to_json(t)) == t
        assert to_json(from_json(to_json(t))) == to_json(t)


def test_params_validate_and_key() -> None:
    base = DatasetParams(start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    assert base.as_of == dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    assert base.cache_key() == DatasetParams(start=base.start, end=base.end).cache_key()
    assert base.cache_key() != DatasetParams(start=base.start, end=base.end, seed=8).cache_key()
    with pytest.raises(ValueError, match="aware"):
        DatasetParams(start=base.start, end=base.end, as_of=dt.datetime(2025, 1, 5))
    with pytest.raises(ValueError, match="before"):
        DatasetParams(start=base.end, end=base.start)
    demo = DatasetParams.demo(dt.date(2025, 11, 28), dt.datetime(2025, 11, 28, 9, 41, 7, tzinfo=dt.UTC))
    assert (demo.start, demo.end) == (dt.date(2025, 8, 31), dt.date(2025, 11, 28))
    assert demo.as_of == dt.datetime(2025, 11, 28, 9, tzinfo=dt.UTC)
