"""How China's customs records a ground-truth trip: pure functions from :mod:`customs_sim.model`.

Each trip China saw becomes one road manifest and its Chinese inspections, rendered once (at
dataset build time) to the exact JSON bytes the API serves, plus the few columns the list
queries filter on. Nothing here touches the database or the network.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import orjson

from customs_sim.clocktext import COMPACT_CLOCK, TWO_DIGITS, compact_date
from customs_sim.memo import identity_memo
from customs_sim.model import (
    Company,
    Direction,
    Driver,
    EventKind,
    Inspection,
    InspectionKind,
    InspectionResult,
    Side,
    Trip,
    TripEvent,
    Vehicle,
)
from customs_sim.reference import CROSSINGS_BY_ID, Crossing, cn_tz

__all__ = [
    "CURRENCY_CODES",
    "InspectionRecord",
    "ManifestRecord",
    "TripRecords",
    "amount",
    "cn_time",
    "inspection_doc",
    "manifest_doc",
    "parse_cn_time",
    "plate_key",
    "port_doc",
    "render_trip",
    "weight",
]

# China customs' numeric currency codes (海关币制代码), not ISO 4217.
CURRENCY_CODES = {"CNY": "142", "USD": "502"}
_CN_TZ = cn_tz()
_CN_SHIFT_S = int(_CN_TZ.utcoffset(None).total_seconds())
_UTC = dt.UTC
_TIME_FORMAT = "%Y%m%d%H%M%S"
# Middle dots seen between a Chinese plate's prefecture letter and number, after NFKC folding
# (NFKC turns the half-width katakana dot into U+30FB, so that one is listed in its folded form).
_PLATE_NOISE = str.maketrans("", "", "·‧・• \t\u3000")
_THREE = Decimal("0.001")
_TWO = Decimal("0.01")

_INSPECTION_TYPES: dict[InspectionKind, tuple[str, str]] = {
    InspectionKind.H986_SCAN: ("1", "H986机检"),
    InspectionKind.MANUAL: ("2", "人工查验"),
    InspectionKind.OPENING: ("3", "开箱查验"),
    # A Chinese record of a recognized Kazakh control (phase-2 mutual recognition) keeps the
    # Kazakh form of control; China files an X-ray as a machine scan and the rest as manual work.
    InspectionKind.XRAY: ("1", "H986机检"),
    InspectionKind.EXAMINATION: ("2", "人工查验"),
    InspectionKind.DOCUMENT_CHECK: ("2", "人工查验"),
    InspectionKind.WEIGHING: ("2", "人工查验"),
}
T = TypeVar("T")
_RESULTS = {InspectionResult.NORMAL: ("1", "正常"), InspectionResult.ABNORMAL: ("2", "异常")}


def plate_key(plate: str) -> str:
    """The form plates are matched in: NFKC (full-width to ASCII), no dots or spaces, upper case."""
    if plate.isascii():  # NFKC leaves ASCII as it is (most written plates): skip its call
        return plate.translate(_PLATE_NOISE).upper()
    return unicodedata.normalize("NFKC", plate).translate(_PLATE_NOISE).upper()


def cn_time(at: dt.datetime) -> str:
    """``yyyyMMddHHmmss`` in Beijing time, without an offset (the GACC convention)."""
    if at.tzinfo is _UTC and at.year >= 1970:  # every ground-truth instant: table lookups (clocktext)
        day, second = divmod(int(at.timestamp()) + _CN_SHIFT_S, 86_400)
        return f"{compact_date(day)}{COMPACT_CLOCK[second // 60]}{TWO_DIGITS[second % 60]}"
    if at.tzinfo is None:
        raise ValueError("naive datetime: ground-truth instants are aware UTC")
    local = at.astimezone(_CN_TZ)
    return "%04d%02d%02d%02d%02d%02d" % (  # noqa: UP031
        local.year, local.month, local.day, local.hour, local.minute, local.second
    )


def parse_cn_time(text: str) -> int:
    """Epoch seconds of a ``yyyyMMddHHmmss`` Beijing time; ValueError when malformed."""
    if len(text) != 14 or not text.isascii() or not text.isdigit():
        raise ValueError(f"not yyyyMMddHHmmss: {text!r}")
    return int(dt.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=_CN_TZ).timestamp())


def weight(kg: Decimal) -> str:
    return str(kg.quantize(_THREE))


def amount(value: Decimal) -> str:
    return str(value.quantize(_TWO))


# The records are named tuples in their table's column order: the store inserts them as they are
# (a build makes one or more per trip, and a frozen dataclass costs twice as much to create).
class ManifestRecord(NamedTuple):
    batch_no: str
    port_code: str
    ie_flag: str
    decl_time: int  # UTC epoch seconds
    plate_key: str
    common_no: str | None
    doc: bytes


class InspectionRecord(NamedTuple):
    inspection_no: str
    batch_no: str
    port_code: str
    start_time: int  # UTC epoch seconds
    common_no: str | None
    doc: bytes


class TripRecords(NamedTuple):
    manifest: ManifestRecord
    inspections: tuple[InspectionRecord, ...]


def render_trip(trip: Trip) -> TripRecords | None:
    """China's records of ``trip``, or None when China has none (not seen, or not declared yet)."""
    if Side.CN not in trip.seen_by or trip.cn_batch_no is None:
        return None
    events = _first_events(trip)
    declared = events.get(EventKind.CN_DECLARED)
    if declared is None:
        return None
    crossing = CROSSINGS_BY_ID[trip.crossing]
    doc = _manifest_doc(trip, crossing, events)
    plate = trip.cn_truck_plate_written or trip.truck.plate
    # Positional arguments: a keyword call costs more, and this runs once per trip of a build.
    port_code, batch_no, common_no = crossing.cn.code, trip.cn_batch_no, trip.common_id
    manifest = ManifestRecord(
        batch_no,
        port_code,
        doc["ieFlag"],
        int(declared.at.timestamp()),
        plate_key(plate),
        common_no,
        orjson.dumps(doc),
    )
    if not trip.inspections:  # most trips: no generator to set up
        return TripRecords(manifest, ())
    inspections = tuple(
        InspectionRecord(
            inspection.id,
            batch_no,
            port_code,
            int(inspection.started_at.timestamp()),
            common_no,
            orjson.dumps(inspection_doc(inspection, batch_no, common_no)),
        )
        for inspection in trip.inspections
        if inspection.side is Side.CN
    )
    return TripRecords(manifest, inspections)


def _first_events(trip: Trip) -> dict[EventKind, TripEvent]:
    """Each kind's first event (as ``Trip.event`` finds it): one pass instead of a scan per lookup."""
    return {event.kind: event for event in reversed(trip.events)}


def _time_of(events: dict[EventKind, TripEvent], kind: EventKind) -> str | None:
    event = events.get(kind)
    return None if event is None else cn_time(event.at)


def _status(events: dict[EventKind, TripEvent], export: bool) -> tuple[str, str]:
    if export:
        return ("30", "已出境") if EventKind.CN_EXITED in events else ("10", "已申报")
    if EventKind.CN_RELEASED in events:
        return "40", "已放行"
    if EventKind.CN_ARRIVED in events:
        return "20", "已进境"
    return "10", "已申报"


def _company(company: Company) -> dict[str, str]:
    # Chinese customs keeps Chinese names of Chinese firms and the Latin name of foreign ones.
    name = company.name_native if company.country is Side.CN else company.name_latin
    return {"code": company.id, "name": name, "country": company.country.value}


def _driver(driver: Driver) -> dict[str, str]:
    chinese_driver = driver.country is Side.CN
    return {
        "name": driver.name_native if chinese_driver else driver.name_latin,
        "nameEn": driver.name_latin,
        "passportNo": driver.id,
        "nationality": "CHN" if chinese_driver else "KAZ",
    }


def _fragment_of(render: Callable[[T], dict[str, str]]) -> Callable[[T], orjson.Fragment]:
    """``render`` serialized once per pooled object (see customs_sim.memo): the same bytes."""
    return identity_memo(lambda obj: orjson.Fragment(orjson.dumps(render(obj))))


_company_json = _fragment_of(_company)
_driver_json = _fragment_of(_driver)


def _vehicle(vehicle: Vehicle, written: str | None) -> dict[str, str]:
    return {"plateNo": written or vehicle.plate, "country": vehicle.country.value}


def manifest_doc(trip: Trip, crossing: Crossing) -> dict[str, Any]:
    """The manifest JSON object exactly as ``GET /road-manifests/{batchNo}`` serves it."""
    return _manifest_doc(trip, crossing, _first_events(trip))


def _manifest_doc(trip: Trip, crossing: Crossing, events: dict[EventKind, TripEvent]) -> dict[str, Any]:
    export = trip.direction is Direction.CN_TO_KZ
    status, status_name = _status(events, export)
    declared = events.get(EventKind.CN_DECLARED)
    if declared is None or trip.cn_batch_no is None:
        raise ValueError(f"trip {trip.trip_id} has no Chinese manifest")
    curr_code = CURRENCY_CODES[trip.cn_currency]
    truck = trip.truck
    packages = 0
    gross = total = Decimal(0)
    goods = []
    # str() of the quantized Decimals inline (as weight() and amount()): a call per field costs more.
    for item in trip.items:  # one pass for the lines and the totals
        packages += item.packages
        gross += item.cn_gross_kg
        total += item.cn_value
        goods.append(
            {
                "gNo": item.seq,
                "codeTs": item.cn_code,
                "gName": item.description_zh,
                "packNo": item.packages,
                "packType": item.package_kind,
                "grossWt": str(item.cn_gross_kg.quantize(_THREE)),
                "netWt": str(item.net_kg.quantize(_THREE)),
                "declTotal": str(item.cn_value.quantize(_TWO)),
                "currCode": curr_code,
            }
        )
    return {
        "batchNo": trip.cn_batch_no,
        "commonManifestNo": trip.common_id,
        "portCode": crossing.cn.code,
        "portName": crossing.cn.name_native,
        "ieFlag": "E" if export else "I",
        "status": status,
        "statusName": status_name,
        "declTime": cn_time(declared.at),
        "ieTime": _time_of(events, EventKind.CN_EXITED if export else EventKind.CN_ARRIVED),
        "releaseTime": None if export else _time_of(events, EventKind.CN_RELEASED),
        "vehicle": {
            "plateNo": trip.cn_truck_plate_written or truck.plate,
            "country": truck.country.value,
            "vin": truck.vin,
            "brand": truck.make,
        },
        "trailer": None if trip.trailer is None else _vehicle(trip.trailer, trip.cn_trailer_plate_written),
        "driver": _driver_json(trip.driver),
        "carrier": _company_json(trip.carrier),
        "consignor": _company_json(trip.shipper),
        "consignee": _company_json(trip.consignee),
        "containers": trip.containers,  # tuples: orjson writes them as arrays
        "seals": trip.seals,
        "currCode": curr_code,
        "totalPackNo": packages,
        "totalGrossWt": weight(gross),
        "totalAmount": amount(total),
        "goods": goods,
    }


def inspection_doc(inspection: Inspection, batch_no: str, common_no: str | None) -> dict[str, Any]:
    """One Chinese inspection record exactly as ``GET /inspections/{inspectionNo}`` serves it.

    ``common_no`` is the manifest's common manifest number (null at phase-0 crossings).
    """
    insp_type, insp_type_name = _INSPECTION_TYPES[inspection.kind]
    result, result_name = _RESULTS[inspection.result]
    return {
        "inspectionNo": inspection.id,
        "batchNo": batch_no,
        "commonManifestNo": common_no,
        "inspType": insp_type,
        "inspTypeName": insp_type_name,
        "startTime": cn_time(inspection.started_at),
        "endTime": cn_time(inspection.finished_at),
        "result": result,
        "resultName": result_name,
        "customsCode": inspection.office,
        "remark": inspection.note,
    }


def _hhmm(at: dt.time) -> str:
    return at.strftime("%H%M")


def port_doc(crossing: Crossing) -> dict[str, Any]:
    post = crossing.cn
    return {
        "portCode": post.code,
        "portName": post.name_native,
        "portNameEn": post.name_latin,
        "locode": post.locode,
        "locodeOfficial": post.official,
        "openTime": _hhmm(post.opens),
        "closeTime": _hhmm(post.closes),
        "foreignPortName": crossing.kz.name_latin,
    }
