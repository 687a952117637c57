"""Partial aggregates of one (crossing, direction, UTC day): small, mergeable, cacheable.

A report over N days is the merge of N × crossings × directions partials, so memory holds one
partial per chunk and a few pages of records at a time, never the records of the whole window.
Partials hold aggregates only — nothing per carrier, consignor or vehicle — so one cached
partial serves every audience (the per-carrier valuation parts are kept out of them on purpose).

Clearance durations are kept as exact histograms of whole minutes: mergeable, and bounded (a
duration longer than :data:`MAX_MINUTES` is clamped), and percentiles read from them are exact at
one-minute resolution (nearest rank).

The records a chunk could not link (a trip whose other record lies on another UTC day, or a
one-sided trip) are kept as :class:`LooseEnd` rows in their own part, ``loose``: a report that
counts trips (door to door, valuation) links the loose ends of its days across chunks; trade flow
never reads them. They name vehicles and carriers, so they never leave the service either.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple

import orjson

from ..domain import Country, PlateId
from ..plates import parse_plate
from .valuation import ValuationPartial

__all__ = [
    "MAX_MINUTES",
    "PARTS",
    "ChunkPartial",
    "Flow",
    "InspectionPartial",
    "LooseEnd",
    "LooseEnds",
    "Part",
    "SidePartial",
    "minutes_between",
    "percentile",
]

_new_tuple: Final = tuple.__new__
_from_iso: Final = dt.datetime.fromisoformat
MAX_MINUTES: Final = 60 * 24 * 30  # a clearance longer than 30 days is counted as 30 days
_ZERO: Final = Decimal(0)


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (floor), within 0..MAX_MINUTES.

    The timedelta floor-divided by a minute, worked out from its days and seconds: a timedelta
    keeps ``0 <= seconds < 86400`` and ``0 <= microseconds < 10**6``, so the microseconds never
    reach the next minute and ``days * 1440 + seconds // 60`` is that floor exactly, in small
    integers (compiled: machine integers) instead of dividing two timedeltas through their
    microsecond counts. Three times per trip of a cold report."""
    delta = end - start
    minutes = delta.days * 1440 + delta.seconds // 60
    if 0 <= minutes <= MAX_MINUTES:
        return minutes
    return 0 if minutes < 0 else MAX_MINUTES


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """Nearest-rank percentile (``q`` in (0, 1]) of a minutes histogram; None when empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for minutes in sorted(histogram):
        seen += histogram[minutes]
        if seen >= rank:
            return minutes
    raise AssertionError("unreachable: rank <= total")


def add_histogram(into: dict[int, int], other: Mapping[int, int]) -> None:
    for minutes, count in other.items():
        into[minutes] = into.get(minutes, 0) + count


@dataclass(slots=True)
class Flow:
    """Value (USD), gross mass (kg) and trucks of one group on one side."""

    value_usd: Decimal = _ZERO
    gross_kg: Decimal = _ZERO
    trucks: int = 0

    def add(self, other: Flow) -> None:
        self.value_usd += other.value_usd
        self.gross_kg += other.gross_kg
        self.trucks += other.trucks

    def dump(self) -> list[Any]:
        return [str(self.value_usd), str(self.gross_kg), self.trucks]

    @classmethod
    def load(cls, raw: list[Any]) -> Flow:
        return cls(Decimal(raw[0]), Decimal(raw[1]), int(raw[2]))


@dataclass(slots=True)
class SidePartial:
    """One authority's records of the chunk.

    ``total``: every record; ``hs6``: per goods line's HS-6 (trucks = records with at least one
    line under it); ``chapter_trucks``: records with at least one line in the chapter (value and
    mass of a chapter are the sum of its HS-6 rows); ``unpriced``: lines whose currency had no
    rate (left out of value); ``clearance``: minutes from the side's own declaration to its final
    event (release when importing, exit when exporting); ``open``: records without it yet.
    """

    total: Flow = field(default_factory=Flow)
    hs6: dict[str, Flow] = field(default_factory=dict)
    chapter_trucks: dict[str, int] = field(default_factory=dict)
    unpriced: int = 0
    clearance: dict[int, int] = field(default_factory=dict)
    open: int = 0

    def add(self, other: SidePartial) -> None:
        self.total.add(other.total)
        for code, flow in other.hs6.items():
            self.hs6.setdefault(code, Flow()).add(flow)
        for chapter, trucks in other.chapter_trucks.items():
            self.chapter_trucks[chapter] = self.chapter_trucks.get(chapter, 0) + trucks
        self.unpriced += other.unpriced
        add_histogram(self.clearance, other.clearance)
        self.open += other.open


class LooseEnd(NamedTuple):
    """What linking across days, door to door and valuation need of a record its chunk did not
    link: the link keys as :func:`~customs_gateway.reports.scan.link_stubs` reads them (common id,
    plate, declaration), the side's final event, and the record's value already in US cents.

    ``usd``: the total at the NBK rates of the record's own rate day, None when that day had no
    rate for it (a trip with such a side is counted unpriced, as within a chunk); ``usd_by_hs6``:
    its priced lines by HS-6; ``key``: GACC batch number / KGD PI number.
    """

    common_id: str | None
    plate: PlateId
    declared_at: dt.datetime
    final_at: dt.datetime | None
    key: str
    carrier_id: str | None
    carrier_name: str
    usd: int | None
    usd_by_hs6: dict[str, int]

    def dump(self) -> list[Any]:
        # The datetimes and the enum as they are: orjson writes them (ISO 8601) several times
        # faster than isoformat() and str() would. A plate as its canonical text when that parses
        # back to the same plate (nearly always): a warm report decodes every loose end of its
        # days, and parse_plate's cache hands back one object per truck instead of six strings.
        plate = self.plate
        canonical = plate.canonical
        if parse_plate(canonical) == plate:
            written: str | list[Any] = canonical
        else:
            written = [
                canonical,
                plate.native,
                plate.latin,
                plate.country,
                plate.region,
                plate.trailer,
                plate.province_known,
            ]
        return [
            self.common_id,
            written,
            self.declared_at,
            self.final_at,
            self.key,
            self.carrier_id,
            self.carrier_name,
            self.usd,
            self.usd_by_hs6,
        ]

    @classmethod
    def load(cls, raw: list[Any]) -> LooseEnd:
        p = raw[1]
        plate = parse_plate(p) if isinstance(p, str) else PlateId(p[0], p[1], p[2], Country(p[3]), p[4], p[5], p[6])
        final = raw[3]
        end = (
            raw[0],
            plate,
            _from_iso(raw[2]),
            None if final is None else _from_iso(final),
            raw[4],
            raw[5],
            raw[6],
            raw[7],
            raw[8],
        )
        # LooseEnd(...) without its interpreted generated __new__: one per loose end decoded.
        loose_end: LooseEnd = _new_tuple(cls, end)
        return loose_end


@dataclass(slots=True)
class LooseEnds:
    """The exporting and the importing side's records that no pair of their chunk took."""

    exporting: list[LooseEnd] = field(default_factory=list)
    importing: list[LooseEnd] = field(default_factory=list)

    def add(self, other: LooseEnds) -> None:
        self.exporting.extend(other.exporting)
        self.importing.extend(other.importing)

    def to_bytes(self) -> bytes:
        return orjson.dumps([[end.dump() for end in self.exporting], [end.dump() for end in self.importing]])

    @classmethod
    def from_bytes(cls, data: bytes) -> LooseEnds:
        exporting, importing = orjson.loads(data)
        return cls([LooseEnd.load(raw) for raw in exporting], [LooseEnd.load(raw) for raw in importing])


@dataclass(slots=True)
class ChunkPartial:
    """Both sides of one (crossing, direction, day), and door-to-door times of the trips linked
    within it (exporting side's declaration to importing side's release)."""

    china: SidePartial = field(default_factory=SidePartial)
    kazakhstan: SidePartial = field(default_factory=SidePartial)
    door_to_door: dict[int, int] = field(default_factory=dict)
    linked: int = 0
    valuation: ValuationPartial = field(default_factory=ValuationPartial)
    loose: LooseEnds = field(default_factory=LooseEnds)

    def add(self, other: ChunkPartial) -> None:
        self.china.add(other.china)
        self.kazakhstan.add(other.kazakhstan)
        add_histogram(self.door_to_door, other.door_to_door)
        self.linked += other.linked
        self.valuation.add(other.valuation)
        self.loose.add(other.loose)

    def parts(self) -> dict[Part, bytes]:
        """The partial as five cache entries, so a report decodes only what it reads: a trade
        flow without HS groups reads the few bytes of ``flow``, not the HS-6 table, the
        duration histograms or the loose ends."""
        cn, kz = self.china, self.kazakhstan
        return {
            "flow": orjson.dumps([cn.total.dump(), kz.total.dump(), cn.unpriced, kz.unpriced]),
            "hs": orjson.dumps(
                [
                    {code: flow.dump() for code, flow in cn.hs6.items()},
                    cn.chapter_trucks,
                    {code: flow.dump() for code, flow in kz.hs6.items()},
                    kz.chapter_trucks,
                ]
            ),
            "times": orjson.dumps(
                [
                    _dump_histogram(cn.clearance),
                    cn.open,
                    _dump_histogram(kz.clearance),
                    kz.open,
                    _dump_histogram(self.door_to_door),
                    self.linked,
                ]
            ),
            "gaps": self.valuation.to_bytes(),
            "loose": self.loose.to_bytes(),
        }

    @classmethod
    def from_parts(cls, parts: Mapping[Part, bytes]) -> ChunkPartial:
        """A partial from some of its parts; what is not given stays empty."""
        partial = cls()
        cn, kz = partial.china, partial.kazakhstan
        if (flow := parts.get("flow")) is not None:
            cn_total, kz_total, cn.unpriced, kz.unpriced = orjson.loads(flow)
            cn.total, kz.total = Flow.load(cn_total), Flow.load(kz_total)
        if (hs := parts.get("hs")) is not None:
            cn_hs6, cn.chapter_trucks, kz_hs6, kz.chapter_trucks = orjson.loads(hs)
            cn.hs6 = {code: Flow.load(raw) for code, raw in cn_hs6.items()}
            kz.hs6 = {code: Flow.load(raw) for code, raw in kz_hs6.items()}
        if (times := parts.get("times")) is not None:
            cn_clearance, cn.open, kz_clearance, kz.open, door, partial.linked = orjson.loads(times)
            cn.clearance, kz.clearance = _load_histogram(cn_clearance), _load_histogram(kz_clearance)
            partial.door_to_door = _load_histogram(door)
        if (gaps := parts.get("gaps")) is not None:
            partial.valuation = ValuationPartial.from_bytes(gaps)
        if (loose := parts.get("loose")) is not None:
            partial.loose = LooseEnds.from_bytes(loose)
        return partial


Part = Literal["flow", "hs", "times", "gaps", "loose"]
PARTS: tuple[Part, ...] = ("flow", "hs", "times", "gaps", "loose")


def _dump_histogram(histogram: Mapping[int, int]) -> list[int]:
    """Flat ``[minutes, count, minutes, count, …]``: no string keys to convert back."""
    return [value for item in histogram.items() for value in item]


def _load_histogram(flat: list[int]) -> dict[int, int]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


InspectionKey = tuple[str, str, str, str]  # authority, kind, risk channel ("" when none), outcome


@dataclass(slots=True)
class InspectionPartial:
    """Inspections of one (crossing, day) by (authority, kind, channel, outcome), and how many of
    them were one side recognizing the other's inspection instead of repeating it."""

    counts: dict[InspectionKey, int] = field(default_factory=dict)
    recognized: dict[InspectionKey, int] = field(default_factory=dict)

    def count(self, key: InspectionKey, *, recognized: bool) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1
        if recognized:
            self.recognized[key] = self.recognized.get(key, 0) + 1

    def add(self, other: InspectionPartial) -> None:
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        for key, n in other.recognized.items():
            self.recognized[key] = self.recognized.get(key, 0) + n

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {"c": _pairs(self.counts), "r": _pairs(self.recognized)},
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> InspectionPartial:
        raw = orjson.loads(data)
        return cls(_unpairs(raw["c"]), _unpairs(raw["r"]))


def _pairs(counts: Mapping[InspectionKey, int]) -> list[list[Any]]:
    return [[*key, n] for key, n in counts.items()]


def _unpairs(rows: Iterable[list[Any]]) -> dict[InspectionKey, int]:
    return {(str(r[0]), str(r[1]), str(r[2]), str(r[3])): int(r[4]) for r in rows}
