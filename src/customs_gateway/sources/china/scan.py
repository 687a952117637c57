"""Reading a GACC manifest for reports: the scan fields straight off orjson's dicts.

:func:`~customs_gateway.sources.china.mapping.map_manifest_scan` reads each field through a
:class:`~customs_gateway.sources.china.payloads.WireObject` (an object per nested JSON object,
a method call and an error-message context per field) — about a fifth of a cold report's CPU,
for records that are almost always right. :class:`ManifestScanReader` reads the same
fields with plain dictionary access and the same checks (non-empty strings, the same parsers or
exact equivalents, cached for values that repeat: tariff codes, currencies, carriers, dates), and hands
any record it does not take as read — a field missing, of the wrong type or not parsing — to
``map_manifest_scan``, which reads it again and either agrees or raises the contract error that
names the record and the field. So both give the same record or the same error, always.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from ...domain import Country, Direction, Party
from ...money import cn_currency, parse_minor
from ...plates import parse_plate
from ...timeutil import CN_TZ
from ..base import MASS_PLACES, MONEY_PLACES, ScanLine, ScanRecord, remember
from .mapping import DIRECTION_BY_IE_FLAG, cn_tariff_code, map_manifest_scan, org_country

__all__ = ["ManifestScanReader"]

# A named tuple built by tuple.__new__ directly: the same object as ScanLine(...) / ScanRecord(...), without
# the class's generated __new__, which is interpreted Python (~1 K instructions an object; a cold
# report makes several per record). The field order is the class's; tests compare every record
# with the reference path's, which builds them by the class.
_new: Final = tuple.__new__
_datetime: Final = dt.datetime  # compiled: a C constant, not the module's attribute at each call
_CN_TO_KZ: Final = Direction.CN_TO_KZ  # compiled: a C constant, not a lookup on the enum class


class _Irregular(Exception):
    """A record this reader does not read: ``map_manifest_scan`` reads it (and names the problem)."""


def _text(data: dict[str, object], field: str) -> str:
    """``WireObject.text``: a required string with something besides whitespace."""
    value = data[field]
    if not isinstance(value, str) or not value.strip():
        raise _Irregular(field)
    return value


def _opt_text(data: dict[str, object], field: str) -> str | None:
    """``WireObject.opt_text``: absent, null and "" are None; any other string as it is."""
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Irregular(field)
    return value


class ManifestScanReader:
    """Reads manifests as :class:`ScanRecord` (one per source: it holds the caches)."""

    def __init__(self) -> None:
        self._hs6: dict[str, str] = {}
        self._currencies: dict[str, str] = {}
        self._carriers: dict[tuple[str | None, str, str], Party] = {}
        self._days: dict[str, tuple[int, int, int]] = {}
        self.reread = 0  # records map_manifest_scan read again (tests and benchmarks look)

    def read(self, raw: object) -> ScanRecord:
        try:
            return self._read(raw)
        except (_Irregular, KeyError, TypeError, ValueError, AttributeError):
            self.reread += 1
            return map_manifest_scan(raw)

    def _read(self, raw: object) -> ScanRecord:
        # Where a parser or a table refuses every value WireObject.text refuses (a non-string
        # raises TypeError/AttributeError, "" and blanks do not parse), the value goes to it
        # directly; _text checks only what is kept as it is.
        if not isinstance(raw, dict):
            raise _Irregular("record")
        key = _text(raw, "batchNo")
        direction = DIRECTION_BY_IE_FLAG[raw["ieFlag"]]
        declared_at = self._cn_time(raw["declTime"])
        final = _opt_text(raw, "ieTime" if direction is _CN_TO_KZ else "releaseTime")
        vehicle = raw["vehicle"]
        carrier = raw["carrier"]
        goods = raw["goods"]
        if not (isinstance(vehicle, dict) and isinstance(carrier, dict) and isinstance(goods, list)):
            raise _Irregular("vehicle, carrier or goods")
        return _new(
            ScanRecord,
            (
                key,
                _opt_text(raw, "commonManifestNo"),
                direction,
                declared_at,
                None if final is None else self._cn_time(final),
                parse_plate(_text(vehicle, "plateNo")),
                self._carrier(carrier),
                declared_at.date(),
                parse_minor(raw["totalAmount"], MONEY_PLACES),
                self._currency(raw["currCode"]),
                tuple([self._line(line) for line in goods]),
            ),
        )

    def _cn_time(self, text: str) -> dt.datetime:
        """``timeutil.parse_cn_time``: exactly 14 ASCII digits, a real Beijing wall time (the
        date's fields cached: a page's records share a few days; the clock read as one number)."""
        if len(text) != 14 or not text.isdigit() or not text.isascii():
            raise _Irregular(text)
        day = self._days.get(text[:8])
        if day is None:
            day = (int(text[0:4]), int(text[4:6]), int(text[6:8]))
            remember(self._days, text[:8], day)
        clock = int(text[8:])  # hhmmss
        return _datetime(day[0], day[1], day[2], clock // 10000, clock // 100 % 100, clock % 100, 0, CN_TZ)

    def _line(self, line: object) -> ScanLine:
        if not isinstance(line, dict):
            raise _Irregular("goods line")
        return _new(
            ScanLine,
            (
                self._subheading(line["codeTs"]),
                parse_minor(line["grossWt"], MASS_PLACES),
                parse_minor(line["declTotal"], MONEY_PLACES),
                self._currency(line["currCode"]),
            ),
        )

    def _subheading(self, code: str) -> str:
        found = self._hs6.get(code)
        if found is None:
            found = cn_tariff_code(code)[1]
            remember(self._hs6, code, found)
        return found

    def _currency(self, code: str) -> str:
        found = self._currencies.get(code)
        if found is None:
            found = cn_currency(code)
            remember(self._currencies, code, found)
        return found

    def _carrier(self, carrier: dict[str, object]) -> Party:
        key = (_opt_text(carrier, "code"), _text(carrier, "name"), _text(carrier, "country"))
        found = self._carriers.get(key)
        if found is None:
            country: Country = org_country(key[2])
            found = Party(id=key[0], name=key[1], country=country)
            remember(self._carriers, key, found)
        return found

