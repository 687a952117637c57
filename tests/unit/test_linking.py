"""linking.py: common id decides at phase ≥ 1; plate + time (+ HS-6) elsewhere; one-sided trips stay."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import chinese_plates, province_less, written_variants

from customs_gateway.domain import (
    Authority,
    ChinaManifestRecord,
    Country,
    Direction,
    Driver,
    ExchangeRate,
    GoodsLine,
    KazakhstanPIRecord,
    Money,
    Party,
    PlateId,
    RecordStatus,
    VehicleRef,
)
from customs_gateway.linking import (
    LinkMethod,
    LinkWindow,
    PlateMatch,
    TripStatus,
    link_records,
    match,
    trip_status,
)
from customs_gateway.plates import parse_plate, same_vehicle
from customs_gateway.timeutil import kz_offset

T0 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
KZ = dt.timezone(dt.timedelta(hours=5))
WINDOW = LinkWindow()
_PARTY = Party(None, "x", Country.CN)
_DRIVER = Driver("x", None, None, Country.CN)


def _line(authority: Authority, hs6: str) -> GoodsLine:
    return GoodsLine(
        authority, 1, hs6 + "0000", hs6, "d", "zh", 1, None, Decimal("1.000"), None, Money(Decimal("1.00"), "USD")
    )


def cn(
    batch: str,
    plate: str,
    at: dt.datetime,
    common: str | None = None,
    hs6: str = "870380",
    status: RecordStatus = RecordStatus.EXITED,
) -> ChinaManifestRecord:
    return ChinaManifestRecord(
        batch,
        common,
        "9402",
        "阿拉山口",
        Direction.CN_TO_KZ,
        status,
        "",
        at,
        None,
        None,
        VehicleRef(parse_plate(plate), plate),
        None,
        _DRIVER,
        _PARTY,
        _PARTY,
        _PARTY,
        (),
        (),
        "CNY",
        1,
        Decimal("1.000"),
        Money(Decimal("1.00"), "CNY"),
        (_line(Authority.GACC, hs6),),
    )


def kz(
    pi: str,
    plate: str,
    at: dt.datetime,
    common: str | None = None,
    hs6: str = "870380",
    status: RecordStatus = RecordStatus.DECLARED,
) -> KazakhstanPIRecord:
    rate = ExchangeRate("USD", Decimal("500.00"), at.date(), "NBK")
    return KazakhstanPIRecord(
        pi,
        common,
        "55201021",
        Direction.CN_TO_KZ,
        status,
        "",
        at.astimezone(KZ),
        None,
        None,
        None,
        VehicleRef(parse_plate(plate), plate),
        None,
        _DRIVER,
        _PARTY,
        _PARTY,
        _PARTY,
        (),
        (),
        "USD",
        rate,
        1,
        Decimal("1.000"),
        Money(Decimal("1.00"), "USD"),
        Decimal("500.00"),
        (_line(Authority.KGD, hs6),),
    )


def test_common_id_decides_at_phase_one() -> None:
    a = cn("B1", "新F12345", T0, common="CKM-X-1")
    assert (
        match(a, kz("P1", "999ZZZ01", T0 + dt.timedelta(days=5), common="CKM-X-1"), phase=1, window=WINDOW) is not None
    )  # same id: linked whatever the plate and time
    assert match(a, kz("P2", "XINF12345", T0, common="CKM-X-2"), phase=1, window=WINDOW) is None


def test_plate_spellings_and_window_at_phase_zero() -> None:
    a = cn("B1", "新F·12345", T0)
    link = match(a, kz("P1", "F12345", T0 + dt.timedelta(hours=3)), phase=0, window=WINDOW)
    assert link is not None and link.method is LinkMethod.PLATE_AND_TIME and 0 < link.confidence < 1
    assert match(a, kz("P2", "XINF12345", T0 + dt.timedelta(hours=40)), phase=0, window=WINDOW) is None
    assert match(a, kz("P3", "XINF54321", T0), phase=0, window=WINDOW) is None


def test_hs6_overlap_breaks_ties_and_leftovers_stay_one_sided() -> None:
    a = cn("B1", "新F12345", T0, hs6="851713")
    wrong = kz("P1", "XINF12345", T0 + dt.timedelta(hours=1), hs6="870380")
    right = kz("P2", "XINF12345", T0 + dt.timedelta(hours=2), hs6="851713")
    trips = link_records([a], [wrong, right], phase=0, window=WINDOW)
    by_cn = {t.china.batch_no: t for t in trips if t.china}
    assert by_cn["B1"].kazakhstan is right
    alone = [t for t in trips if t.china is None]
    assert [t.kazakhstan for t in alone] == [wrong]
    assert trip_status(None, wrong) is TripStatus.KAZAKHSTAN_ONLY
    assert by_cn["B1"].anchor_authority is Authority.GACC and by_cn["B1"].anchor_key == "B1"


def test_status_from_both_sides() -> None:
    a = cn("B1", "新F12345", T0)
    assert trip_status(a, None) is TripStatus.CHINA_ONLY
    assert trip_status(a, kz("P", "XINF12345", T0)) is TripStatus.IN_TRANSIT
    assert trip_status(a, kz("P", "XINF12345", T0, status=RecordStatus.RELEASED)) is TripStatus.RELEASED
    assert (
        trip_status(cn("B", "新F12345", T0, status=RecordStatus.DECLARED), kz("P", "XINF12345", T0))
        is TripStatus.DECLARED
    )


@given(
    st.lists(st.integers(min_value=0, max_value=9), min_size=0, max_size=8),
    st.lists(st.integers(min_value=0, max_value=9), min_size=0, max_size=8),
)
def test_every_record_appears_in_exactly_one_trip(cn_trucks: list[int], kz_trucks: list[int]) -> None:
    cns = [cn(f"B{i}", f"新F1234{n}", T0 + dt.timedelta(hours=i)) for i, n in enumerate(cn_trucks)]
    kzs = [kz(f"P{i}", f"XINF1234{n}", T0 + dt.timedelta(hours=i)) for i, n in enumerate(kz_trucks)]
    trips = link_records(cns, kzs, phase=0, window=WINDOW)
    assert sorted(t.china.batch_no for t in trips if t.china) == sorted(r.batch_no for r in cns)
    assert sorted(t.kazakhstan.pi_number for t in trips if t.kazakhstan) == sorted(r.pi_number for r in kzs)
    for t in trips:
        if t.china and t.kazakhstan:
            assert t.china.vehicle.plate.canonical == t.kazakhstan.vehicle.plate.canonical


@given(
    plate=chinese_plates(),
    drop_province=st.booleans(),
    at=st.datetimes(min_value=dt.datetime(2023, 6, 1), max_value=dt.datetime(2025, 12, 31)),
    lag_min=st.integers(min_value=-30 * 60, max_value=30 * 60),
    data=st.data(),
)
def test_any_spelling_either_side_of_the_2024_switch_links_with_its_evidence(
    plate: PlateId, drop_province: bool, at: dt.datetime, lag_min: int, data: st.DataObject
) -> None:
    """GACC writes the plate any way, KGD in pinyin or without the province; KGD's time carries
    the offset of its day (+06:00 before 2024-03-01, +05:00 after): the evidence's time delta is
    the true elapsed time whatever the offsets."""
    declared = at.replace(tzinfo=dt.UTC).astimezone(T0.tzinfo)
    registered = declared + dt.timedelta(minutes=lag_min)
    registered = registered.astimezone(dt.timezone(kz_offset(registered)))
    cn_written = data.draw(written_variants(plate))
    kz_written = province_less(plate) if drop_province else plate.canonical
    a = cn("B1", cn_written, declared)
    b = dataclasses.replace(kz("P1", kz_written, registered), registered_at=registered)
    link = match(a, b, phase=0, window=WINDOW)
    assert link is not None and link.evidence is not None
    assert link.method is LinkMethod.PLATE_AND_TIME
    assert link.evidence.time_delta == dt.timedelta(minutes=lag_min)
    assert link.evidence.plate_match is (PlateMatch.PROVINCE_MISSING if drop_province else PlateMatch.EXACT)
    assert (link.evidence.china_plate, link.evidence.kazakhstan_plate) == (cn_written, kz_written)
    assert link.evidence.hs6_overlap == 1.0 and link.evidence.mass_gap == Decimal("0.0000")
    assert 0.5 < link.confidence <= 0.95


def test_common_id_link_carries_its_evidence() -> None:
    link = match(
        cn("B1", "新F12345", T0, common="CKM-X-1"),
        kz("P1", "XINF12345", T0 + dt.timedelta(hours=2), common="CKM-X-1"),
        phase=1,
        window=WINDOW,
    )
    assert link is not None and link.evidence is not None
    assert (link.confidence, link.evidence.common_manifest_id) == (1.0, "CKM-X-1")
    assert link.evidence.plate_match is PlateMatch.NOT_COMPARED
    assert link.evidence.time_delta == dt.timedelta(hours=2)


def test_masses_that_agree_make_a_link_more_confident() -> None:
    a = cn("B1", "新F12345", T0)
    same = kz("P1", "XINF12345", T0 + dt.timedelta(hours=2))
    heavier = dataclasses.replace(same, total_gross_kg=Decimal("1.200"))
    agreeing, differing = (match(a, b, phase=0, window=WINDOW) for b in (same, heavier))
    assert agreeing is not None and differing is not None
    assert differing.evidence is not None and differing.evidence.mass_gap == Decimal("0.2000")
    assert agreeing.confidence > differing.confidence


@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(0, 60)), max_size=12))
def test_blocking_links_exactly_as_comparing_every_pair(rows: list[tuple[int, bool, int]]) -> None:
    """link_records compares only records sharing a plate body; the result is that of comparing
    all pairs (which best_partner does for one record)."""
    cns = [cn(f"B{i}", f"新F1234{n}", T0 + dt.timedelta(hours=h)) for i, (n, _, h) in enumerate(rows)]
    kzs = [
        kz(f"P{i}", f"F1234{n}" if short else f"XINF1234{n}", T0 + dt.timedelta(hours=h + 1))
        for i, (n, short, h) in enumerate(rows)
    ]
    trips = link_records(cns, kzs, phase=0, window=WINDOW)
    # The reference: every pair compared, taken greedily best first (confidence, HS-6, time).
    scored = []
    for i, a in enumerate(cns):
        for j, b in enumerate(kzs):
            link = match(a, b, phase=0, window=WINDOW)
            if link is not None and link.evidence is not None:
                ev = link.evidence
                scored.append(((-link.confidence, -ev.hs6_overlap, abs(ev.time_delta.total_seconds())), i, j))
    scored.sort()
    used_cn: set[int] = set()
    used_kz: set[int] = set()
    expected = set()
    for _, i, j in scored:
        if i not in used_cn and j not in used_kz:
            used_cn.add(i)
            used_kz.add(j)
            expected.add((cns[i].batch_no, kzs[j].pi_number))
    got = {(t.china.batch_no, t.kazakhstan.pi_number) for t in trips if t.china and t.kazakhstan}
    assert got == expected
    for t in trips:
        if t.china is not None and t.kazakhstan is not None:
            assert same_vehicle(t.china.vehicle.plate, t.kazakhstan.vehicle.plate)
