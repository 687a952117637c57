"""A dataset built in day shards on every core, then merged into its databases.

Sharding. The days that can hold trips are cut into chunks of :data:`CHUNK_DAYS` consecutive days
(a function of the parameters only, never of the number of processes). Each chunk is generated and
written into its own shard databases, one per :data:`Part` asked for (the two authorities' for the
simulators, the truth when it is first needed, or all three), without indexes or statistics (the
merged databases create them once). Worker processes take chunks in order from a pool
(``forkserver`` context, else ``spawn``); with one worker the chunks are built in this process.

Merging (:mod:`customs_sim.shardmerge`). Each final database starts as its writer's output for zero
trips; the shards' rows are appended in chunk order and rowid order (so rowids and row order are
those of a one-pass build), then the indexes are created once. Each database is merged by its own
thread as the shards come in, overlapping the generation (SQLite releases the GIL), and each shard
is deleted once merged. The result is the same rows, in the same order, whatever the number of
workers; with the same number of chunks (always) the files are the same too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from customs_sim.generator import DatasetParams, day_trips, last_day_with_trips
from customs_sim.model import Trip
from customs_sim.people import build_pools
from customs_sim.reference import CROSSINGS
from customs_sim.shardmerge import Merge, Merger, merge_into

__all__ = [
    "ALL_PARTS",
    "CHUNK_DAYS",
    "Chunk",
    "Merge",
    "Part",
    "build_chunk",
    "build_in_shards",
    "chunks",
    "default_workers",
    "merge_into",
]

#: Days per shard: small enough to balance two to four workers (the last chunk of a build may run
#: alone while the other workers idle: with 6 days the 90-day demo had 15 chunks on two workers, and
#: one core idled for a whole chunk), large enough that a shard's setup (three databases) stays a
#: small part of its cost.
CHUNK_DAYS = 3
#: Below this many expected trips a pool costs more (interpreter start, imports, pools) than it saves.
PARALLEL_MIN_TRIPS = 20_000

ProgressFn = Callable[[dt.date], None]
#: The databases a build writes: the ground truth, and each authority's system of record. The
#: simulators need only the two authorities' (the truth is built on first use, see customs_sim.dataset).
Part = Literal["truth", "china", "kazakhstan"]
ALL_PARTS: tuple[Part, ...] = ("truth", "china", "kazakhstan")


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


class _Sink(Protocol):
    def add(self, trip: Trip, /) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _sinks(params: DatasetParams, files: ShardFiles, parts: Sequence[Part]) -> list[_Sink]:
    # Imported here: the writers pull in the authorities' renderers, which a worker needs anyway.
    from customs_sim.china.store import ChinaStoreWriter
    from customs_sim.dataset import TruthWriter
    from customs_sim.kazakhstan.store import KazakhstanStoreWriter

    sinks: list[_Sink] = []
    try:
        for part in parts:
            if part == "truth":
                sinks.append(TruthWriter(files.truth_db, params, indexes=False))
            elif part == "china":
                sinks.append(ChinaStoreWriter(files.china_db, indexes=False))
            else:
                sinks.append(KazakhstanStoreWriter(files.kazakhstan_db, indexes=False))
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    return sinks


def build_chunk(
    params: DatasetParams,
    chunk: Chunk,
    directory: Path,
    progress: ProgressFn | None = None,
    parts: Sequence[Part] = ALL_PARTS,
) -> int:
    """Generate one chunk and write the shard databases of ``parts``; the number of trips."""
    files = shard_files(directory, chunk)
    pools = build_pools(params.seed)
    count = 0
    sinks = _sinks(params, files, parts)
    adds = [sink.add for sink in sinks]
    try:
        day = chunk.first
        while day <= chunk.last:
            for crossing in CROSSINGS:
                for trip in day_trips(params, day, crossing, pools):
                    for add in adds:
                        add(trip)
                    count += 1
            if progress is not None:
                progress(day)
            day += dt.timedelta(days=1)
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    for sink in sinks:
        sink.close()
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


def _worker_chunk(params: DatasetParams, chunk: Chunk, directory: str, parts: tuple[Part, ...]) -> int:
    return build_chunk(params, chunk, Path(directory), _report, parts)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The writers import both simulators' stores and renderers and the generator (~0.3 s of CPU; not
    # the apps: customs_sim.china and .kazakhstan import those on first use). Imported once by the
    # fork server, each worker inherits them instead of importing them again.
    # (No effect when this process's fork server already runs: the workers then import them.)
    context.set_forkserver_preload(["customs_sim.dataset"])
    return context


def build_shards(
    params: DatasetParams,
    directory: Path,
    workers: int,
    progress: ProgressFn | None = None,
    done: Callable[[int], None] | None = None,
    parts: tuple[Part, ...] = ALL_PARTS,
) -> list[ShardFiles]:
    """Every chunk's shard databases under ``directory``, in chunk order; ``done(i)`` as soon as
    chunk ``i`` is complete (in any order)."""
    todo = chunks(params)
    if workers <= 1 or len(todo) <= 1:
        with _relaxed_gc():
            for chunk in todo:
                build_chunk(params, chunk, directory, progress, parts)
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
        futures = {pool.submit(_worker_chunk, params, c, str(directory), parts): c.index for c in todo}
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


def build_in_shards(
    params: DatasetParams,
    bases: Sequence[tuple[Part, Path]],
    directory: Path,
    workers: int,
    progress: ProgressFn | None = None,
) -> None:
    """Fill the empty builds ``bases`` (each a part and its database) with every chunk's rows.

    One thread per database merges each shard as soon as it and the ones before it are done, so
    the copying overlaps the generation (SQLite runs without the GIL); the indexes come last.
    """
    todo = chunks(params)
    files = [shard_files(directory, chunk) for chunk in todo]
    ready = [threading.Event() for _ in todo]
    failed = threading.Event()
    parts = tuple(part for part, _base in bases)
    mergers = [Merger(base, [getattr(f, f"{part}_db") for f in files], ready, failed) for part, base in bases]
    for merger in mergers:
        merger.start()

    def done(index: int) -> None:
        if failed.is_set():
            raise next(m.error for m in mergers if m.error is not None)
        ready[index].set()

    try:
        build_shards(params, directory, workers, progress, done, parts)
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
