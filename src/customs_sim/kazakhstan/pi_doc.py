"""The KGD preliminary-information (PI) document of a trip, as UTF-8 bytes.

The largest document of a build (every trip Kazakhstan saw has one): split from
:mod:`customs_sim.kazakhstan.render`, which files it with the trip's other records. Built as
``b"".join`` of ASCII ``str`` parts (encoded by a copy) and Cyrillic parts encoded once per pooled
object or text: one ``str`` mixing Cyrillic in is stored as UCS-2, and its ``.encode()`` runs a
per-character UTF-8 encoder (~13 % of the render's instructions). The bytes are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial
from typing import TypeVar
from xml.sax.saxutils import escape

from customs_sim.kazakhstan.xmltext import (
    CENT,
    CORRIDORS,
    GRAM,
    STATUS_NAMES,
    RateLookup,
    common_id,
    esc,
    format_local,
    local_day,
)
from customs_sim.memo import identity_memo
from customs_sim.model import Company, Direction, Driver, EventKind, Side, Trip, TripEvent, Vehicle
from customs_sim.reference import Crossing

__all__ = ["first_events", "pi_doc"]

T = TypeVar("T")


# StrEnum members format as their value, so f"{side}" needs no (slow) ``.value`` lookup.


def _company(tag: str, company: Company) -> str:
    # KGD keeps Kazakh companies under their Russian name and foreign ones in Latin script.
    name = company.name_native if company.country is Side.KZ else company.name_latin
    return (
        f"<{tag}><Identifier>{esc(company.id)}</Identifier><Name>{esc(name)}</Name>"
        f"<CountryCode>{company.country}</CountryCode></{tag}>"
    )


def _driver(driver: Driver) -> str:
    return (
        f"<Driver><FullName>{esc(driver.name_latin)}</FullName>"
        f"<PassportNumber>{esc(driver.id)}</PassportNumber>"
        f"<CountryCode>{driver.country}</CountryCode></Driver>"
    )


def _truck_tail(truck: Vehicle) -> str:
    """What follows the (per-trip) plate in ``<Transport>``: the truck's own data."""
    return (
        f"<VehicleCountryCode>{truck.country}</VehicleCountryCode>"
        f"<VIN>{esc(truck.vin)}</VIN><Make>{esc(truck.make)}</Make>"
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


def first_events(trip: Trip) -> dict[EventKind, TripEvent]:
    """Each kind's first event (as ``Trip.event`` finds it): one pass instead of a scan per lookup."""
    return {event.kind: event for event in reversed(trip.events)}


# Pooled texts (goods descriptions, package kinds) recur in every trip: their escapes are memoized.
_esc_pooled = lru_cache(maxsize=8192)(esc)


@lru_cache(maxsize=8192)
def _description(text: str) -> bytes:
    """A goods line's ``<Description>`` (pooled Russian texts): escaped and encoded once per text."""
    return f"<Description>{esc(text)}</Description>".encode()


def _esc_each(values: tuple[str, ...]) -> Iterable[str]:
    """``values`` escaped; themselves when none holds markup (one test over the joined text)."""
    joined = "".join(values)
    return values if esc(joined) is joined else map(escape, values)


def _transport(trip: Trip, plate: str) -> str:
    truck_tail = _pooled_truck_tail(trip.truck)
    trailer = trip.trailer
    if trailer is None:
        return f"<Transport><VehicleRegNumber>{esc(plate)}</VehicleRegNumber>{truck_tail}</Transport>"
    trailer_plate = trip.kz_trailer_plate_written or trailer.plate
    return (
        f"<Transport><VehicleRegNumber>{esc(plate)}</VehicleRegNumber>{truck_tail}"
        f"<TrailerRegNumber>{esc(trailer_plate)}</TrailerRegNumber>"
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
        item_kzt = (item.kz_value * rate).quantize(CENT, ROUND_HALF_UP)
        packages += item.packages
        gross += item.kz_gross_kg
        value += item.kz_value
        value_kzt += item_kzt
        append(f"<GoodsItem><LineNumber>{item.seq}</LineNumber><TNVEDCode>{item.kz_code}</TNVEDCode>".encode())
        append(description(item.description_ru))
        append(
            f"<PackageCount>{item.packages}</PackageCount><PackageKind>{esc(item.package_kind)}</PackageKind>"
            f"<GrossMass>{item.kz_gross_kg.quantize(GRAM, ROUND_HALF_UP)!s}</GrossMass>"
            f"<NetMass>{item.net_kg.quantize(GRAM, ROUND_HALF_UP)!s}</NetMass>"
            f"<InvoiceValue>{item.kz_value.quantize(CENT, ROUND_HALF_UP)!s}</InvoiceValue>"
            f"<ValueKZT>{item_kzt!s}</ValueKZT></GoodsItem>".encode()
        )
    return packages, gross, value, value_kzt


def pi_doc(
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
    rate_day = local_day(registered)
    currency = trip.invoice_currency
    # The published rate has 2 decimals; KZT values use the published rate so a reader can recompute them.
    rate = rate_of(rate_day, currency).quantize(CENT, ROUND_HALF_UP)
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
        f"<PreliminaryInformation><PINumber>{esc(trip.kz_pi_number)}</PINumber>{common_id(trip)}"
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
        f"<ExchangeRateDate>{rate_day.isoformat()}</ExchangeRateDate>"
        f"<TotalPackages>{packages}</TotalPackages>"
        f"<TotalGrossMass>{gross.quantize(GRAM, ROUND_HALF_UP)!s}</TotalGrossMass>"
        f"<TotalInvoiceValue>{value.quantize(CENT, ROUND_HALF_UP)!s}</TotalInvoiceValue>"
        f"<TotalValueKZT>{value_kzt.quantize(CENT, ROUND_HALF_UP)!s}</TotalValueKZT><Goods>".encode(),
    ]
    out += goods
    out.append(b"</Goods></PreliminaryInformation>")
    return b"".join(out)
