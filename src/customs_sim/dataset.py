"""Build (or reuse) a dataset: the three SQLite databases of one :class:`DatasetParams`.

Generated trips feed three writers: the ground truth (``truth.sqlite``, written here), China's
store and Kazakhstan's store (each renders its own view and ignores the trips its side did not see).
The days are built in shards on every core and merged (:mod:`customs_sim.shards`); each process
holds one day's trips at a time.

Caching. A dataset lives in ``<cache_dir>/<params.cache_key()>/``. It is built in a private
sibling directory and renamed into place when complete, so a reader never sees a half-built
dataset and two concurrent builders of the same key just race to an identical result.

:class:`GroundTruth` reads ``truth.sqlite`` back as :class:`~customs_sim.model.Trip` objects for
tests and the ``customs-sim truth`` command.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import random
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from customs_sim.china.store import ChinaStoreWriter
from customs_sim.generator import GENERATOR_VERSION, DatasetParams
from customs_sim.kazakhstan.store import KazakhstanStoreWriter
from customs_sim.model import Trip
from customs_sim.rates import CURRENCIES, nbk_rate
from customs_sim.shards import (
    ALL_PARTS,
    PARALLEL_MIN_TRIPS,
    Part,
    build_in_shards,
    default_workers,
    expected_trips,
)
from customs_sim.sqlitebuild import connect_for_build
from customs_sim.truthjson import from_json, to_json

__all__ = [
    "CHINA_DB",
    "KAZAKHSTAN_DB",
    "TRUTH_DB",
    "DatasetFiles",
    "GroundTruth",
    "TruthWriter",
    "build_dataset",
    "build_truth",
    "default_cache_dir",
    "rate_rows",
]

CHINA_DB = "china.sqlite"
KAZAKHSTAN_DB = "kazakhstan.sqlite"
TRUTH_DB = "truth.sqlite"
#: What the simulators serve from, and so what a dataset build waits for.
AUTHORITY_PARTS: tuple[Part, ...] = ("china", "kazakhstan")

# trip_id is unique by an index created after the bulk insert, not a PRIMARY KEY maintained row by
# row: a merge then copies a shard's records without decoding them (see customs_sim.shards).
_TRUTH_SCHEMA = """
CREATE TABLE trips (
    trip_id TEXT NOT NULL, day TEXT NOT NULL, crossing TEXT NOT NULL, direction TEXT NOT NULL,
    cn_batch_no TEXT, kz_pi_number TEXT, common_id TEXT, doc TEXT NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TRUTH_INDEXES = """
CREATE UNIQUE INDEX trips_pk ON trips (trip_id);
CREATE INDEX trips_by_batch ON trips (cn_batch_no) WHERE cn_batch_no IS NOT NULL;
CREATE INDEX trips_by_pi ON trips (kz_pi_number) WHERE kz_pi_number IS NOT NULL;
CREATE INDEX trips_by_common ON trips (common_id) WHERE common_id IS NOT NULL;
CREATE INDEX trips_by_day ON trips (day, crossing, direction);
"""
# Rows per executemany: 1,000 kilobyte documents keep a build worker's heap ~100 MiB smaller than
# 5,000 did (freed large buffers fragment the heap), at no measurable cost per row.
_CHUNK = 1_000


def default_cache_dir() -> Path:
    """``$CUSTOMS_SIM_CACHE``, else ``~/.cache/customs-sim``."""
    configured = os.environ.get("CUSTOMS_SIM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "customs-sim"


@dataclass(frozen=True, slots=True)
class DatasetFiles:
    china_db: Path
    kazakhstan_db: Path
    truth_db: Path
    params: DatasetParams

    @classmethod
    def in_dir(cls, directory: Path, params: DatasetParams) -> DatasetFiles:
        return cls(directory / CHINA_DB, directory / KAZAKHSTAN_DB, directory / TRUTH_DB, params)

    def exist(self) -> bool:
        """The simulators' two databases are built (the truth store comes on first use)."""
        return self.china_db.is_file() and self.kazakhstan_db.is_file()


def rate_rows(params: DatasetParams) -> Iterator[tuple[dt.date, str, Decimal]]:
    """National Bank rates from 31 days before ``start`` to the day after ``end``, every currency."""
    day = params.start - dt.timedelta(days=31)
    last = params.end + dt.timedelta(days=1)
    while day <= last:
        for currency in CURRENCIES:
            yield day, currency, nbk_rate(day, currency)
        day += dt.timedelta(days=1)


class TruthWriter:
    """Writes ``truth.sqlite``: one row per trip with its ids and its exact JSON (see truthjson)."""

    def __init__(self, path: Path, params: DatasetParams, *, indexes: bool = True) -> None:
        self._indexes = indexes  # a shard skips them: the merged database gets them once
        # No journal, no fsync, 16 KiB pages: see customs_sim.sqlitebuild.
        self._conn = connect_for_build(path)
        self._conn.executescript(_TRUTH_SCHEMA)
        meta = {
            "generator_version": GENERATOR_VERSION,
            "seed": str(params.seed),
            "start": params.start.isoformat(),
            "end": params.end.isoformat(),
            "trucks_per_day": str(params.trucks_per_day),
            "as_of": params.cutoff.isoformat(),
        }
        self._conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self._rows: list[tuple[str | bytes | None, ...]] = []

    def add(self, trip: Trip) -> None:
        self._rows.append(
            (
                trip.trip_id,
                trip.day.isoformat(),
                trip.crossing,
                trip.direction.value,
                trip.cn_batch_no,
                trip.kz_pi_number,
                trip.common_id,
                to_json(trip),
            )
        )
        if len(self._rows) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        # The document is bound as the UTF-8 bytes orjson wrote and stored as TEXT by the CAST (a
        # type change, no transcoding): binding a str would decode it here and re-encode it in sqlite3.
        self._conn.executemany("INSERT INTO trips VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT))", self._rows)
        self._rows.clear()

    def close(self) -> None:
        self._flush()
        if self._indexes:
            self._conn.executescript(_TRUTH_INDEXES)
        self._conn.commit()
        self._conn.close()

    def abort(self) -> None:
        self._conn.close()


def build_dataset(
    params: DatasetParams,
    cache_dir: Path | None = None,
    progress: bool = False,
    *,
    workers: int | None = None,
    truth: bool = False,
) -> DatasetFiles:
    """The dataset of ``params`` under ``cache_dir`` (default :func:`default_cache_dir`), its two
    authorities' databases built first unless complete ones are already there.

    The ground-truth store is left for its first use (:class:`GroundTruth`, :func:`build_truth`):
    the simulators never read it, and generating it with them made every demo start wait for it.
    ``truth=True`` builds it too, in the same pass when nothing is cached yet (a caller that knows
    it will read the truth saves generating the trips twice). ``workers`` processes build it
    (default: one per core, at most 4; a small dataset is built in this process); the databases
    hold the same rows in the same order whatever their number.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = root / params.cache_key()
    files = DatasetFiles.in_dir(final, params)
    if not files.exist():
        root.mkdir(parents=True, exist_ok=True)
        work = root / f"{final.name}.building-{os.getpid()}-{random.getrandbits(32):08x}"
        work.mkdir()
        try:
            built = DatasetFiles.in_dir(work, params)
            _write(params, built, progress, workers, ALL_PARTS if truth else AUTHORITY_PARTS)
            try:
                os.rename(work, final)
            except OSError:
                # Someone else finished the same dataset first (or left a broken directory behind).
                if not files.exist():
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(work, final)
                elif truth:
                    with _truth_lock(final):
                        if not files.truth_db.is_file():
                            os.rename(built.truth_db, files.truth_db)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if truth:
        build_truth(files, progress=progress, workers=workers)
    return files


def build_truth(files: DatasetFiles, *, progress: bool = False, workers: int | None = None) -> Path:
    """``truth.sqlite`` of a built dataset, generated first (from the seed, the same bytes as a
    one-pass build) unless it is already there.

    One process at a time builds it, under an exclusive lock on ``truth.lock`` in the dataset's
    directory; the others wait and then find it done. It is written in a private directory and
    renamed into place, so a reader never opens a half-written store, and a crashed build leaves
    only a directory the next builder removes.
    """
    if files.truth_db.is_file():
        return files.truth_db
    directory = files.truth_db.parent
    if not directory.is_dir():
        raise FileNotFoundError(directory)
    with _truth_lock(directory):
        if files.truth_db.is_file():  # built while this process waited for the lock
            return files.truth_db
        for stale in directory.glob("truth.building-*"):  # only a lock holder writes there
            shutil.rmtree(stale, ignore_errors=True)
        work = directory / f"truth.building-{os.getpid()}-{random.getrandbits(32):08x}"
        work.mkdir()
        try:
            built = DatasetFiles.in_dir(work, files.params)
            _write(files.params, built, progress, workers, ("truth",))
            os.rename(built.truth_db, files.truth_db)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return files.truth_db


@contextlib.contextmanager
def _truth_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock between processes (and threads: each opens its own file) on ``truth.lock``."""
    with open(directory / "truth.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(
    params: DatasetParams, files: DatasetFiles, progress: bool, workers: int | None, parts: tuple[Part, ...]
) -> None:
    """The databases of ``parts``: each writer's build of zero trips, filled from day shards (see shards)."""
    if workers is None:
        workers = default_workers() if expected_trips(params) >= PARALLEL_MIN_TRIPS else 1
    bases: list[tuple[Part, Path]] = []
    if "truth" in parts:
        TruthWriter(files.truth_db, params).close()
        bases.append(("truth", files.truth_db))
    if "china" in parts:
        ChinaStoreWriter(files.china_db).close()
        bases.append(("china", files.china_db))
    if "kazakhstan" in parts:
        with KazakhstanStoreWriter(files.kazakhstan_db) as kazakhstan:
            kazakhstan.add_rates(rate_rows(params))
        bases.append(("kazakhstan", files.kazakhstan_db))
    bar = None
    if progress:
        from tqdm import tqdm  # only when asked: tests and servers never draw bars

        total = (params.end - params.start).days + 1
        label = "customs-sim ground truth" if parts == ("truth",) else "customs-sim dataset"
        bar = tqdm(total=total, unit="day", desc=label)
    shard_dir = files.truth_db.parent / "shards"
    shard_dir.mkdir()
    try:
        build_in_shards(params, bases, shard_dir, workers, None if bar is None else _ticker(bar))
        if bar is not None:  # the days after the snapshot, which hold no trip
            bar.update(total - bar.n)
    finally:
        shutil.rmtree(shard_dir, ignore_errors=True)
        if bar is not None:
            bar.close()


def _ticker(bar: Any) -> Callable[[dt.date], None]:
    def tick(day: dt.date) -> None:
        bar.update(1)
        bar.set_postfix_str(day.isoformat(), refresh=False)

    return tick


class GroundTruth:
    """Read-only access to a dataset's ground truth, as :class:`Trip` objects.

    Opened on a :class:`DatasetFiles`, it builds the truth store first if this is its first use
    (see :func:`build_truth`); opened on a path, the file must exist.
    """

    def __init__(self, source: DatasetFiles | Path) -> None:
        path = build_truth(source) if isinstance(source, DatasetFiles) else Path(source)
        if not path.is_file():
            raise FileNotFoundError(path)
        self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> GroundTruth:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _one(self, column: str, value: str) -> Trip | None:
        # ``column`` is one of our own column names, never user input.
        row = self._conn.execute(f"SELECT doc FROM trips WHERE {column} = ?", (value,)).fetchone()  # noqa: S608
        return None if row is None else from_json(row[0])

    def trips(self) -> Iterator[Trip]:
        """Every trip in generation order (day, crossing, trip id)."""
        cursor = self._conn.execute("SELECT doc FROM trips ORDER BY rowid")
        for (doc,) in cursor:
            yield from_json(doc)

    def get(self, trip_id: str) -> Trip | None:
        return self._one("trip_id", trip_id)

    def by_cn_batch_no(self, batch_no: str) -> Trip | None:
        return self._one("cn_batch_no", batch_no)

    def by_kz_pi_number(self, pi_number: str) -> Trip | None:
        return self._one("kz_pi_number", pi_number)

    def by_common_id(self, common_id: str) -> Trip | None:
        return self._one("common_id", common_id)

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM trips").fetchone()[0])

    def sample(self, n: int, seed: int = 0) -> list[Trip]:
        """``n`` distinct trips drawn with ``Random(seed)`` (all of them when there are fewer)."""
        total = self.count()
        rowids = random.Random(seed).sample(range(1, total + 1), min(n, total))
        return [self._by_rowid(rowid) for rowid in rowids]

    def _by_rowid(self, rowid: int) -> Trip:
        row = self._conn.execute("SELECT doc FROM trips WHERE rowid = ?", (rowid,)).fetchone()
        return from_json(row[0])

    def meta(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def ids(self) -> Iterable[tuple[str, str | None, str | None, str | None]]:
        """(trip_id, cn_batch_no, kz_pi_number, common_id) of every trip, cheaply (no JSON)."""
        return self._conn.execute("SELECT trip_id, cn_batch_no, kz_pi_number, common_id FROM trips ORDER BY rowid")
