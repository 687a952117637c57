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
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from customs_sim.kazakhstan.pi_doc import first_events, pi_doc
from customs_sim.kazakhstan.xmltext import (
    CENT,
    CORRIDORS,
    STATUS_NAMES,
    RateLookup,
    common_id,
    esc,
    format_local,
)
from customs_sim.model import Direction, EventKind, Inspection, InspectionKind, InspectionResult, Side, Trip
from customs_sim.reference import CROSSINGS_BY_ID, Crossing

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


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def _control_doc(number: str, trip: Trip, inspection: Inspection) -> str:
    assert trip.kz_pi_number is not None
    out = [
        f"<ControlResult><ControlNumber>{number}</ControlNumber><PINumber>{trip.kz_pi_number}</PINumber>",
        common_id(trip),
    ]
    if trip.kz_corridor is not None:
        out.append(f"<RiskCorridor>{CORRIDORS[trip.kz_corridor]}</RiskCorridor>")
    out.append(
        f"<ControlForm>{CONTROL_FORMS[inspection.kind]}</ControlForm>"
        f"<StartDateTime>{format_local(inspection.started_at)}</StartDateTime>"
        f"<EndDateTime>{format_local(inspection.finished_at)}</EndDateTime>"
        f"<Result>{CONTROL_RESULTS[inspection.result]}</Result>"
        f"<CustomsOfficeCode>{esc(inspection.office)}</CustomsOfficeCode>"
    )
    if inspection.recognized_inspection_id is not None:
        # Only Kazakh inspections are rendered, so a recognized one is always China's.
        out.append(
            "<RecognizedForeignControl><CountryCode>CN</CountryCode>"
            f"<ForeignControlNumber>{esc(inspection.recognized_inspection_id)}</ForeignControlNumber>"
            "</RecognizedForeignControl>"
        )
    if inspection.note:
        out.append(f"<InspectorNote>{esc(inspection.note)}</InspectorNote>")
    out.append("</ControlResult>")
    return "".join(out)


def _start_and_id(inspection: Inspection) -> tuple[dt.datetime, str]:
    return inspection.started_at, inspection.id


def render_trip(trip: Trip, rate_of: RateLookup) -> TripRecords | None:
    """Everything Kazakhstan records of ``trip``; None when it has no record (yet) of it."""
    if Side.KZ not in trip.seen_by or trip.kz_pi_number is None:
        return None
    events = first_events(trip)
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
        pi_doc(trip, events, crossing, submitted.at, plate, rate_of),
    )
    arrival = None
    arrived = events.get(EventKind.KZ_ARRIVED)
    if trip.direction is Direction.CN_TO_KZ and arrived is not None:
        number = arrival_number(pi_number)
        doc = (
            f"<ArrivalNotification><NotificationNumber>{number}</NotificationNumber>"
            f"<PINumber>{pi_number}</PINumber>{common_id(trip)}<CheckpointCode>{checkpoint}</CheckpointCode>"
            f"<ArrivalDateTime>{format_local(arrived.at)}</ArrivalDateTime>"
            f"<VehicleRegNumber>{esc(plate)}</VehicleRegNumber></ArrivalNotification>"
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
        f"<Name>{esc(post.name_native)}</Name><NameLatin>{esc(post.name_latin)}</NameLatin>"
        f"<Region>{crossing.kz_plate_region}</Region>"
        f"<OpenTime>{post.opens:%H:%M}</OpenTime><CloseTime>{post.closes:%H:%M}</CloseTime>"
        f"<ForeignCheckpoint>{esc(crossing.cn.name_latin)}</ForeignCheckpoint></Checkpoint>"
    )


def render_exchange_rates(day: dt.date, rates: list[tuple[str, Decimal]]) -> str:
    """One day's ``<ExchangeRates>`` fragment; ``rates`` as (currency, KZT per unit)."""
    body = "".join(
        f"<Rate><Currency>{currency}</Currency><Quant>1</Quant><Value>{_money(value)}</Value></Rate>"
        for currency, value in rates
    )
    return f'<ExchangeRates date="{day.isoformat()}" source="НБРК">{body}</ExchangeRates>'
