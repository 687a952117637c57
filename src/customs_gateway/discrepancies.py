"""Where the two authorities' records of one trip disagree. Pure: no I/O, no clock of its own.

The joint-supervision agreement asks both sides to see the same goods: the export value China
records and the import value Kazakhstan records should agree (mirror statistics say they do not:
undervaluation, misclassification, "cover goods"). This module compares one linked pair of
records and names every disagreement, with both sides' values and a severity:

- ``VALUE_GAP``: both totals in US dollars, each at the National Bank of Kazakhstan rates of its
  own declaration date (China: the Beijing date of the manifest; Kazakhstan: the date of the rate
  KGD applied), because that is the rate each declarant was bound to; the relative gap is
  ``(importer − exporter) / exporter``, so an undervalued import is negative;
- ``HS6_MISMATCH``: one item declared under different HS-6 subheadings (only HS-6 is common to
  China's tariff and the EAEU's ТН ВЭД);
- ``MASS_MISMATCH``: total gross mass differing beyond a tolerance (relative gap as for value);
- ``PACKAGE_COUNT_MISMATCH``: total package counts differ;
- ``OTHER_SIDE_MISSING``: only one authority has a record; ``INFO`` while the other side may
  still register it (within :attr:`DiscrepancyThresholds.missing_after` of the record), then
  ``WARNING``.

Thresholds are :class:`DiscrepancyThresholds` (built from the ``[discrepancies]`` settings).
Amounts are ``Decimal`` throughout; the relative gaps are ``Decimal`` rounded to 4 places.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .domain import ChinaManifestRecord, Direction, ExchangeRate, KazakhstanPIRecord, Money
from .money import usd_amount

__all__ = [
    "Discrepancy",
    "DiscrepancyKind",
    "DiscrepancyThresholds",
    "Severity",
    "ValueGap",
    "china_rate_date",
    "find_discrepancies",
    "hs6_mismatches",
    "kazakhstan_rate_date",
    "mass_mismatch",
    "other_side_missing",
    "package_count_mismatch",
    "relative_gap",
    "totals_gap",
    "value_gap",
    "value_gap_discrepancy",
]

_GAP_PLACES = Decimal("0.0001")
Rates = Mapping[str, ExchangeRate]


class DiscrepancyKind(StrEnum):
    VALUE_GAP = "VALUE_GAP"
    HS6_MISMATCH = "HS6_MISMATCH"
    MASS_MISMATCH = "MASS_MISMATCH"
    PACKAGE_COUNT_MISMATCH = "PACKAGE_COUNT_MISMATCH"
    OTHER_SIDE_MISSING = "OTHER_SIDE_MISSING"


class Severity(StrEnum):
    INFO = "INFO"  # worth knowing, not (yet) a finding
    WARNING = "WARNING"  # beyond tolerance: worth a look
    CRITICAL = "CRITICAL"  # far beyond tolerance: a likely valuation or declaration offence


@dataclass(frozen=True, slots=True)
class DiscrepancyThresholds:
    """When a difference becomes a discrepancy, and how severe it is (all relative gaps are
    absolute values of ``(importer − exporter) / exporter``)."""

    value_warning: Decimal = Decimal("0.05")  # NBK rates of two nearby days differ by ~1 %
    value_critical: Decimal = Decimal("0.20")
    mass_tolerance: Decimal = Decimal("0.05")  # the EAEU weighing tolerance for gross mass
    mass_critical: Decimal = Decimal("0.15")
    hs6_severity: Severity = Severity.WARNING
    package_severity: Severity = Severity.WARNING
    missing_after: dt.timedelta = dt.timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class ValueGap:
    """Both sides' total value in USD, each at the NBK rates of its own declaration date."""

    china_usd: Decimal
    kazakhstan_usd: Decimal
    china_rate_date: dt.date
    kazakhstan_rate_date: dt.date
    gap_usd: Decimal  # importer − exporter
    relative_gap: Decimal | None  # (importer − exporter) / exporter; None when the exporter's value is 0


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One disagreement. ``china`` / ``kazakhstan`` are each side's value as text in ``unit``
    (USD amount, kilograms, package count, HS-6 code, or the record number for a missing side)."""

    kind: DiscrepancyKind
    severity: Severity
    china: str | None
    kazakhstan: str | None
    unit: str | None
    line_no: int | None = None
    relative_gap: Decimal | None = None
    value_gap: ValueGap | None = None


def china_rate_date(record: ChinaManifestRecord) -> dt.date:
    """The day whose NBK rate values China's record: the manifest's Beijing declaration date."""
    return record.declared_at.date()


def kazakhstan_rate_date(record: KazakhstanPIRecord) -> dt.date:
    """The day whose NBK rate KGD applied to the record (it says so itself)."""
    return record.exchange_rate.date


def relative_gap(china: Decimal, kazakhstan: Decimal, direction: Direction) -> Decimal | None:
    """``(importer − exporter) / exporter`` rounded to 4 places; None when the exporter's is 0."""
    exporter, importer = (china, kazakhstan) if direction is Direction.CN_TO_KZ else (kazakhstan, china)
    if exporter == 0:
        return None
    return ((importer - exporter) / exporter).quantize(_GAP_PLACES)


def _usd(money: Money, rates: Rates | None) -> Decimal | None:
    if money.currency == "USD":
        return usd_amount(money, {})
    if rates is None:
        return None
    try:
        return usd_amount(money, rates)
    except KeyError:  # the day's table lacks the currency: no comparison rather than a guess
        return None


def value_gap(
    china: ChinaManifestRecord,
    kazakhstan: KazakhstanPIRecord,
    china_rates: Rates | None,
    kazakhstan_rates: Rates | None,
) -> ValueGap | None:
    """Both totals in USD at their own dates' rates; None when a needed rate is unknown."""
    return totals_gap(
        china.total_value,
        kazakhstan.total_value,
        china.direction,
        (china_rate_date(china), china_rates),
        (kazakhstan_rate_date(kazakhstan), kazakhstan_rates),
    )


def totals_gap(
    china_total: Money,
    kazakhstan_total: Money,
    direction: Direction,
    china_rated: tuple[dt.date, Rates | None],
    kazakhstan_rated: tuple[dt.date, Rates | None],
) -> ValueGap | None:
    """:func:`value_gap` from the two totals, each with its rate date and that day's rates (what
    the reports read of a record without mapping it in full)."""
    cn_usd = _usd(china_total, china_rated[1])
    kz_usd = _usd(kazakhstan_total, kazakhstan_rated[1])
    if cn_usd is None or kz_usd is None:
        return None
    gap = kz_usd - cn_usd if direction is Direction.CN_TO_KZ else cn_usd - kz_usd
    return ValueGap(
        china_usd=cn_usd,
        kazakhstan_usd=kz_usd,
        china_rate_date=china_rated[0],
        kazakhstan_rate_date=kazakhstan_rated[0],
        gap_usd=gap,
        relative_gap=relative_gap(cn_usd, kz_usd, direction),
    )


def _graded(gap: Decimal, warning: Decimal, critical: Decimal) -> Severity | None:
    size = abs(gap)
    if size > critical:
        return Severity.CRITICAL
    if size > warning:
        return Severity.WARNING
    return None


def value_gap_discrepancy(gap: ValueGap | None, thresholds: DiscrepancyThresholds) -> Discrepancy | None:
    if gap is None:
        return None
    if gap.relative_gap is None:
        severity: Severity | None = Severity.WARNING if gap.gap_usd != 0 else None
    else:
        severity = _graded(gap.relative_gap, thresholds.value_warning, thresholds.value_critical)
    if severity is None:
        return None
    return Discrepancy(
        DiscrepancyKind.VALUE_GAP,
        severity,
        str(gap.china_usd),
        str(gap.kazakhstan_usd),
        "USD",
        relative_gap=gap.relative_gap,
        value_gap=gap,
    )


def hs6_mismatches(
    china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord, thresholds: DiscrepancyThresholds
) -> list[Discrepancy]:
    """One per item both sides declared (same item number) under different HS-6."""
    kz_lines = {line.line_no: line for line in kazakhstan.goods}
    found: list[Discrepancy] = []
    for line in sorted(china.goods, key=lambda g: g.line_no):
        other = kz_lines.get(line.line_no)
        if other is not None and other.hs6 != line.hs6:
            found.append(
                Discrepancy(
                    DiscrepancyKind.HS6_MISMATCH,
                    thresholds.hs6_severity,
                    line.hs6,
                    other.hs6,
                    "HS-6",
                    line_no=line.line_no,
                )
            )
    return found


def mass_mismatch(
    china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord, thresholds: DiscrepancyThresholds
) -> Discrepancy | None:
    gap = relative_gap(china.total_gross_kg, kazakhstan.total_gross_kg, china.direction)
    if gap is None:
        severity: Severity | None = None if kazakhstan.total_gross_kg == china.total_gross_kg else Severity.WARNING
    else:
        severity = _graded(gap, thresholds.mass_tolerance, thresholds.mass_critical)
    if severity is None:
        return None
    return Discrepancy(
        DiscrepancyKind.MASS_MISMATCH,
        severity,
        str(china.total_gross_kg),
        str(kazakhstan.total_gross_kg),
        "kg",
        relative_gap=gap,
    )


def package_count_mismatch(
    china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord, thresholds: DiscrepancyThresholds
) -> Discrepancy | None:
    if china.total_packages == kazakhstan.total_packages:
        return None
    return Discrepancy(
        DiscrepancyKind.PACKAGE_COUNT_MISMATCH,
        thresholds.package_severity,
        str(china.total_packages),
        str(kazakhstan.total_packages),
        "packages",
        relative_gap=relative_gap(Decimal(china.total_packages), Decimal(kazakhstan.total_packages), china.direction),
    )


def other_side_missing(
    china: ChinaManifestRecord | None,
    kazakhstan: KazakhstanPIRecord | None,
    now: dt.datetime,
    thresholds: DiscrepancyThresholds,
) -> Discrepancy | None:
    """Only one authority has a record: INFO while the other may still register it, then WARNING."""
    if china is not None and kazakhstan is not None:
        return None
    if china is not None:
        at, cn_text, kz_text = china.declared_at, china.batch_no, None
    elif kazakhstan is not None:
        at, cn_text, kz_text = kazakhstan.registered_at, None, kazakhstan.pi_number
    else:
        raise ValueError("a trip needs at least one record")
    severity = Severity.WARNING if now - at >= thresholds.missing_after else Severity.INFO
    return Discrepancy(DiscrepancyKind.OTHER_SIDE_MISSING, severity, cn_text, kz_text, "record")


def find_discrepancies(
    china: ChinaManifestRecord | None,
    kazakhstan: KazakhstanPIRecord | None,
    *,
    china_rates: Rates | None,
    kazakhstan_rates: Rates | None,
    now: dt.datetime,
    thresholds: DiscrepancyThresholds,
) -> list[Discrepancy]:
    """Every discrepancy of one trip, in a fixed order (value, HS-6 by item, mass, packages, missing).

    ``china_rates`` / ``kazakhstan_rates``: the NBK table of :func:`china_rate_date` /
    :func:`kazakhstan_rate_date` (None when unknown: then no value comparison is made).
    """
    if china is None or kazakhstan is None:
        missing = other_side_missing(china, kazakhstan, now, thresholds)
        return [missing] if missing is not None else []
    found: list[Discrepancy] = []
    value = value_gap_discrepancy(value_gap(china, kazakhstan, china_rates, kazakhstan_rates), thresholds)
    if value is not None:
        found.append(value)
    found.extend(hs6_mismatches(china, kazakhstan, thresholds))
    for check in (mass_mismatch, package_count_mismatch):
        item = check(china, kazakhstan, thresholds)
        if item is not None:
            found.append(item)
    return found
