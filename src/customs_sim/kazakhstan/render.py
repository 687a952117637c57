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
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial
from typing import NamedTuple, TypeVar
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
    TripEvent,
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

T = TypeVar("T")

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


def _utf8(render: Callable[[T], str]) -> Callable[[T], bytes]:
    """``render``'s text encoded once per pooled object (see customs_sim.memo)."""
    return identity_memo(lambda obj: render(obj).encode())


# Trucks, drivers and companies come from the per-seed pools: each is rendered once (see memo).
# The parts that may hold Cyrillic are kept as UTF-8 bytes: encoding a document that mixes them
# into one str costs more (a per-character UCS-2 encoder) than joining bytes whose ASCII parts are
# encoded by a copy.
_carrier = _utf8(partial(_company, "Carrier"))
_consignor = _utf8(partial(_company, "Consignor"))
_consignee = _utf8(partial(_company, "Consignee"))
_pooled_driver = _utf8(_driver)
_pooled_truck_tail = identity_memo(_truck_tail)

# Whole elements per code, built once: the per-trip template then only picks them.
_STATUS_XML: dict[str, bytes] = {
    code: f"<StatusCode>{code}</StatusCode><StatusName>{name}</StatusName>".encode()
    for code, name in STATUS_NAMES.items()
}
_CORRIDOR_XML: dict[str | None, bytes] = {
    None: b"",
    **{code: f"<RiskCorridor>{name}</RiskCorridor>".encode() for code, name in CORRIDORS.items()},
}


def _first_events(trip: Trip) -> dict[EventKind, TripEvent]:
    """Each kind's first event (as ``Trip.event`` finds it): one pass instead of a scan per lookup."""
    return {event.kind: event for event in reversed(trip.events)}


# Pooled texts (goods descriptions, package kinds) recur in every trip: their escapes are memoized.
_esc_pooled = lru_cache(maxsize=8192)(_esc)


@lru_cache(maxsize=8192)
def _description(text: str) -> bytes:
    """A goods line's ``<Description>`` (pooled Russian texts): escaped and encoded once per text."""
    return f"<Description>{_esc(text)}</Description>".encode()


def _esc_each(values: tuple[str, ...]) -> Iterable[str]:
    """``values`` escaped; themselves when none holds markup (one test over the joined text)."""
    joined = "".join(values)
    return values if _esc(joined) is joined else map(escape, values)


def _transport(trip: Trip, plate: str) -> str:
    truck_tail = _pooled_truck_tail(trip.truck)
    trailer = trip.trailer
    if trailer is None:
        return f"<Transport><VehicleRegNumber>{_esc(plate)}</VehicleRegNumber>{truck_tail}</Transport>"
    trailer_plate = trip.kz_trailer_plate_written or trailer.plate
    return (
        f"<Transport><VehicleRegNumber>{_esc(plate)}</VehicleRegNumber>{truck_tail}"
        f"<TrailerRegNumber>{_esc(trailer_plate)}</TrailerRegNumber>"
        f"<TrailerCountryCode>{trailer.country}</TrailerCountryCode></Transport>"
    )


def _goods(trip: Trip, rate: Decimal, out: list[bytes]) -> tuple[int, Decimal, Decimal, Decimal]:
    """Append the ``<GoodsItem>`` elements to ``out``; the totals (packages, gross, value, KZT value)."""
    packages = 0
    gross = value = value_kzt = Decimal(0)
    esc = _esc_pooled
    description = _description
    append = out.append
    # str() of the quantized Decimals inline: a helper call per field costs more than the formatting.
    for item in trip.items:
        item_kzt = (item.kz_value * rate).quantize(_CENT, ROUND_HALF_UP)
        packages += item.packages
        gross += item.kz_gross_kg
        value += item.kz_value
        value_kzt += item_kzt
        append(f"<GoodsItem><LineNumber>{item.seq}</LineNumber><TNVEDCode>{item.kz_code}</TNVEDCode>".encode())
        append(description(item.description_ru))
        append(
            f"<PackageCount>{item.packages}</PackageCount><PackageKind>{esc(item.package_kind)}</PackageKind>"
            f"<GrossMass>{item.kz_gross_kg.quantize(_GRAM, ROUND_HALF_UP)!s}</GrossMass>"
            f"<NetMass>{item.net_kg.quantize(_GRAM, ROUND_HALF_UP)!s}</NetMass>"
            f"<InvoiceValue>{item.kz_value.quantize(_CENT, ROUND_HALF_UP)!s}</InvoiceValue>"
            f"<ValueKZT>{item_kzt!s}</ValueKZT></GoodsItem>".encode()
        )
    return packages, gross, value, value_kzt


def _pi_doc(
    trip: Trip,
    events: dict[EventKind, TripEvent],
    crossing: Crossing,
    registered: dt.datetime,
    plate: str,
    rate_of: RateLookup,
) -> bytes:
    """The PI fragment's UTF-8: a few templates over all fields (optional parts are empty)."""
    assert trip.kz_pi_number is not None
    if trip.direction is Direction.CN_TO_KZ:
        direction = "IM"
        end = events.get(EventKind.KZ_RELEASED)
        if end is not None:
            status = "RELEASED"
            end_xml = f"<ReleaseDateTime>{format_local(end.at)}</ReleaseDateTime>"
        else:
            status = "ARRIVED" if EventKind.KZ_ARRIVED in events else "REGISTERED"
            end_xml = ""
    else:
        direction = "EK"
        end = events.get(EventKind.KZ_EXITED)
        if end is not None:
            status = "EXITED"
            end_xml = f"<ExitDateTime>{format_local(end.at)}</ExitDateTime>"
        else:
            status = "REGISTERED"
            end_xml = ""
    local_day = _local_day(registered)
    currency = trip.invoice_currency
    # The published rate has 2 decimals; KZT values use the published rate so a reader can recompute them.
    rate = rate_of(local_day, currency).quantize(_CENT, ROUND_HALF_UP)
    containers = (
        f"<Containers><ContainerNumber>{'</ContainerNumber><ContainerNumber>'.join(_esc_each(trip.containers))}"
        "</ContainerNumber></Containers>"
        if trip.containers
        else ""
    )
    seals = (
        f"<Seals><SealNumber>{'</SealNumber><SealNumber>'.join(_esc_each(trip.seals))}</SealNumber></Seals>"
        if trip.seals
        else ""
    )
    goods: list[bytes] = []
    packages, gross, value, value_kzt = _goods(trip, rate, goods)
    out = [
        f"<PreliminaryInformation><PINumber>{_esc(trip.kz_pi_number)}</PINumber>{_common_id(trip)}"
        f"<CheckpointCode>{crossing.kz.code}</CheckpointCode><Direction>{direction}</Direction>"
        f"<RegistrationDateTime>{format_local(registered)}</RegistrationDateTime>".encode(),
        _STATUS_XML[status],
        _CORRIDOR_XML[trip.kz_corridor],
        f"{end_xml}{_transport(trip, plate)}".encode(),
        _pooled_driver(trip.driver),
        _carrier(trip.carrier),
        _consignor(trip.shipper),
        _consignee(trip.consignee),
        f"{containers}{seals}<InvoiceCurrency>{currency}</InvoiceCurrency><ExchangeRate>{rate!s}</ExchangeRate>"
        f"<ExchangeRateDate>{local_day.isoformat()}</ExchangeRateDate>"
        f"<TotalPackages>{packages}</TotalPackages>"
        f"<TotalGrossMass>{gross.quantize(_GRAM, ROUND_HALF_UP)!s}</TotalGrossMass>"
        f"<TotalInvoiceValue>{value.quantize(_CENT, ROUND_HALF_UP)!s}</TotalInvoiceValue>"
        f"<TotalValueKZT>{value_kzt.quantize(_CENT, ROUND_HALF_UP)!s}</TotalValueKZT><Goods>".encode(),
    ]
    out += goods
    out.append(b"</Goods></PreliminaryInformation>")
    return b"".join(out)


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
    events = _first_events(trip)
    submitted = events.get(EventKind.KZ_PI_SUBMITTED)
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
        int(submitted.at.timestamp()),  # not _epoch(): a call less on every trip
        plate_key(plate),
        trip.common_id,
        _pi_doc(trip, events, crossing, submitted.at, plate, rate_of),
    )
    arrival = None
    arrived = events.get(EventKind.KZ_ARRIVED)
    if trip.direction is Direction.CN_TO_KZ and arrived is not None:
        number = arrival_number(pi_number)
        doc = (
            f"<ArrivalNotification><NotificationNumber>{number}</NotificationNumber>"
            f"<PINumber>{pi_number}</PINumber>{_common_id(trip)}<CheckpointCode>{checkpoint}</CheckpointCode>"
            f"<ArrivalDateTime>{format_local(arrived.at)}</ArrivalDateTime>"
            f"<VehicleRegNumber>{_esc(plate)}</VehicleRegNumber></ArrivalNotification>"
        )
        arrival = ArrivalRecord(number, pi_number, checkpoint, _epoch(arrived.at), trip.common_id, doc.encode())
    if not trip.inspections:  # most trips: no list of controls to build
        return TripRecords(pi, arrival, ())
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
