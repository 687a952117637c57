"""The deterministic ground-truth generator: :func:`generate_trips` streams :class:`Trip` objects.

Determinism and streaming. Every (day, crossing) pair draws from its own
``random.Random(f"{seed}:{day}:{crossing}")``, and the pools of carriers, trucks, drivers and
traders come from a separate per-seed RNG (:func:`customs_sim.people.build_pools`), so any day can
be generated alone, two runs agree byte for byte, and at most one day's trips are in memory.
Every random draw of a trip is made before the ``as_of`` cut-off is applied, so the snapshot
instant never changes a trip, only how much of it has happened (and whether it is there at all).

Time. A trip is anchored at its border crossing on the Chinese side (CN exit for an export, CN
arrival for an import), inside the Chinese post's hours of day ``day`` (UTC); the rest of the
timeline is laid out around the anchor and fitted into each post's working hours. Instants are
whole seconds, aware UTC.

Identifiers (``docs/wire-*.md``). Sequences restart every (crossing, date) and are dense in
generation order; a record dated the day before its trip's day (a declaration lodged the evening
before) takes its number from an upper range (batch ``50001+``, PI ``500001+``) and a Chinese
inspection dated the day after from ``5000001+``, which keeps every number unique without any
state shared between days. Kazakh control numbers follow the KGD rule that the simulator renders:
``{PI office}-{PI ddmmyy}-K{last 6 digits of the PI sequence}-{n}``, n in order of start time.

Money (the rule tests check). ``cn_value`` is drawn in ``cn_currency``; without an
UNDERVALUATION flaw ``kz_value == rates.convert(cn_value, d, cn_currency, invoice_currency)``
where ``d`` is the Kazakh local date of the KZ_PI_SUBMITTED instant (the day whose National Bank
rate KGD applies); with it, ``kz_value = (that amount * (1 - u)).quantize(0.01, ROUND_HALF_UP)``
with the same ``u`` for every item. Masses agree exactly unless MASS_MISMATCH scales the Kazakh
gross masses; codes agree on HS-6 unless HS_MISMATCH swaps one item's ``kz_code``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from customs_sim.catalog import draw_goods
from customs_sim.fastinit import constructor
from customs_sim.iso6346 import make_number
from customs_sim.model import (
    Company,
    Direction,
    EventKind,
    Flaw,
    FlawKind,
    GoodsItem,
    Inspection,
    InspectionKind,
    InspectionResult,
    Side,
    Trip,
    TripEvent,
)
from customs_sim.people import Pools, TruckEntry, build_pools
from customs_sim.plates import written_by_cn, written_by_kz
from customs_sim.rates import convert
from customs_sim.reference import CROSSINGS, KZ_OFFSET_SWITCH, Crossing, Post

__all__ = [
    "GENERATOR_VERSION",
    "DatasetParams",
    "day_trips",
    "generate_trips",
    "last_day_with_trips",
    "trips_by_day",
]

#: Bump whenever the same parameters would produce different trips or differently laid out
#: databases (tables, columns, indexes the simulators rely on): it is part of the cache key, so a
#: dataset cached by an older version is rebuilt rather than served with a missing index.
#: 2: common-id columns and the indexes named by the batch lookups (INDEXED BY).
#: 3: Kazakh record numbers unique by indexes built after the insert, not PRIMARY KEYs (same rows).
GENERATOR_VERSION = "3"

_FULL_VOLUME = sum(c.trucks_per_day for c in CROSSINGS)
_WEEKDAY_FACTOR = (1.05, 1.05, 1.05, 1.05, 1.05, 0.95, 0.80)  # Mon..Sun, mean 1.0
_DAY = 86_400
_HOUR = 3_600
_MIN = 60
_CN_OFFSET = 8 * _HOUR
# Integer cents and grams become Decimals by an exact product with these (exponent -2 or -3, as
# ``scaleb`` gives, at half its cost).
_CENT = Decimal("0.01")
_GRAM = Decimal("0.001")
_RATIO = Decimal("0.0001")
_UTC = dt.UTC
_from_timestamp = dt.datetime.fromtimestamp

_CN_NOTES = {
    (InspectionKind.H986_SCAN, InspectionResult.NORMAL): ("图像正常", "机检图像未见异常"),
    (InspectionKind.H986_SCAN, InspectionResult.ABNORMAL): ("图像异常,转人工查验", "图像可疑,需进一步查验"),
    (InspectionKind.MANUAL, InspectionResult.NORMAL): ("货证相符", "查验未见异常"),
    (InspectionKind.MANUAL, InspectionResult.ABNORMAL): ("发现夹藏", "货证不符", "数量不符"),
    (InspectionKind.OPENING, InspectionResult.NORMAL): ("开箱查验正常,货证相符",),
    (InspectionKind.OPENING, InspectionResult.ABNORMAL): ("开箱发现未申报货物",),
}
_KZ_NOTES = {
    (InspectionKind.DOCUMENT_CHECK, InspectionResult.NORMAL): ("Документы соответствуют", "Замечаний нет"),
    (InspectionKind.DOCUMENT_CHECK, InspectionResult.ABNORMAL): (
        "Несоответствие сведений в инвойсе",
        "Недостоверное декларирование стоимости",
    ),
    (InspectionKind.XRAY, InspectionResult.NORMAL): ("Снимок ИДК без признаков сокрытия",),
    (InspectionKind.XRAY, InspectionResult.ABNORMAL): ("Выявлены затемнения на снимке ИДК",),
    (InspectionKind.EXAMINATION, InspectionResult.NORMAL): ("Товар соответствует заявленным сведениям",),
    (InspectionKind.EXAMINATION, InspectionResult.ABNORMAL): (
        "Выявлен незадекларированный товар",
        "Количество не соответствует заявленному",
    ),
    (InspectionKind.WEIGHING, InspectionResult.NORMAL): ("Вес соответствует заявленному",),
    (InspectionKind.WEIGHING, InspectionResult.ABNORMAL): ("Расхождение веса более 5%",),
}
_RECOGNIZED_NOTE = "Результат ИДК КНР признан"


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetParams:
    """Everything a dataset depends on; equal parameters give byte-identical datasets.

    ``trucks_per_day`` is the mean over all crossings together (None: full volume, the sum of
    :attr:`Crossing.trucks_per_day`, shared out by each crossing's volume). ``as_of`` is the
    snapshot instant (aware; stored in UTC; default: the day after ``end`` at 00:00 UTC).
    """

    seed: int = 7
    start: dt.date
    end: dt.date
    trucks_per_day: int | None = None
    as_of: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.trucks_per_day is not None and self.trucks_per_day <= 0:
            raise ValueError("trucks_per_day must be positive (or None for full volume)")
        if self.as_of is None:
            as_of = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), _UTC)
        elif self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        else:
            as_of = self.as_of.astimezone(_UTC)
        object.__setattr__(self, "as_of", as_of)

    def __reduce__(self) -> tuple[Callable[..., DatasetParams], tuple[object, ...]]:
        # Pickled for every chunk a build worker gets. Compiled by mypyc (setup.py), this is a
        # native class whose default unpickling sets fields through the frozen __setattr__ and fails.
        return (_restore_params, (self.seed, self.start, self.end, self.trucks_per_day, self.as_of))

    @property
    def cutoff(self) -> dt.datetime:
        """``as_of`` typed as always set (``__post_init__`` fills the default)."""
        assert self.as_of is not None
        return self.as_of

    @property
    def volume(self) -> float:
        return float(_FULL_VOLUME if self.trucks_per_day is None else self.trucks_per_day)

    @classmethod
    def demo(cls, today: dt.date, now: dt.datetime | None = None, seed: int = 7) -> DatasetParams:
        """The demo dataset: the 90 days up to ``today``, snapshot at ``now`` truncated to the hour."""
        instant = (now or dt.datetime.now(_UTC)).astimezone(_UTC)
        return cls(
            seed=seed,
            start=today - dt.timedelta(days=89),
            end=today,
            as_of=instant.replace(minute=0, second=0, microsecond=0),
        )

    def days(self) -> Iterator[dt.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=1)

    def cache_key(self) -> str:
        """Short hex digest of every parameter and :data:`GENERATOR_VERSION`."""
        text = "|".join(
            (
                GENERATOR_VERSION,
                str(self.seed),
                self.start.isoformat(),
                self.end.isoformat(),
                str(self.trucks_per_day),
                self.cutoff.isoformat(),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _restore_params(
    seed: int, start: dt.date, end: dt.date, trucks_per_day: int | None, as_of: dt.datetime | None
) -> DatasetParams:
    return DatasetParams(seed=seed, start=start, end=end, trucks_per_day=trucks_per_day, as_of=as_of)


def generate_trips(params: DatasetParams) -> Iterator[Trip]:
    """Every trip of the dataset, in day order then crossing order (then trip id)."""
    for _day, trips in trips_by_day(params):
        yield from trips


def trips_by_day(params: DatasetParams) -> Iterator[tuple[dt.date, list[Trip]]]:
    """The dataset one day at a time (all crossings), so a caller can report progress by day."""
    pools = build_pools(params.seed)
    last = last_day_with_trips(params)
    for day in params.days():
        if day > last:
            yield day, []
            continue
        trips: list[Trip] = []
        for crossing in CROSSINGS:
            trips += day_trips(params, day, crossing, pools)
        yield day, trips


def last_day_with_trips(params: DatasetParams) -> dt.date:
    """The last day that can hold a trip (earlier than ``start`` when none can)."""
    # A trip's first record is at most ~2 days before its anchor day; later days hold nothing yet.
    return min(params.end, params.cutoff.date() + dt.timedelta(days=2))


def day_trips(params: DatasetParams, day: dt.date, crossing: Crossing, pools: Pools | None = None) -> list[Trip]:
    """The trips of one crossing on one day, independent of every other day."""
    builder = _DayBuilder(params, day, crossing, pools or build_pools(params.seed))
    return builder.build()


def _hours(post: Post, offset: int) -> tuple[int, int] | None:
    """A post's opening and closing, in seconds after the day's 00:00 UTC; None when open 24 h."""
    if post.opens == post.closes:
        return None
    opens = post.opens.hour * _HOUR + post.opens.minute * _MIN - offset
    closes = post.closes.hour * _HOUR + post.closes.minute * _MIN - offset
    return opens, closes if closes > opens else closes + _DAY


def _fit(s: int, hours: tuple[int, int] | None) -> int:
    """``s`` if the post is open then, else the next opening plus the overflow modulo an hour."""
    if hours is None:
        return s
    opens, closes = hours
    day, within = divmod(s - opens, _DAY)
    if within <= closes - opens:
        return s
    return opens + (day + 1) * _DAY + (within - (closes - opens)) % _HOUR


class _DayBuilder:
    """Builds one (day, crossing): holds the RNG, the day's clock and the id counters.

    Hot path: ~10^5 trips per build, so draws go through ``random()`` directly (``randint`` and
    ``choice`` cost ten times more) and dates are formatted once per day offset.
    """

    def __init__(self, params: DatasetParams, day: dt.date, crossing: Crossing, pools: Pools) -> None:
        self.params = params
        self.day = day
        self.crossing = crossing
        self.pools = pools
        self.rng = random.Random(f"{params.seed}:{day.isoformat()}:{crossing.id}")
        self.rand = self.rng.random
        self.base = dt.datetime.combine(day, dt.time(), _UTC)
        self.base_ts = int(self.base.timestamp())
        self.as_of_s = (params.cutoff - self.base).total_seconds()
        self.switch_s = int((KZ_OFFSET_SWITCH - self.base).total_seconds())
        self.cn_hours = _hours(crossing.cn, _CN_OFFSET)
        self.kz_hours_before = _hours(crossing.kz, 6 * _HOUR)  # UTC+6 until 2024-02-29T18:00Z
        self.kz_hours_after = _hours(crossing.kz, 5 * _HOUR)
        self.counters: dict[tuple[str, int], int] = {}
        self.home = pools.trucks_by_crossing[crossing.id]
        self.dates = {k: day + dt.timedelta(days=k) for k in (-2, -1, 0, 1, 2)}
        self.ymd = {k: f"{day + dt.timedelta(days=k):%Y%m%d}" for k in (-2, -1, 0, 1, 2)}
        self.dmy = {k: f"{day + dt.timedelta(days=k):%d%m%y}" for k in (-2, -1, 0, 1, 2)}

    # -- small helpers ------------------------------------------------------------------------

    def _next(self, kind: str, bucket: int) -> int:
        n = self.counters.get((kind, bucket), 0) + 1
        self.counters[(kind, bucket)] = n
        return n

    def _ri(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + int(self.rand() * (high - low + 1))

    def _lead(self, mean_hours: float, cap_hours: int) -> int:
        """How long before something a document was lodged: exponential, capped."""
        return min(int(-mean_hours * _HOUR * math.log(1.0 - self.rand())), cap_hours * _HOUR)

    def _kz_fit(self, s: int) -> int:
        """:func:`_fit` to the Kazakh post's hours in the offset of the instant it lands on."""
        if s >= self.switch_s:
            return _fit(s, self.kz_hours_after)
        fitted = _fit(s, self.kz_hours_before)
        return fitted if fitted < self.switch_s else _fit(fitted, self.kz_hours_after)

    def _kz_opening_after(self, s: int) -> int:
        """The Kazakh post's next opening after ``s`` (a post open 24 h is open at ``s``)."""
        hours = self.kz_hours_after if s >= self.switch_s else self.kz_hours_before
        if hours is None:
            return s
        day = (s - hours[0]) // _DAY
        return hours[0] + (day + 1) * _DAY

    def _at(self, s: int) -> dt.datetime:
        # From the epoch in one C call: half the cost of ``base + timedelta(seconds=s)``, same value.
        return _from_timestamp(self.base_ts + s, _UTC)

    # -- the day ------------------------------------------------------------------------------

    def build(self) -> list[Trip]:
        rng = self.rng
        share = self.crossing.trucks_per_day / _FULL_VOLUME
        mean = self.params.volume * share * _WEEKDAY_FACTOR[self.day.weekday()]
        count = max(0, round(rng.gauss(mean, max(0.5, mean**0.5 * 1.2))))
        assert self.cn_hours is not None  # every Chinese post closes at night
        opens, closes = self.cn_hours[0], self.cn_hours[1] - 20 * _MIN
        anchors = sorted(opens + int(self.rand() * (closes - opens)) for _ in range(count))
        trips = []
        for index, anchor in enumerate(anchors, start=1):
            trip = self._trip(index, anchor)
            if trip is not None:
                trips.append(trip)
        return trips

    def _trip(self, index: int, anchor: int) -> Trip | None:
        rand = self.rand
        crossing = self.crossing
        pools = self.pools
        export = rand() < crossing.share_cn_to_kz
        home = self.home if rand() < 0.85 else pools.trucks
        entry = home[int(rand() * len(home))]
        driver = entry.driver if rand() < 0.8 else entry.crew[int(rand() * len(entry.crew))]
        if export:
            shipper = _pick(pools.cn_exporters, pools.cn_exporter_weights, rand())
            consignee = _pick(pools.kz_importers, pools.kz_importer_weights, rand())
        else:
            shipper = _pick(pools.kz_exporters, pools.kz_exporter_weights, rand())
            consignee = _pick(pools.cn_importers, pools.cn_importer_weights, rand())
        one_side = rand() < 0.01
        seen_cn = seen_kz = True
        if one_side:
            seen_cn = rand() < 0.5
            seen_kz = not seen_cn
        r = rand()
        corridor = "GREEN" if r < 0.78 else "YELLOW" if r < 0.98 else "RED"

        plan = self._export_plan(anchor, corridor) if export else self._import_plan(anchor, corridor)
        ids = self._ids(index, export, seen_cn, seen_kz, plan)
        inspections = self._inspections(export, seen_cn, seen_kz, corridor, plan, ids.kz_pi_number)

        invoice_currency = "USD" if rand() < 0.7 else "CNY"
        cn_currency = "CNY" if rand() < 0.85 else "USD"
        long_codes = rand() < 0.35
        flaws: list[Flaw] = []
        undervalue = export and not one_side and rand() < 0.125
        hs_mismatch = not one_side and rand() < 0.02
        mass_mismatch = not one_side and rand() < 0.02
        direction = Direction.CN_TO_KZ if export else Direction.KZ_TO_CN
        items = self._items(
            direction,
            invoice_currency,
            cn_currency,
            long_codes,
            ids.pi_day,
            undervalue,
            hs_mismatch,
            mass_mismatch,
            flaws,
        )
        if one_side:
            flaws.append(Flaw(FlawKind.ONE_SIDE_ONLY, f"only {'China' if seen_cn else 'Kazakhstan'} has a record"))
        containers, seals = self._containers(export)
        written = self._written(entry)

        # The as-of cut-off: everything above was drawn whatever the snapshot instant.
        as_of_s = self.as_of_s
        events = [e for e in plan.events if (e[2] is Side.CN and seen_cn) or (e[2] is Side.KZ and seen_kz)]
        events.sort(key=_first)
        if events[0][0] > as_of_s:
            return None
        kept = tuple(_new_event(kind, self._at(s), office) for s, kind, _side, office in events if s <= as_of_s)
        cn_batch_no = ids.cn_batch_no if plan.cn_first <= as_of_s else None
        kz_pi_number = ids.kz_pi_number if plan.kz_first <= as_of_s else None
        cn_side = cn_batch_no is not None
        kz_side = kz_pi_number is not None
        cutoff = self.params.cutoff
        # Positional, in field order (see customs_sim.fastinit).
        return _new_trip(
            ids.trip_id,  # trip_id
            crossing.id,  # crossing
            direction,  # direction
            self.day,  # day
            entry.truck,  # truck
            entry.trailer,  # trailer
            written[0] if cn_side else None,  # cn_truck_plate_written
            written[1] if kz_side else None,  # kz_truck_plate_written
            written[2] if cn_side else None,  # cn_trailer_plate_written
            written[3] if kz_side else None,  # kz_trailer_plate_written
            driver,  # driver
            entry.carrier,  # carrier
            shipper,  # shipper
            consignee,  # consignee
            items,  # items
            containers,  # containers
            seals,  # seals
            invoice_currency,  # invoice_currency
            cn_currency,  # cn_currency
            _BOTH if seen_cn and seen_kz else _CN_ONLY if seen_cn else _KZ_ONLY,  # seen_by
            cn_batch_no,  # cn_batch_no
            kz_pi_number,  # kz_pi_number
            ids.common_id,  # common_id
            corridor if kz_side and plan.assessed <= as_of_s else None,  # kz_corridor
            kept,  # events
            tuple(i for i in inspections if i.finished_at <= cutoff),  # inspections
            len(kept) < len(events),  # in_transit
            tuple(flaws),  # flaws
        )

    # -- timelines ----------------------------------------------------------------------------

    def _export_plan(self, exit_s: int, corridor: str) -> _Plan:
        """China -> Kazakhstan: CN checks before the exit, KZ controls after the arrival."""
        ri = self._ri
        cn_checks = _cn_checks(self.rand, export=True)
        t = exit_s - ri(5, 20) * _MIN
        cn_times = []
        for kind, minutes in reversed(cn_checks):
            start = t - minutes * _MIN
            cn_times.append((kind, start, t))
            t = start - ri(2, 15) * _MIN
        cn_times.reverse()
        decl_s = t - _HOUR - self._lead(5, 22)
        arrive_s = self._kz_fit(exit_s + ri(20, 90) * _MIN)
        pi_s = arrive_s - 2 * _HOUR - self._lead(6, 22)
        t = arrive_s + ri(5, 30) * _MIN
        kz_times = []
        for kind, minutes in _kz_plan(self.rand, corridor, kz_export=False):
            start = self._kz_fit(t)
            kz_times.append((kind, start, start + minutes * _MIN))
            t = start + minutes * _MIN + ri(3, 20) * _MIN
        if corridor == "GREEN":
            release_s = arrive_s + ri(15, 60) * _MIN
        elif corridor == "YELLOW":
            release_s = max(t, arrive_s + ri(30, 90) * _MIN)
        else:
            release_s = max(t, arrive_s + ri(3 * 60, 10 * 60) * _MIN)
        release_s = self._kz_fit(release_s)
        cn, kz = self.crossing.cn.code, self.crossing.kz.code
        events = [
            (decl_s, EventKind.CN_DECLARED, Side.CN, cn),
            (exit_s, EventKind.CN_EXITED, Side.CN, cn),
            (pi_s, EventKind.KZ_PI_SUBMITTED, Side.KZ, kz),
            (arrive_s, EventKind.KZ_ARRIVED, Side.KZ, kz),
            (release_s, EventKind.KZ_RELEASED, Side.KZ, kz),
        ]
        return _Plan(events, cn_times, kz_times, decl_s, pi_s, arrive_s)

    def _import_plan(self, arrive_s: int, corridor: str) -> _Plan:
        """Kazakhstan -> China: KZ controls before the exit, CN checks after the arrival."""
        ri = self._ri
        kz_plan = _kz_plan(self.rand, corridor, kz_export=True)
        needed = sum(m for _, m in kz_plan) * _MIN + len(kz_plan) * 15 * _MIN
        exit_s = arrive_s - ri(20, 90) * _MIN
        first_kz = exit_s - needed - ri(10, 40) * _MIN
        if self._kz_fit(first_kz) != first_kz:  # the Kazakh post was still closed: the truck waited
            shift = self._kz_opening_after(first_kz) + ri(0, 20) * _MIN - first_kz
            first_kz, exit_s, arrive_s = first_kz + shift, exit_s + shift, arrive_s + shift
        t = first_kz
        kz_times = []
        for kind, minutes in kz_plan:
            kz_times.append((kind, t, t + minutes * _MIN))
            t += minutes * _MIN + ri(3, 15) * _MIN
        pi_s = first_kz - _HOUR - self._lead(5, 20)
        decl_s = arrive_s - _HOUR - self._lead(5, 20)
        t = arrive_s + ri(10, 40) * _MIN
        cn_times = []
        for kind, minutes in _cn_checks(self.rand, export=False):
            start = _fit(t, self.cn_hours)
            cn_times.append((kind, start, start + minutes * _MIN))
            t = start + minutes * _MIN + ri(5, 30) * _MIN
        release_s = _fit(max(t, arrive_s + ri(30, 180) * _MIN), self.cn_hours)
        cn, kz = self.crossing.cn.code, self.crossing.kz.code
        events = [
            (pi_s, EventKind.KZ_PI_SUBMITTED, Side.KZ, kz),
            (exit_s, EventKind.KZ_EXITED, Side.KZ, kz),
            (decl_s, EventKind.CN_DECLARED, Side.CN, cn),
            (arrive_s, EventKind.CN_ARRIVED, Side.CN, cn),
            (release_s, EventKind.CN_RELEASED, Side.CN, cn),
        ]
        return _Plan(events, cn_times, kz_times, decl_s, pi_s, pi_s)

    # -- identifiers and inspections ----------------------------------------------------------

    def _ids(self, index: int, export: bool, seen_cn: bool, seen_kz: bool, plan: _Plan) -> _Ids:
        crossing = self.crossing
        cn_batch_no = kz_pi_number = None
        pi_day = self.day
        if seen_cn:
            k = (plan.cn_first + _CN_OFFSET) // _DAY
            flag = "E" if export else "I"
            seq = (0 if k == 0 else 50_000) + self._next(flag, k)
            cn_batch_no = f"{crossing.cn.code}{flag}{self.ymd[k]}{seq:05d}"
        if seen_kz:
            pi_s = plan.kz_first
            k = (pi_s + (5 * _HOUR if pi_s >= self.switch_s else 6 * _HOUR)) // _DAY
            seq = (0 if k == 0 else 500_000) + self._next("PI", k)
            kz_pi_number = f"{crossing.kz.code}-{self.dmy[k]}-{seq:07d}"
            pi_day = self.dates[k]
        common_id = None
        if crossing.phase >= 1:
            common_id = f"CKM-{crossing.id}-{self.ymd[0]}-{self._next('CKM', 0):05d}"
        return _Ids(f"T{self.ymd[0]}-{crossing.id}-{index:04d}", cn_batch_no, kz_pi_number, common_id, pi_day)

    def _inspections(
        self, export: bool, seen_cn: bool, seen_kz: bool, corridor: str, plan: _Plan, kz_pi_number: str | None
    ) -> list[Inspection]:
        """China's checks, then Kazakhstan's controls (possibly recognizing China's scan)."""
        rand = self.rand
        at = self._at
        out: list[Inspection] = []
        scan_id: str | None = None
        scan_result = InspectionResult.NORMAL
        abnormal_scan = False
        cn_code, kz_code = self.crossing.cn.code, self.crossing.kz.code
        if seen_cn:
            for kind, start, end in plan.cn_times:
                bad = rand() < (0.25 if abnormal_scan else 0.03)
                result = InspectionResult.ABNORMAL if bad else InspectionResult.NORMAL
                k = (start + _CN_OFFSET) // _DAY
                seq = _CI_BASE[k] + self._next("CI", k)
                ins_id = f"CI{cn_code}{self.ymd[k]}{seq:07d}"
                if kind is InspectionKind.H986_SCAN:
                    scan_id, scan_result, abnormal_scan = ins_id, result, bad
                notes = _CN_NOTES[(kind, result)]
                out.append(
                    _new_inspection(
                        ins_id, Side.CN, kind, at(start), at(end), result, cn_code, notes[int(rand() * len(notes))]
                    )
                )
        if seen_kz and plan.kz_times:
            assert kz_pi_number is not None
            violation = rand() < (0.15 if corridor == "RED" else 0.03)
            bad_kind = InspectionKind.EXAMINATION if corridor == "RED" else InspectionKind.DOCUMENT_CHECK
            prefix = f"{kz_pi_number[: kz_pi_number.rindex('-')]}-K{kz_pi_number[-6:]}-"
            recognizes = self.crossing.phase >= 2 and export and scan_id is not None
            for ordinal, (kind, start, end) in enumerate(plan.kz_times, start=1):
                if recognizes and kind is InspectionKind.XRAY and rand() < 0.6:
                    out.append(
                        _new_inspection(
                            f"{prefix}{ordinal}",
                            Side.KZ,
                            kind,
                            at(start),
                            at(start + self._ri(2, 8) * _MIN),
                            scan_result,
                            kz_code,
                            _RECOGNIZED_NOTE,
                            scan_id,
                        )
                    )
                    continue
                result = InspectionResult.ABNORMAL if violation and kind is bad_kind else InspectionResult.NORMAL
                notes = _KZ_NOTES[(kind, result)]
                out.append(
                    _new_inspection(
                        f"{prefix}{ordinal}",
                        Side.KZ,
                        kind,
                        at(start),
                        at(end),
                        result,
                        kz_code,
                        notes[int(rand() * len(notes))],
                    )
                )
        return out

    # -- cargo --------------------------------------------------------------------------------

    def _containers(self, export: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """~30% of trucks carry 1 or 2 containers; the exporting side seals the cargo."""
        rand = self.rand
        containers: tuple[str, ...] = ()
        if rand() < 0.3:
            containers = tuple(make_number(self.rng) for _ in range(1 if rand() < 0.7 else 2))
        n_seals = len(containers) or (1 if rand() < 0.6 else 0)
        code = f"CN{self.crossing.cn.code}" if export else f"KZ{self.crossing.kz.code[-4:]}"
        return containers, tuple(f"{code}{int(rand() * 10**7):07d}" for _ in range(n_seals))

    def _written(self, entry: TruckEntry) -> tuple[str, str, str | None, str | None]:
        rng = self.rng
        truck, trailer = entry.truck, entry.trailer
        truck_cn = truck.country is Side.CN
        cn_truck = written_by_cn(rng, truck.plate, truck_cn)
        kz_truck = written_by_kz(rng, truck.plate, truck_cn)
        if trailer is None:
            return cn_truck, kz_truck, None, None
        trailer_cn = trailer.country is Side.CN
        return (
            cn_truck,
            kz_truck,
            written_by_cn(rng, trailer.plate, trailer_cn),
            written_by_kz(rng, trailer.plate, trailer_cn),
        )

    def _items(
        self,
        direction: Direction,
        invoice_currency: str,
        cn_currency: str,
        long_codes: bool,
        pi_day: dt.date,
        undervalue: bool,
        hs_mismatch: bool,
        mass_mismatch: bool,
        flaws: list[Flaw],
    ) -> tuple[GoodsItem, ...]:
        rng = self.rng
        lines = draw_goods(rng, direction)
        day = self.day
        if cn_currency == "USD":
            cn_values = [Decimal(line.usd_cents) * _CENT for line in lines]
        else:
            cn_values = [convert(Decimal(line.usd_cents) * _CENT, day, "USD", "CNY") for line in lines]
        fair = [convert(v, pi_day, cn_currency, invoice_currency) for v in cn_values]
        kz_values = fair
        if undervalue:
            factor = Decimal(f"{1 - rng.uniform(0.20, 0.70):.6f}")
            kz_values = [(v * factor).quantize(_CENT, ROUND_HALF_UP) for v in fair]
            total_fair = sum(fair, Decimal(0))
            ratio = (sum(kz_values, Decimal(0)) / total_fair).quantize(_RATIO) if total_fair else Decimal(0)
            flaws.append(Flaw(FlawKind.UNDERVALUATION, f"kz value {(1 - ratio) * 100:.1f}% below cn", None, ratio))
        kz_gross = [line.gross_g for line in lines]
        if mass_mismatch:
            delta = rng.uniform(0.06, 0.25)
            down = rng.random() < 0.5
            if down and any(round(g * (1 - delta)) <= line.net_g for g, line in zip(kz_gross, lines, strict=True)):
                down = False  # Kazakhstan cannot record a gross below the net mass
            factor_f = 1 - delta if down else 1 + delta
            kz_gross = [round(g * factor_f) for g in kz_gross]
            ratio = (Decimal(sum(kz_gross)) / Decimal(sum(line.gross_g for line in lines))).quantize(_RATIO)
            flaws.append(Flaw(FlawKind.MASS_MISMATCH, f"kz gross mass {ratio} of cn", None, ratio))
        wrong_line = int(rng.random() * len(lines)) if hs_mismatch else -1
        items = []
        for i, line in enumerate(lines):
            product = line.product
            kz_code = product.kz_code
            if i == wrong_line:
                kz_code = product.misclassified_as[1]
                flaws.append(Flaw(FlawKind.HS_MISMATCH, f"item {i + 1}: {product.hs6} vs {kz_code[:6]}", i + 1))
            items.append(
                _new_item(
                    i + 1,
                    product.hs6,
                    product.cn_code + product.cn_ciq if long_codes else product.cn_code,
                    kz_code,
                    product.description_zh,
                    product.description_ru,
                    product.description_en,
                    line.packages,
                    product.package_kind,
                    Decimal(line.net_g) * _GRAM,
                    Decimal(line.gross_g) * _GRAM,
                    Decimal(kz_gross[i]) * _GRAM,
                    cn_values[i],
                    kz_values[i],
                )
            )
        return tuple(items)


# The model's frozen dataclasses made at half the cost of their __init__ (see customs_sim.fastinit).
_new_trip = constructor(Trip)
_new_item = constructor(GoodsItem)
_new_event = constructor(TripEvent)
_new_inspection = constructor(Inspection)

_BOTH = frozenset((Side.CN, Side.KZ))
_CN_ONLY = frozenset((Side.CN,))
_KZ_ONLY = frozenset((Side.KZ,))
# A Chinese inspection dated the day after (or before) its trip's day numbers from its own range.
_CI_BASE = {0: 0, 1: 5_000_000, 2: 7_000_000, -1: 8_000_000}

_Event = tuple[int, EventKind, Side, str]
_Timed = tuple[InspectionKind, int, int]


def _first(event: _Event) -> int:
    return event[0]


def _pick(companies: tuple[Company, ...], cum_weights: tuple[float, ...], u: float) -> Company:
    return companies[bisect(cum_weights, u * cum_weights[-1])]


class _Plan(NamedTuple):
    """A trip's full timeline before the cut-off, in seconds after its day's 00:00 UTC."""

    events: list[_Event]
    cn_times: list[_Timed]
    kz_times: list[_Timed]
    cn_first: int  # CN_DECLARED: China's first record
    kz_first: int  # KZ_PI_SUBMITTED: Kazakhstan's first record
    assessed: int  # when Kazakhstan's risk system assigns the corridor


class _Ids(NamedTuple):
    trip_id: str
    cn_batch_no: str | None
    kz_pi_number: str | None
    common_id: str | None
    pi_day: dt.date  # the Kazakh local date of registration: the day of the rate KGD applies


def _cn_checks(draw: Callable[[], float], *, export: bool) -> list[tuple[InspectionKind, int]]:
    """China's checks with their minutes: H986 on ~35% of exports / ~60% of imports, manual
    inspection on ~6% (far more after a scan the officer did not like), opening on ~2%."""
    checks: list[tuple[InspectionKind, int]] = []
    if draw() < (0.35 if export else 0.60):
        checks.append((InspectionKind.H986_SCAN, 3 + int(draw() * 10)))
    if draw() < 0.06:
        checks.append((InspectionKind.MANUAL, 30 + int(draw() * 90)))
    if draw() < 0.02:
        checks.append((InspectionKind.OPENING, 20 + int(draw() * 70)))
    return checks


def _kz_plan(draw: Callable[[], float], corridor: str, *, kz_export: bool) -> list[tuple[InspectionKind, int]]:
    """Kazakhstan's forms of control by corridor, with minutes each (an export examination is
    shorter: the truck must still reach the Chinese post the same day)."""
    if corridor == "GREEN":
        return []
    if corridor == "YELLOW":
        plan = [(InspectionKind.DOCUMENT_CHECK, 20 + int(draw() * 70))]
        if draw() < 0.3:
            plan.append((InspectionKind.XRAY, 10 + int(draw() * 20)))
        return plan
    exam = 60 + int(draw() * (90 if kz_export else 240))
    plan = [(InspectionKind.XRAY, 10 + int(draw() * 25)), (InspectionKind.EXAMINATION, exam)]
    if draw() < 0.5:
        plan.append((InspectionKind.WEIGHING, 15 + int(draw() * 15)))
    return plan
