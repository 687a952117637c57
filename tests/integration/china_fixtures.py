"""Hand-made ground-truth trips and a signed client for the China simulator's tests.

The trips cover what the renderer must distinguish (directions, every status, a Kazakh driver,
no trailer, USD, 13-digit codes, plate variants, inspections of both sides, trips China never
saw or has not been declared to yet); :func:`many_trips` adds volume for paging.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import orjson
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from customs_sim.china.signing import sign_headers
from customs_sim.model import (
    Company,
    Direction,
    Driver,
    EventKind,
    GoodsItem,
    Inspection,
    InspectionKind,
    InspectionResult,
    Side,
    Trip,
    TripEvent,
    Vehicle,
)
from customs_sim.reference import CROSSINGS_BY_ID

__all__ = [
    "APP_ID",
    "APP_SECRET",
    "SignedClient",
    "assert_error",
    "bj",
    "check_schema",
    "expected_manifest",
    "many_trips",
    "observed_manifest",
    "sample_trips",
    "when",
]

APP_ID = "customs-gateway"
APP_SECRET = "test-secret-不要泄露"

_T0 = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)

_CN_CARRIER = Company("91654004MA78ABCD1X", Side.CN, "霍尔果斯丝路运输有限公司", "Horgos Silk Road Co")
_KZ_CARRIER = Company("123456789012", Side.KZ, "ТОО «Жол Транс»", "Zhol Trans LLP")
_CN_SHIPPER = Company("91650100MA77XYZW2K", Side.CN, "新疆天山贸易有限公司", "Xinjiang Tianshan Trading Co")
_KZ_BUYER = Company("987654321098", Side.KZ, "ТОО «Алматы Импорт»", "Almaty Import LLP")
_CN_DRIVER = Driver("E12345678", Side.CN, "王伟", "WANG WEI", dt.date(1980, 5, 1))
_KZ_DRIVER = Driver("N09876543", Side.KZ, "Серик Ахметов", "SERIK AKHMETOV", dt.date(1985, 7, 9))


def _item(seq: int, hs6: str, cn_code: str, zh: str, kg: str, value: str) -> GoodsItem:
    gross = Decimal(kg)
    return GoodsItem(
        seq=seq, hs6=hs6, cn_code=cn_code, kz_code=hs6 + "0000", description_zh=zh,
        description_ru="товар", description_en="goods", packages=seq * 10, package_kind="CT",
        net_kg=(gross * Decimal("0.95")).quantize(Decimal("0.001")), cn_gross_kg=gross,
        kz_gross_kg=gross, cn_value=Decimal(value), kz_value=Decimal(value),
    )


def _trip(
    n: int,
    crossing: str,
    direction: Direction,
    events: Sequence[EventKind],
    *,
    seen_by: frozenset[Side] = frozenset({Side.CN, Side.KZ}),
    kz_driver: bool = False,
    trailer: bool = True,
    plate_written: str | None = None,
    currency: str = "CNY",
    inspections: Sequence[tuple[Side, InspectionKind, InspectionResult]] = (),
    start: dt.datetime = _T0,
) -> Trip:
    c = CROSSINGS_BY_ID[crossing]
    export = direction is Direction.CN_TO_KZ
    flag = "E" if export else "I"
    day = start.date()
    cn_truck = Vehicle(f"{c.cn_plate_prefix}{10000 + n}", Side.CN, c.cn_plate_prefix, "陕汽", f"LGAX{n:013d}")
    kz_truck = Vehicle(f"{100 + n % 900}ABC{c.kz_plate_region}", Side.KZ, c.kz_plate_region, "MAN",
                       f"WMA{n:014d}")
    truck = kz_truck if kz_driver else cn_truck
    trailer_vehicle = Vehicle(f"{c.cn_plate_prefix}{1000 + n % 9000}挂", Side.CN, c.cn_plate_prefix,
                              "中集", f"LJ{n:015d}") if trailer else None
    seen = Side.CN in seen_by
    at = [start + dt.timedelta(minutes=37 * i) for i in range(len(events))]
    return Trip(
        trip_id=f"T{day:%Y%m%d}-{crossing}-{n:04d}",
        crossing=crossing,
        direction=direction,
        day=day,
        truck=truck,
        trailer=trailer_vehicle,
        cn_truck_plate_written=(plate_written or truck.plate) if seen else None,
        kz_truck_plate_written=truck.plate,
        cn_trailer_plate_written=trailer_vehicle.plate if trailer_vehicle and seen else None,
        kz_trailer_plate_written=trailer_vehicle.plate if trailer_vehicle else None,
        driver=_KZ_DRIVER if kz_driver else _CN_DRIVER,
        carrier=_KZ_CARRIER if kz_driver else _CN_CARRIER,
        shipper=_CN_SHIPPER if export else _KZ_BUYER,
        consignee=_KZ_BUYER if export else _CN_SHIPPER,
        items=(
            _item(1, "870380", "8703800090", "纯电动乘用车", "3650.5", "300000"),
            _item(2, "851713", "8517130000123", "智能手机", "120.25", "55000.5"),
        ),
        containers=("TGHU1234567",) if n % 2 else (),
        seals=(f"CN{c.cn.code}{n:07d}",),
        invoice_currency="USD",
        cn_currency=currency,
        seen_by=seen_by,
        cn_batch_no=f"{c.cn.code}{flag}{day:%Y%m%d}{n:05d}" if seen else None,
        kz_pi_number=f"55201011/{day:%d%m%y}/P{n:06d}" if Side.KZ in seen_by else None,
        common_id=f"CKM-{crossing}-{day:%Y%m%d}-{n:05d}" if c.phase >= 1 else None,
        kz_corridor="GREEN",
        events=tuple(TripEvent(kind, when, c.cn.code) for kind, when in zip(events, at, strict=True)),
        inspections=tuple(
            Inspection(
                id=f"CI{c.cn.code}{day:%Y%m%d}{n:05d}{i:02d}" if side is Side.CN else f"KZC{n:06d}{i}",
                side=side, kind=kind, started_at=start + dt.timedelta(minutes=20 + i * 15),
                finished_at=start + dt.timedelta(minutes=30 + i * 15), result=result,
                office=c.cn.code if side is Side.CN else c.kz.code,
                note="图像正常" if result is InspectionResult.NORMAL else "图像异常, 转人工查验",
            )
            for i, (side, kind, result) in enumerate(inspections)
        ),
        in_transit=False,
    )


_EXPORT_DONE = (EventKind.CN_DECLARED, EventKind.CN_EXITED, EventKind.KZ_PI_SUBMITTED)
_IMPORT_DONE = (EventKind.KZ_PI_SUBMITTED, EventKind.CN_DECLARED, EventKind.CN_ARRIVED, EventKind.CN_RELEASED)


def sample_trips() -> list[Trip]:
    """One trip per case the renderer must get right; the first is the fully featured export."""
    normal, abnormal = InspectionResult.NORMAL, InspectionResult.ABNORMAL
    return [
        _trip(1, "KHORGOS", Direction.CN_TO_KZ, _EXPORT_DONE, plate_written="新F·10001",
              inspections=[(Side.CN, InspectionKind.H986_SCAN, normal),
                           (Side.KZ, InspectionKind.XRAY, normal)]),
        _trip(2, "KHORGOS", Direction.CN_TO_KZ, (EventKind.CN_DECLARED,), plate_written="新Ｆ１０００２"),
        _trip(3, "ALASHANKOU", Direction.KZ_TO_CN, _IMPORT_DONE, kz_driver=True, trailer=False,
              currency="USD", plate_written="103 ABC 19",
              inspections=[(Side.CN, InspectionKind.H986_SCAN, abnormal),
                           (Side.CN, InspectionKind.MANUAL, abnormal),
                           (Side.CN, InspectionKind.OPENING, normal)]),
        _trip(4, "DULATA", Direction.KZ_TO_CN, _IMPORT_DONE[:3]),
        _trip(5, "JEMINAY", Direction.KZ_TO_CN, _IMPORT_DONE[:2], kz_driver=True),
        _trip(6, "BAKHTY", Direction.CN_TO_KZ, _EXPORT_DONE, seen_by=frozenset({Side.KZ})),
        _trip(7, "KHORGOS", Direction.KZ_TO_CN, (EventKind.KZ_PI_SUBMITTED,)),  # not declared to China yet
    ]


def many_trips(count: int, start: dt.datetime = dt.datetime(2025, 3, 2, tzinfo=dt.UTC)) -> Iterator[Trip]:
    """Volume for paging: several trips share each declaration second, so order ties matter."""
    crossings = ("KHORGOS", "ALASHANKOU", "DULATA")
    for i in range(count):
        direction = Direction.CN_TO_KZ if i % 3 else Direction.KZ_TO_CN
        events = _EXPORT_DONE if direction is Direction.CN_TO_KZ else _IMPORT_DONE
        scan = (Side.CN, InspectionKind.H986_SCAN, InspectionResult.NORMAL)
        at = start + dt.timedelta(minutes=7 * (i // 4))
        yield _trip(100 + i, crossings[i % 3], direction, events, start=at,
                    inspections=[scan] if i % 5 == 0 else ())


class SignedClient:
    """An httpx client that signs every call the way the wire doc says."""

    def __init__(self, base_url: str, app_id: str = APP_ID, secret: str = APP_SECRET) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10.0)
        self.app_id = app_id
        self.secret = secret

    def close(self) -> None:
        self.http.close()

    def signed(self, method: str, path: str, params: Sequence[tuple[str, str]] = (), body: bytes = b"",
               **overrides: Any) -> dict[str, str]:
        headers = sign_headers(self.app_id, self.secret, method, path, params, body,
                               now_ms=overrides.pop("now_ms", None), nonce=overrides.pop("nonce", None))
        headers.update(overrides)
        return headers

    def request(self, method: str, path: str, params: Sequence[tuple[str, str]] = (), body: bytes = b"",
                headers: Mapping[str, str] | None = None) -> Any:
        """Send; ``headers`` replaces the signed ones entirely when given. Returns the envelope."""
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params)
        url = path + (f"?{query}" if query else "")
        sent = dict(headers) if headers is not None else self.signed(method, path, params, body)
        response = self.http.request(method, url, content=body, headers=sent)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        return orjson.loads(response.content)

    def get(self, path: str, **params: str | int) -> Any:
        return self.request("GET", path, [(k, str(v)) for k, v in params.items()])

    def post(self, path: str, payload: Any) -> Any:
        return self.request("POST", path, body=orjson.dumps(payload))


# ---------------------------------------------------------------- checks shared by the test modules


BEIJING = dt.timezone(dt.timedelta(hours=8))


def check_schema(openapi: dict[str, Any], path: str, method: str, envelope: Any) -> None:
    """Validate against the 200 schema the document gives for ``method path`` (refs resolved in it)."""
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", "200", "content", "application/json", "schema")
    )
    registry: Registry[Any] = Registry().with_resource(
        "urn:gacc", Resource.from_contents(openapi, default_specification=DRAFT202012)
    )
    validator = jsonschema.Draft202012Validator({"$ref": f"urn:gacc#/{pointer}"}, registry=registry)
    validator.validate(envelope)


def assert_error(envelope: Any, code: str, parameter: str | None = None) -> None:
    assert envelope["code"] == code, envelope
    assert envelope["data"] is None
    assert envelope["requestId"]
    if parameter is not None:
        assert envelope["message"].endswith(f": {parameter}")


def bj(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def when(trip: Trip, kind: EventKind) -> dt.datetime | None:
    event = trip.event(kind)
    return None if event is None else event.at


def expected_manifest(trip: Trip) -> dict[str, Any]:
    export = trip.direction is Direction.CN_TO_KZ
    kinds = {event.kind for event in trip.events}
    if export:
        status = "30" if EventKind.CN_EXITED in kinds else "10"
    else:
        status = "40" if EventKind.CN_RELEASED in kinds else "20" if EventKind.CN_ARRIVED in kinds else "10"
    currency = {"CNY": "142", "USD": "502"}[trip.cn_currency]
    chinese = trip.driver.country is Side.CN
    return {
        "batchNo": trip.cn_batch_no,
        "commonManifestNo": trip.common_id,
        "portCode": CROSSINGS_BY_ID[trip.crossing].cn.code,
        "ieFlag": "E" if export else "I",
        "status": status,
        "declTime": bj(when(trip, EventKind.CN_DECLARED)),
        "ieTime": bj(when(trip, EventKind.CN_EXITED if export else EventKind.CN_ARRIVED)),
        "releaseTime": None if export else bj(when(trip, EventKind.CN_RELEASED)),
        "plateNo": trip.cn_truck_plate_written,
        "trailerPlateNo": None if trip.trailer is None else trip.cn_trailer_plate_written,
        "driverName": trip.driver.name_native if chinese else trip.driver.name_latin,
        "nameEn": trip.driver.name_latin,
        "nationality": "CHN" if chinese else "KAZ",
        "passportNo": trip.driver.id,
        "carrier": trip.carrier.id,
        "consignor": trip.shipper.id,
        "consignee": trip.consignee.id,
        "containers": list(trip.containers),
        "seals": list(trip.seals),
        "currCode": currency,
        "totalPackNo": sum(i.packages for i in trip.items),
        "totalGrossWt": Decimal(sum(i.cn_gross_kg for i in trip.items)),
        "totalAmount": Decimal(sum(i.cn_value for i in trip.items)),
        "goods": [
            (i.seq, i.cn_code, i.description_zh, i.packages, i.package_kind, i.cn_gross_kg, i.net_kg,
             i.cn_value, currency)
            for i in trip.items
        ],
    }


def observed_manifest(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: doc[k] for k in ("batchNo", "commonManifestNo", "portCode", "ieFlag", "status", "declTime",
                               "ieTime", "releaseTime", "containers", "seals", "currCode", "totalPackNo")},
        "plateNo": doc["vehicle"]["plateNo"],
        "trailerPlateNo": None if doc["trailer"] is None else doc["trailer"]["plateNo"],
        "driverName": doc["driver"]["name"],
        "nameEn": doc["driver"]["nameEn"],
        "nationality": doc["driver"]["nationality"],
        "passportNo": doc["driver"]["passportNo"],
        "carrier": doc["carrier"]["code"],
        "consignor": doc["consignor"]["code"],
        "consignee": doc["consignee"]["code"],
        "totalGrossWt": Decimal(doc["totalGrossWt"]),
        "totalAmount": Decimal(doc["totalAmount"]),
        "goods": [
            (g["gNo"], g["codeTs"], g["gName"], g["packNo"], g["packType"], Decimal(g["grossWt"]),
             Decimal(g["netWt"]), Decimal(g["declTotal"]), g["currCode"])
            for g in doc["goods"]
        ],
    }
