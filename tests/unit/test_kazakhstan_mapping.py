"""The KGD mappers on hand-written XML samples: every vocabulary word, and every way a field breaks."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.domain import (
    Authority,
    Country,
    Direction,
    InspectionKind,
    InspectionOutcome,
    RecordStatus,
    RiskChannel,
)
from customs_gateway.errors import UpstreamContract
from customs_gateway.sources.kazakhstan import mapping, xml

NS = "urn:kz:kgd:astana1:sim:v1"
KZ5 = dt.timezone(dt.timedelta(hours=5))
KZ6 = dt.timezone(dt.timedelta(hours=6))

PI = """<PreliminaryInformation xmlns="urn:kz:kgd:astana1:sim:v1">
  <PINumber>55201011-281125-0001234</PINumber>
  <CommonManifestId>CKM-KHORGOS-20251128-00123</CommonManifestId>
  <CheckpointCode>55201011</CheckpointCode>
  <Direction>IM</Direction>
  <RegistrationDateTime>2025-11-28T10:15:00+05:00</RegistrationDateTime>
  <StatusCode>RELEASED</StatusCode>
  <StatusName>Выпуск разрешен</StatusName>
  <RiskCorridor>ЖЕЛТЫЙ</RiskCorridor>
  <ReleaseDateTime>2025-11-28T13:40:00+05:00</ReleaseDateTime>
  <Transport>
    <VehicleRegNumber>XINF12345</VehicleRegNumber>
    <VehicleCountryCode>CN</VehicleCountryCode>
    <VIN>LGAX1234567890123</VIN>
    <Make>SHACMAN</Make>
    <TrailerRegNumber>XINF1234GUA</TrailerRegNumber>
    <TrailerCountryCode>CN</TrailerCountryCode>
  </Transport>
  <Driver><FullName>WANG WEI</FullName><PassportNumber>E12345678</PassportNumber>
    <CountryCode>CN</CountryCode></Driver>
  <Carrier><Identifier>91654004MA77XYZ12A</Identifier><Name>HORGOS TRANSPORT &amp; CO</Name>
    <CountryCode>CN</CountryCode></Carrier>
  <Consignor><Identifier>91650100MA78ABC34B</Identifier><Name>XINJIANG TRADE CO</Name>
    <CountryCode>CN</CountryCode></Consignor>
  <Consignee><Identifier>123456789012</Identifier><Name>ТОО «Алматы Импорт»</Name>
    <CountryCode>KZ</CountryCode></Consignee>
  <Containers><ContainerNumber>TGHU1234567</ContainerNumber></Containers>
  <Seals><SealNumber>CN0001</SealNumber><SealNumber>CN0002</SealNumber></Seals>
  <InvoiceCurrency>USD</InvoiceCurrency>
  <ExchangeRate>521.34</ExchangeRate>
  <ExchangeRateDate>2025-11-28</ExchangeRateDate>
  <TotalPackages>120</TotalPackages>
  <TotalGrossMass>18250.500</TotalGrossMass>
  <TotalInvoiceValue>170000.00</TotalInvoiceValue>
  <TotalValueKZT>88627800.00</TotalValueKZT>
  <Goods>
    <GoodsItem>
      <LineNumber>1</LineNumber>
      <TNVEDCode>8703800002</TNVEDCode>
      <Description>Автомобили легковые с электродвигателем</Description>
      <PackageCount>2</PackageCount>
      <PackageKind>VN</PackageKind>
      <GrossMass>3650.000</GrossMass>
      <NetMass>3400.000</NetMass>
      <InvoiceValue>41000.00</InvoiceValue>
      <ValueKZT>21374940.00</ValueKZT>
    </GoodsItem>
  </Goods>
</PreliminaryInformation>"""

CONTROL = """<ControlResult xmlns="urn:kz:kgd:astana1:sim:v1">
  <ControlNumber>55201011-281125-K001234-1</ControlNumber>
  <PINumber>55201011-281125-0001234</PINumber>
  <CommonManifestId>CKM-KHORGOS-20251128-00123</CommonManifestId>
  <RiskCorridor>ЖЕЛТЫЙ</RiskCorridor>
  <ControlForm>ИДК</ControlForm>
  <StartDateTime>2024-02-29T23:20:00+06:00</StartDateTime>
  <EndDateTime>2024-03-01T00:35:00+05:00</EndDateTime>
  <Result>НАРУШЕНИЙ НЕ ВЫЯВЛЕНО</Result>
  <CustomsOfficeCode>55201011</CustomsOfficeCode>
  <RecognizedForeignControl>
    <CountryCode>CN</CountryCode>
    <ForeignControlNumber>CI9403202511280000123</ForeignControlNumber>
  </RecognizedForeignControl>
  <InspectorNote>Снимок ИДК КНР признан</InspectorNote>
</ControlResult>"""


def parse(text: str) -> xml.Element:
    return xml.parse_document(text.encode())


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old  # the sample must contain what a test means to break
    return text.replace(old, new, 1)


def test_preliminary_information_maps_every_field() -> None:
    record = mapping.pi_record(parse(PI))
    assert record.pi_number == "55201011-281125-0001234"
    assert record.common_manifest_id == "CKM-KHORGOS-20251128-00123"
    assert record.checkpoint_code == "55201011"
    assert record.direction is Direction.CN_TO_KZ
    assert record.status is RecordStatus.RELEASED
    assert record.status_original == "RELEASED Выпуск разрешен"
    assert record.registered_at == dt.datetime(2025, 11, 28, 10, 15, tzinfo=KZ5)
    assert record.registered_at.utcoffset() == dt.timedelta(hours=5)  # the authority's offset is kept
    assert record.risk_channel is RiskChannel.YELLOW
    assert record.released_at == dt.datetime(2025, 11, 28, 13, 40, tzinfo=KZ5)
    assert record.exited_at is None
    assert record.vehicle.written == "XINF12345"
    assert record.vehicle.plate.canonical == "XINF12345"
    assert record.vehicle.plate.country is Country.CN
    assert (record.vehicle.vin, record.vehicle.make) == ("LGAX1234567890123", "SHACMAN")
    assert record.trailer is not None
    assert record.trailer.written == "XINF1234GUA"
    assert record.trailer.plate.trailer
    assert record.driver.name == record.driver.name_latin == "WANG WEI"
    assert record.driver.passport_no == "E12345678"
    assert record.driver.nationality is Country.CN
    assert record.carrier.name == "HORGOS TRANSPORT & CO"
    assert record.consignee.id == "123456789012"
    assert record.consignee.country is Country.KZ
    assert record.containers == ("TGHU1234567",)
    assert record.seals == ("CN0001", "CN0002")
    assert record.invoice_currency == "USD"
    assert record.exchange_rate.currency == "USD"
    assert record.exchange_rate.kzt_per_unit == Decimal("521.34")
    assert record.exchange_rate.date == dt.date(2025, 11, 28)
    assert record.exchange_rate.source == "NBK"
    assert record.total_packages == 120
    assert record.total_gross_kg == Decimal("18250.500")
    assert record.total_value.amount == Decimal("170000.00")
    assert record.total_value.currency == "USD"
    assert record.total_value_kzt == Decimal("88627800.00")
    (line,) = record.goods
    assert line.authority is Authority.KGD
    assert line.line_no == 1
    assert line.tariff_code == "8703800002"
    assert line.hs6 == "870380"
    assert line.description == "Автомобили легковые с электродвигателем"
    assert line.description_language == "ru"
    assert line.packages == 2
    assert line.package_kind == "VN"
    assert line.gross_kg == Decimal("3650.000")
    assert line.net_kg == Decimal("3400.000")
    assert line.value.amount == Decimal("41000.00")
    assert line.value.currency == "USD"
    assert line.value_kzt == Decimal("21374940.00")


def test_optional_parts_may_be_absent() -> None:
    text = PI
    for block in (
        "<CommonManifestId>CKM-KHORGOS-20251128-00123</CommonManifestId>",
        "<RiskCorridor>ЖЕЛТЫЙ</RiskCorridor>",
        "<ReleaseDateTime>2025-11-28T13:40:00+05:00</ReleaseDateTime>",
        "<TrailerRegNumber>XINF1234GUA</TrailerRegNumber>",
        "<Containers><ContainerNumber>TGHU1234567</ContainerNumber></Containers>",
        "<Seals><SealNumber>CN0001</SealNumber><SealNumber>CN0002</SealNumber></Seals>",
    ):
        text = edit(text, block, "")
    record = mapping.pi_record(parse(text))
    assert record.common_manifest_id is None
    assert record.risk_channel is None
    assert record.released_at is None
    assert record.trailer is None
    assert record.containers == ()
    assert record.seals == ()


@pytest.mark.parametrize(
    ("wire", "direction", "status"),
    [
        ("IM", Direction.CN_TO_KZ, "REGISTERED"),
        ("IM", Direction.CN_TO_KZ, "ARRIVED"),
        ("EK", Direction.KZ_TO_CN, "EXITED"),
    ],
)
def test_directions_and_statuses(wire: str, direction: Direction, status: str) -> None:
    text = edit(
        edit(PI, "<Direction>IM</Direction>", f"<Direction>{wire}</Direction>"), "RELEASED<", status + "<"
    )
    record = mapping.pi_record(parse(text))
    assert record.direction is direction
    expected = {
        "REGISTERED": RecordStatus.DECLARED,
        "ARRIVED": RecordStatus.ARRIVED,
        "EXITED": RecordStatus.EXITED,
    }
    assert record.status is expected[status]
    assert record.status_original == f"{status} Выпуск разрешен"


@pytest.mark.parametrize(
    ("word", "channel"),
    [("ЗЕЛЕНЫЙ", RiskChannel.GREEN), ("ЖЕЛТЫЙ", RiskChannel.YELLOW), ("КРАСНЫЙ", RiskChannel.RED)],
)
def test_risk_corridors(word: str, channel: RiskChannel) -> None:
    record = mapping.pi_record(parse(edit(PI, "ЖЕЛТЫЙ", word)))
    assert record.risk_channel is channel


BREAKAGES = [
    ("<PINumber>55201011-281125-0001234</PINumber>", "", r"PreliminaryInformation #7: field PINumber"),
    ("<CheckpointCode>55201011</CheckpointCode>", "", r"field CheckpointCode: missing"),
    ("<Direction>IM</Direction>", "<Direction>IN</Direction>", r"field Direction: unknown value 'IN'"),
    ("<StatusCode>RELEASED</StatusCode>", "<StatusCode>DONE</StatusCode>", r"field StatusCode: unknown"),
    ("ЖЕЛТЫЙ", "ОРАНЖЕВЫЙ", r"field RiskCorridor: unknown"),
    ("2025-11-28T10:15:00+05:00", "2025-11-28T10:15:00", r"field RegistrationDateTime: not an ISO-8601"),
    ("2025-11-28T10:15:00+05:00", "yesterday", r"field RegistrationDateTime"),
    ("<TotalPackages>120</TotalPackages>", "<TotalPackages>many</TotalPackages>", r"field TotalPackages"),
    ("<TotalPackages>120</TotalPackages>", "<TotalPackages>-1</TotalPackages>", r"field TotalPackages"),
    (
        "<TotalGrossMass>18250.500</TotalGrossMass>",
        "<TotalGrossMass>18 250,5</TotalGrossMass>",
        r"TotalGrossMass",
    ),
    ("<ExchangeRate>521.34</ExchangeRate>", "<ExchangeRate>NaN</ExchangeRate>", r"field ExchangeRate"),
    (
        "<ExchangeRateDate>2025-11-28</ExchangeRateDate>",
        "<ExchangeRateDate>28.11.2025</ExchangeRateDate>",
        r"field ExchangeRateDate",
    ),
    ("<InvoiceCurrency>USD</InvoiceCurrency>", "", r"field InvoiceCurrency"),
    ("<VehicleRegNumber>XINF12345</VehicleRegNumber>", "", r"/Transport: field VehicleRegNumber"),
    ("<Driver><FullName>WANG WEI</FullName>", "<Driver><FullName> </FullName>", r"/Driver: field FullName"),
    ("<Carrier><Identifier>91654004MA77XYZ12A</Identifier>", "<Carrier>", r"^$"),  # Identifier is optional
    (
        "CN</CountryCode></Carrier>",
        "CN</CountryCode><Extra/></Carrier>",
        r"^$",
    ),  # unknown elements: tolerated
    ("<TNVEDCode>8703800002</TNVEDCode>", "<TNVEDCode>car</TNVEDCode>", r"GoodsItem #1: field TNVEDCode"),
    ("<GrossMass>3650.000</GrossMass>", "<GrossMass/>", r"GoodsItem #1: field GrossMass: missing"),
    ("<LineNumber>1</LineNumber>", "<LineNumber>1.5</LineNumber>", r"GoodsItem #1: field LineNumber"),
    (
        "<ContainerNumber>TGHU1234567</ContainerNumber>",
        "<ContainerNumber/>",
        r"Containers/ContainerNumber\[1\]",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BREAKAGES)
def test_broken_fields_name_the_field_and_the_record(old: str, new: str, message: str) -> None:
    element = parse(edit(PI, old, new))
    if message == "^$":
        mapping.pi_record(element, 7)
        return
    with pytest.raises(UpstreamContract, match=message) as caught:
        mapping.pi_record(element, 7)
    assert caught.value.authority is Authority.KGD
    assert "PreliminaryInformation #7" in caught.value.message
    if "PINumber" not in old:
        assert "(55201011-281125-0001234)" in caught.value.message


def test_control_result_maps_every_field() -> None:
    control = mapping.inspection(parse(CONTROL))
    assert control.authority is Authority.KGD
    assert control.id == "55201011-281125-K001234-1"
    assert control.record_id == "55201011-281125-0001234"
    assert control.kind is InspectionKind.XRAY_SCAN
    assert control.kind_original == "ИДК"
    assert control.outcome is InspectionOutcome.NO_FINDINGS
    assert control.risk_channel is RiskChannel.YELLOW
    # Across the 2024-03-01 switch: both offsets kept, and the instants are 2 h 15 min apart.
    assert control.started_at.utcoffset() == dt.timedelta(hours=6)
    assert control.finished_at is not None
    assert control.finished_at.utcoffset() == dt.timedelta(hours=5)
    assert control.finished_at - control.started_at == dt.timedelta(minutes=135)
    assert control.office == "55201011"
    assert control.note == "Снимок ИДК КНР признан"
    assert control.recognized_inspection_id == "CI9403202511280000123"
    assert control.recognized_authority is Authority.GACC
    assert control.common_manifest_id == "CKM-KHORGOS-20251128-00123"


@pytest.mark.parametrize(
    ("form", "kind"),
    [
        ("ИДК", InspectionKind.XRAY_SCAN),
        ("ПРОВЕРКА ДОКУМЕНТОВ", InspectionKind.DOCUMENT_CHECK),
        ("ДОСМОТР", InspectionKind.EXAMINATION),
        ("ВЗВЕШИВАНИЕ", InspectionKind.WEIGHING),
    ],
)
def test_control_forms(form: str, kind: InspectionKind) -> None:
    control = mapping.inspection(parse(edit(CONTROL, "<ControlForm>ИДК<", f"<ControlForm>{form}<")))
    assert control.kind is kind
    assert control.kind_original == form


def test_control_without_recognition_violation_and_optional_parts() -> None:
    text = edit(CONTROL, "НАРУШЕНИЙ НЕ ВЫЯВЛЕНО", "ВЫЯВЛЕНО НАРУШЕНИЕ")
    text = re.sub(r"<RecognizedForeignControl>.*</RecognizedForeignControl>", "", text, flags=re.S)
    for part in (
        "<RiskCorridor>ЖЕЛТЫЙ</RiskCorridor>",
        "<InspectorNote>Снимок ИДК КНР признан</InspectorNote>",
        "<EndDateTime>2024-03-01T00:35:00+05:00</EndDateTime>",
        "<CommonManifestId>CKM-KHORGOS-20251128-00123</CommonManifestId>",
    ):
        text = edit(text, part, "")
    control = mapping.inspection(parse(text))
    assert control.common_manifest_id is None
    assert control.outcome is InspectionOutcome.VIOLATION
    assert control.recognized_inspection_id is None
    assert control.recognized_authority is None
    assert control.risk_channel is None
    assert control.note is None
    assert control.finished_at is None


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("<ControlForm>ИДК</ControlForm>", "<ControlForm>РЕНТГЕН</ControlForm>", "ControlForm"),
        ("НАРУШЕНИЙ НЕ ВЫЯВЛЕНО", "НОРМА", "Result"),
        ("<StartDateTime>2024-02-29T23:20:00+06:00</StartDateTime>", "", "StartDateTime"),
        ("<CustomsOfficeCode>55201011</CustomsOfficeCode>", "", "CustomsOfficeCode"),
        ("<ForeignControlNumber>CI9403202511280000123</ForeignControlNumber>", "", "ForeignControlNumber"),
    ],
)
def test_broken_control_fields(old: str, new: str, field: str) -> None:
    with pytest.raises(UpstreamContract, match=rf"ControlResult #2 \(55201011-281125-K001234-1\).*{field}"):
        mapping.inspection(parse(edit(CONTROL, old, new)), 2)


def test_arrival_notification() -> None:
    notice = mapping.arrival_notice(
        parse(
            f'<ArrivalNotification xmlns="{NS}">'
            "<NotificationNumber>55201011-281125-A001234</NotificationNumber>"
            "<PINumber>55201011-281125-0001234</PINumber><CheckpointCode>55201011</CheckpointCode>"
            "<ArrivalDateTime>2025-11-28T11:02:00+05:00</ArrivalDateTime>"
            "<VehicleRegNumber>123 ABC 02</VehicleRegNumber></ArrivalNotification>"
        )
    )
    assert notice.number == "55201011-281125-A001234"
    assert notice.pi_number == "55201011-281125-0001234"
    assert notice.checkpoint_code == "55201011"
    assert notice.arrived_at == dt.datetime(2025, 11, 28, 11, 2, tzinfo=KZ5)
    assert notice.vehicle_written == "123 ABC 02"
    with pytest.raises(UpstreamContract, match=r"ArrivalNotification #4: field NotificationNumber"):
        mapping.arrival_notice(parse(f'<ArrivalNotification xmlns="{NS}"/>'), 4)


def rates_doc(rates: str, date: str = "2025-11-28") -> xml.Element:
    return parse(f'<ExchangeRates xmlns="{NS}" date="{date}" source="НБРК">{rates}</ExchangeRates>')


def test_exchange_rates_are_per_unit() -> None:
    rates = mapping.exchange_rates(
        rates_doc(
            "<Rate><Currency>USD</Currency><Quant>1</Quant><Value>521.34</Value></Rate>"
            "<Rate><Currency>JPY</Currency><Quant>100</Quant><Value>334.50</Value></Rate>"
        )
    )
    assert set(rates) == {"USD", "JPY"}
    assert rates["USD"].kzt_per_unit == Decimal("521.34")
    assert rates["JPY"].kzt_per_unit == Decimal("3.345")
    assert rates["JPY"].date == dt.date(2025, 11, 28)
    assert rates["JPY"].source == "NBK"
    assert rates["JPY"].currency == "JPY"


@pytest.mark.parametrize(
    ("rates", "date", "message"),
    [
        (
            "<Rate><Currency>USD</Currency><Quant>0</Quant><Value>1.00</Value></Rate>",
            "2025-11-28",
            "Quant: zero",
        ),
        (
            "<Rate><Currency>USD</Currency><Quant>1</Quant><Value>x</Value></Rate>",
            "2025-11-28",
            "Rate #1.*Value",
        ),
        ("<Rate><Quant>1</Quant><Value>1.00</Value></Rate>", "2025-11-28", "Rate #1.*Currency"),
        ("", "28/11/2025", "@date"),
    ],
)
def test_broken_exchange_rates(rates: str, date: str, message: str) -> None:
    with pytest.raises(UpstreamContract, match=message):
        mapping.exchange_rates(rates_doc(rates, date))


def test_checkpoint() -> None:
    point = mapping.checkpoint(
        parse(
            f'<Checkpoint xmlns="{NS}"><Code>55201011</Code><InternalCode>KZNZH</InternalCode>'
            "<Official>false</Official><Name>Нұр Жолы</Name><NameLatin>Nur Zholy</NameLatin>"
            "<Region>19</Region>"
            "<OpenTime>07:00</OpenTime><CloseTime>19:00</CloseTime><ForeignCheckpoint>Horgos</ForeignCheckpoint>"
            "</Checkpoint>"
        )
    )
    assert point.authority is Authority.KGD
    assert (point.code, point.name, point.name_latin) == ("55201011", "Нұр Жолы", "Nur Zholy")
    assert (point.locode, point.locode_official) == ("KZNZH", False)
    assert (point.opens, point.closes) == (dt.time(7), dt.time(19))
    with pytest.raises(UpstreamContract, match="Checkpoint #1 \\(55201011\\): field OpenTime"):
        mapping.checkpoint(
            parse(
                f'<Checkpoint xmlns="{NS}"><Code>55201011</Code><Name>N</Name>'
                "<OpenTime>7 am</OpenTime></Checkpoint>"
            ),
            1,
        )


def test_batch_not_found_keys() -> None:
    root = parse(
        f'<PreliminaryInformationList xmlns="{NS}"><NotFound><PINumber>A</PINumber><PINumber>B</PINumber>'
        "</NotFound></PreliminaryInformationList>"
    )
    assert mapping.not_found_keys(root) == {"A", "B"}
    assert mapping.list_items(root, "PreliminaryInformation") == []


@given(
    seconds=st.integers(min_value=0, max_value=86_399),
    day=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
    offset=st.sampled_from([KZ5, KZ6]),
    packages=st.integers(min_value=0, max_value=10**6),
    cents=st.integers(min_value=0, max_value=10**12),
)
def test_times_counts_and_amounts_survive_mapping(
    seconds: int, day: dt.date, offset: dt.timezone, packages: int, cents: int
) -> None:
    at = dt.datetime.combine(day, dt.time(), offset) + dt.timedelta(seconds=seconds)
    amount = Decimal(cents).scaleb(-2)
    text = edit(PI, "2025-11-28T10:15:00+05:00", at.isoformat())
    text = edit(text, "<TotalPackages>120<", f"<TotalPackages>{packages}<")
    text = edit(text, "<TotalInvoiceValue>170000.00<", f"<TotalInvoiceValue>{amount:.2f}<")
    record = mapping.pi_record(parse(text))
    assert record.registered_at == at
    assert record.registered_at.utcoffset() == at.utcoffset()
    assert record.total_packages == packages
    assert record.total_value.amount == amount


def test_a_missing_party_names_the_element() -> None:
    text = re.sub(r"<Carrier>.*?</Carrier>", "", PI, flags=re.S)
    expected = r"\(55201011-281125-0001234\): field Carrier: missing element"
    with pytest.raises(UpstreamContract, match=expected):
        mapping.pi_record(parse(text))
