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
from typing import Any

import orjson

__all__ = [
    "MAX_MINUTES",
    "ChunkPartial",
    "Flow",
    "InspectionPartial",
    "SidePartial",
    "minutes_between",
    "percentile",
]

MAX_MINUTES = 60 * 24 * 30  # a clearance longer than 30 days is counted as 30 days
_ZERO = Decimal(0)


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (floor), within 0..MAX_MINUTES."""
    return max(0, min(MAX_MINUTES, int((end - start).total_seconds() // 60)))


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

    def dump(self) -> dict[str, Any]:
        return {
            "t": self.total.dump(),
            "h": {code: flow.dump() for code, flow in self.hs6.items()},
            "c": self.chapter_trucks,
            "u": self.unpriced,
            "d": {str(m): n for m, n in self.clearance.items()},
            "o": self.open,
        }

    @classmethod
    def load(cls, raw: dict[str, Any]) -> SidePartial:
        return cls(
            Flow.load(raw["t"]),
            {code: Flow.load(flow) for code, flow in raw["h"].items()},
            {chapter: int(n) for chapter, n in raw["c"].items()},
            int(raw["u"]),
            {int(m): int(n) for m, n in raw["d"].items()},
            int(raw["o"]),
        )


@dataclass(slots=True)
class ChunkPartial:
    """Both sides of one (crossing, direction, day), and door-to-door times of the trips linked
    within it (exporting side's declaration to importing side's release)."""

    china: SidePartial = field(default_factory=SidePartial)
    kazakhstan: SidePartial = field(default_factory=SidePartial)
    door_to_door: dict[int, int] = field(default_factory=dict)
    linked: int = 0

    def add(self, other: ChunkPartial) -> None:
        self.china.add(other.china)
        self.kazakhstan.add(other.kazakhstan)
        add_histogram(self.door_to_door, other.door_to_door)
        self.linked += other.linked

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "cn": self.china.dump(),
                "kz": self.kazakhstan.dump(),
                "dd": {str(m): n for m, n in self.door_to_door.items()},
                "l": self.linked,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ChunkPartial:
        raw = orjson.loads(data)
        return cls(
            SidePartial.load(raw["cn"]),
            SidePartial.load(raw["kz"]),
            {int(m): int(n) for m, n in raw["dd"].items()},
            int(raw["l"]),
        )


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
