"""The ``customs-sim`` command as a new user runs it: truth lines, a signed request, both servers."""

from __future__ import annotations

import datetime as dt
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from tests.integration.redis_server import free_port

from customs_sim.dataset import GroundTruth, build_dataset
from customs_sim.generator import DatasetParams
from customs_sim.truthjson import to_json

DATES = ["--start", "2025-03-01", "--end", "2025-03-02", "--trucks-per-day", "40", "--seed", "11"]
PARAMS = DatasetParams(seed=11, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2), trucks_per_day=40)


def _sim(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    cache_args = ["--cache-dir", str(cache)] if cache else []
    return subprocess.run(
        [sys.executable, "-m", "customs_sim.cli", *args, *cache_args],
        capture_output=True,
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sim-cache")
    build_dataset(PARAMS, directory, truth=True)
    return directory


@pytest.fixture(scope="module")
def both(cache: Path) -> Iterator[tuple[str, str]]:
    cn_port, kz_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "customs_sim.cli", "both", *DATES, "--cache-dir", str(cache),
        "--china-port", str(cn_port), "--kazakhstan-port", str(kz_port),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cn, kz = f"http://127.0.0.1:{cn_port}", f"http://127.0.0.1:{kz_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{cn}/openapi.json").raise_for_status()
                httpx.get(f"{kz}/schema/kgd.xsd").raise_for_status()
                break
            except httpx.HTTPError:
                assert process.poll() is None, "customs-sim both exited"
                assert time.monotonic() < deadline, "customs-sim both did not start"
                time.sleep(0.1)
        yield cn, kz
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_truth_prints_the_ground_truth_as_json_lines(cache: Path) -> None:
    lines = _sim("truth", *DATES, "--limit", "5", cache=cache).stdout.splitlines()
    with GroundTruth(build_dataset(PARAMS, cache)) as truth:
        expected = [to_json(trip) for trip, _ in zip(truth.trips(), range(5), strict=False)]
    assert lines == expected
    assert orjson.loads(lines[0])["trip_id"].startswith("T20250301-")


def test_truth_filters_by_crossing(cache: Path) -> None:
    lines = _sim("truth", *DATES, "--crossing", "DULATA", cache=cache).stdout.splitlines()
    assert lines
    assert {orjson.loads(line)["crossing"] for line in lines} == {"DULATA"}


def test_signed_curl_is_accepted_and_kazakh_token_works(both: tuple[str, str]) -> None:
    cn, kz = both
    url = f"{cn}/gacc/api/v1/road-manifests?portCode=9403&pageSize=2"
    words = shlex.split(_sim("sign", "GET", url).stdout.decode())
    assert words[:2] == ["curl", "-sS"] and words[-1] == url
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    assert set(headers) == {"appId", "timestamp", "nonce", "sign"}
    envelope = httpx.get(url, headers=headers).json()
    assert envelope["code"] == "0000"
    assert len(envelope["data"]["list"]) == 2
    # The same signature again is a replay.
    assert httpx.get(url, headers=headers).json()["code"] == "E4005"

    token = httpx.post(
        f"{kz}/auth/token",
        data={"grant_type": "client_credentials", "client_id": "customs-gateway", "client_secret": "kz-demo-secret"},
    ).json()["access_token"]
    answer = httpx.get(f"{kz}/api/v1/preliminary-information?limit=2", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.text.count("<PreliminaryInformation>") == 2


def test_admin_counts_what_the_cli_servers_served(both: tuple[str, str]) -> None:
    cn, _ = both
    admin = {"X-Admin-Token": "sim-admin"}
    httpx.delete(f"{cn}/__admin/counters", headers=admin).raise_for_status()
    httpx.get(f"{cn}/openapi.json")
    assert httpx.get(f"{cn}/__admin/counters", headers=admin).json()["endpoints"] == {"GET /openapi.json": 1}
