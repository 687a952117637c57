"""A report scan worker process: its own clients to both authorities, scanning chunks it is sent.

The server process's :class:`~customs_gateway.reports.pool.ScanPool` spawns these (see that
module for why and for the protocol). A worker builds what the server builds for upstream calls
— one HTTP client, guard and (for KGD) token provider per authority, from the same settings —
and a :class:`~customs_gateway.reports.scan.ChunkScanner` over the bare sources (scans never go
through the entity cache). It answers each chunk with its encoded partial, runs several chunks
at once, and stops on ``("stop",)`` or when the server's end of the pipe closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import stamina.instrumentation

from .config import CrossingSettings, GatewaySettings
from .crossings import CrossingRegistry
from .domain import Direction
from .heap import freeze_startup_heap
from .linking import LinkWindow
from .observability import configure_logging
from .observability.request_id import bind_request_id
from .reports.pool import error_payload
from .reports.scan import ChunkScanner, RatesByDay
from .resilience import ResilienceConfig, operation_deadline
from .security.audit import UpstreamRecorder, track_authorities
from .sources.china import ChinaClient, ChinaSourceImpl, build_http_client
from .sources.china.client import china_guard
from .sources.china.settings import ChinaSourceSettings
from .sources.kazakhstan import KazakhstanClient, KazakhstanSourceImpl, TokenProvider, create_http_client
from .sources.kazakhstan.client import kazakhstan_guard
from .sources.kazakhstan.settings import KazakhstanSourceSettings
from .sources.transport import AiohttpBodyTransport

__all__ = ["ScanWorkerConfig", "run_worker", "worker_config"]

_RATE_TABLES = 8  # twice what the server remembers having sent (reports.pool._RATES_REMEMBERED)


@dataclass(frozen=True, slots=True)
class ScanWorkerConfig:
    """What a worker needs of the server's settings (pickled: the settings class is not).

    ``china_slots`` / ``kazakhstan_slots``: this worker's share of the reports' list calls in
    flight per authority; ``log_level``: the server's, for the worker's own JSON log lines.
    """

    china: ChinaSourceSettings
    kazakhstan: KazakhstanSourceSettings
    resilience: ResilienceConfig
    crossings: tuple[CrossingSettings, ...]
    window: LinkWindow
    china_slots: int
    kazakhstan_slots: int
    gc_gen0_threshold: int
    log_level: int

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)


def worker_config(settings: GatewaySettings) -> ScanWorkerConfig:
    """The workers' share of ``settings``: each gets the reports' calls in flight per authority
    divided among the workers (at least one), so together they keep the configured bounds."""
    workers = max(1, settings.reports.scan_workers)
    return ScanWorkerConfig(
        china=settings.china,
        kazakhstan=settings.kazakhstan,
        resilience=settings.resilience(),
        crossings=tuple(settings.crossings),
        window=LinkWindow(before=settings.linking.window_before, after=settings.linking.window_after),
        china_slots=max(1, settings.reports.china_concurrency // workers),
        kazakhstan_slots=max(1, settings.reports.kazakhstan_concurrency // workers),
        gc_gen0_threshold=settings.server.gc_gen0_threshold,
        log_level=logging.getLogger().getEffectiveLevel(),
    )


def run_worker(conn: Connection, config: bytes) -> None:
    """The worker process's entry point (a :data:`~customs_gateway.reports.pool.WorkerTarget`)."""
    settings: ScanWorkerConfig = pickle.loads(config)  # noqa: S301 - our own server process wrote it
    configure_logging(settings.log_level)
    # uvloop where installed (uvicorn[standard] brings it), as uvicorn runs the server.
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve(conn, settings))  # Ctrl-C reaches the whole process group: a quiet stop
    conn.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] depends on it where it builds
        return None
    return uvloop.new_event_loop


async def _serve(conn: Connection, settings: ScanWorkerConfig) -> None:
    stamina.instrumentation.set_on_retry_hooks(())
    async with contextlib.AsyncExitStack() as stack:
        cn_http = await stack.enter_async_context(
            build_http_client(
                settings.china,
                transport=AiohttpBodyTransport.for_upstream(settings.china),
            )
        )
        kz_http = await stack.enter_async_context(
            create_http_client(
                settings.kazakhstan,
                transport=AiohttpBodyTransport.for_upstream(settings.kazakhstan),
            )
        )
        UpstreamRecorder("GACC").install(cn_http)
        UpstreamRecorder("KGD").install(kz_http)
        cn_guard = china_guard(settings.china, settings.resilience)
        kz_guard = kazakhstan_guard(settings.kazakhstan, settings.resilience)
        china = ChinaSourceImpl(settings.china, ChinaClient(settings.china, cn_http, guard=cn_guard))
        tokens = TokenProvider(settings.kazakhstan, kz_http, guard=kz_guard)
        kazakhstan = KazakhstanSourceImpl(
            settings.kazakhstan, KazakhstanClient(settings.kazakhstan, kz_http, tokens, guard=kz_guard)
        )
        scanner = ChunkScanner(
            china,
            kazakhstan,
            settings.window,
            china_slots=asyncio.Semaphore(settings.china_slots),
            kazakhstan_slots=asyncio.Semaphore(settings.kazakhstan_slots),
        )
        crossings = CrossingRegistry.from_settings(settings.crossings)
        freeze_startup_heap(settings.gc_gen0_threshold)
        await _Session(conn, scanner, crossings).run()


class _Session:
    """Reads requests from the pipe and answers each chunk when it is scanned."""

    def __init__(self, conn: Connection, scanner: ChunkScanner, crossings: CrossingRegistry) -> None:
        self._conn = conn
        self._scanner = scanner
        self._crossings = crossings
        self._rates: OrderedDict[int, RatesByDay] = OrderedDict()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self._conn.fileno(), self._readable)
        os.set_blocking(self._conn.fileno(), True)  # as the server's end (see reports.pool)
        try:
            await self._stopped.wait()
        finally:
            loop.remove_reader(self._conn.fileno())
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _readable(self) -> None:
        try:
            while not self._stopped.is_set() and self._conn.poll():
                self._handle(self._conn.recv())
        except (EOFError, OSError):  # the server went away
            self._stopped.set()

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "rates":
            self._rates[message[1]] = message[2]
            while len(self._rates) > _RATE_TABLES:
                self._rates.popitem(last=False)
        elif kind == "scan":
            request_id = message[1]
            self._tasks[request_id] = asyncio.create_task(self._scan(*message[1:]))
        elif kind == "cancel":
            task = self._tasks.get(message[1])
            if task is not None:
                task.cancel()
        elif kind == "stop":
            self._stopped.set()

    async def _scan(
        self,
        request_id: int,
        crossing_id: str,
        direction: str,
        day: str,
        rates_key: int,
        budget_s: float | None,
        upstream_request_id: str | None,
    ) -> None:
        try:
            crossing = self._crossings.by_id(crossing_id)
            if crossing is None:
                raise ValueError(f"unknown crossing {crossing_id!r}")  # the server's registry is the same
            rates = self._rates[rates_key]
            with (
                bind_request_id(upstream_request_id),
                operation_deadline(budget_s if budget_s is not None else 24 * 3600.0),
                track_authorities() as called,
            ):
                partial = await self._scanner.scan(crossing, Direction(direction), dt.date.fromisoformat(day), rates)
            answer: tuple[Any, ...] = ("done", request_id, partial.parts(), sorted(called))
        except asyncio.CancelledError:
            return  # the server no longer waits for it
        except Exception as exc:  # every failure goes back to the server, as itself
            answer = ("failed", request_id, error_payload(exc))
        finally:
            self._tasks.pop(request_id, None)
        with contextlib.suppress(OSError):
            self._conn.send(answer)


