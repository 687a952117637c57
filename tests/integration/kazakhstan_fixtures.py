"""Hand-made ground-truth trips for the Kazakhstan simulator's tests, one per case worth seeing.

They cover both directions, every status, both UTC offsets (+06:00 before 2024-03-01), every
corridor and control form, a recognized Chinese scan, a trip China alone saw and text that needs
XML escaping. Trip 4 is at a phase-0 crossing (no common manifest id); the others carry one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import xmlschema
from defusedxml.ElementTree import fromstring as defused_fromstring

from customs_sim.kazakhstan import (
    KazakhstanSimSettings,
    KazakhstanStoreWriter,
    create_kazakhstan_app,
    kgd_xsd,
)
from customs_sim.kazakhstan.render import RateLookup
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
from customs_sim.serving import serve_in_thread

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "KZ_NS",
    "RATES",
    "FakeClock",
    "XmlChecker",
    "assert_pi_matches",
    "build_store",
    "control_fields",
    "expected_controls",
    "fake_rate",
    "hand_made_trips",
    "kgd_schema",
    "local",
    "parse",
    "running_sim",
    "text",
    "texts",
    "token",
]

# KZT per unit, by day: weekends repeat Friday's, as the National Bank publishes them.
RATES: dict[dt.date, dict[str, Decimal]] = {
    dt.date(2024, 2, 26) + dt.timedelta(days=i): {
        "USD": Decimal("450.00") + i,
        "CNY": Decimal("62.50") + Decimal(i) / 10,
        "EUR": Decimal("490.12"),
        "RUB": Decimal("4.93"),
    }
    for i in range(7)
}


def fake_rate(day: dt.date, currency: str) -> Decimal:
    return RATES[day][currency]


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


_CN_CARRIER = Company(
    "91654004MA77XYZ12A", Side.CN, "霍尔果斯运输有限公司", "HORGOS TRANSPORT CO & SONS <LTD>"
)
_CN_SHIPPER = Company("91650100MA78ABC34B", Side.CN, "新疆贸易公司", "XINJIANG TRADE CO")
_KZ_CONSIGNEE = Company("123456789012", Side.KZ, "ТОО «Алматы Импорт» & Ко", "ALMATY IMPORT LLP")
_KZ_SHIPPER = Company("987654321098", Side.KZ, "АО «Казмедь»", "KAZMED JSC")
_CN_BUYER = Company("91650100MA79DEF56C", Side.CN, "乌鲁木齐铜业", "URUMQI COPPER CO")
_CN_DRIVER = Driver("E12345678", Side.CN, "王伟", "WANG WEI", dt.date(1980, 5, 1))
_KZ_DRIVER = Driver("N09876543", Side.KZ, "Серик Ахметов", "SERIK AKHMETOV", dt.date(1975, 1, 2))
_CN_TRUCK = Vehicle("新F12345", Side.CN, "新F", "SHACMAN", "LZGJLGM44MX123456")
_CN_TRAILER = Vehicle("新F1234挂", Side.CN, "新F", "CIMC", "LJRC12345MA000001")
_KZ_TRUCK = Vehicle("123ABC19", Side.KZ, "19", "KAMAZ", "XTC65115K91234567")


def _item(seq: int, hs6: str, kz_code: str, value: str, gross: str, ru: str = "Смартфоны") -> GoodsItem:
    return GoodsItem(
        seq=seq,
        hs6=hs6,
        cn_code=hs6 + "0000",
        kz_code=kz_code,
        description_zh="智能手机",
        description_ru=ru,
        description_en="Smartphones",
        packages=10 * seq,
        package_kind="CT",
        net_kg=Decimal(gross) - Decimal("12.500"),
        cn_gross_kg=Decimal(gross),
        kz_gross_kg=Decimal(gross),
        cn_value=Decimal(value),
        kz_value=Decimal(value),
    )


def _trip(n: int, **overrides: object) -> Trip:
    base: dict[str, object] = dict(
        trip_id=f"T-KZ-{n:04d}",
        crossing="KHORGOS",
        direction=Direction.CN_TO_KZ,
        day=dt.date(2024, 2, 28),
        truck=_CN_TRUCK,
        trailer=_CN_TRAILER,
        cn_truck_plate_written="新F·12345",
        kz_truck_plate_written="XINF12345",
        cn_trailer_plate_written="新F1234挂",
        kz_trailer_plate_written="XINF1234GUA",
        driver=_CN_DRIVER,
        carrier=_CN_CARRIER,
        shipper=_CN_SHIPPER,
        consignee=_KZ_CONSIGNEE,
        items=(_item(1, "851713", "8517130000", "41000.15", "3650.000"),),
        containers=("TGHU1234567",),
        seals=("CN0001", "CN0002"),
        invoice_currency="USD",
        cn_currency="CNY",
        seen_by=frozenset({Side.CN, Side.KZ}),
        cn_batch_no=f"9403202402280000{n:03d}",
        kz_pi_number=f"55201011-280224-{n:07d}",
        common_id=f"CKM-KHORGOS-20240228-{n:05d}",
        kz_corridor="GREEN",
        events=(),
        inspections=(),
        in_transit=False,
    )
    base.update(overrides)
    return Trip(**base)  # type: ignore[arg-type]  # the overrides are checked by the dataclass at runtime


def hand_made_trips() -> list[Trip]:
    office = "55201011"
    return [
        # 1: import released the day before the offset switch, two goods lines, CNY invoice.
        _trip(
            1,
            invoice_currency="CNY",
            items=(
                _item(1, "851713", "8517130000", "41000.15", "3650.000"),
                _item(
                    2, "847130", "8471300000", "1234.57", "812.125", ru="Ноутбуки <портативные> & планшеты"
                ),
            ),
            events=(
                TripEvent(EventKind.KZ_PI_SUBMITTED, _utc(2024, 2, 28, 3, 15, 7), office),
                TripEvent(EventKind.KZ_ARRIVED, _utc(2024, 2, 28, 5, 2), office),
                TripEvent(EventKind.KZ_RELEASED, _utc(2024, 2, 28, 7, 40), office),
            ),
        ),
        # 2: import arrived across the switch: registered at +06:00, inspected at +05:00, yellow,
        #    an X-ray recognized from China's H986 scan and a document check that found a violation.
        _trip(
            2,
            kz_corridor="YELLOW",
            trailer=None,
            kz_trailer_plate_written=None,
            cn_trailer_plate_written=None,
            containers=(),
            seals=(),
            kz_truck_plate_written="F12345",
            events=(
                TripEvent(EventKind.KZ_PI_SUBMITTED, _utc(2024, 2, 29, 17, 30), office),
                TripEvent(EventKind.KZ_ARRIVED, _utc(2024, 2, 29, 18, 0), office),
            ),
            inspections=(
                Inspection(
                    "CI9403202402290000002",
                    Side.CN,
                    InspectionKind.H986_SCAN,
                    _utc(2024, 2, 29, 10, 0),
                    _utc(2024, 2, 29, 10, 10),
                    InspectionResult.NORMAL,
                    "9403",
                    "正常",
                ),
                Inspection(
                    "KZ-X-2",
                    Side.KZ,
                    InspectionKind.XRAY,
                    _utc(2024, 2, 29, 18, 20),
                    _utc(2024, 2, 29, 18, 35),
                    InspectionResult.NORMAL,
                    office,
                    "Снимок ИДК КНР признан",
                    recognized_inspection_id="CI9403202402290000002",
                ),
                Inspection(
                    "KZ-D-2",
                    Side.KZ,
                    InspectionKind.DOCUMENT_CHECK,
                    _utc(2024, 2, 29, 18, 5),
                    _utc(2024, 2, 29, 18, 15),
                    InspectionResult.ABNORMAL,
                    office,
                    "",
                ),
            ),
        ),
        # 3: export exited after the switch, Kazakh truck written with spaces, red, examined and weighed.
        _trip(
            3,
            crossing="DULATA",
            direction=Direction.KZ_TO_CN,
            day=dt.date(2024, 3, 2),
            truck=_KZ_TRUCK,
            trailer=None,
            kz_trailer_plate_written=None,
            cn_trailer_plate_written=None,
            kz_truck_plate_written="123 ABC 19",
            driver=_KZ_DRIVER,
            carrier=_KZ_SHIPPER,
            shipper=_KZ_SHIPPER,
            consignee=_CN_BUYER,
            items=(_item(1, "740311", "7403110000", "250000.00", "24000.000", ru="Катоды медные"),),
            containers=(),
            kz_pi_number="55101041-020324-0000003",
            common_id="CKM-DULATA-20240302-00003",
            kz_corridor="RED",
            events=(
                TripEvent(EventKind.KZ_PI_SUBMITTED, _utc(2024, 3, 2, 2, 0), "55101041"),
                TripEvent(EventKind.KZ_EXITED, _utc(2024, 3, 2, 9, 30), "55101041"),
            ),
            inspections=(
                Inspection(
                    "KZ-E-3",
                    Side.KZ,
                    InspectionKind.EXAMINATION,
                    _utc(2024, 3, 2, 4, 0),
                    _utc(2024, 3, 2, 6, 0),
                    InspectionResult.NORMAL,
                    "55101041",
                    "Досмотр & взвешивание <без замечаний>",
                ),
                Inspection(
                    "KZ-W-3",
                    Side.KZ,
                    InspectionKind.WEIGHING,
                    _utc(2024, 3, 2, 6, 10),
                    _utc(2024, 3, 2, 6, 20),
                    InspectionResult.NORMAL,
                    "55101041",
                    "Вес подтвержден",
                ),
            ),
        ),
        # 4: import registered only, not yet assessed, no common manifest (phase 0 crossing).
        _trip(
            4,
            crossing="ALASHANKOU",
            kz_pi_number="55201021-010324-0000004",
            common_id=None,
            kz_corridor=None,
            kz_truck_plate_written="XINE54321",
            events=(TripEvent(EventKind.KZ_PI_SUBMITTED, _utc(2024, 3, 1, 1, 0), "55201021"),),
        ),
        # 5: export registered, not exited (in transit).
        _trip(
            5,
            direction=Direction.KZ_TO_CN,
            truck=_KZ_TRUCK,
            trailer=None,
            kz_trailer_plate_written=None,
            kz_truck_plate_written="123ABC19",
            shipper=_KZ_SHIPPER,
            consignee=_CN_BUYER,
            kz_pi_number="55201011-030324-0000005",
            kz_corridor="GREEN",
            in_transit=True,
            events=(TripEvent(EventKind.KZ_PI_SUBMITTED, _utc(2024, 3, 3, 4, 0), office),),
        ),
        # 6: seen by China only: Kazakhstan has no record of it.
        _trip(6, seen_by=frozenset({Side.CN}), kz_pi_number=None, kz_truck_plate_written=None),
    ]


# ---------------------------------------------------------------- serving and checking helpers

KZ_NS = "{urn:kz:kgd:astana1:sim:v1}"
CLIENT_ID = "gateway"
CLIENT_SECRET = "s3:cr&t/%"  # characters that Basic auth must form-encode


class FakeClock:
    """A clock the tests move by hand (token expiry)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def build_store(path: Path, trips: Iterable[Trip], rate_of: RateLookup = fake_rate) -> Path:
    with KazakhstanStoreWriter(path, rate_of=rate_of) as writer:
        for trip in trips:
            writer.add(trip)
        writer.add_rates((day, cur, value) for day, by_cur in RATES.items() for cur, value in by_cur.items())
    return path


@functools.cache
def kgd_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(kgd_xsd().decode())


class XmlChecker:
    """An httpx response hook: every XML body must be well-formed and valid against kgd.xsd."""

    def __init__(self) -> None:
        self.validated = 0

    def __call__(self, response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith(
            "application/xml"
        ) and not response.url.path.endswith(".xsd"):
            response.read()
            parse(response.content)  # well-formed, without entity tricks
            kgd_schema().validate(response.text)
            self.validated += 1


def parse(body: bytes) -> ElementTree.Element:
    return defused_fromstring(body)


def token(client: httpx.Client) -> str:
    answer = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert answer.status_code == 200, answer.text
    access: str = answer.json()["access_token"]
    return access


@contextlib.contextmanager
def running_sim(db: Path, **settings: Any) -> Iterator[tuple[httpx.Client, XmlChecker]]:
    """A real server on loopback and an authenticated, validating client."""
    config = KazakhstanSimSettings(db, CLIENT_ID, CLIENT_SECRET, **settings)
    checker = XmlChecker()
    with (
        serve_in_thread(create_kazakhstan_app(config)) as server,
        httpx.Client(base_url=server.url, event_hooks={"response": [checker]}, timeout=10) as client,
    ):
        client.headers["Authorization"] = f"Bearer {token(client)}"
        yield client, checker


def text(element: ElementTree.Element, path: str) -> str | None:
    found = element.find("/".join(KZ_NS + part for part in path.split("/")))
    return None if found is None else found.text


def texts(element: ElementTree.Element, path: str) -> list[str | None]:
    return [e.text for e in element.findall("/".join(KZ_NS + part for part in path.split("/")))]


# The contract's vocabulary, written out here rather than imported from the renderer under test.
_CORRIDOR = {"GREEN": "ЗЕЛЕНЫЙ", "YELLOW": "ЖЕЛТЫЙ", "RED": "КРАСНЫЙ"}
_FORM = {
    InspectionKind.DOCUMENT_CHECK: "ПРОВЕРКА ДОКУМЕНТОВ",
    InspectionKind.XRAY: "ИДК",
    InspectionKind.EXAMINATION: "ДОСМОТР",
    InspectionKind.WEIGHING: "ВЗВЕШИВАНИЕ",
}
_RESULT = {InspectionResult.NORMAL: "НАРУШЕНИЙ НЕ ВЫЯВЛЕНО", InspectionResult.ABNORMAL: "ВЫЯВЛЕНО НАРУШЕНИЕ"}
_STATUS_NAME = {
    "REGISTERED": "Зарегистрирована",
    "ARRIVED": "Прибытие",
    "RELEASED": "Выпуск разрешен",
    "EXITED": "Убытие",
}


def local(at: dt.datetime) -> str:
    """The contract's time format, computed from first principles: +06:00 until 2024-02-29T18:00Z."""
    offset = 5 if at >= dt.datetime(2024, 2, 29, 18, tzinfo=dt.UTC) else 6
    shifted = at.astimezone(dt.timezone(dt.timedelta(hours=offset)))
    return shifted.replace(microsecond=0, tzinfo=None).isoformat() + f"+0{offset}:00"


def _name(company: Company) -> str:
    return company.name_native if company.country is Side.KZ else company.name_latin


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def assert_pi_matches(pi: ElementTree.Element, trip: Trip, rate_of: RateLookup) -> None:
    """Every field of a rendered PI against the ground truth."""
    submitted = trip.event(EventKind.KZ_PI_SUBMITTED)
    assert submitted is not None
    importing = trip.direction is Direction.CN_TO_KZ
    assert text(pi, "PINumber") == trip.kz_pi_number
    assert text(pi, "CommonManifestId") == trip.common_id
    assert text(pi, "CheckpointCode") == CROSSINGS_BY_ID[trip.crossing].kz.code
    assert text(pi, "Direction") == ("IM" if importing else "EK")
    assert text(pi, "RegistrationDateTime") == local(submitted.at)
    released, exited, arrived = (
        trip.event(k) for k in (EventKind.KZ_RELEASED, EventKind.KZ_EXITED, EventKind.KZ_ARRIVED)
    )
    if importing:
        status = "RELEASED" if released else "ARRIVED" if arrived else "REGISTERED"
        assert text(pi, "ReleaseDateTime") == (local(released.at) if released else None)
        assert text(pi, "ExitDateTime") is None
    else:
        status = "EXITED" if exited else "REGISTERED"
        assert text(pi, "ExitDateTime") == (local(exited.at) if exited else None)
        assert text(pi, "ReleaseDateTime") is None
    assert (text(pi, "StatusCode"), text(pi, "StatusName")) == (status, _STATUS_NAME[status])
    assert text(pi, "RiskCorridor") == (_CORRIDOR[trip.kz_corridor] if trip.kz_corridor else None)
    assert text(pi, "Transport/VehicleRegNumber") == trip.kz_truck_plate_written
    assert text(pi, "Transport/VehicleCountryCode") == trip.truck.country.value
    assert text(pi, "Transport/VIN") == trip.truck.vin
    assert text(pi, "Transport/Make") == trip.truck.make
    if trip.trailer is None:
        assert text(pi, "Transport/TrailerRegNumber") is None
    else:
        assert text(pi, "Transport/TrailerRegNumber") == trip.kz_trailer_plate_written
        assert text(pi, "Transport/TrailerCountryCode") == trip.trailer.country.value
    assert text(pi, "Driver/FullName") == trip.driver.name_latin
    assert text(pi, "Driver/PassportNumber") == trip.driver.id
    assert text(pi, "Driver/CountryCode") == trip.driver.country.value
    for tag, company in (
        ("Carrier", trip.carrier),
        ("Consignor", trip.shipper),
        ("Consignee", trip.consignee),
    ):
        assert text(pi, f"{tag}/Identifier") == company.id
        assert text(pi, f"{tag}/Name") == _name(company)
        assert text(pi, f"{tag}/CountryCode") == company.country.value
    assert texts(pi, "Containers/ContainerNumber") == list(trip.containers)
    assert texts(pi, "Seals/SealNumber") == list(trip.seals)
    local_day = dt.date.fromisoformat(local(submitted.at)[:10])
    rate = _cents(rate_of(local_day, trip.invoice_currency))
    assert text(pi, "InvoiceCurrency") == trip.invoice_currency
    assert text(pi, "ExchangeRate") == str(rate)
    assert text(pi, "ExchangeRateDate") == local_day.isoformat()
    items = pi.findall(f"{KZ_NS}Goods/{KZ_NS}GoodsItem")
    assert len(items) == len(trip.items)
    total_kzt = Decimal(0)
    for element, item in zip(items, trip.items, strict=True):
        kzt = _cents(item.kz_value * rate)
        total_kzt += kzt
        assert text(element, "LineNumber") == str(item.seq)
        assert text(element, "TNVEDCode") == item.kz_code
        assert text(element, "Description") == item.description_ru
        assert text(element, "PackageCount") == str(item.packages)
        assert text(element, "PackageKind") == item.package_kind
        assert Decimal(text(element, "GrossMass") or "") == item.kz_gross_kg
        assert Decimal(text(element, "NetMass") or "") == item.net_kg
        assert Decimal(text(element, "InvoiceValue") or "") == item.kz_value
        assert Decimal(text(element, "ValueKZT") or "") == kzt
    assert text(pi, "TotalPackages") == str(sum(i.packages for i in trip.items))
    assert Decimal(text(pi, "TotalGrossMass") or "") == sum(i.kz_gross_kg for i in trip.items)
    assert Decimal(text(pi, "TotalInvoiceValue") or "") == sum(i.kz_value for i in trip.items)
    assert Decimal(text(pi, "TotalValueKZT") or "") == total_kzt


def expected_controls(trip: Trip) -> list[dict[str, str | None]]:
    """The Kazakh controls of ``trip`` as the contract renders them, in start order."""
    ours = sorted((i for i in trip.inspections if i.side is Side.KZ), key=lambda i: (i.started_at, i.id))
    assert trip.kz_pi_number is not None
    office, day, seq = trip.kz_pi_number.split("-")
    return [
        {
            "ControlNumber": f"{office}-{day}-K{seq[-6:]}-{n}",
            "PINumber": trip.kz_pi_number,
            "CommonManifestId": trip.common_id,  # absent at phase-0 crossings
            "RiskCorridor": _CORRIDOR[trip.kz_corridor] if trip.kz_corridor else None,
            "ControlForm": _FORM[i.kind],
            "StartDateTime": local(i.started_at),
            "EndDateTime": local(i.finished_at),
            "Result": _RESULT[i.result],
            "CustomsOfficeCode": i.office,
            "RecognizedForeignControl/CountryCode": "CN" if i.recognized_inspection_id else None,
            "RecognizedForeignControl/ForeignControlNumber": i.recognized_inspection_id,
            "InspectorNote": i.note or None,
        }
        for n, i in enumerate(ours, start=1)
    ]


def control_fields(element: ElementTree.Element) -> dict[str, str | None]:
    return {key: text(element, key) for key in _CONTROL_KEYS}


_CONTROL_KEYS = (
    "ControlNumber",
    "PINumber",
    "CommonManifestId",
    "RiskCorridor",
    "ControlForm",
    "StartDateTime",
    "EndDateTime",
    "Result",
    "CustomsOfficeCode",
    "RecognizedForeignControl/CountryCode",
    "RecognizedForeignControl/ForeignControlNumber",
    "InspectorNote",
)
