"""Reading a KGD list page for reports with the XML work done in C (libxml2 and libxslt, via lxml).

A cold report reads every PI record of its window, and building ElementTree's page tree (a Python
object per element) plus reading a dozen fields per record through it was most of a KGD record's
cost. Here lxml parses the page and one compiled XSLT stylesheet turns it into a compact text —
a first line with the number of records, then one line per record: the fields a scan reads
separated by tabs, then the goods lines' count and their fields — which Python splits and checks.

Exactly :func:`~customs_gateway.sources.kazakhstan.mapping.pi_scan`'s values, or its errors:

- each field is what ElementTree calls the element's text: the first child node when it is text
  (comments and processing instructions are dropped at parse, CDATA merged into text), of the
  first element of that name, as ``xml.child_text`` reads it; Python strips it the same way;
- every field goes through the same checks (the same parsers, or exact equivalents);
- a page this reader does not take as read — any field missing, empty or not parsing, a tab or
  newline inside a field (the counts on the first line and per record catch both), a document
  lxml does not parse — is read again by the reference path (ElementTree and ``pi_scan``), which
  returns the same records or raises the contract error naming the field and the record. A
  broken page costs twice; a well-formed one never takes the slow path.

Security is the reference parser's: :func:`xml.refuse_doctype` refuses any DOCTYPE (no DTD, so
no entity can be declared), and the lxml parser loads no DTD, resolves no entity, never uses the
network and keeps libxml2's limits on depth and text size (``huge_tree=False``); the stylesheet is
ours and its access control denies every file and network read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from ...codes import hs6
from ...domain import Direction, Party
from ...money import parse_minor
from ...plates import parse_plate
from ...timeutil import parse_kz_time
from ..base import MASS_PLACES, MONEY_PLACES, ScanLine, ScanRecord
from . import mapping, xml

__all__ = ["ScanPage", "ScanPageReader"]

K = TypeVar("K")
V = TypeVar("V")
_ROOT = "PreliminaryInformationList"
_ITEM = "PreliminaryInformation"
# Record fields in the order the stylesheet writes them (paths under <PreliminaryInformation>).
_RECORD_FIELDS = (
    "PINumber",
    "CommonManifestId",
    "Direction",
    "InvoiceCurrency",
    "RegistrationDateTime",
    "ReleaseDateTime",
    "ExitDateTime",
    "Transport/VehicleRegNumber",
    "Carrier/Identifier",
    "Carrier/Name",
    "Carrier/CountryCode",
    "ExchangeRateDate",
    "TotalInvoiceValue",
)
_LINE_FIELDS = ("TNVEDCode", "GrossMass", "InvoiceValue")
_HEAD = len(_RECORD_FIELDS) + 1  # the record's fields, then its goods lines' count
_WIDTH = len(_LINE_FIELDS)
_CACHED = 4096  # distinct dates, tariff codes and carriers remembered per reader (they repeat a lot)


def _select(path: str) -> str:
    """XPath of ElementTree's ``.text`` of the first element at ``path``: ``a/b`` → the first ``a``'s
    first ``b``'s first child node, if that node is text."""
    steps = "/".join(f"k:{step}[1]" for step in path.split("/"))
    return f"{steps}/node()[1][self::text()]"


def _stylesheet() -> bytes:
    tab = "<xsl:text>&#9;</xsl:text>"
    record = tab.join(f'<xsl:value-of select="{_select(path)}"/>' for path in _RECORD_FIELDS)
    line = tab.join(f'<xsl:value-of select="{_select(path)}"/>' for path in _LINE_FIELDS)
    return f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:k="{xml.NS}">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/">
<xsl:value-of select="count(k:{_ROOT}/k:{_ITEM})"/>
<xsl:for-each select="k:{_ROOT}/k:{_ITEM}"><xsl:text>&#10;</xsl:text>{record}{tab}<xsl:value-of
  select="count(k:Goods[1]/k:GoodsItem)"/><xsl:for-each select="k:Goods[1]/k:GoodsItem">{tab}{line}</xsl:for-each>
</xsl:for-each>
</xsl:template>
</xsl:stylesheet>""".encode()


@dataclass(frozen=True, slots=True)
class ScanPage:
    """One list page as read off the wire: its body, and its extracted rows (None when the
    reference path must read it: lxml refused the document or it is not a PI list)."""

    body: bytes
    rows: list[str] | None


class _Irregular(Exception):
    """A page this reader does not read: the reference path reads it (and names the problem)."""


class ScanPageReader:
    """Extracts PI list pages (:meth:`extract`, in C) and reads them as :class:`ScanRecord`
    (:meth:`records`). One per source: it holds the compiled stylesheet and small caches of
    values that repeat across records (rate dates, tariff codes, carriers)."""

    def __init__(self) -> None:
        self._parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
        )
        self._transform = etree.XSLT(
            etree.XML(_stylesheet(), etree.XMLParser(resolve_entities=False, no_network=True)),
            access_control=etree.XSLTAccessControl(
                read_file=False, write_file=False, create_dir=False, read_network=False, write_network=False
            ),
        )
        self._days: dict[str, dt.date] = {}
        self._hs6: dict[str, str] = {}
        self._carriers: dict[tuple[str, str, str], Party] = {}
        self.reread_pages = 0  # pages the reference path read again (tests and benchmarks look)

    def extract(self, body: bytes, endpoint: str) -> ScanPage:
        """The page's rows; a hostile document is refused (UpstreamContract) as by
        :func:`xml.parse_document`, and a document lxml does not take is left to it."""
        xml.refuse_hostile(body, endpoint=endpoint)
        try:
            root = etree.fromstring(body, self._parser)
        except (etree.XMLSyntaxError, ValueError, LookupError, UnicodeError):
            xml.parse_document(body, (_ROOT,), endpoint=endpoint)  # raises, or parses: then read there
            return ScanPage(body, None)
        if root.tag != xml.qname(_ROOT):
            return ScanPage(body, None)  # the reference path raises the unexpected-root error
        return ScanPage(body, str(self._transform(root.getroottree())).split("\n"))

    def records(self, page: ScanPage, offset: int) -> list[ScanRecord]:
        """The page's records (positions ``offset + 1`` onward in error messages)."""
        if page.rows is not None:
            try:
                return self._read_rows(page.rows)
            except (_Irregular, ValueError, KeyError, ArithmeticError):
                pass
        self.reread_pages += 1
        root = xml.parse_document(page.body, (_ROOT,))
        return [mapping.pi_scan(el, offset + index + 1) for index, el in enumerate(mapping.list_items(root, _ITEM))]

    def _read_rows(self, rows: list[str]) -> list[ScanRecord]:
        count = rows[0]
        if not count.isdigit() or int(count) != len(rows) - 1:
            raise _Irregular("a newline inside a field")
        return [self._record(row) for row in rows[1:]]

    def _record(self, row: str) -> ScanRecord:
        fields = [field.strip() for field in row.split("\t")]
        lines = fields[_HEAD - 1]
        if not lines.isdigit() or len(fields) != _HEAD + _WIDTH * int(lines):
            raise _Irregular("a tab inside a field")
        (key, common_id, direction_code, currency, registered, released, exited) = fields[:7]
        (plate, carrier_id, carrier_name, carrier_country, rate_day, total) = fields[7 : _HEAD - 1]
        if not (key and currency and registered and plate and carrier_name and carrier_country):
            raise _Irregular("a required field is missing or empty")
        direction = mapping.DIRECTIONS[direction_code]
        final = released if direction is Direction.CN_TO_KZ else exited
        return ScanRecord(
            key=key,
            common_manifest_id=common_id or None,
            direction=direction,
            declared_at=parse_kz_time(registered),
            final_at=parse_kz_time(final) if final else None,
            plate=parse_plate(plate),
            carrier=self._carrier(carrier_id, carrier_name, carrier_country),
            rate_date=self._day(rate_day),
            total_minor=parse_minor(total, MONEY_PLACES),
            currency=currency,
            goods=tuple(
                ScanLine(
                    self._subheading(fields[at]),
                    parse_minor(fields[at + 1], MASS_PLACES),
                    parse_minor(fields[at + 2], MONEY_PLACES),
                    currency,
                )
                for at in range(_HEAD, len(fields), _WIDTH)
            ),
        )

    def _day(self, text: str) -> dt.date:
        day = self._days.get(text)
        if day is None:
            if len(text) != 10:  # payloads' _iso_date: fromisoformat alone reads other forms too
                raise _Irregular("not a YYYY-MM-DD date")
            day = dt.date.fromisoformat(text)
            _remember(self._days, text, day)
        return day

    def _subheading(self, code: str) -> str:
        found = self._hs6.get(code)
        if found is None:
            found = hs6(code)
            _remember(self._hs6, code, found)
        return found

    def _carrier(self, carrier_id: str, name: str, country: str) -> Party:
        key = (carrier_id, name, country)
        found = self._carriers.get(key)
        if found is None:
            found = Party(id=carrier_id or None, name=name, country=mapping.country(country))
            _remember(self._carriers, key, found)
        return found


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    if len(cache) >= _CACHED:
        cache.clear()
    cache[key] = value
