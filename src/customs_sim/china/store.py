"""China's system of record: an SQLite database of pre-rendered GACC JSON documents.

:class:`ChinaStoreWriter` renders each ground-truth trip once at build time; :class:`ChinaStore`
serves the stored bytes read-only, so a request costs an index lookup and a byte join, never a
re-render or a JSON parse.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import orjson

from customs_sim.china.render import port_doc, render_trip
from customs_sim.model import Trip
from customs_sim.reference import CROSSINGS
from customs_sim.sqlitebuild import connect_for_build

__all__ = ["ChinaStore", "ChinaStoreWriter", "InspectionQuery", "ManifestQuery", "Page"]

_SCHEMA = """
-- Rowid tables on purpose: a document is ~1 KB, and WITHOUT ROWID tables store whole rows in
-- the key's B-tree, which is slow and bloated for rows that large. The keys get unique indexes
-- after the bulk insert instead of primary keys maintained row by row.
CREATE TABLE manifests (
    batch_no TEXT NOT NULL, port_code TEXT NOT NULL, ie_flag TEXT NOT NULL,
    decl_time INTEGER NOT NULL, plate_key TEXT NOT NULL, common_no TEXT, doc BLOB NOT NULL
);
CREATE TABLE inspections (
    inspection_no TEXT NOT NULL, batch_no TEXT NOT NULL, port_code TEXT NOT NULL,
    start_time INTEGER NOT NULL, common_no TEXT, doc BLOB NOT NULL
);
CREATE TABLE ports (port_code TEXT PRIMARY KEY, ordinal INTEGER NOT NULL, doc BLOB NOT NULL);
"""

# Created after the bulk insert: one sort per index is far cheaper than maintaining them per row.
# Lists filter on (port?, direction?) and order by (time, number); plates and common manifest
# numbers are selective enough on their own (and are looked up in batches of up to 50).
_INDEXES = """
CREATE UNIQUE INDEX manifests_pk ON manifests (batch_no);
CREATE UNIQUE INDEX inspections_pk ON inspections (inspection_no);
CREATE INDEX manifests_by_time ON manifests (decl_time, batch_no);
CREATE INDEX manifests_by_port ON manifests (port_code, decl_time, batch_no);
CREATE INDEX manifests_by_port_flag ON manifests (port_code, ie_flag, decl_time, batch_no);
CREATE INDEX manifests_by_flag ON manifests (ie_flag, decl_time, batch_no);
CREATE INDEX manifests_by_plate ON manifests (plate_key, decl_time, batch_no);
CREATE INDEX manifests_by_common_no ON manifests (common_no);
CREATE INDEX inspections_by_time ON inspections (start_time, inspection_no);
CREATE INDEX inspections_by_port ON inspections (port_code, start_time, inspection_no);
CREATE INDEX inspections_by_batch ON inspections (batch_no, start_time, inspection_no);
CREATE INDEX inspections_by_common_no ON inspections (common_no);
ANALYZE;
"""

# Rows per executemany: 1,000 kilobyte documents keep a build worker's heap ~100 MiB smaller than
# 5,000 did (freed large buffers fragment the heap), at no measurable cost per row.
_CHUNK = 1_000

# Batch lookups name their index: on small tables (or skewed statistics) SQLite would rather scan a
# table in list order than search 50 keys and sort, which costs a read of every row. INDEXED BY
# makes each batch an index search whatever the statistics, and an error should the index go.
_BATCH_INDEXES = {
    # batch key column: (index of the manifests lookup, index of the inspections lookup)
    "batch_no": ("manifests_pk", "inspections_by_batch"),
    "common_no": ("manifests_by_common_no", "inspections_by_common_no"),
}


class ChinaStoreWriter:
    """Build the database at ``path``: ``add`` trips, then ``close``.

    The database is written to a temporary sibling and renamed into place on ``close``, so an
    interrupted build never leaves a half-written file that a dataset cache would reuse.
    ``indexes=False`` leaves out the indexes and statistics: a dataset shard's rows are merged into
    a database that creates them once (see :mod:`customs_sim.shards`).
    """

    def __init__(self, path: Path, *, indexes: bool = True) -> None:
        self._path = Path(path)
        self._indexes = indexes
        self._tmp = self._path.with_name(self._path.name + ".building")
        self._tmp.unlink(missing_ok=True)
        # No journal, no fsync, 16 KiB pages: see customs_sim.sqlitebuild.
        self._conn = connect_for_build(self._tmp)
        self._conn.executescript(_SCHEMA)
        self._conn.executemany(
            "INSERT INTO ports VALUES (?, ?, ?)",
            [(c.cn.code, i, orjson.dumps(port_doc(c))) for i, c in enumerate(CROSSINGS)],
        )
        self._manifests: list[tuple[object, ...]] = []
        self._inspections: list[tuple[object, ...]] = []
        self._closed = False

    def add(self, trip: Trip) -> None:
        records = render_trip(trip)
        if records is None:
            return
        # The records are named tuples in their table's column order: they are the rows.
        self._manifests.append(records.manifest)
        self._inspections.extend(records.inspections)
        if len(self._manifests) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        self._conn.executemany("INSERT INTO manifests VALUES (?, ?, ?, ?, ?, ?, ?)", self._manifests)
        self._conn.executemany("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?)", self._inspections)
        self._manifests.clear()
        self._inspections.clear()

    def close(self) -> None:
        if self._closed:
            return
        self._flush()
        if self._indexes:
            self._conn.executescript(_INDEXES)
        self._conn.commit()
        self._conn.close()
        self._closed = True
        os.replace(self._tmp, self._path)

    def abort(self) -> None:
        """Drop the partial build."""
        if not self._closed:
            self._conn.close()
            self._closed = True
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ChinaStoreWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True, slots=True)
class ManifestQuery:
    """Filters of the manifest list; ``since``/``until`` are UTC epoch seconds on declTime."""

    port_code: str | None = None
    ie_flag: str | None = None
    since: int | None = None  # inclusive
    until: int | None = None  # exclusive
    plate_keys: tuple[str, ...] = ()  # any of these plates; empty: no plate filter
    common_no: str | None = None


@dataclass(frozen=True, slots=True)
class InspectionQuery:
    """Filters of the inspection list; ``since``/``until`` are UTC epoch seconds on startTime."""

    port_code: str | None = None
    since: int | None = None
    until: int | None = None
    batch_no: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    docs: list[bytes]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _where(
    equal: Sequence[tuple[str, object]],
    time_col: str,
    since: int | None,
    until: int | None,
    any_of: tuple[str, Sequence[str]] | None = None,
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    if any_of is not None and any_of[1]:
        clauses.append(f"{any_of[0]} IN ({_marks(len(any_of[1]))})")
        args.extend(any_of[1])
    for column, value in equal:
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if since is not None:
        clauses.append(f"{time_col} >= ?")
        args.append(since)
    if until is not None:
        clauses.append(f"{time_col} < ?")
        args.append(until)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), args


class ChinaStore:
    """Read-only access to a built database.

    Opened ``immutable`` (SQLite skips locking and change detection) and shared by the event loop
    thread; every query is an index lookup well under a millisecond, so handlers call it directly
    instead of paying a thread hop.
    """

    def __init__(self, path: Path) -> None:
        uri = f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        rows = self._conn.execute("SELECT port_code, doc FROM ports ORDER BY ordinal").fetchall()
        self.port_codes: frozenset[str] = frozenset(code for code, _ in rows)
        self.port_docs: list[bytes] = [bytes(doc) for _, doc in rows]

    def close(self) -> None:
        self._conn.close()

    def _one(self, sql: str, key: str) -> bytes | None:
        row = self._conn.execute(sql, (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def manifest(self, batch_no: str) -> bytes | None:
        return self._one("SELECT doc FROM manifests WHERE batch_no = ?", batch_no)

    def inspection(self, inspection_no: str) -> bytes | None:
        return self._one("SELECT doc FROM inspections WHERE inspection_no = ?", inspection_no)

    def manifests_by_batch(self, batch_nos: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Found docs in the order asked (duplicates once), and the unknown batch numbers."""
        wanted = list(dict.fromkeys(batch_nos))
        rows = self._conn.execute(
            f"SELECT batch_no, doc FROM manifests WHERE batch_no IN ({_marks(len(wanted))})",  # noqa: S608
            wanted,
        ).fetchall()
        found = dict(rows)
        return [found[n] for n in wanted if n in found], [n for n in wanted if n not in found]

    def manifests_by_common_no(self, common_nos: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Every manifest carrying one of the common manifest numbers, and the numbers none carries."""
        wanted = list(dict.fromkeys(common_nos))
        rows = self._conn.execute(
            f"SELECT common_no, doc FROM manifests INDEXED BY manifests_by_common_no"  # noqa: S608
            f" WHERE common_no IN ({_marks(len(wanted))})"
            " ORDER BY decl_time, batch_no",
            wanted,
        ).fetchall()
        carried = {common_no for common_no, _ in rows}
        return [doc for _, doc in rows], [n for n in wanted if n not in carried]

    def inspections_by_batch(self, batch_nos: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Every inspection of the known batches (list order), and the unknown batch numbers."""
        return self._inspections_of("batch_no", batch_nos)

    def inspections_by_common_no(self, common_nos: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Every inspection of the manifests carrying the common numbers, and the numbers none carries."""
        return self._inspections_of("common_no", common_nos)

    def _inspections_of(self, column: str, keys: Sequence[str]) -> tuple[list[bytes], list[str]]:
        # A key is known when a manifest carries it, whether or not it had any inspection.
        wanted = list(dict.fromkeys(keys))
        marks = _marks(len(wanted))
        manifest_index, inspection_index = _BATCH_INDEXES[column]
        known = {
            row[0]
            for row in self._conn.execute(
                f"SELECT {column} FROM manifests INDEXED BY {manifest_index} WHERE {column} IN ({marks})",  # noqa: S608
                wanted,
            )
        }
        docs = [
            row[0]
            for row in self._conn.execute(
                f"SELECT doc FROM inspections INDEXED BY {inspection_index} WHERE {column} IN ({marks})"  # noqa: S608
                " ORDER BY start_time, inspection_no",
                wanted,
            )
        ]
        return docs, [n for n in wanted if n not in known]

    def _page(self, table: str, time_col: str, number_col: str, clause: str, args: list[object],
              offset: int, limit: int) -> Page:
        # Table and column names come from the fixed calls below; values are all bound parameters.
        total = int(self._conn.execute(f"SELECT count(*) FROM {table}{clause}", args).fetchone()[0])  # noqa: S608
        if offset >= total:
            return Page(total, [])
        docs = [
            row[0]
            for row in self._conn.execute(
                f"SELECT doc FROM {table}{clause} ORDER BY {time_col}, {number_col} LIMIT ? OFFSET ?",  # noqa: S608
                [*args, limit, offset],
            )
        ]
        return Page(total, docs)

    def manifests(self, query: ManifestQuery, offset: int, limit: int) -> Page:
        clause, args = _where(
            (
                ("port_code", query.port_code),
                ("ie_flag", query.ie_flag),
                ("common_no", query.common_no),
            ),
            "decl_time",
            query.since,
            query.until,
            ("plate_key", query.plate_keys),
        )
        return self._page("manifests", "decl_time", "batch_no", clause, args, offset, limit)

    def inspections(self, query: InspectionQuery, offset: int, limit: int) -> Page:
        clause, args = _where(
            (("port_code", query.port_code), ("batch_no", query.batch_no)),
            "start_time",
            query.since,
            query.until,
        )
        return self._page("inspections", "start_time", "inspection_no", clause, args, offset, limit)
