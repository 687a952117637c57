"""The ground truth: what really happened at the border, before either authority recorded it.

One :class:`Trip` is one truck crossing one crossing point in one direction. It carries the
facts (truck, cargo, timeline) *and* what each side recorded where the two differ on purpose
(the injected flaws), so that tests can check each simulated authority against it.

All instants are timezone-aware UTC datetimes; each simulator renders them in its own local
time. Masses are ``Decimal`` kilograms with 3 decimals, values ``Decimal`` with 2 decimals.
Nothing here imports anything else of the project.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "Company",
    "Direction",
    "Driver",
    "EventKind",
    "Flaw",
    "FlawKind",
    "GoodsItem",
    "Inspection",
    "InspectionKind",
    "InspectionResult",
    "Side",
    "Trip",
    "TripEvent",
    "Vehicle",
]


class Side(StrEnum):
    CN = "CN"
    KZ = "KZ"


class Direction(StrEnum):
    CN_TO_KZ = "CN_KZ"  # export from China, import into Kazakhstan
    KZ_TO_CN = "KZ_CN"  # export from Kazakhstan, import into China


class EventKind(StrEnum):
    # Chinese side
    CN_DECLARED = "CN_DECLARED"  # road manifest lodged (export) / arrival manifest lodged (import)
    CN_EXITED = "CN_EXITED"  # truck left China (export)
    CN_ARRIVED = "CN_ARRIVED"  # truck entered China (import)
    CN_RELEASED = "CN_RELEASED"  # goods released by Chinese customs (import)
    # Kazakh side
    KZ_PI_SUBMITTED = "KZ_PI_SUBMITTED"  # preliminary information registered (import) / declaration (export)
    KZ_ARRIVED = "KZ_ARRIVED"  # arrival notification (import)
    KZ_RELEASED = "KZ_RELEASED"  # goods released (import)
    KZ_EXITED = "KZ_EXITED"  # truck left Kazakhstan (export)


class InspectionKind(StrEnum):
    # China
    H986_SCAN = "H986_SCAN"  # H986 large container/vehicle X-ray scan
    MANUAL = "MANUAL"  # 人工查验
    OPENING = "OPENING"  # 开箱
    # Kazakhstan (forms of customs control)
    DOCUMENT_CHECK = "DOCUMENT_CHECK"  # проверка документов
    XRAY = "XRAY"  # ИДК (инспекционно-досмотровый комплекс)
    EXAMINATION = "EXAMINATION"  # таможенный досмотр
    WEIGHING = "WEIGHING"  # взвешивание


class InspectionResult(StrEnum):
    NORMAL = "NORMAL"  # China: 正常 / Kazakhstan: нарушений не выявлено
    ABNORMAL = "ABNORMAL"  # China: 异常 / Kazakhstan: выявлено нарушение


class FlawKind(StrEnum):
    UNDERVALUATION = "UNDERVALUATION"  # Kazakh import value below the Chinese export value
    HS_MISMATCH = "HS_MISMATCH"  # the two sides declare one item under different HS-6
    MASS_MISMATCH = "MASS_MISMATCH"  # total gross mass differs by more than 5 %
    ONE_SIDE_ONLY = "ONE_SIDE_ONLY"  # only one authority has any record of the trip


@dataclass(frozen=True, slots=True)
class Company:
    id: str  # CN: 18-character unified social credit code; KZ: 12-digit BIN
    country: Side
    name_native: str  # Chinese for CN, Russian for KZ
    name_latin: str


@dataclass(frozen=True, slots=True)
class Driver:
    id: str  # passport number
    country: Side
    name_native: str
    name_latin: str
    birth_date: dt.date


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A truck or trailer; ``plate`` in its country's canonical native form.

    CN truck ``新F12345``, CN trailer ``新F1234挂``; KZ truck ``123ABC02``, KZ trailer ``1234AB02``.
    """

    plate: str
    country: Side
    region: str  # CN: province + prefecture letter ("新F"); KZ: 2-digit region code ("19")
    make: str
    vin: str


@dataclass(frozen=True, slots=True)
class GoodsItem:
    seq: int  # 1-based line number
    hs6: str  # the true HS-6, as China declares it
    cn_code: str  # Chinese tariff code, 10 digits (13 with inspection digits)
    kz_code: str  # EAEU ТН ВЭД code, 10 digits; its first 6 differ from hs6 on an HS_MISMATCH flaw
    description_zh: str
    description_ru: str
    description_en: str
    packages: int
    package_kind: str  # UN/ECE Rec. 21 code: CT cartons, PK packages, VN vehicle, VR bulk …
    net_kg: Decimal
    cn_gross_kg: Decimal  # gross mass as China records it
    kz_gross_kg: Decimal  # gross mass as Kazakhstan records it (differs on MASS_MISMATCH)
    cn_value: Decimal  # value as China records it, in Trip.cn_currency
    kz_value: Decimal  # invoice value as Kazakhstan records it, in Trip.invoice_currency


@dataclass(frozen=True, slots=True)
class Inspection:
    id: str  # the recording authority's own id
    side: Side
    kind: InspectionKind
    started_at: dt.datetime
    finished_at: dt.datetime
    result: InspectionResult
    office: str  # the inspecting customs office's code
    note: str  # the authority's internal note (free text in its own language)
    # Set when this side did not inspect itself but recognized the other side's inspection
    # with this id instead (phase-2 mutual recognition); times are then the recognition's.
    recognized_inspection_id: str | None = None


@dataclass(frozen=True, slots=True)
class TripEvent:
    kind: EventKind
    at: dt.datetime
    office: str


@dataclass(frozen=True, slots=True)
class Flaw:
    kind: FlawKind
    detail: str  # human-readable, e.g. "kz value 41.3% below cn" or "item 2: 851713 vs 851762"
    item_seq: int | None = None
    ratio: Decimal | None = None  # undervaluation: kz/cn value ratio; mass: kz/cn gross ratio


@dataclass(frozen=True, slots=True)
class Trip:
    trip_id: str  # ground-truth id, never shown by either authority: "T20250301-KHORGOS-0001"
    crossing: str  # crossing id: KHORGOS, ALASHANKOU, BAKHTY, DULATA, JEMINAY
    direction: Direction
    day: dt.date  # the day (UTC) the trip was generated for
    truck: Vehicle
    trailer: Vehicle | None
    # How each authority wrote the plates (variants on purpose: "新F·12345", full-width, "XINF12345",
    # "F12345", "123 ABC 02"); None where that side has no record or there is no trailer.
    cn_truck_plate_written: str | None
    kz_truck_plate_written: str | None
    cn_trailer_plate_written: str | None
    kz_trailer_plate_written: str | None
    driver: Driver
    carrier: Company
    shipper: Company
    consignee: Company
    items: tuple[GoodsItem, ...]
    containers: tuple[str, ...]  # ISO 6346 numbers with valid check digits
    seals: tuple[str, ...]
    invoice_currency: str  # USD or CNY: the currency Kazakhstan records
    cn_currency: str  # CNY or USD: the currency China records
    seen_by: frozenset[Side]  # {CN, KZ} normally; one side only on a ONE_SIDE_ONLY flaw
    cn_batch_no: str | None  # Chinese cargo transport batch number (None when China never saw it)
    kz_pi_number: str | None  # Kazakh preliminary-information number (None when Kazakhstan never saw it)
    common_id: str | None  # common manifest id, both sides, only at crossings in phase >= 1
    kz_corridor: str | None  # GREEN / YELLOW / RED; None when Kazakhstan has not assessed it yet
    events: tuple[TripEvent, ...]  # only those that happened by the dataset's as-of instant
    inspections: tuple[Inspection, ...]  # both sides', only those finished by the as-of instant
    in_transit: bool  # some of the trip's events lie after the as-of instant
    flaws: tuple[Flaw, ...] = field(default=())

    def event(self, kind: EventKind) -> TripEvent | None:
        for event in self.events:
            if event.kind is kind:
                return event
        return None

    def has_flaw(self, kind: FlawKind) -> bool:
        return any(flaw.kind is kind for flaw in self.flaws)
