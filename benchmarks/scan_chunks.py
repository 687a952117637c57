"""CPU per record of a cold report's scan path in one process: what a scan worker spends on a chunk.

Runs both simulators in their own processes over the full-volume 90-day dataset (as
``benchmarks/reports.py``), builds the sources as a scan worker builds them (httpx over the
gateway's aiohttp transport, the guards, the KGD token; uvloop; the collector set as a worker sets it)
and scans every chunk — (crossing, direction, UTC day) — of ``--days`` days from ``--day`` with
:class:`~customs_gateway.reports.scan.ChunkScanner`, one chunk after another: paging, reading,
folding, linking, valuing; then encodes each partial as a worker does before sending it. The
figure is this process's CPU seconds per record (the simulators' are theirs), best of
``--repeat`` rounds (``parse_plate``'s cache emptied before each: a cold report meets most plates
for the first time). No pipe, no server process, no other chunk in flight: steadier than the
whole report's CPU (``benchmarks/reports.py``), for comparing two builds of the same code
(compiled modules or pure Python: ``CUSTOMS_PURE_PYTHON``, see ``docs/reports.md``).

Under a CPU-time noise too large to compare builds (a shared VM), count instructions instead:
``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce
$(python -c 'import sys; print(sys.executable)') benchmarks/scan_chunks.py --repeat 1`` (the
interpreter itself, not a pyenv shim) counts only the measured round (it runs inside
``functools.reduce``, which nothing on the scan path calls): the same build gives the same count
within 0.01 %, whatever the load; divide by the records printed.

Usage: ``python benchmarks/scan_chunks.py [--day 2025-01-10] [--days 1] [--repeat 3]``. Prints
figures only (no target: the target is the whole report's, in ``benchmarks/reports.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import sys
import time
from pathlib import Path

import stamina.instrumentation
import uvloop

from customs_gateway.config import GatewaySettings
from customs_gateway.crossings import CrossingRegistry
from customs_gateway.domain import Direction
from customs_gateway.heap import freeze_startup_heap
from customs_gateway.linking import LinkWindow
from customs_gateway.plates import parse_plate
from customs_gateway.reports.scan import ChunkScanner, RatesByDay
from customs_gateway.sources.china import ChinaClient, ChinaSourceImpl, build_http_client
from customs_gateway.sources.china.client import china_guard
from customs_gateway.sources.kazakhstan import KazakhstanClient, KazakhstanSourceImpl, TokenProvider, create_http_client
from customs_gateway.sources.kazakhstan.client import kazakhstan_guard
from customs_gateway.sources.transport import AiohttpBodyTransport
from customs_sim.compiled import compiled_status
from customs_sim.dataset import default_cache_dir
from upstream_calls import local_settings, simulators


class Scan:
    """The worker's sources and scanner over both simulators, and the chunks of the window."""

    def __init__(self, settings: GatewaySettings, first: dt.date, days: int) -> None:
        self._settings = settings
        self._stack = contextlib.AsyncExitStack()
        self.first, self.days = first, days
        self.chunks = [
            (crossing, direction, first + dt.timedelta(days=n))
            for crossing in CrossingRegistry.from_settings(settings.crossings).all
            for direction in Direction
            for n in range(days)
        ]

    async def open(self) -> None:
        settings, cn, kz = self._settings, self._settings.china, self._settings.kazakhstan
        resilience = settings.resilience()
        transport = AiohttpBodyTransport.for_upstream(cn)
        cn_http = await self._stack.enter_async_context(build_http_client(cn, transport=transport))
        transport = AiohttpBodyTransport.for_upstream(kz)
        kz_http = await self._stack.enter_async_context(create_http_client(kz, transport=transport))
        kz_guard = kazakhstan_guard(kz, resilience)
        china = ChinaSourceImpl(cn, ChinaClient(cn, cn_http, guard=china_guard(cn, resilience)))
        tokens = TokenProvider(kz, kz_http, guard=kz_guard)
        kazakhstan = KazakhstanSourceImpl(kz, KazakhstanClient(kz, kz_http, tokens, guard=kz_guard))
        self._scanner = ChunkScanner(
            china,
            kazakhstan,
            LinkWindow(before=settings.linking.window_before, after=settings.linking.window_after),
            china_slots=asyncio.Semaphore(settings.reports.china_concurrency),
            kazakhstan_slots=asyncio.Semaphore(settings.reports.kazakhstan_concurrency),
        )
        last = self.first + dt.timedelta(days=self.days - 1)
        self._rates: RatesByDay = await kazakhstan.exchange_rates_range(
            self.first - dt.timedelta(days=1), last + dt.timedelta(days=1)
        )

    async def close(self) -> None:
        await self._stack.aclose()

    async def one_round(self) -> int:
        """Every chunk, one after another; the records read (both sides)."""
        parse_plate.cache_clear()
        records = 0
        for crossing, direction, day in self.chunks:
            partial = await self._scanner.scan(crossing, direction, day, self._rates)
            partial.parts()  # what a worker sends back
            records += partial.china.total.trucks + partial.kazakhstan.total.trucks
        return records


def measure(runner: asyncio.Runner, scan: Scan, repeat: int) -> None:
    runner.run(scan.open())
    runner.run(scan.one_round())  # connections, token, the readers' compiled patterns
    best, records = float("inf"), 0
    for _ in range(repeat):
        began = time.process_time()
        # The round runs inside functools.reduce: the span callgrind's --toggle-collect counts.
        records = functools.reduce(lambda _, __: runner.run(scan.one_round()), [0], 0)
        best = min(best, time.process_time() - began)
    runner.run(scan.close())
    print(f"{scan.first} + {scan.days - 1} days: {len(scan.chunks)} chunks, {records} records (both sides)")
    print(f"  customs_gateway {compiled_status(('customs_gateway',)).summary}")
    print(f"  scan path: {best:.3f} s CPU, {best / records * 1e6:.1f} µs a record (best of {repeat})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2025, 1, 10))
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stamina.instrumentation.set_on_retry_hooks(())
    with simulators(args.cache_dir) as (cn_port, kz_port, env):
        # Timeouts far beyond any call's: CPU is measured, and under valgrind a call takes ~50x longer.
        patient = {"connect_timeout_s": 120.0, "read_timeout_s": 600.0, "total_timeout_s": 600.0}
        settings = local_settings(cn_port, kz_port, env, **patient)
        freeze_startup_heap(settings.server.gc_gen0_threshold)  # as a scan worker does
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            measure(runner, Scan(settings, args.day, args.days), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
