"""GACC wire records → the unified domain model. Pure functions, no I/O.

Every code the wire doc lists is mapped through an explicit table, so a code the authority adds
later is a contract error naming it instead of a silently wrong status. Normalisation of plates,
times, money and tariff codes is delegated to the shared parsers (one spelling rule each for both
authorities).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from ...codes import hs6
from ...domain import (
    Authority,
    Checkpoint,
    ChinaManifestRecord,
    Country,
    Direction,
    Driver,
    GoodsLine,
    Inspection,
    InspectionKind,
    InspectionOutcome,
    Money,
    Party,
    RecordStatus,
    VehicleRef,
)
from ...money import cn_currency, parse_amount, parse_minor
from ...plates import parse_plate
from ...timeutil import parse_cn_time
from ..base import MASS_PLACES, MONEY_PLACES, ScanLine, ScanRecord
from .payloads import WireObject

__all__ = [
    "DIRECTION_BY_IE_FLAG",
    "IE_FLAG_BY_DIRECTION",
    "INSPECTION_KINDS",
    "INSPECTION_OUTCOMES",
    "STATUSES",
    "cn_tariff_code",
    "map_checkpoint",
    "map_inspection",
    "map_manifest",
    "map_manifest_scan",
    "org_country",
]

DIRECTION_BY_IE_FLAG = {"E": Direction.CN_TO_KZ, "I": Direction.KZ_TO_CN}
IE_FLAG_BY_DIRECTION = {direction: flag for flag, direction in DIRECTION_BY_IE_FLAG.items()}
# Status codes mean different things per direction (20 exists only for imports).
STATUSES: dict[tuple[str, str], RecordStatus] = {
    ("E", "10"): RecordStatus.DECLARED,
    ("E", "30"): RecordStatus.EXITED,
    ("I", "10"): RecordStatus.DECLARED,
    ("I", "20"): RecordStatus.ARRIVED,
    ("I", "40"): RecordStatus.RELEASED,
}
INSPECTION_KINDS = {
    "1": InspectionKind.XRAY_SCAN,  # H986机检
    "2": InspectionKind.MANUAL_INSPECTION,  # 人工查验
    "3": InspectionKind.OPENING,  # 开箱查验
}
INSPECTION_OUTCOMES = {"1": InspectionOutcome.NO_FINDINGS, "2": InspectionOutcome.VIOLATION}  # 正常 / 异常

_PEOPLE_COUNTRIES = {"CHN": Country.CN, "KAZ": Country.KZ}  # ISO 3166 alpha-3 for people
_ORG_COUNTRIES = {"CN": Country.CN, "KZ": Country.KZ}  # alpha-2 for vehicles and companies
_ALPHA2 = re.compile(r"[A-Z]{2}")
_ALPHA3 = re.compile(r"[A-Z]{3}")
_TARIFF_CODE = re.compile(r"\d{10}(?:\d{3})?")
_HHMM = re.compile(r"([01]\d|2[0-3])([0-5]\d)")


def _weight(text: str) -> Decimal:
    return parse_amount(text, 3)


def _amount(text: str) -> Decimal:
    return parse_amount(text, 2)


def _grams(text: str) -> int:
    return parse_minor(text, MASS_PLACES)


def _minor(text: str) -> int:
    return parse_minor(text, MONEY_PLACES)


def _coded(wire: WireObject, field: str, table: dict[str, Country], pattern: re.Pattern[str]) -> Country:
    code = wire.text(field)
    if not pattern.fullmatch(code):
        raise wire.fail(field, f"not a country code: {code[:8]!r}")
    return table.get(code, Country.OTHER)


def org_country(code: str) -> Country:
    """A vehicle's or company's country code (alpha-2) as the domain's country; any other
    country is OTHER.

    Raises:
        ValueError: not two upper-case ASCII letters.
    """
    if not _ALPHA2.fullmatch(code):
        raise ValueError(code)
    return _ORG_COUNTRIES.get(code, Country.OTHER)


def _party(wire: WireObject) -> Party:
    return Party(
        id=wire.opt_text("code"),
        name=wire.text("name"),
        country=_coded(wire, "country", _ORG_COUNTRIES, _ALPHA2),
    )


def _driver(wire: WireObject) -> Driver:
    return Driver(
        name=wire.text("name"),
        name_latin=wire.opt_text("nameEn"),
        passport_no=wire.opt_text("passportNo"),
        nationality=_coded(wire, "nationality", _PEOPLE_COUNTRIES, _ALPHA3),
    )


def _vehicle(wire: WireObject, with_details: bool) -> VehicleRef:
    written = wire.text("plateNo")
    return VehicleRef(
        plate=parse_plate(written),
        written=written,
        vin=wire.opt_text("vin") if with_details else None,
        make=wire.opt_text("brand") if with_details else None,
    )


def cn_tariff_code(code: str) -> tuple[str, str]:
    """China's full code (10 digits, or 13 with the inspection-quarantine suffix) and its HS-6."""
    if not _TARIFF_CODE.fullmatch(code):
        raise ValueError(code)
    return code, hs6(code)


def _goods_line(wire: WireObject) -> GoodsLine:
    tariff_code, subheading = wire.parsed("codeTs", cn_tariff_code)
    return GoodsLine(
        authority=Authority.GACC,
        line_no=wire.count("gNo"),
        tariff_code=tariff_code,
        hs6=subheading,
        description=wire.text("gName"),
        description_language="zh",
        packages=wire.count("packNo"),
        package_kind=wire.opt_text("packType"),
        gross_kg=wire.parsed("grossWt", _weight),
        net_kg=wire.opt_parsed("netWt", _weight),
        value=Money(wire.parsed("declTotal", _amount), wire.parsed("currCode", cn_currency)),
    )


def _record_name(raw: object, kind: str, key: str) -> WireObject:
    """Read the record's own id first, so every later error can name the record."""
    return WireObject(raw, f"{kind} {WireObject(raw, kind).text(key)[:64]}")


def map_manifest(raw: object) -> ChinaManifestRecord:
    """One road manifest (公路舱单); raises UpstreamContract naming the batch and field."""
    wire = _record_name(raw, "manifest", "batchNo")
    ie_flag = wire.text("ieFlag")
    direction = DIRECTION_BY_IE_FLAG.get(ie_flag)
    if direction is None:
        raise wire.fail("ieFlag", f"unknown direction {ie_flag[:8]!r}")
    status_code = wire.text("status")
    status = STATUSES.get((ie_flag, status_code))
    if status is None:
        raise wire.fail("status", f"unknown status {status_code[:8]!r} for ieFlag {ie_flag}")
    currency = wire.parsed("currCode", cn_currency)
    trailer = wire.opt_obj("trailer")
    return ChinaManifestRecord(
        batch_no=wire.text("batchNo"),
        common_manifest_id=wire.opt_text("commonManifestNo"),
        port_code=wire.text("portCode"),
        port_name=wire.text("portName"),
        direction=direction,
        status=status,
        status_original=f"{status_code} {wire.opt_text('statusName') or ''}".strip(),
        declared_at=wire.parsed("declTime", parse_cn_time),
        border_crossed_at=wire.opt_parsed("ieTime", parse_cn_time),
        released_at=wire.opt_parsed("releaseTime", parse_cn_time),
        vehicle=_vehicle(wire.obj("vehicle"), with_details=True),
        trailer=None if trailer is None else _vehicle(trailer, with_details=False),
        driver=_driver(wire.obj("driver")),
        carrier=_party(wire.obj("carrier")),
        consignor=_party(wire.obj("consignor")),
        consignee=_party(wire.obj("consignee")),
        containers=wire.texts("containers"),
        seals=wire.texts("seals"),
        currency=currency,
        total_packages=wire.count("totalPackNo"),
        total_gross_kg=wire.parsed("totalGrossWt", _weight),
        total_value=Money(wire.parsed("totalAmount", _amount), currency),
        goods=tuple(_goods_line(line) for line in wire.objs("goods")),
    )


def _scan_line(wire: WireObject) -> ScanLine:
    return ScanLine(
        wire.parsed("codeTs", cn_tariff_code)[1],
        wire.parsed("grossWt", _grams),
        wire.parsed("declTotal", _minor),
        wire.parsed("currCode", cn_currency),
    )


def map_manifest_scan(raw: object) -> ScanRecord:
    """What reports read of one manifest, with :func:`map_manifest`'s checks and parsers on
    those fields (the others are not read: a scan reads every record of its window)."""
    wire = _record_name(raw, "manifest", "batchNo")
    ie_flag = wire.text("ieFlag")
    direction = DIRECTION_BY_IE_FLAG.get(ie_flag)
    if direction is None:
        raise wire.fail("ieFlag", f"unknown direction {ie_flag[:8]!r}")
    declared_at = wire.parsed("declTime", parse_cn_time)
    final_field = "ieTime" if direction is Direction.CN_TO_KZ else "releaseTime"
    return ScanRecord(
        key=wire.text("batchNo"),
        common_manifest_id=wire.opt_text("commonManifestNo"),
        direction=direction,
        declared_at=declared_at,
        final_at=wire.opt_parsed(final_field, parse_cn_time),
        plate=parse_plate(wire.obj("vehicle").text("plateNo")),
        carrier=_party(wire.obj("carrier")),
        rate_date=declared_at.date(),  # Beijing wall time: discrepancies.china_rate_date
        total_minor=wire.parsed("totalAmount", _minor),
        currency=wire.parsed("currCode", cn_currency),
        goods=tuple(_scan_line(line) for line in wire.objs("goods")),
    )


def map_inspection(raw: object) -> Inspection:
    """One GACC inspection record; China has no risk corridor, so ``risk_channel`` is None."""
    wire = _record_name(raw, "inspection", "inspectionNo")
    kind_code = wire.text("inspType")
    kind = INSPECTION_KINDS.get(kind_code)
    if kind is None:
        raise wire.fail("inspType", f"unknown inspection type {kind_code[:8]!r}")
    result_code = wire.text("result")
    outcome = INSPECTION_OUTCOMES.get(result_code)
    if outcome is None:
        raise wire.fail("result", f"unknown result {result_code[:8]!r}")
    return Inspection(
        authority=Authority.GACC,
        id=wire.text("inspectionNo"),
        record_id=wire.text("batchNo"),
        kind=kind,
        kind_original=wire.text("inspTypeName"),
        outcome=outcome,
        risk_channel=None,
        started_at=wire.parsed("startTime", parse_cn_time),
        finished_at=wire.opt_parsed("endTime", parse_cn_time),
        office=wire.text("customsCode"),
        note=wire.opt_text("remark"),
        common_manifest_id=wire.opt_text("commonManifestNo"),
    )


def _hhmm(text: str) -> dt.time:
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return dt.time(int(match[1]), int(match[2]))


def map_checkpoint(raw: object) -> Checkpoint:
    """One GACC port. ``locodeOfficial`` false means the code is the authority's own."""
    wire = _record_name(raw, "port", "portCode")
    return Checkpoint(
        authority=Authority.GACC,
        code=wire.text("portCode"),
        name=wire.text("portName"),
        name_latin=wire.opt_text("portNameEn"),
        locode=wire.opt_text("locode"),
        locode_official=wire.flag("locodeOfficial"),
        opens=wire.opt_parsed("openTime", _hhmm),
        closes=wire.opt_parsed("closeTime", _hhmm),
    )
