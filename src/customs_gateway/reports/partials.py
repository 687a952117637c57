"""Partial aggregates of one (crossing, direction, UTC day): small, mergeable, cacheable.

A report over N days is the merge of N × crossings × directions partials, so memory holds one
partial per chunk and a few pages of records at a time, never the records of the whole window.
Partials hold aggregates only — nothing per carrier, consignor or vehicle — so one cached
partial serves every audience (the per-carrier valuation parts are kept out of them on purpose).

Clearance durations are kept as exact histograms of whole minutes: mergeable, and bounded (a
duration longer than :data:`MAX_MINUTES` is clamped), and percentiles read from them are exact at
one-minute resolution (nearest rank).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

import orjson

from .valuation import ValuationPartial

__all__ = [
    "MAX_MINUTES",
    "PARTS",
    "ChunkPartial",
    "Flow",
    "InspectionPartial",
    "Part",
    "SidePartial",
    "minutes_between",
    "percentile",
]

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


@dataclass(slots=True)
class ChunkPartial:
    """Both sides of one (crossing, direction, day), and door-to-door times of the trips linked
    within it (exporting side's declaration to importing side's release)."""

    china: SidePartial = field(default_factory=SidePartial)
    kazakhstan: SidePartial = field(default_factory=SidePartial)
    door_to_door: dict[int, int] = field(default_factory=dict)
    linked: int = 0
    valuation: ValuationPartial = field(default_factory=ValuationPartial)

    def add(self, other: ChunkPartial) -> None:
        self.china.add(other.china)
        self.kazakhstan.add(other.kazakhstan)
        add_histogram(self.door_to_door, other.door_to_door)
        self.linked += other.linked
        self.valuation.add(other.valuation)

    def parts(self) -> dict[Part, bytes]:
        """The partial as three cache entries, so a report decodes only what it reads: a trade
        flow without HS groups reads the few bytes of ``flow``, not the HS-6 table or the
        duration histograms."""
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
        return partial


Part = Literal["flow", "hs", "times", "gaps"]
PARTS: tuple[Part, ...] = ("flow", "hs", "times", "gaps")


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
