"""The reports' KGD page reader (a strict recognizer) against the reference path (ElementTree + ``pi_scan``).

Reports read KGD list pages with :class:`ScanPageReader`; everything else reads records with
``xml.parse_document`` and the mappers. On every page both must give the same records, or both
refuse it with the same contract error: on the simulators' own pages (across the Kazakh clock
change), on pages with a field rewritten in ways XML allows (comments, CDATA, entities, child
elements, attributes, repeated, missing or reordered elements, whitespace, tabs and newlines, other
line ends and layouts), and on hostile bodies. Pages in KGD's own form, compact or indented, are
read without the reference path.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.test_kazakhstan_xml import (
    BILLION_LAUGHS,
    DTD_AFTER_COMMENT,
    EXTERNAL_DTD,
    EXTERNAL_ENTITY,
    LATIN1_DTD,
    PLAIN_DTD,
    UTF16_DTD,
)

from customs_gateway.errors import UpstreamContract
from customs_gateway.sources.base import ScanLine, ScanRecord
from customs_gateway.sources.kazakhstan import mapping, xml
from customs_gateway.sources.kazakhstan.scan import ScanPageReader
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.kazakhstan import render as kz_render
from customs_sim.kazakhstan.documents import list_document
from customs_sim.rates import nbk_rate

PARAMS = DatasetParams(seed=11, start=dt.date(2024, 2, 28), end=dt.date(2024, 3, 2), trucks_per_day=60)
ROOT = "PreliminaryInformationList"
OFFSET = 500  # as the third page would be: positions in error messages start at 501


@pytest.fixture(scope="module")
def docs() -> list[bytes]:
    rendered = (kz_render.render_trip(trip, nbk_rate) for trip in generate_trips(PARAMS))
    return [records.pi.doc for records in rendered if records is not None]


@pytest.fixture(scope="module")
def reader() -> ScanPageReader:
    return ScanPageReader()


def reference(body: bytes, offset: int = OFFSET) -> list[ScanRecord]:
    root = xml.parse_document(body, (ROOT,), endpoint="/preliminary-information")
    return [
        mapping.pi_scan(el, offset + i + 1) for i, el in enumerate(mapping.list_items(root, "PreliminaryInformation"))
    ]


def fast(reader: ScanPageReader, body: bytes, offset: int = OFFSET) -> list[ScanRecord]:
    return reader.records(reader.extract(body, "/preliminary-information"), offset)


def outcome(read: object) -> tuple[str, object]:
    """``("ok", records with their amounts' text)`` or ``("error", message)``."""
    assert callable(read)
    try:
        records = read()
    except UpstreamContract as exc:
        return "error", exc.message
    return "ok", [(r, [(str(line.gross_kg), str(line.value.amount)) for line in r.goods]) for r in records]


def test_the_simulators_pages_read_alike(reader: ScanPageReader, docs: list[bytes]) -> None:
    body = list_document(ROOT, docs)
    reread = reader.reread_pages
    records = fast(reader, body)
    assert reader.reread_pages == reread  # read in C, not handed to the reference path
    assert len(records) == len(docs) > 200
    # The reader builds its named tuples with tuple.__new__: the classes and their arity, as the reference's.
    assert all(type(r) is ScanRecord and len(r) == len(ScanRecord._fields) for r in records)
    assert all(type(line) is ScanLine and len(line) == len(ScanLine._fields) for r in records for line in r.goods)
    assert outcome(lambda: records) == outcome(lambda: reference(body))
    assert {r.declared_at.utcoffset() for r in records} == {dt.timedelta(hours=5), dt.timedelta(hours=6)}
    assert any(r.common_manifest_id is None for r in records)
    assert {r.direction for r in records} == set(mapping.DIRECTIONS.values())
    assert fast(reader, list_document(ROOT, [])) == []


def test_an_indented_page_is_read_by_the_recognizer(reader: ScanPageReader, docs: list[bytes]) -> None:
    body = list_document(ROOT, docs[:50]).replace(b"><", b">\n\t <")
    reread = reader.reread_pages
    assert outcome(lambda: fast(reader, body)) == outcome(lambda: reference(body))
    assert reader.reread_pages == reread


@pytest.mark.parametrize(
    "layout",
    [
        lambda body: body.replace(b"><", b">\r\n<"),  # CRLF line ends: the parser's business
        lambda body: body.replace(b"<Carrier>", b'<Carrier kind="road">'),
        lambda body: body.replace(b"<Carrier>", b'<Carrier xmlns="urn:other">'),
        lambda body: body.replace(b"<StatusCode>", b"<!-- s --><StatusCode>"),
        lambda body: body.replace(b"</PreliminaryInformationList>", b"<NotFound/></PreliminaryInformationList>"),
        lambda body: body.replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"\xef\xbb\xbf"),
        lambda body: re.sub(
            rb"(<Direction>\w+</Direction>)(<RegistrationDateTime>[^<]*</RegistrationDateTime>)", rb"\2\1", body
        ),
    ],
    ids=["crlf", "attribute", "namespace", "comment", "not-found", "bom", "reordered"],
)
def test_another_layout_is_read_by_the_reference(reader: ScanPageReader, docs: list[bytes], layout: Any) -> None:
    body = layout(list_document(ROOT, docs[:5]))
    reread = reader.reread_pages
    assert outcome(lambda: fast(reader, body)) == outcome(lambda: reference(body))
    assert reader.reread_pages == reread + 1


# One field of the first record rewritten: (element, replacement of its whole element).
REWRITES = [
    ("TotalInvoiceValue", "<TotalInvoiceValue>1<!-- c -->00.50</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue><![CDATA[100.5]]></TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue>1<?pi x?>2</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue>1<b>2</b>3</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue><b/>12</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue>\n 12.5\t</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue>1&#9;2</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue>&#49;2</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue></TotalInvoiceValue><TotalInvoiceValue>5</TotalInvoiceValue>"),
    ("TotalInvoiceValue", "<TotalInvoiceValue>5</TotalInvoiceValue><TotalInvoiceValue>6</TotalInvoiceValue>"),
    ("TotalInvoiceValue", ""),
    ("Name", "<Name>A &amp; B\tC</Name>"),
    ("Name", "<Name>A\nB</Name>"),
    ("Name", "<Name>\u00a0ТОО «Б»\u2003</Name>"),
    ("PINumber", "<PINumber>X&#10;Y</PINumber>"),
    ("PINumber", "<PINumber> </PINumber>"),
    ("CommonManifestId", "<CommonManifestId> </CommonManifestId>"),
    ("CommonManifestId", ""),
    ("Direction", "<Direction>im</Direction>"),
    ("RegistrationDateTime", "<RegistrationDateTime>2024-02-30T10:00:00+05:00</RegistrationDateTime>"),
    ("RegistrationDateTime", "<RegistrationDateTime>2024-02-28T10:00:00.123456789Z</RegistrationDateTime>"),
    ("ExchangeRateDate", "<ExchangeRateDate>20240228</ExchangeRateDate>"),
    ("ExchangeRateDate", "<ExchangeRateDate>2024-W09-3</ExchangeRateDate>"),
    ("VehicleRegNumber", "<VehicleRegNumber>新F·12345</VehicleRegNumber>"),
    ("Transport", ""),
    ("Carrier", ""),
    ("CountryCode", "<CountryCode></CountryCode>"),
    ("Goods", ""),
    ("Goods", "<Goods/>"),
    ("TNVEDCode", "<TNVEDCode>0012345678</TNVEDCode>"),
    ("TNVEDCode", "<TNVEDCode>８７０３８０００９０</TNVEDCode>"),
    ("GrossMass", "<GrossMass>1.2345</GrossMass>"),
    ("GrossMass", "<GrossMass>1_000</GrossMass>"),
    ("InvoiceValue", "<InvoiceValue>1234567890123456789</InvoiceValue>"),
]


def rewrite(doc: bytes, element: str, replacement: str) -> bytes:
    text = doc.decode()
    pattern = f"<{element}>.*?</{element}>|<{element}/>"
    rewritten, count = re.subn(pattern, lambda _: replacement, text, count=1, flags=re.DOTALL)
    assert count == 1, element
    return rewritten.encode()


@pytest.mark.parametrize(("element", "replacement"), REWRITES)
def test_a_rewritten_field_reads_as_the_reference_reads_it(
    reader: ScanPageReader, docs: list[bytes], element: str, replacement: str
) -> None:
    body = list_document(ROOT, [rewrite(docs[0], element, replacement), *docs[1:4]])
    assert outcome(lambda: fast(reader, body)) == outcome(lambda: reference(body))


TEXT = st.text(st.sampled_from("0123456789.-:+TZ \t\n\r\u00a0AЖ新<&;#x9"), max_size=14)
ELEMENTS = st.sampled_from(
    [
        "PINumber",
        "CommonManifestId",
        "Direction",
        "InvoiceCurrency",
        "RegistrationDateTime",
        "ReleaseDateTime",
        "ExitDateTime",
        "VehicleRegNumber",
        "Identifier",
        "Name",
        "ExchangeRateDate",
        "TotalInvoiceValue",
        "TNVEDCode",
        "GrossMass",
        "InvoiceValue",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(element=ELEMENTS, text=TEXT, which=st.integers(0, 3))
def test_any_field_text_reads_as_the_reference_reads_it(
    reader: ScanPageReader, docs: list[bytes], element: str, text: str, which: int
) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    doc = docs[which]
    if f"<{element}>" not in doc.decode():
        return  # an optional element this record does not have
    body = list_document(
        ROOT, [*docs[:which], rewrite(doc, element, f"<{element}>{escaped}</{element}>"), *docs[which + 1 : 4]]
    )
    assert outcome(lambda: fast(reader, body)) == outcome(lambda: reference(body))


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PLAIN_DTD, UTF16_DTD, LATIN1_DTD, DTD_AFTER_COMMENT],
    ids=["billion-laughs", "external-entity", "external-dtd", "dtd", "utf16-dtd", "latin1-dtd", "dtd-after-comment"],
)
def test_hostile_pages_are_refused_before_any_parse(reader: ScanPageReader, body: bytes) -> None:
    pi_list = body.replace(b"Checkpoints", ROOT.encode()).replace(
        "Checkpoints".encode("utf-16-le"), ROOT.encode("utf-16-le")
    )
    with pytest.raises(UpstreamContract, match="hostile") as caught:
        reader.extract(pi_list, "/preliminary-information")
    assert caught.value.endpoint == "/preliminary-information"
    assert "lol" not in caught.value.message
    assert "passwd" not in caught.value.message


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            b'<PreliminaryInformationList xmlns="urn:kz:kgd:astana1:sim:v1">&lol;</PreliminaryInformationList>',
            "malformed",
        ),
        (b"", "malformed"),
        (b'{"code": "0000"}', "malformed"),
        (b"<PreliminaryInformationList/>", "unexpected root"),
        (b'<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"/>', "unexpected root"),
    ],
)
def test_broken_pages_fail_as_the_reference_fails(reader: ScanPageReader, body: bytes, why: str) -> None:
    # Refused by extract, the part the client runs inside its call (as parse_document was).
    with pytest.raises(UpstreamContract, match=why) as caught:
        reader.extract(body, "/preliminary-information")
    assert caught.value.endpoint == "/preliminary-information"
    with pytest.raises(UpstreamContract, match=why):
        reference(body)


@pytest.mark.parametrize(
    "replacement", ["<GrossMass>1.2345</GrossMass>", "<GrossMass>12.5</GrossMass>", "<GrossMass/>"]
)
def test_a_later_goods_line_is_checked_too(reader: ScanPageReader, docs: list[bytes], replacement: str) -> None:
    doc = next(doc for doc in docs if doc.count(b"<GoodsItem>") >= 2)
    second = [match.span() for match in re.finditer(rb"<GrossMass>[^<]*</GrossMass>", doc)][1]
    broken = doc[: second[0]] + replacement.encode() + doc[second[1] :]
    body = list_document(ROOT, [docs[0], broken])
    assert outcome(lambda: fast(reader, body)) == outcome(lambda: reference(body))


@pytest.mark.parametrize(
    ("element", "replacement"),
    [
        ("Description", "<Description>&lt;TNVEDCode&gt;8703800090&lt;/TNVEDCode&gt;</Description>"),
        ("Description", "<Description>&lt;GrossMass&gt;9.999&lt;/GrossMass&gt; &amp; &lt;InvoiceValue&gt;</Description>"),  # noqa: E501
        ("LineNumber", "<LineNumber>TNVEDCode&gt;GrossMass InvoiceValue</LineNumber>"),
        ("GrossMass", "<GrossMass>0.000</GrossMass>"),
        ("GrossMass", "<GrossMass>000000000000012.340</GrossMass>"),
        ("InvoiceValue", "<InvoiceValue>0.05</InvoiceValue>"),
        ("InvoiceValue", "<InvoiceValue>9999999999999999.99</InvoiceValue>"),
        ("NetMass", "<NetMass>&lt;InvoiceValue&gt;1.00</NetMass>"),
    ],
)
def test_goods_lines_are_read_by_their_tags_as_the_reference_reads_them(
    reader: ScanPageReader, docs: list[bytes], element: str, replacement: str
) -> None:
    # The recognizer's goods lines are read by finding their tags in the matched block: texts
    # that spell a tag (escaped), extreme digit strings and indentation must not move a value.
    many = [doc for doc in docs if doc.count(b"<GoodsItem>") >= 3][:2]
    assert many, "the dataset has records of 3 goods lines or more"
    body = list_document(ROOT, [rewrite(docs[0], element, replacement), *many, rewrite(docs[1], element, replacement)])
    for page in (body, body.replace(b"><", b">\n  <")):
        reread = reader.reread_pages
        records = fast(reader, page)
        assert reader.reread_pages == reread  # the fast path read it
        assert outcome(lambda records=records: records) == outcome(lambda page=page: reference(page))
        assert sum(len(record.goods) for record in records) == page.count(b"<GoodsItem>")
