"""Resilience figures: what an authority that hangs costs a query, with and without its circuit open.

Both simulators (a small generated dataset, built once and cached) and two gateways run on
loopback in this process's threads; the gateways' cache is off so every query reaches the
upstreams. Kazakhstan is made to hang (the simulator's ``hang_rate=1``: requests never answer)
while the query asks a trip's both sides by its Chinese batch number:

1. healthy: both authorities answer (p50 of the two-sided lookup);
2. timeout path: a gateway whose breaker never opens: every query waits for its KGD calls to
   time out (``total_timeout_s``, retried, bounded by the operation deadline);
3. circuit open: the same fault on a gateway whose breaker opened after the first query: KGD's
   fields fail at once with UPSTREAM_UNAVAILABLE and the China side comes back as fast as healthy.

Every degraded answer is checked: the China side equals the ground truth, the Kazakhstan side is
null with a typed error. Targets: with the circuit open, p50 within 25 ms of healthy, and at least
10x faster than the timeout path. Exit 1 when missed.

Usage: ``python benchmarks/resilience.py [--samples 20] [--timeout-s 1.0] [--deadline-s 3.0]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from customs_gateway.app import create_app
from customs_gateway.config import load_settings
from customs_gateway.security.apikeys import hash_key
from customs_sim.admin import AdminState, Faults
from customs_sim.china.app import ChinaSimSettings
from customs_sim.dataset import GroundTruth, build_dataset, default_cache_dir
from customs_sim.generator import DatasetParams
from customs_sim.kazakhstan.settings import KazakhstanSimSettings
from customs_sim.model import Trip
from customs_sim.servers import SimOptions, china_sim, kazakhstan_sim
from customs_sim.serving import serve_in_thread

PARAMS = DatasetParams(seed=11, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1), trucks_per_day=120)
CN_ID, CN_SECRET, KZ_ID, KZ_SECRET = "customs-gateway", "bench-cn", "customs-gateway", "bench-kz"
API_KEY = "cgw_benchmark_" + "r" * 32
ADMIN_TOKEN = "bench-admin"  # noqa: S105 - the simulators' admin token in this benchmark, not a secret
CONFIG = Path(__file__).resolve().parents[1] / "config" / "gateway.toml"
QUERY = "query($id: ID!) { manifest(id: $id) { china { batchNo goods { hs6 } } kazakhstan { piNumber } } }"
FAST_FAIL_SLACK_MS, SPEEDUP = 25.0, 10.0


def settings(cn_url: str, kz_url: str, *, timeout_s: float, deadline_s: float, threshold: int) -> Any:
    resilience = {
        "total_timeout_s": timeout_s,
        "breaker": {"failure_threshold": threshold, "failure_rate": None, "open_s": 600.0, "max_open_s": 600.0},
    }
    return load_settings(
        CONFIG,
        china={"base_url": cn_url, "app_id": CN_ID, "app_secret": CN_SECRET, **resilience},
        kazakhstan={"base_url": kz_url, "client_id": KZ_ID, "client_secret": KZ_SECRET, **resilience},
        server={"operation_deadline_s": deadline_s},
        cache={"enabled": False},
        security={"api_keys": [{"client_id": "bench", "role": "china_customs", "key_hash": hash_key(API_KEY)}]},
    )


@contextlib.contextmanager
def gateway(config: Any) -> Iterator[httpx.Client]:
    with (
        serve_in_thread(create_app(config)) as server,
        httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": API_KEY}) as http,
    ):
        yield http


def timed(http: httpx.Client, trip: Trip, *, degraded: bool) -> float:
    started = time.perf_counter()
    body = http.post("/graphql", json={"query": QUERY, "variables": {"id": trip.cn_batch_no}}).json()
    seconds = time.perf_counter() - started
    manifest = body["data"]["manifest"]
    assert manifest["china"]["batchNo"] == trip.cn_batch_no, body
    assert [g["hs6"] for g in manifest["china"]["goods"]] == [item.hs6 for item in trip.items], body
    if degraded:
        assert manifest["kazakhstan"] is None, body
        codes = {(e["extensions"]["code"], e["extensions"]["authority"]) for e in body["errors"]}
        assert codes <= {("UPSTREAM_TIMEOUT", "KGD"), ("UPSTREAM_UNAVAILABLE", "KGD")}, codes
    else:
        assert "errors" not in body and manifest["kazakhstan"]["piNumber"] == trip.kz_pi_number, body
    return seconds


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--timeout-s", type=float, default=1.0, help="total_timeout_s of each exchange")
    parser.add_argument("--deadline-s", type=float, default=3.0, help="operation_deadline_s")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the gateway's warnings about the injected fault are expected here

    files = build_dataset(PARAMS, default_cache_dir(), truth=True)
    with GroundTruth(files) as truth:
        trips = [t for t in truth.trips() if t.cn_batch_no and t.kz_pi_number and t.common_id]
    if len(trips) < 3 * args.samples:
        print(f"only {len(trips)} two-sided trips with a common id: lower --samples", file=sys.stderr)
        return 2
    options = SimOptions(admin_token=ADMIN_TOKEN)
    cn = china_sim(ChinaSimSettings(files.china_db, app_secret=CN_SECRET, app_id=CN_ID), options)
    kz = kazakhstan_sim(KazakhstanSimSettings(files.kazakhstan_db, KZ_ID, KZ_SECRET), options)
    kz_admin: AdminState = kz.admin
    batches = iter(trips)
    with serve_in_thread(cn.app) as cn_server, serve_in_thread(kz.app) as kz_server:
        common = {"timeout_s": args.timeout_s, "deadline_s": args.deadline_s}
        with gateway(settings(cn_server.url, kz_server.url, threshold=3, **common)) as breaking:
            timed(breaking, next(batches), degraded=False)  # warm: token, connections
            healthy = [timed(breaking, next(batches), degraded=False) for _ in range(args.samples)]
            kz_admin.set_faults(Faults(hang_rate=1.0, hang_s=120.0))
            try:
                opening = timed(breaking, next(batches), degraded=True)  # its timeouts open the circuit
                fast = [timed(breaking, next(batches), degraded=True) for _ in range(args.samples)]
                ready = breaking.get("/readyz").json()["upstreams"]["KGD"]["circuit"]
                with gateway(settings(cn_server.url, kz_server.url, threshold=10_000, **common)) as patient:
                    slow = [timed(patient, next(batches), degraded=True) for _ in range(max(3, args.samples // 5))]
            finally:
                kz_admin.set_faults(Faults())

    print(f"exchange timeout {args.timeout_s:g} s, operation deadline {args.deadline_s:g} s, KGD hanging")
    print(f"healthy two-sided lookup         p50 {p50_ms(healthy):8.1f} ms   (n={len(healthy)})")
    print(f"timeout path (breaker disabled)  p50 {p50_ms(slow):8.1f} ms   (n={len(slow)})")
    print(f"first query, opening the circuit      {opening * 1000:8.1f} ms")
    print(f"circuit open (fail fast)         p50 {p50_ms(fast):8.1f} ms   (n={len(fast)}; /readyz KGD: {ready})")
    print(f"speed-up of failing fast over timing out: {p50_ms(slow) / p50_ms(fast):.0f}x")
    ok = True
    if p50_ms(fast) > p50_ms(healthy) + FAST_FAIL_SLACK_MS:
        print(f"MISSED: circuit-open p50 more than {FAST_FAIL_SLACK_MS:g} ms above healthy", file=sys.stderr)
        ok = False
    if p50_ms(slow) < SPEEDUP * p50_ms(fast):
        print(f"MISSED: failing fast less than {SPEEDUP:g}x faster than timing out", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
