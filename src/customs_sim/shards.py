"""A dataset built in day shards on every core, then merged into its three databases.

Sharding. The days that can hold trips are cut into chunks of :data:`CHUNK_DAYS` consecutive days
(a function of the parameters only, never of the number of processes). Each chunk is generated
and rendered into its own three shard databases, without indexes or statistics (the merged
databases create them once). Worker processes take chunks in order from a pool (``forkserver`` context,
else ``spawn``); with one worker the chunks are built in this process.

Merging. Each final database starts as its writer's output for zero trips (schema, reference rows
such as ports, checkpoints, rates and meta, indexes). Its indexes are dropped, the rows of every table
that the empty build left empty are appended from each shard in chunk order and in rowid order
(so rowids and row order are those of a one-pass build), then the indexes are created once and
``ANALYZE`` rerun if the writer ran it. Each database is merged by its own thread as the shards
come in, overlapping the generation (SQLite releases the GIL), and each shard is deleted once merged.
The result is the same rows, in the same order, whatever the number of workers; with the same
number of chunks (always) the files are the same too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import multiprocessing
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customs_sim.generator import DatasetParams, day_trips, last_day_with_trips
from customs_sim.people import build_pools
from customs_sim.reference import CROSSINGS

__all__ = ["CHUNK_DAYS", "Chunk", "Merge", "build_chunk", "build_in_shards", "chunks", "default_workers", "merge_into"]

#: Days per shard: small enough to balance two to four workers (the last chunk of a build may run
#: alone while the other workers idle: with 6 days the 90-day demo had 15 chunks on two workers, and
#: one core idled for a whole chunk), large enough that a shard's setup (three databases) stays a
#: small part of its cost.
CHUNK_DAYS = 3
#: Below this many expected trips a pool costs more (interpreter start, imports, pools) than it saves.
PARALLEL_MIN_TRIPS = 20_000

ProgressFn = Callable[[dt.date], None]


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    first: dt.date
    last: dt.date


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def chunks(params: DatasetParams) -> list[Chunk]:
    """The dataset's days that can hold trips, ``CHUNK_DAYS`` at a time, in order."""
    last = last_day_with_trips(params)
    out: list[Chunk] = []
    first = params.start
    while first <= last:
        end = min(last, first + dt.timedelta(days=CHUNK_DAYS - 1))
        out.append(Chunk(len(out), first, end))
        first = end + dt.timedelta(days=1)
    return out


def expected_trips(params: DatasetParams) -> float:
    days = max(0, (last_day_with_trips(params) - params.start).days + 1)
    return params.volume * days


@dataclass(frozen=True, slots=True)
class ShardFiles:
    truth_db: Path
    china_db: Path
    kazakhstan_db: Path


def shard_files(directory: Path, chunk: Chunk) -> ShardFiles:
    stem = f"shard-{chunk.index:04d}"
    return ShardFiles(
        directory / f"{stem}.truth.sqlite",
        directory / f"{stem}.china.sqlite",
        directory / f"{stem}.kazakhstan.sqlite",
    )


def build_chunk(params: DatasetParams, chunk: Chunk, directory: Path, progress: ProgressFn | None = None) -> int:
    """Generate and render one chunk into its three shard databases; the number of trips."""
    # Imported here: the writers pull in the authorities' renderers, which a worker needs anyway.
    from customs_sim.china.store import ChinaStoreWriter
    from customs_sim.dataset import TruthWriter
    from customs_sim.kazakhstan.store import KazakhstanStoreWriter

    files = shard_files(directory, chunk)
    pools = build_pools(params.seed)
    count = 0
    truth = TruthWriter(files.truth_db, params, indexes=False)
    with (
        ChinaStoreWriter(files.china_db, indexes=False) as china,
        KazakhstanStoreWriter(files.kazakhstan_db, indexes=False) as kazakhstan,
    ):
        try:
            day = chunk.first
            while day <= chunk.last:
                for crossing in CROSSINGS:
                    for trip in day_trips(params, day, crossing, pools):
                        truth.add(trip)
                        china.add(trip)
                        kazakhstan.add(trip)
                        count += 1
                if progress is not None:
                    progress(day)
                day += dt.timedelta(days=1)
        except BaseException:
            truth.abort()
            raise
        truth.close()
    return count


_progress_queue: Any = None


#: The collector's first-generation threshold while trips are built (CPython's default: 700).
#: A build allocates millions of short-lived container objects (trips, their dicts and tuples) and
#: keeps almost none: the default ran a collection every few trips, ~10 % of a worker's CPU.
GC_THRESHOLD = 50_000


def _init_worker(progress_queue: Any, seed: int) -> None:
    global _progress_queue  # one queue per worker process, set once at its start
    _progress_queue = progress_queue
    # The modules and pools every chunk uses, loaded once, then moved out of the collector's sight
    # (gc.freeze): they live as long as the worker, and every full collection would walk them.
    from customs_sim import dataset  # noqa: F401  (the writers and renderers)

    build_pools(seed)
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


@contextlib.contextmanager
def _relaxed_gc() -> Iterator[None]:
    """:data:`GC_THRESHOLD` while a build runs in this process, the previous setting after."""
    previous = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _report(day: dt.date) -> None:
    if _progress_queue is not None:
        _progress_queue.put(day.toordinal())


def _worker_chunk(params: DatasetParams, chunk: Chunk, directory: str) -> int:
    return build_chunk(params, chunk, Path(directory), _report)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The writers import both simulators' packages (their apps, Starlette, pydantic: ~0.4 s of CPU).
    # Imported once by the fork server, each worker inherits them instead of importing them again.
    # (No effect when this process's fork server already runs: the workers then import them.)
    context.set_forkserver_preload(["customs_sim.dataset"])
    return context


def build_shards(
    params: DatasetParams,
    directory: Path,
    workers: int,
    progress: ProgressFn | None = None,
    done: Callable[[int], None] | None = None,
) -> list[ShardFiles]:
    """Every chunk's shard databases under ``directory``, in chunk order; ``done(i)`` as soon as
    chunk ``i`` is complete (in any order)."""
    todo = chunks(params)
    if workers <= 1 or len(todo) <= 1:
        with _relaxed_gc():
            for chunk in todo:
                build_chunk(params, chunk, directory, progress)
                if done is not None:
                    done(chunk.index)
        return [shard_files(directory, chunk) for chunk in todo]
    context = _context()
    progress_queue = context.Queue()

    def drain(timeout: float | None) -> None:
        while True:
            try:
                ordinal = progress_queue.get(timeout=timeout) if timeout else progress_queue.get_nowait()
            except queue.Empty:
                return
            if progress is not None:
                progress(dt.date.fromordinal(ordinal))
            timeout = None

    with ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(progress_queue, params.seed),
    ) as pool:
        futures = {pool.submit(_worker_chunk, params, c, str(directory)): c.index for c in todo}
        while futures:
            drain(0.1)
            for future in [f for f in futures if f.done()]:
                future.result()  # a worker's exception ends the build here
                index = futures.pop(future)
                if done is not None:
                    done(index)
        drain(None)
    progress_queue.close()
    return [shard_files(directory, chunk) for chunk in todo]


class Merge:
    """Appends shards to a base database in order (see the module's doc), then indexes it once."""

    def __init__(self, base: Path) -> None:
        self._conn = conn = sqlite3.connect(base, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-16384")
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        self._indexes = [(name, sql) for kind, name, _table, sql in master if kind == "index" and sql is not None]
        self._analyzed = any(name == "sqlite_stat1" for _kind, name, _table, _sql in master)
        auto_indexed = {table for kind, _name, table, sql in master if kind == "index" and sql is None}
        # A table left without any index is copied record by record in rowid order (SQLite's
        # transfer optimization: no decoding, new rowids in order); one keeping an automatic index
        # (a PRIMARY KEY) says ORDER BY rowid, which the optimization does not take.
        tables = [
            (name, "WITHOUT ROWID" not in sql.upper() and name in auto_indexed)
            for kind, name, _table, sql in master
            if kind == "table" and not name.startswith("sqlite_")
        ]
        # Table names come from the database's own schema, never from outside.
        self._empty = [
            (name, ordered)
            for name, ordered in tables
            if conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is None  # noqa: S608
        ]
        for name, _sql in self._indexes:
            conn.execute(f'DROP INDEX "{name}"')

    def append(self, shard: Path) -> None:
        conn = self._conn
        conn.execute("ATTACH DATABASE ? AS shard", (f"{shard.resolve().as_uri()}?mode=ro",))
        conn.execute("BEGIN")
        for name, ordered in self._empty:
            order = " ORDER BY rowid" if ordered else ""
            conn.execute(f'INSERT INTO main."{name}" SELECT * FROM shard."{name}"{order}')  # noqa: S608
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE shard")

    def finish(self) -> None:
        conn = self._conn
        conn.execute("BEGIN")
        for _name, sql in self._indexes:
            conn.execute(sql)
        if self._analyzed:
            conn.execute("ANALYZE")
        conn.execute("COMMIT")
        conn.close()

    def close(self) -> None:
        self._conn.close()


def merge_into(base: Path, shards: Sequence[Path]) -> None:
    """Append every shard's rows to the tables ``base`` holds no row of, then index once."""
    merge = Merge(base)
    try:
        for shard in shards:
            merge.append(shard)
    except BaseException:
        merge.close()
        raise
    merge.finish()


class _Merger(threading.Thread):
    """Merges one database's shards in chunk order as they become ready (deleting each after)."""

    def __init__(self, base: Path, shards: list[Path], ready: list[threading.Event], failed: threading.Event) -> None:
        super().__init__(name=f"merge-{base.name}", daemon=True)
        self._base, self._shards, self._ready, self._failed = base, shards, ready, failed
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            merge = Merge(self._base)
            try:
                for shard, ready in zip(self._shards, self._ready, strict=True):
                    ready.wait()
                    if self._failed.is_set():
                        merge.close()
                        return
                    merge.append(shard)
                    shard.unlink()
            except BaseException:
                merge.close()
                raise
            merge.finish()
        except BaseException as exc:  # handed to the building thread
            self.error = exc
            self._failed.set()


def build_in_shards(
    params: DatasetParams,
    bases: tuple[Path, Path, Path],
    directory: Path,
    workers: int,
    progress: ProgressFn | None = None,
) -> None:
    """Fill the three empty builds ``bases`` (truth, China, Kazakhstan) with every chunk's rows.

    One thread per database merges each shard as soon as it and the ones before it are done, so
    the copying overlaps the generation (SQLite runs without the GIL); the indexes come last.
    """
    todo = chunks(params)
    files = [shard_files(directory, chunk) for chunk in todo]
    ready = [threading.Event() for _ in todo]
    failed = threading.Event()
    mergers = [
        _Merger(base, [getattr(f, attr) for f in files], ready, failed)
        for base, attr in zip(bases, ("truth_db", "china_db", "kazakhstan_db"), strict=True)
    ]
    for merger in mergers:
        merger.start()

    def done(index: int) -> None:
        if failed.is_set():
            raise next(m.error for m in mergers if m.error is not None)
        ready[index].set()

    try:
        build_shards(params, directory, workers, progress, done)
    except BaseException:
        failed.set()
        raise
    finally:
        for event in ready:
            event.set()
        for merger in mergers:
            merger.join()
    for merger in mergers:
        if merger.error is not None:
            raise merger.error
