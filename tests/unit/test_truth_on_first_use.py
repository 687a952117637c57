"""The ground-truth store on first use: a dataset build writes the simulators' two databases only,
and the truth store is generated when first opened, with the bytes a one-pass build writes, once
however many threads or processes open it at the same time."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from customs_sim import dataset
from customs_sim.dataset import DatasetFiles, GroundTruth, build_dataset, build_truth
from customs_sim.generator import DatasetParams

PARAMS = DatasetParams(
    seed=11,
    start=dt.date(2025, 5, 1),
    end=dt.date(2025, 5, 2),
    trucks_per_day=40,
    as_of=dt.datetime(2025, 5, 2, 12, tzinfo=dt.UTC),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def one_pass(tmp_path_factory: pytest.TempPathFactory) -> DatasetFiles:
    return build_dataset(PARAMS, tmp_path_factory.mktemp("one-pass"), truth=True)


def test_a_build_leaves_the_truth_for_its_first_use_with_the_same_bytes(one_pass: DatasetFiles, tmp_path: Path) -> None:
    files = build_dataset(PARAMS, tmp_path)
    assert files.exist() and not files.truth_db.exists()
    assert sha256(files.china_db) == sha256(one_pass.china_db)
    assert sha256(files.kazakhstan_db) == sha256(one_pass.kazakhstan_db)
    with GroundTruth(files) as truth:
        assert truth.count() > 0
    assert sha256(files.truth_db) == sha256(one_pass.truth_db)
    assert sorted(p.name for p in files.truth_db.parent.iterdir()) == [
        "china.sqlite",
        "kazakhstan.sqlite",
        "truth.lock",
        "truth.sqlite",
    ]


def test_opened_on_a_path_the_truth_must_exist(tmp_path: Path) -> None:
    files = build_dataset(PARAMS, tmp_path)
    with pytest.raises(FileNotFoundError):
        GroundTruth(files.truth_db)
    assert not files.truth_db.exists()


def test_threads_opening_it_at_once_build_it_once(
    one_pass: DatasetFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = build_dataset(PARAMS, tmp_path)
    writes: list[object] = []
    real_write = dataset._write
    start = threading.Barrier(4)

    def counted(*args: Any) -> None:
        writes.append(args[-1])
        real_write(*args)

    monkeypatch.setattr(dataset, "_write", counted)
    results: list[Path | BaseException] = []

    def open_truth() -> None:
        start.wait()
        try:
            results.append(build_truth(files))
        except BaseException as exc:  # handed to the test thread
            results.append(exc)

    threads = [threading.Thread(target=open_truth) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [files.truth_db] * 4
    assert writes == [("truth",)]
    assert sha256(files.truth_db) == sha256(one_pass.truth_db)


def test_a_crashed_build_is_cleaned_up_by_the_next(one_pass: DatasetFiles, tmp_path: Path) -> None:
    files = build_dataset(PARAMS, tmp_path)
    stale = files.truth_db.parent / "truth.building-1-deadbeef"
    (stale / "shards").mkdir(parents=True)
    (stale / "truth.sqlite").write_bytes(b"half a database")
    build_truth(files)
    assert not stale.exists()
    assert sha256(files.truth_db) == sha256(one_pass.truth_db)


_OPEN = """
import datetime as dt, sys
from pathlib import Path
from customs_sim.dataset import GroundTruth, build_dataset
from customs_sim.generator import DatasetParams
params = DatasetParams(seed=11, start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 2), trucks_per_day=40,
                       as_of=dt.datetime(2025, 5, 2, 12, tzinfo=dt.UTC))
with GroundTruth(build_dataset(params, Path(sys.argv[1]))) as truth:
    print(truth.count())
"""


def test_two_processes_opening_it_at_once_both_read_the_whole_store(one_pass: DatasetFiles, tmp_path: Path) -> None:
    files = build_dataset(PARAMS, tmp_path)
    processes = [
        subprocess.Popen([sys.executable, "-c", _OPEN, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    with GroundTruth(one_pass) as truth:
        expected = truth.count()
    assert [int(out) for out in outputs] == [expected, expected]
    assert sha256(files.truth_db) == sha256(one_pass.truth_db)
    assert not list(files.truth_db.parent.glob("truth.building-*"))
