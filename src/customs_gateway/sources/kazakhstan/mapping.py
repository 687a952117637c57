"""Pure mapping of KGD XML records into the unified domain model.

No I/O and no httpx: an element in, a domain object out, or an
:class:`~customs_gateway.errors.UpstreamContract` naming the field and the record. The KGD
vocabularies (Russian corridors, control forms and results; IM/EK; status codes) are translated
by the tables below, so an unknown word from upstream is a contract error, never a guess.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ...codes import hs6
from ...domain import (
    ArrivalNotice,
    Authority,
    Checkpoint,
    Country,
    Direction,
    Driver,
    ExchangeRate,
    GoodsLine,
    Inspection,
    InspectionKind,
    InspectionOutcome,
    KazakhstanPIRecord,
    Money,
    Party,
    RecordStatus,
    RiskChannel,
    VehicleRef,
)
from ...plates import parse_plate
from ..base import MASS_PLACES, MONEY_PLACES, ScanLine, ScanRecord
from . import xml
from .payloads import Reader

__all__ = [
    "CONTROL_FORMS",
    "CONTROL_RESULTS",
    "DIRECTIONS",
    "RISK_CORRIDORS",
    "STATUSES",
    "WIRE_DIRECTIONS",
    "arrival_notice",
    "checkpoint",
    "country",
    "exchange_rates",
    "exchange_rates_list",
    "inspection",
    "list_items",
    "not_found_keys",
    "pi_record",
    "pi_scan",
]

DIRECTIONS: dict[str, Direction] = {"IM": Direction.CN_TO_KZ, "EK": Direction.KZ_TO_CN}
WIRE_DIRECTIONS: dict[Direction, str] = {value: key for key, value in DIRECTIONS.items()}
STATUSES: dict[str, RecordStatus] = {
    "REGISTERED": RecordStatus.DECLARED,
    "ARRIVED": RecordStatus.ARRIVED,
    "RELEASED": RecordStatus.RELEASED,
    "EXITED": RecordStatus.EXITED,
}
RISK_CORRIDORS: dict[str, RiskChannel] = {
    "ЗЕЛЕНЫЙ": RiskChannel.GREEN,
    "ЖЕЛТЫЙ": RiskChannel.YELLOW,
    "КРАСНЫЙ": RiskChannel.RED,
}
CONTROL_FORMS: dict[str, InspectionKind] = {
    "ИДК": InspectionKind.XRAY_SCAN,
    "ПРОВЕРКА ДОКУМЕНТОВ": InspectionKind.DOCUMENT_CHECK,
    "ДОСМОТР": InspectionKind.EXAMINATION,
    "ВЗВЕШИВАНИЕ": InspectionKind.WEIGHING,
}
CONTROL_RESULTS: dict[str, InspectionOutcome] = {
    "НАРУШЕНИЙ НЕ ВЫЯВЛЕНО": InspectionOutcome.NO_FINDINGS,
    "ВЫЯВЛЕНО НАРУШЕНИЕ": InspectionOutcome.VIOLATION,
}
_FOREIGN_AUTHORITIES: dict[str, Authority] = {"CN": Authority.GACC}
_MASS_PLACES = 3
_MONEY_PLACES = 2
_RATE_PLACES = 2
_NBK = "NBK"  # the National Bank of Kazakhstan (НБРК), whatever spelling the document uses


def country(code: str) -> Country:
    """A KGD country code (ISO alpha-2) as the domain's country; any other country is OTHER."""
    return Country.__members__.get(code, Country.OTHER)


def _reader(el: xml.Element, position: int | None, key_field: str) -> Reader:
    """A reader whose error messages name the record: ``Tag #3 (key)``."""
    label = xml.local_name(el.tag)
    if position is not None:
        label += f" #{position}"
    key = xml.child_text(el, key_field)
    if key is not None:
        label += f" ({key[:60]})"
    return Reader(el, label)


def list_items(root: xml.Element, name: str) -> list[xml.Element]:
    """The records ``name`` directly under a list root (``<NotFound>`` excluded)."""
    return xml.children(root, name)


def not_found_keys(root: xml.Element, key: str = "PINumber") -> set[str]:
    """The keys a batch answer lists under ``<NotFound>``."""
    found = xml.child(root, "NotFound")
    if found is None:
        return set()
    return set(Reader(root, xml.local_name(root.tag)).texts("NotFound", key))


# -- preliminary information ------------------------------------------------------------------------


def _vehicle(transport: Reader, plate_field: str, vin: str | None, make: str | None) -> VehicleRef:
    written = transport.text(plate_field)
    return VehicleRef(plate=parse_plate(written), written=written, vin=vin, make=make)


def _party(r: Reader) -> Party:
    return Party(id=r.opt_text("Identifier"), name=r.text("Name"), country=country(r.text("CountryCode")))


def _driver(r: Reader) -> Driver:
    # KGD keeps one Latin-script name: it is both the recorded and the Latin form.
    name = r.text("FullName")
    return Driver(
        name=name,
        name_latin=name,
        passport_no=r.opt_text("PassportNumber"),
        nationality=country(r.text("CountryCode")),
    )


def _hs6(r: Reader) -> tuple[str, str]:
    code = r.text("TNVEDCode")
    try:
        return code, hs6(code)
    except ValueError as exc:
        raise r.fail("TNVEDCode", f"not a tariff code: {code[:20]!r}") from exc


def _goods_line(r: Reader, currency: str) -> GoodsLine:
    code, code6 = _hs6(r)
    return GoodsLine(
        authority=Authority.KGD,
        line_no=r.count("LineNumber"),
        tariff_code=code,
        hs6=code6,
        description=r.text("Description"),
        description_language="ru",
        packages=r.count("PackageCount"),
        package_kind=r.opt_text("PackageKind"),
        gross_kg=r.amount("GrossMass", _MASS_PLACES),
        net_kg=r.opt_amount("NetMass", _MASS_PLACES),
        value=Money(r.amount("InvoiceValue", _MONEY_PLACES), currency),
        value_kzt=r.amount("ValueKZT", _MONEY_PLACES),
    )


def pi_record(el: xml.Element, position: int | None = None) -> KazakhstanPIRecord:
    """``<PreliminaryInformation>`` → :class:`KazakhstanPIRecord`."""
    r = _reader(el, position, "PINumber")
    status_code = r.text("StatusCode")
    status = r.choice("StatusCode", STATUSES)
    status_name = r.opt_text("StatusName")
    transport = r.sub("Transport")
    vehicle = _vehicle(transport, "VehicleRegNumber", transport.opt_text("VIN"), transport.opt_text("Make"))
    trailer = (
        _vehicle(transport, "TrailerRegNumber", None, None)
        if transport.opt_text("TrailerRegNumber") is not None
        else None
    )
    currency = r.text("InvoiceCurrency")
    goods = tuple(_goods_line(item, currency) for item in _goods_items(r))
    return KazakhstanPIRecord(
        pi_number=r.text("PINumber"),
        common_manifest_id=r.opt_text("CommonManifestId"),
        checkpoint_code=r.text("CheckpointCode"),
        direction=r.choice("Direction", DIRECTIONS),
        status=status,
        status_original=status_code if status_name is None else f"{status_code} {status_name}",
        registered_at=r.moment("RegistrationDateTime"),
        risk_channel=r.opt_choice("RiskCorridor", RISK_CORRIDORS),
        released_at=r.opt_moment("ReleaseDateTime"),
        exited_at=r.opt_moment("ExitDateTime"),
        vehicle=vehicle,
        trailer=trailer,
        driver=_driver(r.sub("Driver")),
        carrier=_party(r.sub("Carrier")),
        consignor=_party(r.sub("Consignor")),
        consignee=_party(r.sub("Consignee")),
        containers=r.texts("Containers", "ContainerNumber"),
        seals=r.texts("Seals", "SealNumber"),
        invoice_currency=currency,
        exchange_rate=ExchangeRate(
            currency=currency,
            kzt_per_unit=r.amount("ExchangeRate", _RATE_PLACES),
            date=r.day("ExchangeRateDate"),
            source=_NBK,
        ),
        total_packages=r.count("TotalPackages"),
        total_gross_kg=r.amount("TotalGrossMass", _MASS_PLACES),
        total_value=Money(r.amount("TotalInvoiceValue", _MONEY_PLACES), currency),
        total_value_kzt=r.amount("TotalValueKZT", _MONEY_PLACES),
        goods=goods,
    )


def _goods_items(r: Reader) -> list[Reader]:
    goods_list = r.opt_sub("Goods")
    if goods_list is None:
        return []
    items = xml.children(goods_list.el, "GoodsItem")
    return [Reader(item, f"{r.where}/GoodsItem #{index}") for index, item in enumerate(items, start=1)]


def pi_scan(el: xml.Element, position: int | None = None) -> ScanRecord:
    """What reports read of ``<PreliminaryInformation>``, with :func:`pi_record`'s checks and
    parsers on those fields (the others are not read: a scan reads every record of its window)."""
    r = _reader(el, position, "PINumber")
    direction = r.choice("Direction", DIRECTIONS)
    currency = r.text("InvoiceCurrency")
    final_field = "ReleaseDateTime" if direction is Direction.CN_TO_KZ else "ExitDateTime"
    return ScanRecord(
        key=r.text("PINumber"),
        common_manifest_id=r.opt_text("CommonManifestId"),
        direction=direction,
        declared_at=r.moment("RegistrationDateTime"),
        final_at=r.opt_moment(final_field),
        plate=parse_plate(r.sub("Transport").text("VehicleRegNumber")),
        carrier=_party(r.sub("Carrier")),
        rate_date=r.day("ExchangeRateDate"),  # the rate KGD applied: discrepancies.kazakhstan_rate_date
        total_minor=r.minor("TotalInvoiceValue", MONEY_PLACES),
        currency=currency,
        goods=tuple(
            ScanLine(
                _hs6(item)[1],
                item.minor("GrossMass", MASS_PLACES),
                item.minor("InvoiceValue", MONEY_PLACES),
                currency,
            )
            for item in _goods_items(r)
        ),
    )


# -- controls, arrivals, rates, checkpoints ---------------------------------------------------------


def inspection(el: xml.Element, position: int | None = None) -> Inspection:
    """``<ControlResult>`` → :class:`Inspection`."""
    r = _reader(el, position, "ControlNumber")
    recognized_id: str | None = None
    recognized_by: Authority | None = None
    foreign = r.opt_sub("RecognizedForeignControl")
    if foreign is not None:
        recognized_id = foreign.text("ForeignControlNumber")
        # Only China's results are recognized in this pilot; another country's id is kept
        # without an authority rather than attributed to the wrong one.
        recognized_by = _FOREIGN_AUTHORITIES.get(foreign.text("CountryCode"))
    return Inspection(
        authority=Authority.KGD,
        id=r.text("ControlNumber"),
        record_id=r.text("PINumber"),
        kind=r.choice("ControlForm", CONTROL_FORMS),
        kind_original=r.text("ControlForm"),
        outcome=r.choice("Result", CONTROL_RESULTS),
        risk_channel=r.opt_choice("RiskCorridor", RISK_CORRIDORS),
        started_at=r.moment("StartDateTime"),
        finished_at=r.opt_moment("EndDateTime"),
        office=r.text("CustomsOfficeCode"),
        note=r.opt_text("InspectorNote"),
        recognized_inspection_id=recognized_id,
        recognized_authority=recognized_by,
        common_manifest_id=r.opt_text("CommonManifestId"),
    )


def arrival_notice(el: xml.Element, position: int | None = None) -> ArrivalNotice:
    """``<ArrivalNotification>`` → :class:`ArrivalNotice`."""
    r = _reader(el, position, "NotificationNumber")
    return ArrivalNotice(
        number=r.text("NotificationNumber"),
        pi_number=r.text("PINumber"),
        checkpoint_code=r.text("CheckpointCode"),
        arrived_at=r.moment("ArrivalDateTime"),
        vehicle_written=r.text("VehicleRegNumber"),
        common_manifest_id=r.opt_text("CommonManifestId"),
    )


def exchange_rates(el: xml.Element) -> dict[str, ExchangeRate]:
    """``<ExchangeRates date=…>`` → rates by currency, KZT per one unit (``Value / Quant``)."""
    r = Reader(el, f"ExchangeRates ({(el.get('date') or '?')[:10]})")
    day = r.day("@date", r.attr("date"))
    rates: dict[str, ExchangeRate] = {}
    for index, rate_el in enumerate(xml.children(el, "Rate"), start=1):
        rate = Reader(rate_el, f"{r.where}/Rate #{index}")
        quant = rate.count("Quant")
        if quant == 0:
            raise rate.fail("Quant", "zero")
        currency = rate.text("Currency")
        value = rate.amount("Value", _RATE_PLACES) / Decimal(quant)
        rates[currency] = ExchangeRate(currency=currency, kzt_per_unit=value, date=day, source=_NBK)
    return rates


def exchange_rates_list(root: xml.Element) -> dict[dt.date, dict[str, ExchangeRate]]:
    """``<ExchangeRatesList>`` → rates by day, then by currency."""
    by_day: dict[dt.date, dict[str, ExchangeRate]] = {}
    for el in list_items(root, "ExchangeRates"):
        rates = exchange_rates(el)
        day = Reader(el, "ExchangeRates").day("@date", el.get("date") or "")
        by_day[day] = rates
    return by_day


def checkpoint(el: xml.Element, position: int | None = None) -> Checkpoint:
    """``<Checkpoint>`` → :class:`Checkpoint` (the internal code stands in for a UN/LOCODE)."""
    r = _reader(el, position, "Code")
    return Checkpoint(
        authority=Authority.KGD,
        code=r.text("Code"),
        name=r.text("Name"),
        name_latin=r.opt_text("NameLatin"),
        locode=r.opt_text("InternalCode"),
        locode_official=r.flag("Official") if r.opt_text("Official") is not None else False,
        opens=r.clock("OpenTime"),
        closes=r.clock("CloseTime"),
    )
