"""Reading a KGD list page for reports: a strict recognizer of the documented serialization, with
the hardened parser as the reference for anything else.

A cold report reads every PI record of its window, and building ElementTree's page tree (a Python
object per element) and reading a dozen fields through it was most of a KGD record's cost. KGD
writes its lists in one form (``kgd.xsd``'s element order, no attributes but the root's
namespace, text without markup but the five predefined entities; numbers, times and codes in
one form each). One compiled regular expression per record recognizes exactly that form — every
element named in the schema's order, each text a run of XML characters, each number, time and
code in its wire form — and captures the fields a scan reads; Python turns them into values
(exact integers, ``fromisoformat``) with :func:`~customs_gateway.sources.kazakhstan.mapping.pi_scan`'s
remaining checks (non-empty texts, known direction, real calendar dates).

Exactly ``pi_scan``'s values, or its errors:

- what the recognizer accepts is a well-formed document (a regular subset of XML: the tags are
  literal, text excludes ``<``, ``>``, ``&`` but in ``&amp;``-style entities, ``\\r`` and the
  control characters XML forbids, the body must decode as UTF-8) whose root is the KGD list, so
  ElementTree would build the same tree; each captured text is the first element of its name
  at its place, as ``xml.child_text`` reads it, unescaped and stripped the same way;
- a value in the pattern's form is one ``pi_scan``'s parsers accept, and gives the same value
  (``parse_minor`` of ``"123.45"`` is ``12345``; a 10-digit code's HS-6 is its first 6 digits);
- a page the recognizer does not take as a whole — another serialization (comments, CDATA,
  character references, attributes, another element order, ``\\r\\n`` line ends, a missing or
  repeated element, a number with other decimals, a time with a fraction), a field that is
  missing, empty or does not parse — is read again by the reference path (ElementTree and
  ``pi_scan``), which returns the same records or raises the contract error naming the field
  and the record. A broken page costs twice; a page in KGD's own form never takes the slow path.

Security is the reference parser's: :func:`xml.refuse_hostile` refuses any DOCTYPE first, and the
recognizer expands nothing (no DTD can be declared in what it accepts). Its pattern is
deterministic (every alternative starts with a different literal tag), so matching is linear in
the page's size.

Every quantifier is possessive (``*+``, ``++``, ``?+``, ``{1,16}+``): where the next character
always decides, a possessive quantifier accepts exactly what a greedy one does, but leaves the
regex engine nothing to backtrack into. With greedy ones, ``re`` keeps each element's
continuation as a nested backtracking frame until the whole record matched, and grows that stack
again by ``realloc`` for every record: matching a full-volume page of 500 records took
14.5-14.7 us a record that way, 9.9-10.9 possessive (the same groups).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from ...domain import Direction, Party
from ...plates import parse_plate
from ..base import ScanLine, ScanRecord, remember
from . import mapping, xml

__all__ = ["ScanPage", "ScanPageReader"]


_ROOT = "PreliminaryInformationList"
_ITEM = "PreliminaryInformation"

# XML characters but markup, \r (a parser turns \r\n into \n) and ">" (to stay clear of "]]>").
_CHARS = "[^<>&\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*+"
_TEXT = f"{_CHARS}(?:&(?:amp|lt|gt|quot|apos);{_CHARS})*+"
_SPACE = "[ \\t\\n]*+"  # between elements (ElementTree keeps it as tails nobody reads)
# The forms KGD writes (wire-kgd.md); a value written otherwise (other decimals, a time with a
# fraction or "Z", a code of another length) is valid for pi_scan too: the reference path reads it.
_TIME = "([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2})"
_DATE = "([0-9]{4}-[0-9]{2}-[0-9]{2})"
_MONEY = "([0-9]{1,16}+)\\.([0-9]{2})"  # at most 18 digits, as parse_amount takes
_MASS = "([0-9]{1,15}+)\\.([0-9]{3})"
_TNVED = "((?!00)[0-9]{10})"  # an EAEU code: 10 digits, a real HS chapter


def _leaf(name: str, *, read: bool = False, value: str | None = None) -> str:
    """``<name>…</name>``; ``read``: its text captured; ``value``: a pattern its text must match
    exactly (captured by the pattern's own groups): the wire's one form of a number, time or code."""
    text = value if value is not None else f"({_TEXT})" if read else _TEXT
    return f"<{name}>{text}</{name}>{_SPACE}"


def _optional(pattern: str) -> str:
    return f"(?:{pattern})?+"


def _node(name: str, *children: str) -> str:
    return f"<{name}>{_SPACE}{''.join(children)}</{name}>{_SPACE}"


def _party(name: str, *, read: bool) -> str:
    return _node(name, _leaf("Identifier", read=read), _leaf("Name", read=read), _leaf("CountryCode", read=read))


def _goods_item() -> str:
    """A goods line, without groups: the record's goods block is checked item by item in the
    record's pattern, then read by :func:`_goods_lines`."""
    item = _node(
        "GoodsItem",
        _leaf("LineNumber"),
        _leaf("TNVEDCode", value=_TNVED),
        _leaf("Description"),
        _leaf("PackageCount"),
        _leaf("PackageKind"),
        _leaf("GrossMass", value=_MASS),
        _leaf("NetMass"),
        _leaf("InvoiceValue", value=_MONEY),
        _leaf("ValueKZT"),
    )
    return re.sub(r"\((?!\?)", "(?:", item)


# kgd.xsd's PreliminaryInformation, element by element; the groups are the fields a scan reads.
_RECORD = _node(
    _ITEM,
    _leaf("PINumber", read=True),
    _optional(_leaf("CommonManifestId", read=True)),
    _leaf("CheckpointCode"),
    _leaf("Direction", value="(IM|EK)"),
    _leaf("RegistrationDateTime", value=_TIME),
    _leaf("StatusCode"),
    _leaf("StatusName"),
    _optional(_leaf("RiskCorridor")),
    _optional(_leaf("ReleaseDateTime", value=_TIME)),
    _optional(_leaf("ExitDateTime", value=_TIME)),
    _node(
        "Transport",
        _leaf("VehicleRegNumber", read=True),
        _leaf("VehicleCountryCode"),
        _leaf("VIN"),
        _leaf("Make"),
        _optional(_leaf("TrailerRegNumber") + _leaf("TrailerCountryCode")),
    ),
    _node("Driver", _leaf("FullName"), _leaf("PassportNumber"), _leaf("CountryCode")),
    _party("Carrier", read=True),
    _party("Consignor", read=False),
    _party("Consignee", read=False),
    _optional(_node("Containers", f"(?:{_leaf('ContainerNumber')})++")),
    _optional(_node("Seals", f"(?:{_leaf('SealNumber')})++")),
    _leaf("InvoiceCurrency", read=True),
    _leaf("ExchangeRate"),
    _leaf("ExchangeRateDate", value=_DATE),
    _leaf("TotalPackages"),
    _leaf("TotalGrossMass"),
    _leaf("TotalInvoiceValue", value=_MONEY),
    _leaf("TotalValueKZT"),
    f"<Goods>{_SPACE}((?:{_goods_item()})++)</Goods>{_SPACE}",
)
_HEAD = f'(?:<\\?xml version="1\\.0" encoding="UTF-8"\\?>)?{_SPACE}<{_ROOT} xmlns="{re.escape(xml.NS)}">{_SPACE}'
_TAIL = f"</{_ROOT}>{_SPACE}"
_ENTITIES: Final = re.compile("&(amp|lt|gt|quot|apos);")
_UNESCAPED: Final = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


# A named tuple built by tuple.__new__ directly: the same object as ScanLine(...) / ScanRecord(...), without
# the class's generated __new__, which is interpreted Python (~1 K instructions an object; a cold
# report makes several per record). The field order is the class's; tests compare every record
# with the reference path's, which builds them by the class.
_new: Final = tuple.__new__
_CN_TO_KZ: Final = Direction.CN_TO_KZ  # compiled: a C constant, not a lookup on the enum class
_CODE_TAG: Final = "<TNVEDCode>"
_MASS_TAG: Final = "<GrossMass>"
_VALUE_TAG: Final = "<InvoiceValue>"


def _goods_lines(goods: str, currency: str) -> tuple[ScanLine, ...]:
    """The goods lines of a ``<Goods>`` block the record's pattern has matched: each line's HS-6,
    grams and minor units, found by their tags with ``str.find`` instead of a second regular
    expression over the block (``findall`` of the line's pattern was ~5 % of a scan's instructions).

    Exact because the block matched: its texts hold no ``<`` (markup is escaped), so every ``<``
    opens a tag; each item has its elements in the schema's order, a 10-digit code right after
    ``<TNVEDCode>``, masses as ``digits.ddd`` and values as ``digits.dd`` up to their closing tag.
    So the n-th ``<TNVEDCode>`` is the n-th item's, the next ``<GrossMass>`` and ``<InvoiceValue>``
    after it are that item's, and ``int`` reads the same digit strings the groups captured."""
    lines: list[ScanLine] = []
    at = goods.find(_CODE_TAG)
    while at >= 0:
        code = at + len(_CODE_TAG)
        start = goods.find(_MASS_TAG, code + 10) + len(_MASS_TAG)
        end = goods.find("<", start)
        grams = int(goods[start : end - 4] + goods[end - 3 : end])
        start = goods.find(_VALUE_TAG, end) + len(_VALUE_TAG)
        end = goods.find("<", start)
        minor = int(goods[start : end - 3] + goods[end - 2 : end])
        lines.append(_new(ScanLine, (goods[code : code + 6], grams, minor, currency)))
        at = goods.find(_CODE_TAG, end)
    return tuple(lines)


def _moment(text: str) -> dt.datetime:
    """``timeutil.parse_kz_time`` of a time already in the wire's form (the calendar is checked here)."""
    return dt.datetime.fromisoformat(text)


def _field(text: str | None) -> str:
    """ElementTree's text of the element, stripped as ``xml.child_text`` strips it ("" when absent)."""
    if text is None:
        return ""
    if "&" in text:
        text = _ENTITIES.sub(lambda entity: _UNESCAPED[entity[1]], text)
    return text.strip()


@dataclass(frozen=True, slots=True)
class ScanPage:
    """One list page as read off the wire: its body, and either each record's captured fields or
    (a page in another form) ElementTree's root, parsed as :func:`xml.parse_document` parses it."""

    body: bytes
    rows: list[tuple[str | None, ...]] | None
    root: xml.Element | None = None


class _Irregular(Exception):
    """A page this reader does not read: the reference path reads it (and names the problem)."""


class ScanPageReader:
    """Recognizes PI list pages (:meth:`extract`) and reads them as :class:`ScanRecord`
    (:meth:`records`). One per source: it holds the compiled patterns and small caches of values
    that repeat across records (rate dates, carriers)."""

    def __init__(self) -> None:
        self._head = re.compile(_HEAD)
        self._record = re.compile(_RECORD)
        self._tail = re.compile(_TAIL)
        self._days: dict[str, dt.date] = {}
        self._carriers: dict[tuple[str, str, str], Party] = {}
        self.reread_pages = 0  # pages the reference path read again (tests and benchmarks look)

    def extract(self, body: bytes, endpoint: str) -> ScanPage:
        """The page's records' fields, or its tree when it is in another form. Whatever
        :func:`xml.parse_document` refuses (a hostile, malformed or foreign document) is refused
        here the same way, inside the client's call as before: only the reference parse decides."""
        xml.refuse_hostile(body, endpoint=endpoint)
        rows = self._recognize(body)
        if rows is None:
            return ScanPage(body, None, xml.parse_document(body, (_ROOT,), endpoint=endpoint))
        return ScanPage(body, rows)

    def _recognize(self, body: bytes) -> list[tuple[str | None, ...]] | None:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return None
        head = self._head.match(text)
        if head is None:
            return None
        rows: list[tuple[str | None, ...]] = []
        match = self._record.match
        position = head.end()
        while (found := match(text, position)) is not None:
            rows.append(found.groups())
            position = found.end()
        return rows if self._tail.fullmatch(text, position) is not None else None

    def records(self, page: ScanPage, offset: int) -> list[ScanRecord]:
        """The page's records (positions ``offset + 1`` onward in error messages)."""
        if page.rows is not None:
            try:
                return [self._read(row) for row in page.rows]
            except (_Irregular, ValueError, KeyError, ArithmeticError):
                pass
        self.reread_pages += 1
        # A page the recognizer took is well-formed: parsing it here cannot fail.
        root = page.root if page.root is not None else xml.parse_document(page.body, (_ROOT,))
        return [mapping.pi_scan(el, offset + index + 1) for index, el in enumerate(mapping.list_items(root, _ITEM))]

    def _read(self, row: tuple[str | None, ...]) -> ScanRecord:
        # Free texts are ElementTree's text, stripped; the other fields matched their one form.
        (key, common_id, direction_code, registered, released, exited, plate) = row[:7]
        (carrier_id, carrier_name, carrier_country, currency, rate_day, total, cents, goods) = row[7:]
        key, common_id, plate = _field(key), _field(common_id), _field(plate)
        carrier_name, carrier_country, currency = _field(carrier_name), _field(carrier_country), _field(currency)
        if not (key and plate and carrier_name and carrier_country and currency):
            raise _Irregular("a required field is empty")
        direction = mapping.DIRECTIONS[direction_code or ""]
        final = released if direction is _CN_TO_KZ else exited
        return _new(
            ScanRecord,
            (
                key,
                common_id or None,
                direction,
                _moment(registered or ""),
                None if final is None else _moment(final),
                parse_plate(plate),
                self._carrier(_field(carrier_id), carrier_name, carrier_country),
                self._day(rate_day or ""),
                int(f"{total}{cents}"),
                currency,
                _goods_lines(goods or "", currency),
            ),
        )

    def _day(self, text: str) -> dt.date:
        day = self._days.get(text)
        if day is None:
            if len(text) != 10:  # payloads' _iso_date: fromisoformat alone reads other forms too
                raise _Irregular("not a YYYY-MM-DD date")
            day = dt.date.fromisoformat(text)
            remember(self._days, text, day)
        return day

    def _carrier(self, carrier_id: str, name: str, country: str) -> Party:
        key = (carrier_id, name, country)
        found = self._carriers.get(key)
        if found is None:
            found = Party(id=carrier_id or None, name=name, country=mapping.country(country))
            remember(self._carriers, key, found)
        return found

