"""CPU per upstream list call of a cold report's scan: the gateway's clients against aiohttp alone.

Runs both simulators in their own processes over the full-volume 90-day dataset (as
``benchmarks/reports.py``), then, in this process on uvloop (as a scan worker), fetches every
manifest page (GACC, 100 a page) and every PI page (KGD, 500 a page) of each crossing's
China-to-Kazakhstan side for ``--days`` days, three ways:

- ``gateway``: ``ChinaClient.get`` / ``KazakhstanClient.get_read`` as the scan workers call them:
  httpx over the gateway's transport (aiohttp underneath), the guard (timeouts, retries, breaker,
  bulkhead, the per-call log line: not written here, logging is not configured as a worker's is),
  signing or the bearer token, the body size limit; GACC's body
  parsed by orjson (in the client), KGD's body only measured;
- ``httpx-aiohttp``: the same clients over the httpx-aiohttp transport the gateway used before
  its own (:mod:`customs_gateway.sources.transport`), for comparison;
- ``aiohttp``: the same requests (signed, with the token) sent by an ``aiohttp.ClientSession``
  with nothing around it, GACC's body parsed by orjson too.

The difference is what the gateway's stack costs a call on top of the exchange itself. CPU
seconds of this process only (the simulators' are theirs), with the collector set as a scan worker
sets it, and its minor page faults; calls interleaved page by page across the variants; best of
``--repeat`` rounds. ``--only VARIANT`` runs one variant, e.g. under callgrind, whose instruction
counts are steadier than CPU seconds on a shared machine.

Usage: ``python benchmarks/upstream_calls.py [--repeat 3] [--day 2025-01-10] [--days 3] [--only VARIANT]``.
Prints figures only (no target: the target is the whole report's, in ``benchmarks/reports.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import orjson
import uvloop
from httpx_aiohttp import AiohttpTransport

from customs_gateway.config import GatewaySettings, load_settings
from customs_gateway.domain import Direction
from customs_gateway.heap import freeze_startup_heap
from customs_gateway.sources.base import RecordQuery
from customs_gateway.sources.china import ChinaClient, build_http_client
from customs_gateway.sources.china.client import canonical_query, sign_request
from customs_gateway.sources.china.source import _manifest_params
from customs_gateway.sources.kazakhstan import KazakhstanClient, TokenProvider, create_http_client
from customs_gateway.sources.kazakhstan.source import _window
from customs_gateway.sources.transport import AiohttpBodyTransport
from customs_sim.dataset import default_cache_dir
from gateway import environment, free_port, wait_for

START, END = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
CONFIG = Path(__file__).resolve().parents[1] / "config" / "gateway.toml"
CN_PAGE, KZ_PAGE = 100, 500
Call = Callable[[], Awaitable[int]]


@contextlib.contextmanager
def simulators(cache_dir: Path) -> Iterator[tuple[int, int, dict[str, str]]]:
    cn_port, kz_port = free_port(), free_port()
    env = environment(cn_port, kz_port)
    dataset = ["--start", str(START), "--end", str(END), "--cache-dir", str(cache_dir)]
    sims = [
        subprocess.Popen([sys.executable, "-m", "customs_sim.cli", kind, *dataset, "--port", str(port)], env=env)
        for kind, port in (("china", cn_port), ("kazakhstan", kz_port))
    ]
    try:
        wait_for(f"http://127.0.0.1:{cn_port}/openapi.json", sims[0])
        wait_for(f"http://127.0.0.1:{kz_port}/schema/kgd.xsd", sims[1])
        yield cn_port, kz_port, env
    finally:
        for process in sims:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


async def measure(
    settings: GatewaySettings, first: dt.date, days: int, repeat: int, only: frozenset[str] = frozenset()
) -> None:
    windows = [
        (start, start + dt.timedelta(days=1))
        for start in (dt.datetime.combine(first + dt.timedelta(days=n), dt.time(), dt.UTC) for n in range(days))
    ]
    queries = [
        RecordQuery(post_code=crossing.cn_port_code, direction=Direction.CN_TO_KZ, start=start, end=end)
        for crossing in settings.crossings
        for start, end in windows
    ]
    kz_queries = [
        RecordQuery(post_code=crossing.kz_checkpoint_code, direction=Direction.CN_TO_KZ, start=start, end=end)
        for crossing in settings.crossings
        for start, end in windows
    ]
    cn, kz = settings.china, settings.kazakhstan
    cn_lean = AiohttpBodyTransport.for_upstream(cn)
    kz_lean = AiohttpBodyTransport.for_upstream(kz)
    async with (
        build_http_client(cn, transport=cn_lean) as cn_http,
        create_http_client(kz, transport=kz_lean) as kz_http,
        build_http_client(cn, transport=AiohttpTransport(limits=cn.httpx_limits(), trust_env=False)) as cn_old,
        create_http_client(kz, transport=AiohttpTransport(limits=kz.httpx_limits(), trust_env=False)) as kz_old,
        aiohttp.ClientSession(auto_decompress=False) as raw,
    ):
        china = ChinaClient(cn, cn_http)
        tokens = TokenProvider(kz, kz_http)
        kazakhstan = KazakhstanClient(kz, kz_http, tokens)
        china_old = ChinaClient(cn, cn_old)
        kazakhstan_old = KazakhstanClient(kz, kz_old, TokenProvider(kz, kz_old))
        token = await tokens.token()

        # page numbers: the first page of each query announces the total
        cn_calls: list[list[tuple[str, str]]] = []
        for query in queries:
            params = [*_manifest_params(query), ("pageNum", "1"), ("pageSize", str(CN_PAGE))]
            data = await china.get(("road-manifests",), params)
            assert isinstance(data, dict)
            pages = -(-int(data["total"]) // CN_PAGE)
            cn_calls += [[*params[:-2], ("pageNum", str(n)), ("pageSize", str(CN_PAGE))] for n in range(1, pages + 1)]
        kz_calls: list[list[tuple[str, str]]] = []
        for query in kz_queries:
            base: list[tuple[str, str]] = [("checkpoint", str(query.post_code)), ("direction", "IM")]
            _window(base, query.start, query.end)
            _, headers = await kazakhstan.get_read("/preliminary-information", [*base, ("limit", "1")], _size)
            total = int(headers["X-Total-Count"])
            kz_calls += [[*base, ("offset", str(o)), ("limit", str(KZ_PAGE))] for o in range(0, total, KZ_PAGE)]

        def gateway_cn(params: list[tuple[str, str]], client: ChinaClient = china) -> Call:
            async def call() -> int:
                data = await client.get(("road-manifests",), params)
                return len(data["list"]) if isinstance(data, dict) else 0

            return call

        def gateway_kz(params: list[tuple[str, str]], client: KazakhstanClient = kazakhstan) -> Call:
            async def call() -> int:
                size, _ = await client.get_read("/preliminary-information", params, _size)
                return size

            return call

        cn_root = cn.base_url.rstrip("/")
        path = "/gacc/api/v1/road-manifests"

        def raw_cn(params: list[tuple[str, str]]) -> Call:
            async def call() -> int:
                query = canonical_query(params)
                timestamp, nonce = str(int(time.time() * 1000)), f"{time.time_ns():032x}"[-32:]
                sign = sign_request(cn.app_secret.get_secret_value(), "GET", path, query, b"", timestamp, nonce)
                headers = {"appId": cn.app_id, "timestamp": timestamp, "nonce": nonce, "sign": sign}
                async with raw.get(f"{cn_root}{path}?{query}", headers=headers) as response:
                    data = orjson.loads(await response.read())
                return len(data["data"]["list"])

            return call

        def raw_kz(params: list[tuple[str, str]]) -> Call:
            async def call() -> int:
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/xml"}
                async with raw.get(kz.api_url + "/preliminary-information", params=params, headers=headers) as response:
                    return len(await response.read())

            return call

        variants = {
            "GACC gateway": [gateway_cn(p) for p in cn_calls],
            "GACC httpx-aiohttp": [gateway_cn(p, china_old) for p in cn_calls],
            "GACC aiohttp": [raw_cn(p) for p in cn_calls],
            "KGD gateway": [gateway_kz(p) for p in kz_calls],
            "KGD httpx-aiohttp": [gateway_kz(p, kazakhstan_old) for p in kz_calls],
            "KGD aiohttp": [raw_kz(p) for p in kz_calls],
        }
        variants = {name: calls for name, calls in variants.items() if not only or name in only}
        # Interleaved call by call: page i through every variant of its side (the order rotating
        # from round to round) before page i + 1, so the machine's drift (other processes, the
        # simulators' caches) falls on all variants alike; each call's CPU is summed per variant.
        spent: dict[str, list[float]] = {name: [0.0] * repeat for name in variants}
        faults = dict.fromkeys(variants, 0)
        for round_ in range(repeat):
            for side in ("GACC", "KGD"):
                names = [name for name in variants if name.startswith(f"{side} ")]
                names = names[round_ % len(names) :] + names[: round_ % len(names)] if names else names
                for index in range(len(variants[names[0]]) if names else 0):
                    for name in names:
                        began, faulted = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                        await variants[name][index]()
                        spent[name][round_] += time.process_time() - began
                        faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faulted
        best = {name: min(rounds) for name, rounds in spent.items()}
        print(
            f"{first} + {days - 1} days: {len(cn_calls)} GACC manifest pages of <= {CN_PAGE}, "
            f"{len(kz_calls)} KGD PI pages of <= {KZ_PAGE}"
        )
        for name, seconds in best.items():
            calls = len(variants[name])
            print(
                f"  {name:18s} {seconds / calls * 1e6:7.0f} µs CPU a call (best of {repeat}), "
                f"{faults[name] / calls / repeat:5.1f} page faults a call"
            )
        for side in ("GACC", "KGD"):
            for stack in ("gateway", "httpx-aiohttp"):
                if f"{side} {stack}" in best and f"{side} aiohttp" in best:
                    calls = len(variants[f"{side} aiohttp"])
                    extra = (best[f"{side} {stack}"] - best[f"{side} aiohttp"]) / calls * 1e6
                    print(f"  {side} {stack} stack on top of aiohttp: {extra:.0f} µs a call")


def _size(body: bytes, endpoint: str) -> int:
    return len(body)


def local_settings(cn_port: int, kz_port: int, env: dict[str, str], **calls: float) -> GatewaySettings:
    """The repository's gateway settings pointed at the simulators :func:`simulators` started, with
    their secrets; ``calls`` (timeouts) apply to both authorities' clients."""
    return load_settings(
        CONFIG,
        china={"base_url": f"http://127.0.0.1:{cn_port}", "app_secret": env["CUSTOMS_GATEWAY_CHINA__APP_SECRET"],
               **calls},
        kazakhstan={"base_url": f"http://127.0.0.1:{kz_port}",
                    "client_secret": env["CUSTOMS_GATEWAY_KAZAKHSTAN__CLIENT_SECRET"], **calls},
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2025, 1, 10))
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="VARIANT",
        help='run only this variant ("KGD gateway"…; repeatable): e.g. under callgrind',
    )
    args = parser.parse_args()
    with simulators(args.cache_dir) as (cn_port, kz_port, env):
        settings = local_settings(cn_port, kz_port, env)
        # The collector as a scan worker sets it: startup heap frozen, young collections every
        # gc_gen0_threshold allocations; else full collections walking the imported modules
        # would be charged to whichever call triggered them.
        freeze_startup_heap(settings.server.gc_gen0_threshold)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(measure(settings, args.day, args.days, args.repeat, frozenset(args.only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
