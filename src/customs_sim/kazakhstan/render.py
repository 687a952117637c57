"""Render the Kazakh view of a ground-truth :class:`~customs_sim.model.Trip` as KGD XML fragments.

Pure functions, no I/O. Fragments are built as strings rather than DOM trees because the store
renders every record of a dataset (hundreds of thousands) once at build time; free text goes
through :func:`xml.sax.saxutils.escape`, codes and numbers are formatted from trusted values.

A fragment is the element *without* a namespace declaration: the serving side either
concatenates fragments inside a list root that declares the default namespace, or rewrites the
first tag to declare it (see :mod:`customs_sim.kazakhstan.documents`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import NamedTuple
from xml.sax.saxutils import escape

from customs_sim.clocktext import ISO_CLOCK, TWO_DIGITS, iso_date
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
    Vehicle,
)
from customs_sim.reference import CROSSINGS_BY_ID, KZ_OFFSET_SWITCH, Crossing, kz_tz

__all__ = [
    "CONTROL_FORMS",
    "CONTROL_RESULTS",
    "CORRIDORS",
    "STATUS_NAMES",
    "ArrivalRecord",
    "ControlRecord",
    "PIRecord",
    "RateLookup",
    "TripRecords",
    "arrival_number",
    "control_number",
    "format_local",
    "plate_key",
    "render_checkpoint",
    "render_exchange_rates",
    "render_trip",
]

RateLookup = Callable[[dt.date, str], Decimal]
"""``(day, currency) -> KZT per unit``: the National Bank rate, as ``customs_sim.rates.nbk_rate``."""

CORRIDORS: dict[str, str] = {"GREEN": "ЗЕЛЕНЫЙ", "YELLOW": "ЖЕЛТЫЙ", "RED": "КРАСНЫЙ"}
STATUS_NAMES: dict[str, str] = {
    "REGISTERED": "Зарегистрирована",
    "ARRIVED": "Прибытие",
    "RELEASED": "Выпуск разрешен",
    "EXITED": "Убытие",
}
CONTROL_FORMS: dict[InspectionKind, str] = {
    InspectionKind.DOCUMENT_CHECK: "ПРОВЕРКА ДОКУМЕНТОВ",
    InspectionKind.XRAY: "ИДК",
    InspectionKind.EXAMINATION: "ДОСМОТР",
    InspectionKind.WEIGHING: "ВЗВЕШИВАНИЕ",
}
CONTROL_RESULTS: dict[InspectionResult, str] = {
    InspectionResult.NORMAL: "НАРУШЕНИЙ НЕ ВЫЯВЛЕНО",
    InspectionResult.ABNORMAL: "ВЫЯВЛЕНО НАРУШЕНИЕ",
}

_CENT = Decimal("0.01")
_GRAM = Decimal("0.001")


# The records are named tuples in their table's column order: the store inserts them as they are
# (a build makes one or more per trip, and a frozen dataclass costs twice as much to create).
class PIRecord(NamedTuple):
    pi_number: str
    checkpoint: str
    direction: str  # IM / EK
    registered_at: int  # UTC epoch seconds: the list order and the from/to window
    plate_key: str  # upper-cased, spaces removed: what the plate filter matches
    common_id: str | None
    doc: bytes


class ArrivalRecord(NamedTuple):
    notification_number: str
    pi_number: str
    checkpoint: str
    arrived_at: int
    common_id: str | None  # the trip's common manifest id (phase >= 1 crossings)
    doc: bytes


class ControlRecord(NamedTuple):
    control_number: str
    pi_number: str
    checkpoint: str
    started_at: int
    common_id: str | None  # the trip's common manifest id (phase >= 1 crossings)
    doc: bytes


class TripRecords(NamedTuple):
    pi: PIRecord
    arrival: ArrivalRecord | None
    controls: tuple[ControlRecord, ...]


def _suffix(zone: dt.timezone) -> str:
    delta = zone.utcoffset(None)
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# The two offsets the posts used, built once: format_local() runs several times per trip at build time.
_BEFORE_SWITCH = KZ_OFFSET_SWITCH - dt.timedelta(microseconds=1)
_ZONES = {
    instant: (zone, _suffix(zone)) for instant in (_BEFORE_SWITCH, KZ_OFFSET_SWITCH) for zone in (kz_tz(instant),)
}

_SHIFTS = {suffix: zone.utcoffset(None) for zone, suffix in _ZONES.values()}
_UTC = dt.UTC


# (offset in seconds, suffix) after and before the switch.
_AFTER_LOCAL = int(_SHIFTS[_ZONES[KZ_OFFSET_SWITCH][1]].total_seconds()), _ZONES[KZ_OFFSET_SWITCH][1]
_BEFORE_LOCAL = int(_SHIFTS[_ZONES[_BEFORE_SWITCH][1]].total_seconds()), _ZONES[_BEFORE_SWITCH][1]
_SWITCH_TS = int(KZ_OFFSET_SWITCH.timestamp())


def format_local(at: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS+06:00`` in the border posts' offset at that instant (seconds truncated)."""
    if at.tzinfo is _UTC and at.year >= 1970:  # every ground-truth instant: table lookups (clocktext)
        ts = int(at.timestamp())
        shift, suffix = _AFTER_LOCAL if ts >= _SWITCH_TS else _BEFORE_LOCAL
        day, second = divmod(ts + shift, 86_400)
        return f"{iso_date(day)}T{ISO_CLOCK[second // 60]}{TWO_DIGITS[second % 60]}{suffix}"
    zone, suffix = _ZONES[KZ_OFFSET_SWITCH if at >= KZ_OFFSET_SWITCH else _BEFORE_SWITCH]
    return at.astimezone(zone).replace(tzinfo=None, microsecond=0).isoformat() + suffix


def _local_day(at: dt.datetime) -> dt.date:
    zone, suffix = _ZONES[KZ_OFFSET_SWITCH if at >= KZ_OFFSET_SWITCH else _BEFORE_SWITCH]
    if at.tzinfo is _UTC:  # as in format_local
        return (at + _SHIFTS[suffix]).date()
    return at.astimezone(zone).date()


def _esc(text: str) -> str:
    # Most values need no escaping; the membership tests are much cheaper than escape()'s replaces.
    if "&" in text or "<" in text or ">" in text:
        return escape(text)
    return text


def _epoch(at: dt.datetime) -> int:
    return int(at.timestamp())


def arrival_number(pi_number: str) -> str:
    """``{office}-{ddmmyy}-A{last 6 digits}``: KGD numbers the notification after its PI."""
    office, day, seq = pi_number.split("-")
    return f"{office}-{day}-A{seq[-6:]}"


def control_number(pi_number: str, ordinal: int) -> str:
    office, day, seq = pi_number.split("-")
    return f"{office}-{day}-K{seq[-6:]}-{ordinal}"


def plate_key(plate: str) -> str:
    return plate.upper().replace(" ", "")


# StrEnum members format as their value, so f"{side}" needs no (slow) ``.value`` lookup.


def _company(tag: str, company: Company) -> str:
    # KGD keeps Kazakh companies under their Russian name and foreign ones in Latin script.
    name = company.name_native if company.country is Side.KZ else company.name_latin
    return (
        f"<{tag}><Identifier>{_esc(company.id)}</Identifier><Name>{_esc(name)}</Name>"
        f"<CountryCode>{company.country}</CountryCode></{tag}>"
    )


def _driver(driver: Driver) -> str:
    return (
        f"<Driver><FullName>{_esc(driver.name_latin)}</FullName>"
        f"<PassportNumber>{_esc(driver.id)}</PassportNumber>"
        f"<CountryCode>{driver.country}</CountryCode></Driver>"
    )


def _truck_tail(truck: Vehicle) -> str:
    """What follows the (per-trip) plate in ``<Transport>``: the truck's own data."""
    return (
        f"<VehicleCountryCode>{truck.country}</VehicleCountryCode>"
        f"<VIN>{_esc(truck.vin)}</VIN><Make>{_esc(truck.make)}</Make>"
    )


# Trucks, drivers and companies come from the per-seed pools: each is rendered once (see memo).
_carrier = identity_memo(partial(_company, "Carrier"))
_consignor = identity_memo(partial(_company, "Consignor"))
_consignee = identity_memo(partial(_company, "Consignee"))
_pooled_driver = identity_memo(_driver)
_pooled_truck_tail = identity_memo(_truck_tail)


def _status(trip: Trip) -> str:
    if trip.direction is Direction.CN_TO_KZ:
        if trip.event(EventKind.KZ_RELEASED) is not None:
            return "RELEASED"
        if trip.event(EventKind.KZ_ARRIVED) is not None:
            return "ARRIVED"
        return "REGISTERED"
    return "EXITED" if trip.event(EventKind.KZ_EXITED) is not None else "REGISTERED"


def _transport(trip: Trip) -> str:
    truck = trip.truck
    plate = trip.kz_truck_plate_written or truck.plate
    head = f"<Transport><VehicleRegNumber>{_esc(plate)}</VehicleRegNumber>{_pooled_truck_tail(truck)}"
    trailer = trip.trailer
    if trailer is None:
        return head + "</Transport>"
    trailer_plate = trip.kz_trailer_plate_written or trailer.plate
    return (
        f"{head}<TrailerRegNumber>{_esc(trailer_plate)}</TrailerRegNumber>"
        f"<TrailerCountryCode>{trailer.country}</TrailerCountryCode></Transport>"
    )


def _pi_doc(trip: Trip, crossing: Crossing, registered: dt.datetime, rate_of: RateLookup) -> str:
    assert trip.kz_pi_number is not None
    status = _status(trip)
    local_day = _local_day(registered)
    currency = trip.invoice_currency
    # The published rate has 2 decimals; KZT values use the published rate so a reader can recompute them.
    rate = rate_of(local_day, currency).quantize(_CENT, ROUND_HALF_UP)
    out = [f"<PreliminaryInformation><PINumber>{_esc(trip.kz_pi_number)}</PINumber>", _common_id(trip)]
    out.append(
        f"<CheckpointCode>{crossing.kz.code}</CheckpointCode>"
        f"<Direction>{'IM' if trip.direction is Direction.CN_TO_KZ else 'EK'}</Direction>"
        f"<RegistrationDateTime>{format_local(registered)}</RegistrationDateTime>"
        f"<StatusCode>{status}</StatusCode><StatusName>{STATUS_NAMES[status]}</StatusName>"
    )
    if trip.kz_corridor is not None:
        out.append(f"<RiskCorridor>{CORRIDORS[trip.kz_corridor]}</RiskCorridor>")
    end_kind = EventKind.KZ_RELEASED if trip.direction is Direction.CN_TO_KZ else EventKind.KZ_EXITED
    end = trip.event(end_kind)
    if end is not None:
        tag = "ReleaseDateTime" if end_kind is EventKind.KZ_RELEASED else "ExitDateTime"
        out.append(f"<{tag}>{format_local(end.at)}</{tag}>")
    out.append(_transport(trip))
    out.append(_pooled_driver(trip.driver))
    out.append(_carrier(trip.carrier))
    out.append(_consignor(trip.shipper))
    out.append(_consignee(trip.consignee))
    if trip.containers:
        numbers = "".join(f"<ContainerNumber>{_esc(c)}</ContainerNumber>" for c in trip.containers)
        out.append(f"<Containers>{numbers}</Containers>")
    if trip.seals:
        seals = "".join(f"<SealNumber>{_esc(s)}</SealNumber>" for s in trip.seals)
        out.append(f"<Seals>{seals}</Seals>")
    goods = []
    packages = 0
    gross = value = value_kzt = Decimal(0)
    # !s for Decimals: Decimal.__format__ costs several times str().
    for item in trip.items:
        item_kzt = (item.kz_value * rate).quantize(_CENT, ROUND_HALF_UP)
        packages += item.packages
        gross += item.kz_gross_kg
        value += item.kz_value
        value_kzt += item_kzt
        goods.append(
            f"<GoodsItem><LineNumber>{item.seq}</LineNumber><TNVEDCode>{item.kz_code}</TNVEDCode>"
            f"<Description>{_esc(item.description_ru)}</Description>"
            f"<PackageCount>{item.packages}</PackageCount><PackageKind>{_esc(item.package_kind)}</PackageKind>"
            f"<GrossMass>{_mass(item.kz_gross_kg)}</GrossMass><NetMass>{_mass(item.net_kg)}</NetMass>"
            f"<InvoiceValue>{_money(item.kz_value)}</InvoiceValue><ValueKZT>{item_kzt!s}</ValueKZT></GoodsItem>"
        )
    out.append(
        f"<InvoiceCurrency>{currency}</InvoiceCurrency><ExchangeRate>{rate!s}</ExchangeRate>"
        f"<ExchangeRateDate>{local_day.isoformat()}</ExchangeRateDate>"
        f"<TotalPackages>{packages}</TotalPackages><TotalGrossMass>{_mass(gross)}</TotalGrossMass>"
        f"<TotalInvoiceValue>{_money(value)}</TotalInvoiceValue>"
        f"<TotalValueKZT>{_money(value_kzt)}</TotalValueKZT>"
        f"<Goods>{''.join(goods)}</Goods></PreliminaryInformation>"
    )
    return "".join(out)


def _mass(kg: Decimal) -> str:
    return str(kg.quantize(_GRAM, ROUND_HALF_UP))


def _money(amount: Decimal) -> str:
    return str(amount.quantize(_CENT, ROUND_HALF_UP))


def _common_id(trip: Trip) -> str:
    """``<CommonManifestId>`` (right after ``<PINumber>``), or nothing at a phase-0 crossing."""
    return "" if trip.common_id is None else f"<CommonManifestId>{_esc(trip.common_id)}</CommonManifestId>"


def _control_doc(number: str, trip: Trip, inspection: Inspection) -> str:
    assert trip.kz_pi_number is not None
    out = [
        f"<ControlResult><ControlNumber>{number}</ControlNumber><PINumber>{trip.kz_pi_number}</PINumber>",
        _common_id(trip),
    ]
    if trip.kz_corridor is not None:
        out.append(f"<RiskCorridor>{CORRIDORS[trip.kz_corridor]}</RiskCorridor>")
    out.append(
        f"<ControlForm>{CONTROL_FORMS[inspection.kind]}</ControlForm>"
        f"<StartDateTime>{format_local(inspection.started_at)}</StartDateTime>"
        f"<EndDateTime>{format_local(inspection.finished_at)}</EndDateTime>"
        f"<Result>{CONTROL_RESULTS[inspection.result]}</Result>"
        f"<CustomsOfficeCode>{_esc(inspection.office)}</CustomsOfficeCode>"
    )
    if inspection.recognized_inspection_id is not None:
        # Only Kazakh inspections are rendered, so a recognized one is always China's.
        out.append(
            "<RecognizedForeignControl><CountryCode>CN</CountryCode>"
            f"<ForeignControlNumber>{_esc(inspection.recognized_inspection_id)}</ForeignControlNumber>"
            "</RecognizedForeignControl>"
        )
    if inspection.note:
        out.append(f"<InspectorNote>{_esc(inspection.note)}</InspectorNote>")
    out.append("</ControlResult>")
    return "".join(out)


def _start_and_id(inspection: Inspection) -> tuple[dt.datetime, str]:
    return inspection.started_at, inspection.id


def render_trip(trip: Trip, rate_of: RateLookup) -> TripRecords | None:
    """Everything Kazakhstan records of ``trip``; None when it has no record (yet) of it."""
    if Side.KZ not in trip.seen_by or trip.kz_pi_number is None:
        return None
    submitted = trip.event(EventKind.KZ_PI_SUBMITTED)
    if submitted is None:
        return None
    crossing = CROSSINGS_BY_ID[trip.crossing]
    checkpoint = crossing.kz.code
    pi_number = trip.kz_pi_number
    plate = trip.kz_truck_plate_written or trip.truck.plate
    pi = PIRecord(  # positional: a keyword call costs more, and this runs once per trip of a build
        pi_number,
        checkpoint,
        "IM" if trip.direction is Direction.CN_TO_KZ else "EK",
        _epoch(submitted.at),
        plate_key(plate),
        trip.common_id,
        _pi_doc(trip, crossing, submitted.at, rate_of).encode(),
    )
    arrival = None
    arrived = trip.event(EventKind.KZ_ARRIVED)
    if trip.direction is Direction.CN_TO_KZ and arrived is not None:
        number = arrival_number(pi_number)
        doc = (
            f"<ArrivalNotification><NotificationNumber>{number}</NotificationNumber>"
            f"<PINumber>{pi_number}</PINumber>{_common_id(trip)}<CheckpointCode>{checkpoint}</CheckpointCode>"
            f"<ArrivalDateTime>{format_local(arrived.at)}</ArrivalDateTime>"
            f"<VehicleRegNumber>{_esc(plate)}</VehicleRegNumber></ArrivalNotification>"
        )
        arrival = ArrivalRecord(number, pi_number, checkpoint, _epoch(arrived.at), trip.common_id, doc.encode())
    ours = [i for i in trip.inspections if i.side is Side.KZ]
    if len(ours) > 1:
        ours.sort(key=_start_and_id)
    controls = []
    for ordinal, inspection in enumerate(ours, start=1):
        number = control_number(pi_number, ordinal)
        doc = _control_doc(number, trip, inspection)
        started = _epoch(inspection.started_at)
        controls.append(ControlRecord(number, pi_number, checkpoint, started, trip.common_id, doc.encode()))
    return TripRecords(pi, arrival, tuple(controls))


def render_checkpoint(crossing: Crossing) -> str:
    post = crossing.kz
    return (
        f"<Checkpoint><Code>{post.code}</Code><InternalCode>{post.locode}</InternalCode>"
        f"<Official>{'true' if post.official else 'false'}</Official>"
        f"<Name>{_esc(post.name_native)}</Name><NameLatin>{_esc(post.name_latin)}</NameLatin>"
        f"<Region>{crossing.kz_plate_region}</Region>"
        f"<OpenTime>{post.opens:%H:%M}</OpenTime><CloseTime>{post.closes:%H:%M}</CloseTime>"
        f"<ForeignCheckpoint>{_esc(crossing.cn.name_latin)}</ForeignCheckpoint></Checkpoint>"
    )


def render_exchange_rates(day: dt.date, rates: list[tuple[str, Decimal]]) -> str:
    """One day's ``<ExchangeRates>`` fragment; ``rates`` as (currency, KZT per unit)."""
    body = "".join(
        f"<Rate><Currency>{currency}</Currency><Quant>1</Quant><Value>{_money(value)}</Value></Rate>"
        for currency, value in rates
    )
    return f'<ExchangeRates date="{day.isoformat()}" source="НБРК">{body}</ExchangeRates>'
