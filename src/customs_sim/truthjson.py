"""Exact JSON for ground-truth :class:`~customs_sim.model.Trip` objects (the truth database's ``doc``).

``to_json`` lets orjson walk the Decimal-free dataclasses natively (it runs once per trip of a
build); Decimals become strings so ``"12.300"`` comes back as ``Decimal("12.300")`` with its exponent,
instants are RFC 3339 strings with ``+00:00``, enums their values and ``seen_by`` a sorted list.
``from_json(to_json(trip)) == trip`` for every trip the generator makes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson

from customs_sim.model import (
    Company,
    Direction,
    Driver,
    EventKind,
    Flaw,
    FlawKind,
    GoodsItem,
    Inspection,
    InspectionKind,
    InspectionResult,
    Side,
    Trip,
    TripEvent,
    Vehicle,
)

__all__ = ["from_dict", "from_json", "to_json"]


def _item_dict(item: GoodsItem) -> dict[str, object]:
    return {
        "seq": item.seq,
        "hs6": item.hs6,
        "cn_code": item.cn_code,
        "kz_code": item.kz_code,
        "description_zh": item.description_zh,
        "description_ru": item.description_ru,
        "description_en": item.description_en,
        "packages": item.packages,
        "package_kind": item.package_kind,
        "net_kg": str(item.net_kg),
        "cn_gross_kg": str(item.cn_gross_kg),
        "kz_gross_kg": str(item.kz_gross_kg),
        "cn_value": str(item.cn_value),
        "kz_value": str(item.kz_value),
    }


def _event_dict(event: TripEvent) -> dict[str, object]:
    return {"kind": event.kind, "at": event.at, "office": event.office}


def _inspection_dict(inspection: Inspection) -> dict[str, object]:
    return {
        "id": inspection.id,
        "side": inspection.side,
        "kind": inspection.kind,
        "started_at": inspection.started_at,
        "finished_at": inspection.finished_at,
        "result": inspection.result,
        "office": inspection.office,
        "note": inspection.note,
        "recognized_inspection_id": inspection.recognized_inspection_id,
    }


# Serialized once: trucks, drivers and companies come from the per-seed pools, so the same few
# thousand objects recur in every trip. Keyed by identity (the entry keeps the object alive, so
# its id is never reused while cached) and bounded.
_FRAGMENTS: dict[int, tuple[object, orjson.Fragment]] = {}
_FRAGMENTS_MAX = 100_000


def _fragment(obj: object) -> orjson.Fragment:
    hit = _FRAGMENTS.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    fragment = orjson.Fragment(orjson.dumps(obj))
    if len(_FRAGMENTS) >= _FRAGMENTS_MAX:
        _FRAGMENTS.clear()
    _FRAGMENTS[id(obj)] = (obj, fragment)
    return fragment


def _flaw_dict(flaw: Flaw) -> dict[str, object]:
    ratio = None if flaw.ratio is None else str(flaw.ratio)
    return {"kind": flaw.kind, "detail": flaw.detail, "item_seq": flaw.item_seq, "ratio": ratio}


def to_json(trip: Trip) -> bytes:
    """One trip as compact UTF-8 JSON; equal trips give identical bytes.

    The Decimal-bearing parts are turned into dicts here (a ``default=`` callback per Decimal
    would cost a Python call each), so are events and inspections (orjson reads a dict several
    times faster than a slotted dataclass); pooled objects are serialized once (see _fragment).
    """
    doc = {
        "trip_id": trip.trip_id,
        "crossing": trip.crossing,
        "direction": trip.direction,
        "day": trip.day,
        "truck": _fragment(trip.truck),
        "trailer": None if trip.trailer is None else _fragment(trip.trailer),
        "cn_truck_plate_written": trip.cn_truck_plate_written,
        "kz_truck_plate_written": trip.kz_truck_plate_written,
        "cn_trailer_plate_written": trip.cn_trailer_plate_written,
        "kz_trailer_plate_written": trip.kz_trailer_plate_written,
        "driver": _fragment(trip.driver),
        "carrier": _fragment(trip.carrier),
        "shipper": _fragment(trip.shipper),
        "consignee": _fragment(trip.consignee),
        "items": [_item_dict(item) for item in trip.items],
        "containers": trip.containers,
        "seals": trip.seals,
        "invoice_currency": trip.invoice_currency,
        "cn_currency": trip.cn_currency,
        "seen_by": sorted(trip.seen_by),
        "cn_batch_no": trip.cn_batch_no,
        "kz_pi_number": trip.kz_pi_number,
        "common_id": trip.common_id,
        "kz_corridor": trip.kz_corridor,
        "events": [_event_dict(event) for event in trip.events],
        "inspections": [_inspection_dict(inspection) for inspection in trip.inspections],
        "in_transit": trip.in_transit,
        "flaws": [_flaw_dict(flaw) for flaw in trip.flaws],
    }
    return orjson.dumps(doc)


def from_json(data: bytes | str) -> Trip:
    """The trip :func:`to_json` wrote."""
    return from_dict(orjson.loads(data))


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _company(d: dict[str, Any]) -> Company:
    return Company(d["id"], Side(d["country"]), d["name_native"], d["name_latin"])


def _vehicle(d: dict[str, Any] | None) -> Vehicle | None:
    if d is None:
        return None
    return Vehicle(d["plate"], Side(d["country"]), d["region"], d["make"], d["vin"])


def _item(d: dict[str, Any]) -> GoodsItem:
    return GoodsItem(
        seq=d["seq"],
        hs6=d["hs6"],
        cn_code=d["cn_code"],
        kz_code=d["kz_code"],
        description_zh=d["description_zh"],
        description_ru=d["description_ru"],
        description_en=d["description_en"],
        packages=d["packages"],
        package_kind=d["package_kind"],
        net_kg=Decimal(d["net_kg"]),
        cn_gross_kg=Decimal(d["cn_gross_kg"]),
        kz_gross_kg=Decimal(d["kz_gross_kg"]),
        cn_value=Decimal(d["cn_value"]),
        kz_value=Decimal(d["kz_value"]),
    )


def _inspection(d: dict[str, Any]) -> Inspection:
    return Inspection(
        d["id"],
        Side(d["side"]),
        InspectionKind(d["kind"]),
        _at(d["started_at"]),
        _at(d["finished_at"]),
        InspectionResult(d["result"]),
        d["office"],
        d["note"],
        d.get("recognized_inspection_id"),
    )


def _flaw(d: dict[str, Any]) -> Flaw:
    ratio = d.get("ratio")
    return Flaw(FlawKind(d["kind"]), d["detail"], d.get("item_seq"), None if ratio is None else Decimal(ratio))


def from_dict(d: dict[str, Any]) -> Trip:
    """A trip from the parsed JSON object (see :func:`from_json`)."""
    driver = d["driver"]
    truck = _vehicle(d["truck"])
    assert truck is not None
    return Trip(
        trip_id=d["trip_id"],
        crossing=d["crossing"],
        direction=Direction(d["direction"]),
        day=dt.date.fromisoformat(d["day"]),
        truck=truck,
        trailer=_vehicle(d["trailer"]),
        cn_truck_plate_written=d["cn_truck_plate_written"],
        kz_truck_plate_written=d["kz_truck_plate_written"],
        cn_trailer_plate_written=d["cn_trailer_plate_written"],
        kz_trailer_plate_written=d["kz_trailer_plate_written"],
        driver=Driver(
            driver["id"],
            Side(driver["country"]),
            driver["name_native"],
            driver["name_latin"],
            dt.date.fromisoformat(driver["birth_date"]),
        ),
        carrier=_company(d["carrier"]),
        shipper=_company(d["shipper"]),
        consignee=_company(d["consignee"]),
        items=tuple(_item(i) for i in d["items"]),
        containers=tuple(d["containers"]),
        seals=tuple(d["seals"]),
        invoice_currency=d["invoice_currency"],
        cn_currency=d["cn_currency"],
        seen_by=frozenset(Side(s) for s in d["seen_by"]),
        cn_batch_no=d["cn_batch_no"],
        kz_pi_number=d["kz_pi_number"],
        common_id=d["common_id"],
        kz_corridor=d["kz_corridor"],
        events=tuple(TripEvent(EventKind(e["kind"]), _at(e["at"]), e["office"]) for e in d["events"]),
        inspections=tuple(_inspection(i) for i in d["inspections"]),
        in_transit=d["in_transit"],
        flaws=tuple(_flaw(f) for f in d["flaws"]),
    )
