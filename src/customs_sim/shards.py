"""A dataset built in day shards on every core, then merged into its three databases.

Sharding. The days that can hold trips are cut into chunks of :data:`CHUNK_DAYS` consecutive days
(a function of the parameters only, never of the number of processes). Each chunk is generated
and rendered into its own three shard databases (no indexes for the truth; the authorities' writers
are used as they are). Worker processes take chunks in order from a pool (``forkserver`` context,
else ``spawn``); with one worker the chunks are built in this process.

Merging. Each final database starts as its writer's output for zero trips (schema, reference rows
such as ports, checkpoints, rates and meta, indexes). Its indexes are dropped, the rows of every table
that the empty build left empty are appended from each shard in chunk order and in rowid order
(so rowids and row order are those of a one-pass build), then the indexes are created once and
``ANALYZE`` rerun if the writer ran it. The three merges run in threads (SQLite releases the GIL).
The result is the same rows, in the same order, whatever the number of workers; with the same
number of chunks (always) the files are the same too.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customs_sim.generator import DatasetParams, day_trips, last_day_with_trips
from customs_sim.people import build_pools
from customs_sim.reference import CROSSINGS

__all__ = ["CHUNK_DAYS", "Chunk", "build_chunk", "build_in_shards", "chunks", "default_workers", "merge_into"]

#: Days per shard: small enough to balance two to four workers, large enough that a shard's setup
#: (three databases, the authorities' indexes) stays a small part of its cost.
CHUNK_DAYS = 6
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
    with ChinaStoreWriter(files.china_db) as china, KazakhstanStoreWriter(files.kazakhstan_db) as kazakhstan:
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


def _init_worker(progress_queue: Any) -> None:
    global _progress_queue  # one queue per worker process, set once at its start
    _progress_queue = progress_queue


def _report(day: dt.date) -> None:
    if _progress_queue is not None:
        _progress_queue.put(day.toordinal())


def _worker_chunk(params: DatasetParams, chunk: Chunk, directory: str) -> int:
    return build_chunk(params, chunk, Path(directory), _report)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def build_shards(
    params: DatasetParams, directory: Path, workers: int, progress: ProgressFn | None = None
) -> list[ShardFiles]:
    """Every chunk's shard databases under ``directory``, in chunk order."""
    todo = chunks(params)
    if workers <= 1 or len(todo) <= 1:
        for chunk in todo:
            build_chunk(params, chunk, directory, progress)
        return [shard_files(directory, chunk) for chunk in todo]
    context = _context()
    progress_queue = context.Queue()
    with ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(progress_queue,),
    ) as pool:
        futures: list[Future[int]] = [pool.submit(_worker_chunk, params, c, str(directory)) for c in todo]
        pending = set(futures)
        while pending:
            try:
                ordinal = progress_queue.get(timeout=0.2)
            except queue.Empty:
                pass
            else:
                if progress is not None:
                    progress(dt.date.fromordinal(ordinal))
            for future in [f for f in pending if f.done()]:
                future.result()  # a worker's exception ends the build here
                pending.discard(future)
        while True:  # the days reported after the last check
            try:
                ordinal = progress_queue.get_nowait()
            except queue.Empty:
                break
            if progress is not None:
                progress(dt.date.fromordinal(ordinal))
    progress_queue.close()
    return [shard_files(directory, chunk) for chunk in todo]


def merge_into(base: Path, shards: Sequence[Path]) -> None:
    """Append every shard's rows to the tables ``base`` holds no row of, then index once."""
    conn = sqlite3.connect(base, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-65536")
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        indexes = [(name, sql) for kind, name, _table, sql in master if kind == "index" and sql is not None]
        analyzed = any(name == "sqlite_stat1" for _kind, name, _table, _sql in master)
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
        empty = [
            (name, ordered)
            for name, ordered in tables
            if conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is None  # noqa: S608
        ]
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for shard in shards:
            conn.execute("ATTACH DATABASE ? AS shard", (f"{shard.resolve().as_uri()}?mode=ro",))
            conn.execute("BEGIN")
            for name, ordered in empty:
                order = " ORDER BY rowid" if ordered else ""
                conn.execute(f'INSERT INTO main."{name}" SELECT * FROM shard."{name}"{order}')  # noqa: S608
            conn.execute("COMMIT")
            conn.execute("DETACH DATABASE shard")
        conn.execute("BEGIN")
        for _name, sql in indexes:
            conn.execute(sql)
        if analyzed:
            conn.execute("ANALYZE")
        conn.execute("COMMIT")
    finally:
        conn.close()


def run_in_threads(jobs: Sequence[Callable[[], None]]) -> None:
    """Run ``jobs`` concurrently (each in its own thread) and re-raise the first failure."""
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def build_in_shards(
    params: DatasetParams,
    bases: tuple[Path, Path, Path],
    directory: Path,
    workers: int,
    progress: ProgressFn | None = None,
) -> None:
    """Fill the three empty builds ``bases`` (truth, China, Kazakhstan) with every chunk's rows."""
    shards = build_shards(params, directory, workers, progress)
    truth, china, kazakhstan = bases
    run_in_threads(
        [
            lambda: merge_into(truth, [s.truth_db for s in shards]),
            lambda: merge_into(china, [s.china_db for s in shards]),
            lambda: merge_into(kazakhstan, [s.kazakhstan_db for s in shards]),
        ]
    )
