"""Simulator figures: batch-get latency, dataset generation time and peak memory.

    python3 benchmarks/simulators.py             # demo (90 days) and one-year datasets, full volume
    python3 benchmarks/simulators.py --no-year   # the demo dataset only

Prints p50/p99 of a 50-key batch get on each simulator (no injected latency; target p50 < 5 ms),
and for each dataset two builds, each with its wall time, its CPU time and the peak RSS of its whole
process tree (target < 2 GiB): the simulators' two databases (what ``customs-sim`` and the demo wait
for; demo < 20 s, one year < 10 min) and then the ground-truth store, which is built on its first
use (``GroundTruth``; tests and benchmarks). Builds run in a child process, in a fresh cache
directory, so the figures are a cold generation; the forkserver and its workers are counted too.
Wall times on a shared machine are noisy: the load average is printed, and CPU seconds are the
steadier figure. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from customs_sim.china.app import ChinaSimSettings
from customs_sim.china.signing import sign_headers
from customs_sim.compiled import compiled_status
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
from machine import speed_line

P50_TARGET_MS = 5.0
MEMORY_TARGET_MIB = 2048
DEMO_WALL_TARGET_S = 20.0  # "in seconds"
YEAR_WALL_TARGET_S = 600.0  # "in minutes"
ROUNDS = 300
_PR_SET_CHILD_SUBREAPER = 36

_BUILD = """
import datetime as dt, sys
from pathlib import Path
from customs_sim.dataset import build_dataset, build_truth
from customs_sim.generator import DatasetParams
start, end = dt.date.fromisoformat(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
params = DatasetParams(seed=7, start=start, end=end, as_of=dt.datetime.fromisoformat(sys.argv[3]))
files = build_dataset(params, Path(sys.argv[4]), progress=sys.argv[5] == "1")
if sys.argv[6] == "truth":
    build_truth(files, progress=sys.argv[5] == "1")
"""


@dataclass(frozen=True, slots=True)
class BuildFigures:
    wall_s: float
    cpu_s: float  # user + system of every process of the build (child, forkserver, workers)
    peak_tree_mib: float  # highest sum of the RSS of all those processes at one sample


def _become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux): the build's forkserver outlives the build process, and
    only a reaped process's CPU time reaches ``RUSAGE_CHILDREN``."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _tree_rss(me: psutil.Process) -> int:
    total = 0
    for process in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # it exited between the listing and the read
            total += process.memory_info().rss
    return total


def _reap_all() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def measure_build(
    start: dt.date, end: dt.date, as_of: dt.datetime, cache: Path, progress: bool, part: str
) -> BuildFigures:
    """Wall and CPU seconds and peak RSS of the whole process tree of a cold build into ``cache``:
    the simulators' databases (``part="simulators"``), or the truth store once they are there.

    The build runs in a child process; its forkserver and workers are its descendants (adopted by
    this process when orphaned), sampled every 50 ms for their summed RSS.
    """
    me = psutil.Process()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [start.isoformat(), end.isoformat(), as_of.isoformat(), str(cache), "1" if progress else "0", part]
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _BUILD, *args])
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(me))
        time.sleep(0.05)
    wall = time.perf_counter() - began
    if child.returncode != 0:
        raise SystemExit(f"build failed with exit code {child.returncode}")
    _reap_all()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return BuildFigures(wall, cpu, peak / 2**20)


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
    parser.add_argument(
        "--year", action=argparse.BooleanOptionalAction, default=True, help="also build the one-year dataset"
    )
    parser.add_argument("--progress", action="store_true", help="show the builds' progress bars")
    args = parser.parse_args()
    if not _become_subreaper():
        print("  (not Linux: the CPU figure misses the forkserver and its workers)")
    failed = False
    status = compiled_status()
    print(status.summary)
    if status.stale:
        return 1  # the figures would be those of an older build of the code
    print(speed_line())
    today = dt.datetime.now(dt.UTC)
    demo = DatasetParams.demo(today.date(), today)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Dataset builds (seed 7, full volume, cold, in a child process; {os.cpu_count()} cores, load {load})")
    print("  wall: elapsed; CPU: user+system of every process of the build; RSS: peak sum over the process tree")
    builds = [("demo, 90 days", demo.start, demo.end, demo.as_of, DEMO_WALL_TARGET_S)]
    if args.year:
        year_end = demo.end
        builds.append(("one year", year_end - dt.timedelta(days=364), year_end, demo.as_of, YEAR_WALL_TARGET_S))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for label, start, end, as_of, wall_target in builds:
            ready = measure_build(start, end, as_of, cache, args.progress, "simulators")
            missed = ready.wall_s >= wall_target or ready.peak_tree_mib >= MEMORY_TARGET_MIB
            print(
                f"  {label}: simulators' databases ready: {ready.wall_s:.1f} s (target < {wall_target:.0f})"
                f"   CPU {ready.cpu_s:6.1f} s   peak RSS {ready.peak_tree_mib:5.0f} MiB"
                f" (target < {MEMORY_TARGET_MIB})   {'MISSED' if missed else 'ok'}",
                flush=True,
            )
            truth = measure_build(start, end, as_of, cache, args.progress, "truth")
            heavy = truth.peak_tree_mib >= MEMORY_TARGET_MIB
            print(
                f"  {label}: ground-truth store: +{truth.wall_s:.1f} s (first use)"
                f"   CPU {truth.cpu_s:6.1f} s   peak RSS {truth.peak_tree_mib:5.0f} MiB"
                f"   {'MISSED' if heavy else 'ok'}   (both: {ready.wall_s + truth.wall_s:.1f} s wall,"
                f" {ready.cpu_s + truth.cpu_s:.1f} s CPU)",
                flush=True,
            )
            failed |= missed or heavy
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
