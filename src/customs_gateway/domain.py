"""The unified domain model: what the gateway knows about trucks, manifests and inspections.

Plain frozen dataclasses and enums; this module imports nothing of ours, nothing of httpx or
strawberry. Each authority's source maps its wire records into these types (pure functions in
``sources/<authority>/mapping.py``); the schema layer joins and presents them.

Conventions:
- every instant is an *aware* ``datetime`` that keeps the offset the authority used
  (``+08:00`` for China, ``+05:00``/``+06:00`` for Kazakhstan); compare them as instants;
- masses are ``Decimal`` kilograms, money is :class:`Money` (``Decimal`` amount + ISO 4217 code):
  never a binary float in a calculation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "ArrivalNotice",
    "Authority",
    "Checkpoint",
    "ChinaManifestRecord",
    "Country",
    "Direction",
    "Driver",
    "ExchangeRate",
    "GoodsLine",
    "Inspection",
    "InspectionKind",
    "InspectionOutcome",
    "KazakhstanPIRecord",
    "Money",
    "Party",
    "PlateId",
    "RecordStatus",
    "RiskChannel",
    "VehicleRef",
]


class Authority(StrEnum):
    GACC = "GACC"  # General Administration of Customs of China
    KGD = "KGD"  # State Revenue Committee of Kazakhstan


class Country(StrEnum):
    CN = "CN"
    KZ = "KZ"
    OTHER = "OTHER"


class Direction(StrEnum):
    CN_TO_KZ = "CN_TO_KZ"
    KZ_TO_CN = "KZ_TO_CN"


class RecordStatus(StrEnum):
    """One side's progress with the trip, in one vocabulary for both authorities."""

    DECLARED = "DECLARED"  # manifest / preliminary information lodged
    ARRIVED = "ARRIVED"  # truck arrived at the importing side's post
    RELEASED = "RELEASED"  # importing side released the goods
    EXITED = "EXITED"  # truck left the exporting side


class InspectionKind(StrEnum):
    XRAY_SCAN = "XRAY_SCAN"  # China H986 / Kazakhstan ИДК
    MANUAL_INSPECTION = "MANUAL_INSPECTION"  # China 人工查验
    OPENING = "OPENING"  # China 开箱
    DOCUMENT_CHECK = "DOCUMENT_CHECK"  # Kazakhstan проверка документов
    EXAMINATION = "EXAMINATION"  # Kazakhstan досмотр
    WEIGHING = "WEIGHING"  # Kazakhstan взвешивание


class InspectionOutcome(StrEnum):
    NO_FINDINGS = "NO_FINDINGS"  # 正常 / нарушений не выявлено
    VIOLATION = "VIOLATION"  # 异常 / выявлено нарушение


class RiskChannel(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


@dataclass(frozen=True, slots=True)
class PlateId:
    """A registration plate, understood.

    ``canonical`` is the one join key for both authorities' spellings: ASCII, upper case, no
    separators; Chinese plates as pinyin province + the rest (``XINF12345``), Kazakh plates as
    ``123ABC02``. ``native`` is how the registering country writes it (``新F12345``).
    """

    canonical: str
    native: str
    latin: str  # native with the province in pinyin: "XIN F12345" style without spaces
    country: Country
    region: str | None  # CN prefecture ("新F"), KZ region code ("02"); None when unknown
    trailer: bool
    province_known: bool  # False when the source dropped the province ("F12345")


@dataclass(frozen=True, slots=True)
class VehicleRef:
    plate: PlateId
    written: str  # exactly as the authority wrote it
    vin: str | None = None
    make: str | None = None


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217 alpha-3


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """National Bank of Kazakhstan rate: ``kzt_per_unit`` tenge for one unit of ``currency``."""

    currency: str
    kzt_per_unit: Decimal
    date: dt.date
    source: str  # e.g. "NBK" (Национальный Банк РК)


@dataclass(frozen=True, slots=True)
class Party:
    id: str | None  # USCC (CN), BIN (KZ) or foreign id as recorded
    name: str
    country: Country


@dataclass(frozen=True, slots=True)
class Driver:
    name: str  # as recorded (native script where the authority keeps it)
    name_latin: str | None
    passport_no: str | None
    nationality: Country


@dataclass(frozen=True, slots=True)
class GoodsLine:
    """One goods item as one authority declared it."""

    authority: Authority
    line_no: int
    tariff_code: str  # the authority's full code: CN 10/13 digits, EAEU ТН ВЭД 10 digits
    hs6: str
    description: str
    description_language: str  # BCP 47: "zh", "ru"
    packages: int
    package_kind: str | None
    gross_kg: Decimal
    net_kg: Decimal | None
    value: Money
    value_kzt: Decimal | None = None  # Kazakhstan only: value in tenge at exchange_rate


@dataclass(frozen=True, slots=True)
class Inspection:
    authority: Authority
    id: str
    record_id: str  # the manifest-like record it belongs to (batch no / PI number)
    kind: InspectionKind
    kind_original: str  # the authority's own wording ("H986机检", "ИДК")
    outcome: InspectionOutcome
    risk_channel: RiskChannel | None  # Kazakhstan only
    started_at: dt.datetime
    finished_at: dt.datetime | None
    office: str
    note: str | None  # the authority's internal note
    # The other authority's inspection this one recognized instead of repeating it.
    recognized_inspection_id: str | None = None
    recognized_authority: Authority | None = None
    # The trip's common manifest id, where the authority records it on the inspection (phase ≥ 1).
    common_manifest_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChinaManifestRecord:
    """A GACC road manifest (公路舱单), one cargo transport batch."""

    batch_no: str
    common_manifest_id: str | None
    port_code: str
    port_name: str
    direction: Direction
    status: RecordStatus
    status_original: str  # "30 已出境"
    declared_at: dt.datetime
    border_crossed_at: dt.datetime | None  # exit (export) or entry (import)
    released_at: dt.datetime | None
    vehicle: VehicleRef
    trailer: VehicleRef | None
    driver: Driver
    carrier: Party
    consignor: Party
    consignee: Party
    containers: tuple[str, ...]
    seals: tuple[str, ...]
    currency: str
    total_packages: int
    total_gross_kg: Decimal
    total_value: Money
    goods: tuple[GoodsLine, ...]


@dataclass(frozen=True, slots=True)
class KazakhstanPIRecord:
    """A KGD preliminary-information record (ПИ)."""

    pi_number: str
    common_manifest_id: str | None
    checkpoint_code: str
    direction: Direction
    status: RecordStatus
    status_original: str  # "RELEASED Выпуск разрешен"
    registered_at: dt.datetime
    risk_channel: RiskChannel | None
    released_at: dt.datetime | None
    exited_at: dt.datetime | None
    vehicle: VehicleRef
    trailer: VehicleRef | None
    driver: Driver
    carrier: Party
    consignor: Party
    consignee: Party
    containers: tuple[str, ...]
    seals: tuple[str, ...]
    invoice_currency: str
    exchange_rate: ExchangeRate
    total_packages: int
    total_gross_kg: Decimal
    total_value: Money
    total_value_kzt: Decimal
    goods: tuple[GoodsLine, ...]


@dataclass(frozen=True, slots=True)
class ArrivalNotice:
    number: str
    pi_number: str
    checkpoint_code: str
    arrived_at: dt.datetime
    vehicle_written: str
    common_manifest_id: str | None = None  # at phase >= 1 crossings


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One side's border post as its authority describes it."""

    authority: Authority
    code: str
    name: str
    name_latin: str | None
    locode: str | None
    locode_official: bool
    opens: dt.time | None
    closes: dt.time | None
