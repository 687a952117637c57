"""discrepancies.py: value gaps at each side's own rates, HS-6, mass, packages, a missing side."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.discrepancies import (
    Discrepancy,
    DiscrepancyKind,
    DiscrepancyThresholds,
    Severity,
    find_discrepancies,
    relative_gap,
    value_gap,
)
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
from customs_gateway.plates import parse_plate

CN_TZ = dt.timezone(dt.timedelta(hours=8))
KZ_TZ = dt.timezone(dt.timedelta(hours=5))
T0 = dt.datetime(2025, 11, 20, 10, 0, tzinfo=CN_TZ)
THRESHOLDS = DiscrepancyThresholds()
CN_VALUE = Money(Decimal("72000.00"), "CNY")
KZ_VALUE = Money(Decimal("10000.00"), "USD")
DAY = T0.date()
_PARTY = Party(None, "x", Country.CN)
_DRIVER = Driver("x", None, None, Country.CN)
_PLATE = VehicleRef(parse_plate("新F12345"), "新F12345")


def rates(day: dt.date, usd: str = "520.00", cny: str = "72.00") -> dict[str, ExchangeRate]:
    return {
        "USD": ExchangeRate("USD", Decimal(usd), day, "NBK"),
        "CNY": ExchangeRate("CNY", Decimal(cny), day, "NBK"),
    }


def _line(authority: Authority, no: int, hs6: str, gross: Decimal, value: Money) -> GoodsLine:
    return GoodsLine(authority, no, hs6 + "0000", hs6, "d", "zh", 10, "CT", gross, None, value)


def china(
    value: Money = CN_VALUE,
    gross: Decimal = Decimal("1000.000"),
    packages: int = 10,
    hs6: tuple[str, ...] = ("870380",),
    direction: Direction = Direction.CN_TO_KZ,
    at: dt.datetime = T0,
) -> ChinaManifestRecord:
    goods = tuple(_line(Authority.GACC, i + 1, h, gross, value) for i, h in enumerate(hs6))
    return ChinaManifestRecord(
        "9402E2025112000001", None, "9402", "阿拉山口", direction, RecordStatus.EXITED, "", at, None, None,
        _PLATE, None, _DRIVER, _PARTY, _PARTY, _PARTY, (), (), value.currency, packages, gross, value, goods,
    )  # fmt: skip


def kazakhstan(
    value: Money = KZ_VALUE,
    gross: Decimal = Decimal("1000.000"),
    packages: int = 10,
    hs6: tuple[str, ...] = ("870380",),
    direction: Direction = Direction.CN_TO_KZ,
    at: dt.datetime = T0 + dt.timedelta(hours=3),
    rate_day: dt.date = DAY,
) -> KazakhstanPIRecord:
    goods = tuple(_line(Authority.KGD, i + 1, h, gross, value) for i, h in enumerate(hs6))
    rate = rates(rate_day)[value.currency] if value.currency != "KZT" else ExchangeRate("KZT", Decimal(1), rate_day, "")
    return KazakhstanPIRecord(
        "55201021-201125-0000001", None, "55201021", direction, RecordStatus.DECLARED, "", at.astimezone(KZ_TZ),
        None, None, None, _PLATE, None, _DRIVER, _PARTY, _PARTY, _PARTY, (), (), value.currency, rate, packages,
        gross, value, value.amount * rate.kzt_per_unit, goods,
    )  # fmt: skip


def _find(cn: ChinaManifestRecord | None, kz: KazakhstanPIRecord | None, now: dt.datetime = T0) -> list[Discrepancy]:
    day_rates = rates(DAY)
    return find_discrepancies(cn, kz, china_rates=day_rates, kazakhstan_rates=day_rates, now=now, thresholds=THRESHOLDS)


def test_agreeing_records_have_no_discrepancy() -> None:
    # 72,000 CNY at 72 KZT/CNY and 520 KZT/USD is 9,969.23 USD; 10,000 USD is 0.3 % more.
    assert _find(china(), kazakhstan()) == []


def test_undervalued_import_is_a_negative_critical_gap_with_both_usd_values() -> None:
    (gap,) = _find(china(), kazakhstan(value=Money(Decimal("5000.00"), "USD")))
    assert gap.kind is DiscrepancyKind.VALUE_GAP
    assert gap.severity is Severity.CRITICAL
    assert gap.value_gap is not None
    assert gap.value_gap.china_usd == Decimal("9969.23")  # 72000 * 72 / 520
    assert gap.value_gap.kazakhstan_usd == Decimal("5000.00")
    assert gap.relative_gap == Decimal("-0.4985")
    assert (gap.china, gap.kazakhstan, gap.unit) == ("9969.23", "5000.00", "USD")


def test_each_side_is_valued_at_the_rates_of_its_own_date() -> None:
    cn_day, kz_day = T0.date(), T0.date() + dt.timedelta(days=1)
    cn = china(value=Money(Decimal("1000.00"), "CNY"))
    kz = kazakhstan(value=Money(Decimal("1000.00"), "CNY"), rate_day=kz_day)
    gap = value_gap(cn, kz, rates(cn_day, cny="72.00"), rates(kz_day, cny="78.00"))
    assert gap is not None
    assert (gap.china_rate_date, gap.kazakhstan_rate_date) == (cn_day, kz_day)
    assert (gap.china_usd, gap.kazakhstan_usd) == (Decimal("138.46"), Decimal("150.00"))


def test_unknown_rate_means_no_value_comparison() -> None:
    cn = china(value=Money(Decimal("1000.00"), "CNY"))
    assert value_gap(cn, kazakhstan(), None, rates(T0.date())) is None
    assert value_gap(cn, kazakhstan(), {}, rates(T0.date())) is None


def test_hs6_mismatch_names_the_item_and_both_codes() -> None:
    found = _find(china(hs6=("870380", "851713")), kazakhstan(hs6=("870380", "851762")))
    assert [(d.kind, d.line_no, d.china, d.kazakhstan) for d in found] == [
        (DiscrepancyKind.HS6_MISMATCH, 2, "851713", "851762")
    ]


def test_mass_and_package_mismatches() -> None:
    found = _find(china(), kazakhstan(gross=Decimal("1200.000"), packages=12))
    kinds = {d.kind: d for d in found}
    mass = kinds[DiscrepancyKind.MASS_MISMATCH]
    assert (mass.severity, mass.relative_gap, mass.china, mass.kazakhstan) == (
        Severity.CRITICAL, Decimal("0.2000"), "1000.000", "1200.000",
    )  # fmt: skip
    assert kinds[DiscrepancyKind.PACKAGE_COUNT_MISMATCH].kazakhstan == "12"


def test_relative_gap_is_importer_against_exporter() -> None:
    assert relative_gap(Decimal(100), Decimal(80), Direction.CN_TO_KZ) == Decimal("-0.2000")
    assert relative_gap(Decimal(80), Decimal(100), Direction.KZ_TO_CN) == Decimal("-0.2000")
    assert relative_gap(Decimal(0), Decimal(1), Direction.CN_TO_KZ) is None


@pytest.mark.parametrize(("age_h", "severity"), [(1, Severity.INFO), (47, Severity.INFO), (48, Severity.WARNING)])
def test_missing_side_is_info_while_it_may_come_then_a_warning(age_h: int, severity: Severity) -> None:
    (cn_only,) = _find(china(), None, now=T0 + dt.timedelta(hours=age_h))
    assert (cn_only.kind, cn_only.severity, cn_only.china, cn_only.kazakhstan) == (
        DiscrepancyKind.OTHER_SIDE_MISSING, severity, "9402E2025112000001", None,
    )  # fmt: skip
    kz = kazakhstan()
    (kz_only,) = _find(None, kz, now=kz.registered_at + dt.timedelta(hours=age_h))
    assert (kz_only.severity, kz_only.china, kz_only.kazakhstan) == (severity, None, kz.pi_number)


@given(
    factor=st.decimals(min_value=Decimal("0.30"), max_value=Decimal("2.00"), places=3),
    usd=st.decimals(min_value=Decimal("100.00"), max_value=Decimal("1000000.00"), places=2),
    direction=st.sampled_from(Direction),
)
def test_value_gap_is_flagged_exactly_beyond_the_threshold(factor: Decimal, usd: Decimal, direction: Direction) -> None:
    exporter, importer = usd, (usd * factor).quantize(Decimal("0.01"))
    cn_usd, kz_usd = (exporter, importer) if direction is Direction.CN_TO_KZ else (importer, exporter)
    cn = china(value=Money(cn_usd, "USD"), direction=direction)
    kz = kazakhstan(value=Money(kz_usd, "USD"), direction=direction)
    found = [d for d in _find(cn, kz) if d.kind is DiscrepancyKind.VALUE_GAP]
    expected_gap = ((importer - exporter) / exporter).quantize(Decimal("0.0001"))
    assert bool(found) == (abs(expected_gap) > THRESHOLDS.value_warning)
    if found:
        assert found[0].relative_gap == expected_gap
        assert found[0].severity is (
            Severity.CRITICAL if abs(expected_gap) > THRESHOLDS.value_critical else Severity.WARNING
        )


@given(
    ratio=st.decimals(min_value=Decimal("0.50"), max_value=Decimal("1.50"), places=3),
    gross=st.decimals(min_value=Decimal("1.000"), max_value=Decimal("40000.000"), places=3),
)
def test_mass_is_flagged_exactly_beyond_tolerance(ratio: Decimal, gross: Decimal) -> None:
    kz_gross = (gross * ratio).quantize(Decimal("0.001"))
    found = _find(china(gross=gross), kazakhstan(gross=kz_gross))
    found = [d for d in found if d.kind is DiscrepancyKind.MASS_MISMATCH]
    gap = ((kz_gross - gross) / gross).quantize(Decimal("0.0001"))
    assert bool(found) == (abs(gap) > THRESHOLDS.mass_tolerance)


@given(packages=st.integers(min_value=0, max_value=10_000), other=st.integers(min_value=0, max_value=10_000))
def test_packages_flagged_iff_different(packages: int, other: int) -> None:
    found = _find(china(packages=packages), kazakhstan(packages=other))
    assert any(d.kind is DiscrepancyKind.PACKAGE_COUNT_MISMATCH for d in found) == (packages != other)


def test_a_trip_without_records_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        _find(None, None)


def test_replacing_a_record_field_changes_only_its_kind() -> None:
    cn = china(hs6=("870380", "851713"))
    kz = dataclasses.replace(kazakhstan(hs6=("870380", "851713")), total_packages=11)
    assert [d.kind for d in _find(cn, kz)] == [DiscrepancyKind.PACKAGE_COUNT_MISMATCH]
