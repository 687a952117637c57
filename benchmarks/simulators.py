"""Simulator figures: batch-get latency, dataset generation time and peak memory.

    python3 benchmarks/simulators.py            # demo dataset (90 days, full volume)
    python3 benchmarks/simulators.py --year     # also the one-year full-volume dataset (minutes)

Prints p50/p99 of a 50-key batch get on each simulator (no injected latency; target p50 < 5 ms),
and for each dataset the build time and the builder's peak RSS (target < 2 GiB). Builds run in a
child process, in a fresh cache directory, so the figures are a cold generation. Exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from customs_sim.china.app import ChinaSimSettings
from customs_sim.china.signing import sign_headers
from customs_sim.dataset import GroundTruth, build_dataset
from customs_sim.generator import DatasetParams
from customs_sim.kazakhstan.settings import KazakhstanSimSettings
from customs_sim.servers import (
    DEFAULT_CHINA_APP_ID,
    DEFAULT_CHINA_SECRET,
    DEFAULT_KAZAKHSTAN_CLIENT_ID,
    DEFAULT_KAZAKHSTAN_SECRET,
    china_sim,
    kazakhstan_sim,
)
from customs_sim.serving import serve_in_thread

P50_TARGET_MS = 5.0
MEMORY_TARGET_MIB = 2048
ROUNDS = 300

_BUILD = """
import datetime as dt, sys, time
from pathlib import Path
from customs_sim.dataset import build_dataset
from customs_sim.generator import DatasetParams
start, end = dt.date.fromisoformat(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
params = DatasetParams(seed=7, start=start, end=end, as_of=dt.datetime.fromisoformat(sys.argv[3]))
began = time.perf_counter()
build_dataset(params, Path(sys.argv[4]))
print(f"{time.perf_counter() - began:.1f}")
"""


def measure_build(start: dt.date, end: dt.date, as_of: dt.datetime, cache: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of a cold build into ``cache`` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, "-c", _BUILD, start.isoformat(), end.isoformat(), as_of.isoformat(), str(cache)],
        check=True,
        capture_output=True,
        text=True,
    )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:
        print("  (peak RSS of this child is below an earlier child's: figure is an upper bound)")
    return float(out.stdout.strip().splitlines()[-1]), peak_kib / 1024


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def bench_china(url: str, batch_nos: list[str]) -> dict[str, tuple[float, float]]:
    results = {}
    with httpx.Client(base_url=url) as http:
        for name, path in (
            ("road-manifests/batch-query", "/gacc/api/v1/road-manifests/batch-query"),
            ("inspections/batch-query", "/gacc/api/v1/inspections/batch-query"),
        ):
            samples = []
            for round_no in range(ROUNDS):
                keys = batch_nos[(round_no * 50) % (len(batch_nos) - 50) :][:50]
                body = httpx.Request("POST", "/", json={"batchNos": keys}).read()
                headers = sign_headers(DEFAULT_CHINA_APP_ID, DEFAULT_CHINA_SECRET, "POST", path, [], body)
                began = time.perf_counter()
                response = http.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
                samples.append((time.perf_counter() - began) * 1000)
                assert response.json()["code"] == "0000", response.text[:200]
            results[name] = percentiles(samples)
    return results


def bench_kazakhstan(url: str, pi_numbers: list[str]) -> dict[str, tuple[float, float]]:
    results = {}
    with httpx.Client(base_url=url) as http:
        token = http.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_KAZAKHSTAN_CLIENT_ID,
                "client_secret": DEFAULT_KAZAKHSTAN_SECRET,
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for name, path, param in (
            ("preliminary-information/batch", "/api/v1/preliminary-information/batch", "number"),
            ("control-results/batch", "/api/v1/control-results/batch", "piNumber"),
        ):
            samples = []
            for round_no in range(ROUNDS):
                keys = pi_numbers[(round_no * 50) % (len(pi_numbers) - 50) :][:50]
                began = time.perf_counter()
                response = http.get(path, params=[(param, key) for key in keys], headers=auth)
                samples.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text[:200]
            results[name] = percentiles(samples)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--year", action="store_true", help="also build the one-year full-volume dataset")
    args = parser.parse_args()
    failed = False
    today = dt.datetime.now(dt.UTC)
    demo = DatasetParams.demo(today.date(), today)

    print(f"Dataset builds (seed 7, full volume, cold, in a child process; target peak < {MEMORY_TARGET_MIB} MiB)")
    builds = [("demo, 90 days", demo.start, demo.end, demo.as_of)]
    if args.year:
        year_end = demo.end
        builds.append(("one year", year_end - dt.timedelta(days=364), year_end, demo.as_of))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for label, start, end, as_of in builds:
            seconds, peak_mib = measure_build(start, end, as_of, cache)
            print(f"  {label:14s} {seconds:7.1f} s   peak RSS {peak_mib:7.0f} MiB", flush=True)
            failed |= peak_mib >= MEMORY_TARGET_MIB
        failed |= serve_and_measure(demo, cache)
    return 1 if failed else 0


def serve_and_measure(demo: DatasetParams, cache: Path) -> bool:
    """Batch-get figures on the demo dataset already built in ``cache``; True when a target is missed."""
    failed = False
    files = build_dataset(demo, cache)
    truth = GroundTruth(files)
    print(f"\nDemo dataset: {truth.count():,} trips")
    sample = list(truth.sample(3000, seed=1))
    batch_nos = [trip.cn_batch_no for trip in sample if trip.cn_batch_no]
    pi_numbers = [trip.kz_pi_number for trip in sample if trip.kz_pi_number]
    china = china_sim(ChinaSimSettings(db_path=files.china_db, app_secret=DEFAULT_CHINA_SECRET))
    kazakhstan = kazakhstan_sim(
        KazakhstanSimSettings(
            db_path=files.kazakhstan_db,
            client_id=DEFAULT_KAZAKHSTAN_CLIENT_ID,
            client_secret=DEFAULT_KAZAKHSTAN_SECRET,
        )
    )
    print(f"\n50-key batch get over loopback, {ROUNDS} rounds each, no injected latency (target p50 < 5 ms)")
    with serve_in_thread(china.app) as cn, serve_in_thread(kazakhstan.app) as kz:
        figures = {f"China {k}": v for k, v in bench_china(cn.url, batch_nos).items()}
        figures |= {f"Kazakhstan {k}": v for k, v in bench_kazakhstan(kz.url, pi_numbers).items()}
    for name, (p50, p99) in figures.items():
        verdict = "ok" if p50 < P50_TARGET_MS else "MISSED"
        print(f"  {name:42s} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {verdict}")
        failed |= p50 >= P50_TARGET_MS
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
