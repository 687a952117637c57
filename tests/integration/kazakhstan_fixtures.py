"""Hand-made ground-truth trips for the Kazakhstan simulator's tests, one per case worth seeing.

They cover both directions, every status, both UTC offsets (+06:00 before 2024-03-01), every
corridor and control form, a recognized Chinese scan, a trip China alone saw and text that needs
XML escaping.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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

__all__ = ["RATES", "fake_rate", "hand_made_trips"]

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
