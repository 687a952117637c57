"""Scanning chunks in worker processes: the server process sends chunks out and merges partials.

A cold report is CPU-bound in one process (parsing KGD's XML and GACC's JSON, folding every
record: ~200 µs a record, ~50 s for 90 days at full volume), so ``[reports] scan_workers``
processes each scan whole chunks — fetch both authorities' pages, fold them, link the day —
and send back the chunk's encoded partial (the same bytes the partials' cache stores). The
server process keeps what must be shared: the chunk concurrency, the partials' cache and memo,
and the merge into report rows.

Each worker is a spawned process (never forked from a running event loop) with its own event
loop, HTTP clients, KGD token, and guards (timeouts, retries, breaker, bulkhead) per authority;
the calls in flight per authority are the configured ones divided among the workers. A worker
runs several chunks at once, so one chunk waiting for an answer does not idle its CPU.

The protocol is pickled tuples over one pipe per worker::

    server → worker   ("rates", key, table)      an NBK rate table, sent once per worker
                      ("scan", id, crossing, direction, day, rates key, budget s, request id)
                      ("cancel", id)              the report gave up on this chunk
                      ("stop",)
    worker → server   ("done", id, parts, authorities)
                      ("failed", id, error)       a gateway error, rebuilt here with its code

A worker that dies fails its chunks in flight (an error the client sees; nothing is cached)
and is started again for the next one. :meth:`ScanPool.close` stops them all with the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import itertools
import logging
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ..crossings import CrossingPoint
from ..domain import Direction
from ..errors import GatewayError
from ..observability.request_id import current_request_id
from ..resilience import current_deadline
from ..security.audit import authorities_called
from .partials import Part
from .scan import RatesByDay

__all__ = ["ScanPool", "WorkerTarget", "error_payload", "rebuild_error"]

log = logging.getLogger(__name__)

WorkerTarget = Callable[[Connection, bytes], None]
"""A worker process's entry point: its end of the pipe and its pickled configuration."""

_RATES_REMEMBERED = 4  # rate tables a worker is known to hold (it keeps twice as many)
_STOP_WAIT_S = 5.0


class ScanWorkerGone(GatewayError):
    """A scan worker stopped while scanning a chunk (the chunk is not cached; asking again retries)."""


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    pending: dict[int, asyncio.Future[tuple[dict[Part, bytes], list[str]]]] = field(default_factory=dict)
    rates_sent: deque[int] = field(default_factory=lambda: deque(maxlen=_RATES_REMEMBERED))
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    alive: bool = True


class ScanPool:
    """``workers`` scan processes running ``target``; :meth:`scan` answers a chunk as
    :meth:`ChunkScanner.scan` does, encoded."""

    def __init__(self, workers: int, target: WorkerTarget, config: bytes) -> None:
        if workers < 1:
            raise ValueError("a scan pool needs at least one worker")
        self._size = workers
        self._target = target
        self._config = config
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker | None] = [None] * workers
        self._ids = itertools.count(1)
        self._rate_keys = itertools.count(1)
        self._tables: deque[tuple[RatesByDay, int]] = deque(maxlen=_RATES_REMEMBERED)
        self._closed = False
        self._notices: set[asyncio.Task[None]] = set()

    @property
    def size(self) -> int:
        return self._size

    def start(self) -> None:
        """Start every worker now (their imports and clients take a second or so): the first
        cold report should not wait for them."""
        for index in range(self._size):
            self._worker(index)

    def _worker(self, index: int) -> _Worker:
        worker = self._workers[index]
        if worker is not None and worker.alive:
            return worker
        if self._closed:
            raise ScanWorkerGone("the report scan workers are stopped")
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=self._target, args=(theirs, self._config), name=f"report-scan-{index}", daemon=True
        )
        process.start()
        theirs.close()
        worker = self._workers[index] = _Worker(process, ours)
        asyncio.get_running_loop().add_reader(ours.fileno(), self._readable, worker)
        # uvloop's (libuv's) add_reader makes the descriptor non-blocking; the pipe's own reads and
        # writes expect blocking I/O (a message larger than the buffer would fail half-sent).
        os.set_blocking(ours.fileno(), True)
        return worker

    def _least_busy(self) -> _Worker:
        index = min(range(self._size), key=lambda i: _load(self._workers[i]))
        return self._worker(index)

    async def scan(
        self, crossing: CrossingPoint, direction: Direction, day: dt.date, rates: RatesByDay
    ) -> dict[Part, bytes]:
        """The chunk's partial as the worker encoded it (:meth:`ChunkPartial.parts`, what the
        partials' cache stores); the worker's gateway errors are raised as themselves."""
        worker = self._least_busy()
        rates_key = self._rates_key(rates)
        request_id = next(self._ids)
        deadline = current_deadline()
        budget = None if deadline is None else deadline.remaining()
        done: asyncio.Future[tuple[dict[Part, bytes], list[str]]] = asyncio.get_running_loop().create_future()
        worker.pending[request_id] = done
        try:
            if rates_key not in worker.rates_sent:
                await self._send(worker, ("rates", rates_key, rates))
                worker.rates_sent.append(rates_key)
            message = ("scan", request_id, crossing.id, direction.value, day.isoformat(), rates_key, budget)
            await self._send(worker, (*message, current_request_id()))
            parts, authorities = await done
        except ScanWorkerGone:
            if done.done() and not done.cancelled():
                done.exception()  # failed with the worker while this was sending: retrieved here
            raise
        except asyncio.CancelledError:
            if worker.pending.pop(request_id, None) is not None and worker.alive:
                # Through the send lock, in a task of its own: this one is being cancelled.
                notice = asyncio.get_running_loop().create_task(self._notify(worker, ("cancel", request_id)))
                self._notices.add(notice)
                notice.add_done_callback(self._notices.discard)
            raise
        finally:
            worker.pending.pop(request_id, None)
        called = authorities_called()
        if called is not None:
            called.update(authorities)
        return parts

    def _rates_key(self, rates: RatesByDay) -> int:
        for table, key in self._tables:
            if table is rates:
                return key
        key = next(self._rate_keys)
        self._tables.append((rates, key))
        return key

    async def _send(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        """Send off the event loop: a message larger than the pipe's buffer waits for the worker
        to read it (a worker still starting does not read yet). The write runs to its end even
        if the sender is cancelled (shielded, under the worker's lock), so two messages never
        interleave on the pipe."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        write = asyncio.get_running_loop().create_task(self._write(worker, data))
        write.add_done_callback(_retrieved)
        await asyncio.shield(write)

    async def _write(self, worker: _Worker, data: bytes) -> None:
        async with worker.send_lock:
            if not worker.alive:
                raise ScanWorkerGone("a report scan worker stopped")
            try:
                await asyncio.to_thread(worker.conn.send_bytes, data)
            except OSError as exc:
                self._gone(worker)
                raise ScanWorkerGone("a report scan worker stopped") from exc

    async def _notify(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        """Send a message nobody waits for the answer of (a worker that is gone needs none)."""
        with contextlib.suppress(ScanWorkerGone):
            await self._send(worker, message)

    def _readable(self, worker: _Worker) -> None:
        try:
            while worker.alive and worker.conn.poll():
                self._answer(worker, worker.conn.recv())
        except (EOFError, OSError):
            self._gone(worker)

    def _answer(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind, request_id = message[0], message[1]
        done = worker.pending.pop(request_id, None)
        if done is None or done.done():
            return  # cancelled meanwhile
        if kind == "done":
            done.set_result((message[2], message[3]))
        else:
            done.set_exception(rebuild_error(message[2]))

    def _gone(self, worker: _Worker) -> None:
        if not worker.alive:
            return
        worker.alive = False
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        with contextlib.suppress(OSError):
            worker.conn.close()
        if worker.pending:
            log.warning(
                "report scan worker %s stopped with %d chunks in flight", worker.process.name, len(worker.pending)
            )
        for done in worker.pending.values():
            if not done.done():
                done.set_exception(ScanWorkerGone("a report scan worker stopped while scanning"))
        worker.pending.clear()

    async def close(self) -> None:
        """Stop every worker (chunks in flight fail); waits up to a few seconds, then terminates."""
        self._closed = True
        for worker in self._workers:
            if worker is not None and worker.alive:
                await self._notify(worker, ("stop",))
        for worker in self._workers:
            if worker is None:
                continue
            await asyncio.to_thread(worker.process.join, _STOP_WAIT_S)
            if worker.process.is_alive():
                worker.process.terminate()
                await asyncio.to_thread(worker.process.join, _STOP_WAIT_S)
            self._gone(worker)


def _retrieved(task: asyncio.Task[None]) -> None:
    """A write whose sender was cancelled fails unseen: the reader notices a dead worker anyway."""
    if not task.cancelled():
        task.exception()


def _load(worker: _Worker | None) -> int:
    return -1 if worker is None or not worker.alive else len(worker.pending)


def error_payload(exc: BaseException) -> tuple[str, str, tuple[Any, ...], dict[str, Any]]:
    """What a worker sends of a failure: the class by name, its args and attributes (gateway
    errors do not survive plain pickling: their ``__init__`` takes more than the message)."""
    state = {key: value for key, value in vars(exc).items() if _picklable(value)}
    return type(exc).__module__, type(exc).__qualname__, tuple(str(arg) for arg in exc.args), state


def rebuild_error(payload: tuple[str, str, tuple[Any, ...], dict[str, Any]]) -> Exception:
    """The gateway error a worker raised, as itself (same class, code, authority, message);
    anything else becomes a plain error (a bug in the worker, not a client's problem)."""
    module, qualname, args, state = payload
    cls: object = None
    if module.startswith("customs_gateway."):
        with contextlib.suppress(ImportError, AttributeError):
            cls = getattr(importlib.import_module(module), qualname)
    if isinstance(cls, type) and issubclass(cls, GatewayError):
        error = cls.__new__(cls)
        Exception.__init__(error, *args)
        error.__dict__.update(state)
        return error
    return RuntimeError(f"report scan worker failed: {qualname}: {'; '.join(args)[:500]}")


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # anything that does not pickle is left out
        return False
    return True
