"""The GACC mappers on hand-written wire samples: every code, and every way a field can be wrong."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.domain import (
    Authority,
    Country,
    Direction,
    InspectionKind,
    InspectionOutcome,
    RecordStatus,
)
from customs_gateway.errors import UpstreamContract
from customs_gateway.sources.china.mapping import map_checkpoint, map_inspection, map_manifest

CST = dt.timezone(dt.timedelta(hours=8))

MANIFEST: dict[str, Any] = {
    "batchNo": "9403E2025112800123",
    "commonManifestNo": "CKM-KHORGOS-20251128-00123",
    "portCode": "9403",
    "portName": "霍尔果斯",
    "ieFlag": "E",
    "status": "30",
    "statusName": "已出境",
    "declTime": "20251128093015",
    "ieTime": "20251128111500",
    "releaseTime": None,
    "vehicle": {"plateNo": "新F·12345", "country": "CN", "vin": "LGAX1234567890123", "brand": "陕汽"},
    "trailer": {"plateNo": "新F1234挂", "country": "CN"},
    "driver": {"name": "王伟", "nameEn": "WANG WEI", "passportNo": "E12345678", "nationality": "CHN"},
    "carrier": {"code": "91654004MA7XXXXX1K", "name": "霍尔果斯运输有限公司", "country": "CN"},
    "consignor": {"code": "91650000MA7XXXXX2L", "name": "新疆贸易有限公司", "country": "CN"},
    "consignee": {"code": "123456789012", "name": "TOO Almaty Trade", "country": "KZ"},
    "containers": ["TGHU1234567"],
    "seals": ["CN94031234567"],
    "currCode": "142",
    "totalPackNo": 120,
    "totalGrossWt": "18250.500",
    "totalAmount": "1234567.00",
    "goods": [
        {
            "gNo": 1,
            "codeTs": "8703800090",
            "gName": "纯电动乘用车",
            "packNo": 2,
            "packType": "VN",
            "grossWt": "3650.000",
            "netWt": "3400.000",
            "declTotal": "300000.00",
            "currCode": "142",
        },
        {
            "gNo": 2,
            "codeTs": "8517130000101",
            "gName": "智能手机",
            "packNo": 118,
            "packType": "CT",
            "grossWt": "14600.500",
            "netWt": None,
            "declTotal": "130000.00",
            "currCode": "502",
        },
    ],
}

INSPECTION: dict[str, Any] = {
    "inspectionNo": "CI9403202511280000123",
    "batchNo": "9403E2025112800123",
    "inspType": "1",
    "inspTypeName": "H986机检",
    "startTime": "20251128100500",
    "endTime": "20251128101200",
    "result": "1",
    "resultName": "正常",
    "customsCode": "9403",
    "remark": "图像正常",
}

PORT: dict[str, Any] = {
    "portCode": "9403",
    "portName": "霍尔果斯",
    "portNameEn": "Horgos",
    "locode": "CNHRS",
    "locodeOfficial": True,
    "openTime": "0930",
    "closeTime": "1800",
    "foreignPortName": "Нұр Жолы",
}


def manifest(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(MANIFEST)
    record.update(changes)
    return record


def inspection(**changes: Any) -> dict[str, Any]:
    return {**INSPECTION, **changes}


def test_export_manifest_maps_every_field() -> None:
    record = map_manifest(manifest())

    assert record.batch_no == "9403E2025112800123"
    assert record.common_manifest_id == "CKM-KHORGOS-20251128-00123"
    assert (record.port_code, record.port_name) == ("9403", "霍尔果斯")
    assert record.direction is Direction.CN_TO_KZ
    assert record.status is RecordStatus.EXITED
    assert record.status_original == "30 已出境"
    assert record.declared_at == dt.datetime(2025, 11, 28, 9, 30, 15, tzinfo=CST)
    assert record.declared_at.utcoffset() == dt.timedelta(hours=8)
    assert record.border_crossed_at == dt.datetime(2025, 11, 28, 11, 15, tzinfo=CST)
    assert record.released_at is None
    assert record.vehicle.written == "新F·12345"
    assert record.vehicle.plate.canonical == "XINF12345"
    assert (record.vehicle.vin, record.vehicle.make) == ("LGAX1234567890123", "陕汽")
    assert record.trailer is not None and record.trailer.written == "新F1234挂"
    assert record.trailer.plate.trailer
    assert record.driver.name == "王伟" and record.driver.name_latin == "WANG WEI"
    assert record.driver.passport_no == "E12345678"
    assert record.driver.nationality is Country.CN
    assert record.carrier.country is Country.CN and record.carrier.id == "91654004MA7XXXXX1K"
    assert record.consignee.country is Country.KZ and record.consignee.name == "TOO Almaty Trade"
    assert record.containers == ("TGHU1234567",) and record.seals == ("CN94031234567",)
    assert record.currency == "CNY"
    assert record.total_packages == 120
    assert record.total_gross_kg == Decimal("18250.500")
    assert record.total_value.amount == Decimal("1234567.00") and record.total_value.currency == "CNY"


def test_goods_lines_keep_the_full_code_and_their_own_currency() -> None:
    first, second = map_manifest(manifest()).goods

    assert first.authority is Authority.GACC
    assert (first.line_no, first.tariff_code, first.hs6) == (1, "8703800090", "870380")
    assert (first.description, first.description_language) == ("纯电动乘用车", "zh")
    assert (first.packages, first.package_kind) == (2, "VN")
    assert (first.gross_kg, first.net_kg) == (Decimal("3650.000"), Decimal("3400.000"))
    assert (first.value.amount, first.value.currency) == (Decimal("300000.00"), "CNY")
    assert first.value_kzt is None
    assert (second.tariff_code, second.hs6) == ("8517130000101", "851713")
    assert second.net_kg is None
    assert second.value.currency == "USD"


def test_optional_parts_may_be_null() -> None:
    record = map_manifest(
        manifest(commonManifestNo=None, ieTime=None, trailer=None, containers=[], seals=None, status="10")
    )

    assert record.common_manifest_id is None
    assert record.border_crossed_at is None
    assert record.trailer is None
    assert record.containers == () and record.seals == ()


def test_kazakh_truck_and_driver() -> None:
    record = map_manifest(
        manifest(
            ieFlag="I",
            status="40",
            statusName="已放行",
            releaseTime="20251128150000",
            vehicle={"plateNo": "123 ABC 19", "country": "KZ"},
            driver={"name": "ИВАНОВ ИВАН", "nameEn": None, "passportNo": None, "nationality": "KAZ"},
        )
    )

    assert record.direction is Direction.KZ_TO_CN
    assert record.released_at == dt.datetime(2025, 11, 28, 15, 0, tzinfo=CST)
    assert record.vehicle.plate.canonical == "123ABC19"
    assert record.vehicle.plate.country is Country.KZ
    assert record.vehicle.vin is None
    assert record.driver.nationality is Country.KZ
    assert record.driver.name_latin is None and record.driver.passport_no is None


def test_a_driver_of_a_third_country_is_other() -> None:
    record = map_manifest(manifest(driver={**MANIFEST["driver"], "nationality": "UZB"}))
    assert record.driver.nationality is Country.OTHER


@pytest.mark.parametrize(
    ("ie_flag", "status", "expected"),
    [
        ("E", "10", RecordStatus.DECLARED),
        ("E", "30", RecordStatus.EXITED),
        ("I", "10", RecordStatus.DECLARED),
        ("I", "20", RecordStatus.ARRIVED),
        ("I", "40", RecordStatus.RELEASED),
    ],
)
def test_every_status_code(ie_flag: str, status: str, expected: RecordStatus) -> None:
    record = map_manifest(manifest(ieFlag=ie_flag, status=status, statusName="名"))
    assert record.status is expected
    assert record.status_original == f"{status} 名"


@pytest.mark.parametrize(
    ("ie_flag", "status"), [("E", "20"), ("E", "40"), ("I", "30"), ("E", "99"), ("I", "")]
)
def test_a_status_outside_the_direction_s_vocabulary_is_a_contract_error(ie_flag: str, status: str) -> None:
    with pytest.raises(UpstreamContract, match=r"9403E2025112800123.*status"):
        map_manifest(manifest(ieFlag=ie_flag, status=status))


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        ("1", InspectionKind.XRAY_SCAN, "H986机检"),
        ("2", InspectionKind.MANUAL_INSPECTION, "人工查验"),
        ("3", InspectionKind.OPENING, "开箱查验"),
    ],
)
def test_every_inspection_type(code: str, kind: InspectionKind, name: str) -> None:
    result = map_inspection(inspection(inspType=code, inspTypeName=name))
    assert (result.kind, result.kind_original) == (kind, name)


@pytest.mark.parametrize(
    ("code", "outcome"), [("1", InspectionOutcome.NO_FINDINGS), ("2", InspectionOutcome.VIOLATION)]
)
def test_every_inspection_result(code: str, outcome: InspectionOutcome) -> None:
    assert map_inspection(inspection(result=code)).outcome is outcome


def test_inspection_maps_every_field() -> None:
    result = map_inspection(inspection())

    assert result.authority is Authority.GACC
    assert result.id == "CI9403202511280000123"
    assert result.record_id == "9403E2025112800123"
    assert result.risk_channel is None
    assert result.started_at == dt.datetime(2025, 11, 28, 10, 5, tzinfo=CST)
    assert result.finished_at == dt.datetime(2025, 11, 28, 10, 12, tzinfo=CST)
    assert result.office == "9403"
    assert result.note == "图像正常"
    assert result.recognized_inspection_id is None


def test_an_unfinished_inspection_without_remark() -> None:
    result = map_inspection(inspection(endTime=None, remark=None))
    assert result.finished_at is None and result.note is None


@pytest.mark.parametrize(
    ("field", "value"), [("inspType", "4"), ("result", "0"), ("result", 1), ("startTime", "2025-11-28")]
)
def test_a_bad_inspection_field_is_a_contract_error_naming_it(field: str, value: object) -> None:
    with pytest.raises(UpstreamContract, match=rf"CI9403202511280000123 field {field}"):
        map_inspection(inspection(**{field: value}))


def test_checkpoint() -> None:
    port = map_checkpoint(PORT)

    assert port.authority is Authority.GACC
    assert (port.code, port.name, port.name_latin) == ("9403", "霍尔果斯", "Horgos")
    assert (port.locode, port.locode_official) == ("CNHRS", True)
    assert (port.opens, port.closes) == (dt.time(9, 30), dt.time(18, 0))


@pytest.mark.parametrize(
    ("field", "value"), [("openTime", "2400"), ("closeTime", "9:30"), ("locodeOfficial", "yes")]
)
def test_a_bad_port_field_is_a_contract_error(field: str, value: object) -> None:
    with pytest.raises(UpstreamContract, match=rf"port 9403 field {field}"):
        map_checkpoint({**PORT, field: value})


def _set(record: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """Set ``a.b`` / ``goods.1.grossWt`` in a deep copy; the value ``...`` deletes the field."""
    record = copy.deepcopy(record)
    *parents, last = path.split(".")
    target: Any = record
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return record


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("portCode", ..., "portCode"),
        ("portName", None, "portName"),
        ("ieFlag", "X", "ieFlag"),
        ("status", 30, "status"),
        ("declTime", "20251128", "declTime"),
        ("declTime", "20251131093015", "declTime"),  # 31 November
        ("ieTime", "not a time", "ieTime"),
        ("releaseTime", 20251128150000, "releaseTime"),
        ("vehicle", "新F12345", "vehicle"),
        ("vehicle.plateNo", ..., "vehicle.plateNo"),
        ("driver.nationality", "China", "driver.nationality"),
        ("driver.name", "", "driver.name"),
        ("consignee.country", "kz", "consignee.country"),
        ("containers", "TGHU1234567", "containers"),
        ("seals", [1, 2], "seals"),
        ("currCode", "999", "currCode"),
        ("currCode", "CNY", "currCode"),
        ("totalPackNo", "120", "totalPackNo"),
        ("totalPackNo", -1, "totalPackNo"),
        ("totalPackNo", True, "totalPackNo"),
        ("totalGrossWt", "18250.5kg", "totalGrossWt"),
        ("totalGrossWt", 18250.5, "totalGrossWt"),
        ("totalAmount", "1,234,567.00", "totalAmount"),
        ("goods", None, "goods"),
        ("goods", {"gNo": 1}, "goods"),
        ("goods.0", "line", r"goods\[0\]"),
        ("goods.1.codeTs", "85171300", r"goods\[1\].codeTs"),
        ("goods.1.codeTs", "851713000A", r"goods\[1\].codeTs"),
        ("goods.1.codeTs", "0012345678", r"goods\[1\].codeTs"),  # no HS chapter 00
        ("goods.1.grossWt", "heavy", r"goods\[1\].grossWt"),
        ("goods.0.netWt", "NaN", r"goods\[0\].netWt"),
        ("goods.0.declTotal", ..., r"goods\[0\].declTotal"),
        ("goods.0.currCode", "156", r"goods\[0\].currCode"),
        ("goods.0.gNo", "1", r"goods\[0\].gNo"),
    ],
)
def test_a_malformed_field_is_a_contract_error_naming_record_and_field(
    path: str, value: object, named: str
) -> None:
    with pytest.raises(UpstreamContract, match=rf"manifest 9403E2025112800123 field {named}:") as caught:
        map_manifest(_set(MANIFEST, path, value))
    assert caught.value.authority is Authority.GACC
    assert caught.value.code == "UPSTREAM_CONTRACT"


@pytest.mark.parametrize("raw", [None, [], "manifest", {}, {"batchNo": 9403}, {"batchNo": ""}])
def test_a_record_that_is_not_a_manifest_object_is_a_contract_error(raw: object) -> None:
    with pytest.raises(UpstreamContract, match="manifest"):
        map_manifest(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
MANIFEST_PATHS = sorted(
    {*MANIFEST}
    | {f"{part}.{field}" for part in ("vehicle", "driver", "carrier") for field in MANIFEST[part]}
    | {f"goods.0.{field}" for field in MANIFEST["goods"][0]}
)


@given(path=st.sampled_from(MANIFEST_PATHS), value=json_values | st.just(...))
def test_any_corrupted_field_either_maps_or_is_a_contract_error(path: str, value: object) -> None:
    """Whatever a hostile upstream puts in one field, nothing but UpstreamContract escapes."""
    with contextlib.suppress(UpstreamContract):
        map_manifest(_set(MANIFEST, path, value))


@given(
    amount=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2),
    weight=st.decimals(min_value=0, max_value=Decimal("99999999.999"), places=3),
)
def test_amounts_and_weights_keep_their_exact_decimal_value(amount: Decimal, weight: Decimal) -> None:
    record = map_manifest(manifest(totalAmount=f"{amount:.2f}", totalGrossWt=f"{weight:.3f}"))
    assert record.total_value.amount == amount
    assert record.total_gross_kg == weight


@given(prefecture=st.sampled_from("EFGH"), digits=st.from_regex(r"[0-9]{5}", fullmatch=True))
def test_a_chinese_plate_is_kept_as_written_and_understood(prefecture: str, digits: str) -> None:
    written = f"新{prefecture}·{digits}"
    record = map_manifest(manifest(vehicle={"plateNo": written, "country": "CN"}))
    assert record.vehicle.written == written
    assert record.vehicle.plate.canonical == f"XIN{prefecture}{digits}"
