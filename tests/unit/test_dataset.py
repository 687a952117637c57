"""The dataset builder: three databases in one pass (``truth=True``), a reusable cache, and the
ground-truth API."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import orjson
import pytest

from customs_sim.china.store import ChinaStore
from customs_sim.dataset import DatasetFiles, GroundTruth, build_dataset, default_cache_dir
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.kazakhstan.store import KazakhstanStore
from customs_sim.model import FlawKind, Side
from customs_sim.truthcli import TruthFilters, print_truth, truth_command

PARAMS = DatasetParams(
    seed=5,
    start=dt.date(2025, 2, 27),
    end=dt.date(2025, 3, 1),
    trucks_per_day=60,
    as_of=dt.datetime(2025, 3, 1, 6, tzinfo=dt.UTC),
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> DatasetFiles:
    return build_dataset(PARAMS, tmp_path_factory.mktemp("cache"), truth=True)


def test_three_databases_under_the_cache_key(files: DatasetFiles) -> None:
    assert files.exist() and files.truth_db.is_file() and files.params == PARAMS
    assert files.truth_db.parent.name == PARAMS.cache_key()
    assert [p.name for p in files.truth_db.parent.parent.iterdir()] == [PARAMS.cache_key()]  # no leftovers


def test_a_complete_dataset_is_reused(files: DatasetFiles) -> None:
    stamps = [p.stat().st_mtime_ns for p in (files.china_db, files.kazakhstan_db, files.truth_db)]
    again = build_dataset(PARAMS, files.truth_db.parent.parent)
    assert again == files
    assert [p.stat().st_mtime_ns for p in (again.china_db, again.kazakhstan_db, again.truth_db)] == stamps


def test_truth_holds_every_generated_trip_in_order(files: DatasetFiles) -> None:
    expected = list(generate_trips(PARAMS))
    with GroundTruth(files) as truth:
        assert truth.count() == len(expected)
        assert list(truth.trips()) == expected
        for trip in expected[::5]:
            assert truth.get(trip.trip_id) == trip
            if trip.cn_batch_no:
                assert truth.by_cn_batch_no(trip.cn_batch_no) == trip
            if trip.kz_pi_number:
                assert truth.by_kz_pi_number(trip.kz_pi_number) == trip
            if trip.common_id:
                assert truth.by_common_id(trip.common_id) == trip
        assert truth.get("T20990101-NOWHERE-0001") is None
        assert truth.sample(7, seed=1) == truth.sample(7, seed=1)
        assert len({t.trip_id for t in truth.sample(7, seed=1)}) == 7
        assert truth.meta()["seed"] == "5"


def test_each_authority_stores_what_it_saw(files: DatasetFiles) -> None:
    trips = list(generate_trips(PARAMS))
    china, kazakhstan = ChinaStore(files.china_db), KazakhstanStore(files.kazakhstan_db)
    try:
        for trip in trips:
            if trip.cn_batch_no is not None:
                assert china.manifest(trip.cn_batch_no) is not None
            if trip.kz_pi_number is not None:
                assert kazakhstan.pi(trip.kz_pi_number) is not None
        lonely = [t for t in trips if t.has_flaw(FlawKind.ONE_SIDE_ONLY)]
        for trip in lonely:
            assert (trip.cn_batch_no is None) == (Side.CN not in trip.seen_by)
        rates = kazakhstan.rates(PARAMS.start - dt.timedelta(days=31), PARAMS.end + dt.timedelta(days=1))
        assert len(rates) == (PARAMS.end - PARAMS.start).days + 33
    finally:
        china.close()
        kazakhstan.close()


def test_print_truth_filters_and_limits() -> None:
    out = io.StringIO()
    printed = print_truth(PARAMS, out, limit=3, filters=TruthFilters(crossing="KHORGOS", in_transit=True))
    lines = out.getvalue().splitlines()
    assert printed == len(lines) == 3
    for line in lines:
        doc = orjson.loads(line)
        assert doc["crossing"] == "KHORGOS" and doc["in_transit"] is True


def test_truth_command_looks_ids_up_in_the_dataset(files: DatasetFiles) -> None:
    trip = next(t for t in generate_trips(PARAMS) if t.kz_pi_number)
    assert trip.kz_pi_number is not None
    window = ["--seed", "5", "--start", "2025-02-27", "--end", "2025-03-01", "--trucks-per-day", "60"]
    window += ["--as-of", "2025-03-01T06:00:00+00:00", "--cache-dir", str(files.truth_db.parent.parent)]
    out = io.StringIO()
    assert truth_command([*window, "--pi-number", trip.kz_pi_number], out) == 0
    assert orjson.loads(out.getvalue())["trip_id"] == trip.trip_id
    assert truth_command([*window, "--batch-no", "9403E2099010100001"], io.StringIO()) == 1
    out = io.StringIO()
    assert truth_command([*window, "--day", "2025-02-28", "--limit", "2"], out) == 0
    assert [orjson.loads(line)["day"] for line in out.getvalue().splitlines()] == ["2025-02-28"] * 2


def test_default_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CUSTOMS_SIM_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("CUSTOMS_SIM_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "customs-sim"
