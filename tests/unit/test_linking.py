"""linking.py: common id decides at phase ≥ 1; plate + time (+ HS-6) elsewhere; one-sided trips stay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

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
    RecordStatus,
    VehicleRef,
)
from customs_gateway.linking import LinkMethod, LinkWindow, TripStatus, link_records, match, trip_status
from customs_gateway.plates import parse_plate

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
