"""Golden hashes: the generator's and the builder's output bytes never change by accident.

The ground truth is pinned by hard-coded SHA-256 digests (bump ``GENERATOR_VERSION`` and these
together when a change of the trips is meant). The authorities' stored documents are compared with a
reference rendered the obvious way (one process, each trip straight into each writer), so a faster
build pipeline can never change what the simulators serve, whoever owns the renderers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest

from customs_sim import shards
from customs_sim.china.store import ChinaStoreWriter
from customs_sim.dataset import DatasetFiles, build_dataset, build_truth, rate_rows
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.kazakhstan.store import KazakhstanStoreWriter
from customs_sim.truthjson import to_json

# Six days across the Kazakh clock change, the snapshot in the middle of the last day: trips in
# transit, trips not started yet, every flaw, every corridor, both directions at every crossing.
GOLDEN = DatasetParams(
    seed=3,
    start=dt.date(2024, 2, 27),
    end=dt.date(2024, 3, 3),
    trucks_per_day=300,
    as_of=dt.datetime(2024, 3, 3, 9, 30, tzinfo=dt.UTC),
)
TRUTH_JSON_SHA256 = "29a8399210185bb17b58821b3b5d931095e9acbeffecb4503aea3d1320006ac7"
TRUTH_DB_SHA256 = "183b3a8b48fae4f9aba1061f21cb41b1ecc9f87e00daf7a96d906234178a8cc8"


def db_digest(path: Path) -> str:
    """SHA-256 of a database's schema (no root pages) and of every row of every table in rowid order."""
    digest = hashlib.sha256()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
        digest.update(repr(schema).encode())
        for _type, name, _table, sql in schema:
            if _type != "table":
                continue
            order = "1, 2" if "WITHOUT ROWID" in sql else "rowid"
            columns = "*" if "WITHOUT ROWID" in sql else "rowid, *"
            digest.update(f"\n#{name}\n".encode())
            for row in conn.execute(f"SELECT {columns} FROM {name} ORDER BY {order}"):  # noqa: S608
                digest.update(repr(row).encode())
                digest.update(b"\n")
    finally:
        conn.close()
    return digest.hexdigest()


def reference_stores(params: DatasetParams, directory: Path) -> tuple[Path, Path]:
    """Both authorities' databases rendered the obvious way: one process, trip by trip."""
    china_db, kazakhstan_db = directory / "china.sqlite", directory / "kazakhstan.sqlite"
    with ChinaStoreWriter(china_db) as china, KazakhstanStoreWriter(kazakhstan_db) as kazakhstan:
        kazakhstan.add_rates(rate_rows(params))
        for trip in generate_trips(params):
            china.add(trip)
            kazakhstan.add(trip)
    return china_db, kazakhstan_db


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DatasetFiles:
    """The simulators' databases built, then the truth store on its first use (a second pass)."""
    files = build_dataset(GOLDEN, tmp_path_factory.mktemp("golden"))
    assert not files.truth_db.exists()
    build_truth(files)
    return files


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return reference_stores(GOLDEN, tmp_path_factory.mktemp("reference"))


def test_generated_truth_json_is_pinned() -> None:
    digest = hashlib.sha256()
    for trip in generate_trips(GOLDEN):
        digest.update(to_json(trip))
        digest.update(b"\n")
    assert digest.hexdigest() == TRUTH_JSON_SHA256


def test_truth_database_is_pinned(built: DatasetFiles) -> None:
    assert db_digest(built.truth_db) == TRUTH_DB_SHA256


def statistics(path: Path) -> list[tuple[object, ...]]:
    """The planner's statistics (``ANALYZE``), which the digest leaves out with SQLite's own tables."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM sqlite_stat1 ORDER BY tbl, idx").fetchall()
    finally:
        conn.close()


def test_served_documents_match_a_trip_by_trip_render(built: DatasetFiles, reference: tuple[Path, Path]) -> None:
    china_db, kazakhstan_db = reference
    assert db_digest(built.china_db) == db_digest(china_db)
    assert db_digest(built.kazakhstan_db) == db_digest(kazakhstan_db)
    # Indexed before the last shard is appended (customs_sim.shardmerge): the same query plans.
    assert statistics(built.china_db) == statistics(china_db)
    assert statistics(built.kazakhstan_db) == statistics(kazakhstan_db)


def test_sharded_in_processes_the_databases_hold_the_same_rows(
    built: DatasetFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shards, "CHUNK_DAYS", 2)  # three shards merged, built by two processes
    assert len(shards.chunks(GOLDEN)) == 3
    sharded = build_dataset(GOLDEN, tmp_path, workers=2, truth=True)  # all three in one pass
    for mine, theirs in (
        (sharded.truth_db, built.truth_db),
        (sharded.china_db, built.china_db),
        (sharded.kazakhstan_db, built.kazakhstan_db),
    ):
        assert db_digest(mine) == db_digest(theirs)
    assert [p.name for p in tmp_path.iterdir()] == [GOLDEN.cache_key()]  # no shard left behind
