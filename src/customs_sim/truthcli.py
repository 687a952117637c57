"""``customs-sim truth``: print ground-truth trips as JSON lines (one :func:`to_json` object a line).

Streams straight from the generator (deterministic, so it agrees with any dataset built from the
same parameters); a lookup by an authority's id (``--batch-no``, ``--pi-number``, ``--common-id``,
``--trip-id``) goes through the dataset's truth database instead, building it first if needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from customs_sim.dataset import GroundTruth, build_dataset
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.model import Direction, FlawKind, Trip
from customs_sim.truthjson import to_json

__all__ = ["TruthFilters", "print_truth", "truth_command"]


@dataclass(frozen=True, slots=True)
class TruthFilters:
    """Which trips to print; every set field must match."""

    crossing: str | None = None
    direction: Direction | None = None
    day: dt.date | None = None
    flaw: FlawKind | None = None
    in_transit: bool | None = None

    def match(self, trip: Trip) -> bool:
        return (
            (self.crossing is None or trip.crossing == self.crossing)
            and (self.direction is None or trip.direction is self.direction)
            and (self.day is None or trip.day == self.day)
            and (self.flaw is None or trip.has_flaw(self.flaw))
            and (self.in_transit is None or trip.in_transit is self.in_transit)
        )


def print_truth(
    params: DatasetParams, out: TextIO, limit: int | None = None, filters: TruthFilters | None = None
) -> int:
    """Write the matching trips of ``params`` to ``out`` as JSON lines; returns how many."""
    wanted = filters or TruthFilters()
    printed = 0
    for trip in _matching(params, wanted):
        if limit is not None and printed >= limit:
            break
        out.write(to_json(trip).decode())
        out.write("\n")
        printed += 1
    return printed


def _matching(params: DatasetParams, wanted: TruthFilters) -> Iterator[Trip]:
    if wanted.day is not None:
        if not params.start <= wanted.day <= params.end:
            return
        # Only that day needs generating: days are independent.
        params = DatasetParams(
            seed=params.seed, start=wanted.day, end=wanted.day, trucks_per_day=params.trucks_per_day, as_of=params.as_of
        )
    yield from (trip for trip in generate_trips(params) if wanted.match(trip))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customs-sim truth", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=dt.date.fromisoformat, help="first day (default: 89 days before --end)")
    parser.add_argument("--end", type=dt.date.fromisoformat, help="last day, inclusive (default: today, UTC)")
    parser.add_argument("--trucks-per-day", type=int, help="mean over all crossings (default: full volume)")
    parser.add_argument("--as-of", type=dt.datetime.fromisoformat, help="snapshot instant, with an offset")
    parser.add_argument("--crossing")
    parser.add_argument("--direction", choices=[d.value for d in Direction])
    parser.add_argument("--day", type=dt.date.fromisoformat)
    parser.add_argument("--flaw", choices=[f.value for f in FlawKind])
    parser.add_argument("--in-transit", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--limit", type=int, default=20, help="at most this many lines (0: no limit)")
    parser.add_argument("--trip-id")
    parser.add_argument("--batch-no", help="a Chinese batchNo")
    parser.add_argument("--pi-number", help="a Kazakh PINumber")
    parser.add_argument("--common-id", help="a common manifest id")
    parser.add_argument(
        "--cache-dir", type=Path, help="dataset cache (default: $CUSTOMS_SIM_CACHE or ~/.cache/customs-sim)"
    )
    return parser


def _params(ns: argparse.Namespace) -> DatasetParams:
    now = dt.datetime.now(dt.UTC)
    if ns.start is None and ns.end is None and ns.as_of is None:
        demo = DatasetParams.demo(now.date(), now, seed=ns.seed)
        return DatasetParams(
            seed=ns.seed, start=demo.start, end=demo.end, trucks_per_day=ns.trucks_per_day, as_of=demo.as_of
        )
    end = ns.end or now.date()
    start = ns.start or end - dt.timedelta(days=89)
    return DatasetParams(seed=ns.seed, start=start, end=end, trucks_per_day=ns.trucks_per_day, as_of=ns.as_of)


def truth_command(args: list[str], out: TextIO | None = None) -> int:
    """Entry point of ``customs-sim truth``; returns the process exit code (1: id not found)."""
    parser = _parser()
    ns = parser.parse_args(args)
    stream = out if out is not None else sys.stdout
    try:
        params = _params(ns)
    except ValueError as exc:
        parser.error(str(exc))
    lookups = {"trip_id": ns.trip_id, "batch_no": ns.batch_no, "pi_number": ns.pi_number, "common_id": ns.common_id}
    given = {key: value for key, value in lookups.items() if value}
    if given:
        with GroundTruth(build_dataset(params, ns.cache_dir, truth=True)) as truth:
            finders = {
                "trip_id": truth.get,
                "batch_no": truth.by_cn_batch_no,
                "pi_number": truth.by_kz_pi_number,
                "common_id": truth.by_common_id,
            }
            found = False
            for key, value in given.items():
                trip = finders[key](value)
                if trip is not None:
                    stream.write(to_json(trip).decode() + "\n")
                    found = True
            return 0 if found else 1
    filters = TruthFilters(
        crossing=ns.crossing.upper() if ns.crossing else None,
        direction=Direction(ns.direction) if ns.direction else None,
        day=ns.day,
        flaw=FlawKind(ns.flaw) if ns.flaw else None,
        in_transit=ns.in_transit,
    )
    print_truth(params, stream, ns.limit or None, filters)
    return 0
