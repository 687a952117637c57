"""Joining the two authorities' records of one truck trip. Pure: no I/O, no clock.

A trip is recorded by GACC as a road manifest (batch number) and by KGD as preliminary
information (PI number). Where the crossing is in joint-supervision phase ≥ 1 both records carry
the *common manifest id*, and that id decides. Elsewhere the two are matched on the vehicle
(canonical plate, :func:`~customs_gateway.plates.same_vehicle`) and time: the importing side's
record must be registered within :class:`LinkWindow` around the exporting side's declaration.
Among several candidates the one sharing the most HS-6 headings wins, then the nearest in time.

Each trip is *anchored* on its exporting side's record (China for CN→KZ, Kazakhstan for KZ→CN);
a trip seen by one side only anchors on the record it has.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .domain import (
    ArrivalNotice,
    Authority,
    ChinaManifestRecord,
    Country,
    Direction,
    KazakhstanPIRecord,
    RecordStatus,
)
from .plates import PROVINCES, same_vehicle

__all__ = [
    "MASS_TOLERANCE",
    "BorderEvent",
    "BorderEventKind",
    "Link",
    "LinkEvidence",
    "LinkMethod",
    "LinkWindow",
    "LinkedTrip",
    "PlateMatch",
    "TripStatus",
    "best_partner",
    "border_events",
    "evidence",
    "exporting_authority",
    "hs6_overlap",
    "link_records",
    "mass_gap",
    "match",
    "trip_status",
]


#: Gross masses within this relative gap count as agreeing (the EAEU weighing tolerance).
MASS_TOLERANCE = Decimal("0.05")
_GAP_PLACES = Decimal("0.0001")


class LinkMethod(StrEnum):
    COMMON_MANIFEST_ID = "COMMON_MANIFEST_ID"
    PLATE_AND_TIME = "PLATE_AND_TIME"
    NONE = "NONE"


class TripStatus(StrEnum):
    """Where the trip stands, judged from both records."""

    DECLARED = "DECLARED"  # exporting side has the declaration; the truck has not left yet
    IN_TRANSIT = "IN_TRANSIT"  # the truck left the exporting country, not yet arrived on the other side
    ARRIVED = "ARRIVED"  # the importing side registered its arrival
    RELEASED = "RELEASED"  # the importing side released the goods
    CHINA_ONLY = "CHINA_ONLY"  # only GACC has a record of the trip (so far)
    KAZAKHSTAN_ONLY = "KAZAKHSTAN_ONLY"  # only KGD has a record of the trip (so far)


class BorderEventKind(StrEnum):
    CN_DECLARED = "CN_DECLARED"
    CN_EXITED = "CN_EXITED"
    CN_ARRIVED = "CN_ARRIVED"
    CN_RELEASED = "CN_RELEASED"
    KZ_PI_SUBMITTED = "KZ_PI_SUBMITTED"
    KZ_ARRIVED = "KZ_ARRIVED"
    KZ_RELEASED = "KZ_RELEASED"
    KZ_EXITED = "KZ_EXITED"


@dataclass(frozen=True, slots=True)
class LinkWindow:
    """Importing record's time minus exporting record's time must lie in [-before, +after]."""

    before: dt.timedelta = dt.timedelta(hours=36)
    after: dt.timedelta = dt.timedelta(hours=36)


class PlateMatch(StrEnum):
    """How the two records' truck plates agreed."""

    EXACT = "EXACT"  # the same canonical plate (whatever the spelling: 新F·12345 and XINF12345)
    PROVINCE_MISSING = "PROVINCE_MISSING"  # one side dropped the Chinese province (F12345)
    NOT_COMPARED = "NOT_COMPARED"  # joined by common manifest id; plates not needed


@dataclass(frozen=True, slots=True)
class LinkEvidence:
    """What the join rests on, as measured on the two records.

    ``time_delta``: importing side's record minus exporting side's declaration, as instants
    (each side keeps its own offset, Beijing +08:00 and the Kazakh posts' +06:00 / +05:00, so
    the 2024-03-01 switch needs no special case). ``mass_gap``: relative gross-mass gap,
    ``(importer − exporter) / exporter``; None when the exporter's mass is 0.
    """

    plate_match: PlateMatch
    china_plate: str  # as GACC wrote it
    kazakhstan_plate: str  # as KGD wrote it
    time_delta: dt.timedelta
    hs6_overlap: float  # Jaccard share of HS-6 headings, a score in [0, 1]
    mass_gap: Decimal | None
    common_manifest_id: str | None  # when the join is by common id


@dataclass(frozen=True, slots=True)
class Link:
    method: LinkMethod
    confidence: float  # a score in [0, 1], not a quantity: float is fine here
    evidence: LinkEvidence | None = None  # None for NONE (nothing was joined)

    @classmethod
    def none(cls) -> Link:
        return cls(LinkMethod.NONE, 0.0)


@dataclass(frozen=True, slots=True)
class BorderEvent:
    kind: BorderEventKind
    authority: Authority
    at: dt.datetime
    record_id: str
    description: str


@dataclass(frozen=True, slots=True)
class LinkedTrip:
    """Both sides' records of one trip (at least one present) and how they were joined."""

    china: ChinaManifestRecord | None
    kazakhstan: KazakhstanPIRecord | None
    link: Link

    def __post_init__(self) -> None:
        if self.china is None and self.kazakhstan is None:
            raise ValueError("a trip needs at least one record")

    @property
    def direction(self) -> Direction:
        record = self.china or self.kazakhstan
        assert record is not None
        return record.direction

    @property
    def anchor_authority(self) -> Authority:
        exporter = exporting_authority(self.direction)
        if exporter is Authority.GACC:
            return Authority.GACC if self.china is not None else Authority.KGD
        return Authority.KGD if self.kazakhstan is not None else Authority.GACC

    @property
    def anchor_key(self) -> str:
        if self.anchor_authority is Authority.GACC:
            assert self.china is not None
            return self.china.batch_no
        assert self.kazakhstan is not None
        return self.kazakhstan.pi_number

    @property
    def anchor_time(self) -> dt.datetime:
        if self.anchor_authority is Authority.GACC:
            assert self.china is not None
            return self.china.declared_at
        assert self.kazakhstan is not None
        return self.kazakhstan.registered_at


def exporting_authority(direction: Direction) -> Authority:
    return Authority.GACC if direction is Direction.CN_TO_KZ else Authority.KGD


def hs6_overlap(china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord) -> float:
    """Share of HS-6 headings the two declare in common (Jaccard), 0 when either lists none."""
    a = {line.hs6 for line in china.goods}
    b = {line.hs6 for line in kazakhstan.goods}
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _delta(china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord) -> dt.timedelta:
    """Importing side's registration minus exporting side's declaration."""
    if china.direction is Direction.CN_TO_KZ:
        return kazakhstan.registered_at - china.declared_at
    return china.declared_at - kazakhstan.registered_at


def mass_gap(china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord) -> Decimal | None:
    """``(importer − exporter) / exporter`` of the total gross masses, 4 places; None when 0."""
    if china.direction is Direction.CN_TO_KZ:
        exporter, importer = china.total_gross_kg, kazakhstan.total_gross_kg
    else:
        exporter, importer = kazakhstan.total_gross_kg, china.total_gross_kg
    if not exporter:
        return None
    return ((importer - exporter) / exporter).quantize(_GAP_PLACES)


def evidence(china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord, *, by_common_id: bool) -> LinkEvidence:
    """What the two records have in common, measured (whatever the join method)."""
    if by_common_id:
        plate_match = PlateMatch.NOT_COMPARED
    elif china.vehicle.plate.canonical == kazakhstan.vehicle.plate.canonical:
        plate_match = PlateMatch.EXACT
    else:
        plate_match = PlateMatch.PROVINCE_MISSING
    return LinkEvidence(
        plate_match=plate_match,
        china_plate=china.vehicle.written,
        kazakhstan_plate=kazakhstan.vehicle.written,
        time_delta=_delta(china, kazakhstan),
        hs6_overlap=hs6_overlap(china, kazakhstan),
        mass_gap=mass_gap(china, kazakhstan),
        common_manifest_id=china.common_manifest_id if by_common_id else None,
    )


def match(china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord, *, phase: int, window: LinkWindow) -> Link | None:
    """How well the two records describe one trip, or None when they cannot.

    At phase ≥ 1 two present common ids decide alone; a record missing its id falls back to
    plate and time with a lower confidence. Plate and time: the same vehicle (a province the
    Kazakh side dropped is tolerated) within the window; the score adds the HS-6 overlap, the
    closeness in time, an exact plate, equal gross masses (less for masses within
    :data:`MASS_TOLERANCE`) and equal package counts, and is capped at 0.95: without a common id
    a join is never certain.
    """
    if china.direction is not kazakhstan.direction:
        return None
    if phase >= 1 and china.common_manifest_id and kazakhstan.common_manifest_id:
        if china.common_manifest_id == kazakhstan.common_manifest_id:
            return Link(LinkMethod.COMMON_MANIFEST_ID, 1.0, evidence(china, kazakhstan, by_common_id=True))
        return None
    if not same_vehicle(china.vehicle.plate, kazakhstan.vehicle.plate):
        return None
    delta = _delta(china, kazakhstan)
    if not -window.before <= delta <= window.after:
        return None
    found = evidence(china, kazakhstan, by_common_id=False)
    span = max(window.before, window.after).total_seconds() or 1.0
    closeness = 1.0 - min(abs(delta.total_seconds()) / span, 1.0)
    exact_plate = 0.05 if found.plate_match is PlateMatch.EXACT else 0.0
    # Both declarations copy one consignment note: equal gross masses (and package counts) say
    # "this very load" far better than time does when a truck makes two runs a day with the
    # same goods; masses within tolerance still count a little (one side weighed the truck).
    masses = 0.0
    if found.mass_gap is not None and found.mass_gap == 0:
        masses = 0.1
    elif found.mass_gap is not None and abs(found.mass_gap) <= MASS_TOLERANCE:
        masses = 0.05
    packages = 0.05 if china.total_packages == kazakhstan.total_packages else 0.0
    score = 0.5 + 0.15 * found.hs6_overlap + 0.1 * closeness + exact_plate + masses + packages
    return Link(LinkMethod.PLATE_AND_TIME, round(min(score, 0.95), 3), found)


def _rank(china: ChinaManifestRecord, kazakhstan: KazakhstanPIRecord, link: Link) -> tuple[float, float, float]:
    # Best first: confidence (which includes HS-6 overlap), then HS-6 overlap, then nearest in time.
    return (-link.confidence, -hs6_overlap(china, kazakhstan), abs(_delta(china, kazakhstan).total_seconds()))


def best_partner(
    record: ChinaManifestRecord | KazakhstanPIRecord,
    candidates: Iterable[ChinaManifestRecord | KazakhstanPIRecord],
    *,
    phase: int,
    window: LinkWindow,
) -> tuple[ChinaManifestRecord | KazakhstanPIRecord | None, Link]:
    """The other side's record of ``record``'s trip among ``candidates`` (records of either side)."""
    scored: list[tuple[tuple[float, float, float], ChinaManifestRecord | KazakhstanPIRecord, Link]] = []
    for candidate in candidates:
        if isinstance(record, ChinaManifestRecord) and isinstance(candidate, KazakhstanPIRecord):
            cn, kz = record, candidate
        elif isinstance(record, KazakhstanPIRecord) and isinstance(candidate, ChinaManifestRecord):
            cn, kz = candidate, record
        else:
            continue
        link = match(cn, kz, phase=phase, window=window)
        if link is not None:
            scored.append((_rank(cn, kz, link), candidate, link))
    if not scored:
        return None, Link.none()
    scored.sort(key=lambda item: item[0])
    _, partner, link = scored[0]
    return partner, link


def link_records(
    china: Sequence[ChinaManifestRecord],
    kazakhstan: Sequence[KazakhstanPIRecord],
    *,
    phase: int,
    window: LinkWindow,
) -> list[LinkedTrip]:
    """Every trip the two record sets describe (records of one crossing), each record used once.

    Pairs are taken greedily, best first, so a record never steals a partner that matches
    another record better. Records left over become one-sided trips.
    """
    pairs: list[tuple[tuple[float, float, float], int, int, Link]] = []
    # Blocking: only records that can match are compared (same common id, or the same plate
    # body), so 90 days of a crossing cost O(n) comparisons instead of O(n²).
    kz_blocks: dict[str, list[int]] = defaultdict(list)
    for j, kz in enumerate(kazakhstan):
        for key in _block_keys(kz, phase):
            kz_blocks[key].append(j)
    for i, cn in enumerate(china):
        seen: set[int] = set()
        for key in _block_keys(cn, phase):
            for j in kz_blocks.get(key, ()):
                if j in seen:
                    continue
                seen.add(j)
                kz = kazakhstan[j]
                link = match(cn, kz, phase=phase, window=window)
                if link is not None:
                    pairs.append((_rank(cn, kz, link), i, j, link))
    pairs.sort(key=lambda item: (item[0], item[1], item[2]))
    used_cn: set[int] = set()
    used_kz: set[int] = set()
    trips: list[LinkedTrip] = []
    for _, i, j, link in pairs:
        if i in used_cn or j in used_kz:
            continue
        used_cn.add(i)
        used_kz.add(j)
        trips.append(LinkedTrip(china[i], kazakhstan[j], link))
    trips.extend(LinkedTrip(cn, None, Link.none()) for i, cn in enumerate(china) if i not in used_cn)
    trips.extend(LinkedTrip(None, kz, Link.none()) for j, kz in enumerate(kazakhstan) if j not in used_kz)
    return trips


def _block_keys(record: ChinaManifestRecord | KazakhstanPIRecord, phase: int) -> tuple[str, ...]:
    """Keys two records must share to be worth comparing: the common id where it decides,
    and the plate without its Chinese province (what :func:`same_vehicle` needs equal)."""
    plate = record.vehicle.plate
    body = plate.canonical
    if plate.country is Country.CN and plate.province_known:
        body = body[len(PROVINCES[plate.native[0]]) :]
    keys: tuple[str, ...] = ("plate:" + body,)
    if phase >= 1 and record.common_manifest_id:
        keys = (*keys, "common:" + record.common_manifest_id)
    return keys


def trip_status(china: ChinaManifestRecord | None, kazakhstan: KazakhstanPIRecord | None) -> TripStatus:
    if china is None and kazakhstan is None:
        raise ValueError("a trip needs at least one record")
    if kazakhstan is None:
        return TripStatus.CHINA_ONLY
    if china is None:
        return TripStatus.KAZAKHSTAN_ONLY
    if china.direction is Direction.CN_TO_KZ:
        importer: RecordStatus = kazakhstan.status
        exited = china.status is RecordStatus.EXITED or china.border_crossed_at is not None
    else:
        importer = china.status
        exited = kazakhstan.status is RecordStatus.EXITED or kazakhstan.exited_at is not None
    if importer is RecordStatus.RELEASED:
        return TripStatus.RELEASED
    if importer is RecordStatus.ARRIVED:
        return TripStatus.ARRIVED
    return TripStatus.IN_TRANSIT if exited else TripStatus.DECLARED


def border_events(
    china: ChinaManifestRecord | None,
    kazakhstan: KazakhstanPIRecord | None,
    arrival: ArrivalNotice | None = None,
) -> list[BorderEvent]:
    """Both sides' events of the trip in time order (as instants; each keeps its own offset)."""
    events: list[BorderEvent] = []
    if china is not None:
        cn, key = Authority.GACC, china.batch_no
        events.append(
            BorderEvent(BorderEventKind.CN_DECLARED, cn, china.declared_at, key, "舱单申报 manifest declared")
        )
        if china.border_crossed_at is not None:
            if china.direction is Direction.CN_TO_KZ:
                events.append(
                    BorderEvent(BorderEventKind.CN_EXITED, cn, china.border_crossed_at, key, "已出境 left China")
                )
            else:
                events.append(
                    BorderEvent(BorderEventKind.CN_ARRIVED, cn, china.border_crossed_at, key, "已进境 entered China")
                )
        if china.released_at is not None:
            events.append(
                BorderEvent(BorderEventKind.CN_RELEASED, cn, china.released_at, key, "已放行 released by GACC")
            )
    if kazakhstan is not None:
        kz, key = Authority.KGD, kazakhstan.pi_number
        events.append(
            BorderEvent(
                BorderEventKind.KZ_PI_SUBMITTED,
                kz,
                kazakhstan.registered_at,
                key,
                "ПИ зарегистрирована PI registered",
            )
        )
        if arrival is not None:
            events.append(
                BorderEvent(BorderEventKind.KZ_ARRIVED, kz, arrival.arrived_at, arrival.number, "Прибытие arrival")
            )
        if kazakhstan.released_at is not None:
            events.append(
                BorderEvent(
                    BorderEventKind.KZ_RELEASED,
                    kz,
                    kazakhstan.released_at,
                    key,
                    "Выпуск разрешен released by KGD",
                )
            )
        if kazakhstan.exited_at is not None:
            events.append(
                BorderEvent(BorderEventKind.KZ_EXITED, kz, kazakhstan.exited_at, key, "Убытие left Kazakhstan")
            )
    events.sort(key=lambda event: (event.at, event.kind.value))
    return events
