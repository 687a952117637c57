"""Merging a dataset's shard databases into its final ones (see :mod:`customs_sim.shards`).

Each final database starts as its writer's output for zero trips (schema, reference rows, indexes).
Its indexes are dropped, the rows of every table the empty build left empty are appended from each
shard in chunk order and rowid order (so rowids and row order are those of a one-pass build), then
the indexes are created once and ``ANALYZE`` rerun if the writer ran it.

The indexes are created before the last shard is appended, while its chunk is still being
generated: a build's last chunk often runs alone (the other workers have nothing left), and the
index builds (each a scan of its whole table, ~3.3 s of CPU for the demo's two authorities) then use
the idle cores instead of following it. The last shard is then inserted row by row into the indexed
tables (one chunk: a few thousand trips' rows). The rows, the index entries and the statistics are
the same as with every shard appended first; only the index pages' layout differs, and it depends
on the number of chunks alone, never on timing, so the files are still reproducible.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["Merge", "Merger", "merge_into"]


class Merge:
    """Appends shards to a base database in order (see the module's doc), then indexes it once."""

    def __init__(self, base: Path) -> None:
        self._conn = conn = sqlite3.connect(base, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-16384")
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        self._indexes = [(name, sql) for kind, name, _table, sql in master if kind == "index" and sql is not None]
        self._analyzed = any(name == "sqlite_stat1" for _kind, name, _table, _sql in master)
        auto_indexed = {table for kind, _name, table, sql in master if kind == "index" and sql is None}
        # A table left without any index is copied record by record in rowid order (SQLite's
        # transfer optimization: no decoding, new rowids in order); one keeping an automatic index
        # (a PRIMARY KEY) says ORDER BY rowid, which the optimization does not take.
        tables = [
            (name, "WITHOUT ROWID" not in sql.upper() and name in auto_indexed)
            for kind, name, _table, sql in master
            if kind == "table" and not name.startswith("sqlite_")
        ]
        # Table names come from the database's own schema, never from outside.
        self._empty = [
            (name, ordered)
            for name, ordered in tables
            if conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is None  # noqa: S608
        ]
        for name, _sql in self._indexes:
            conn.execute(f'DROP INDEX "{name}"')
        self._indexed = False

    def append(self, shard: Path) -> None:
        conn = self._conn
        conn.execute("ATTACH DATABASE ? AS shard", (f"{shard.resolve().as_uri()}?mode=ro",))
        conn.execute("BEGIN")
        for name, ordered in self._empty:
            order = " ORDER BY rowid" if ordered else ""
            conn.execute(f'INSERT INTO main."{name}" SELECT * FROM shard."{name}"{order}')  # noqa: S608
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE shard")

    def index(self) -> None:
        """Create the indexes now (once); shards appended after are inserted row by row, in rowid
        order (the transfer optimization needs an index-free or empty table)."""
        if self._indexed:
            return
        conn = self._conn
        conn.execute("BEGIN")
        for _name, sql in self._indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        self._indexed = True
        self._empty = [(name, True) for name, _ordered in self._empty]

    def finish(self) -> None:
        """The indexes (unless :meth:`index` made them) and the statistics, over every row."""
        self.index()
        if self._analyzed:
            self._conn.execute("ANALYZE")
        self._conn.close()

    def close(self) -> None:
        self._conn.close()


def merge_into(base: Path, shards: Sequence[Path]) -> None:
    """Append every shard's rows to the tables ``base`` holds no row of, then index once."""
    merge = Merge(base)
    try:
        for shard in shards:
            merge.append(shard)
    except BaseException:
        merge.close()
        raise
    merge.finish()


class Merger(threading.Thread):
    """Merges one database's shards in chunk order as they become ready (deleting each after)."""

    def __init__(self, base: Path, shards: list[Path], ready: list[threading.Event], failed: threading.Event) -> None:
        super().__init__(name=f"merge-{base.name}", daemon=True)
        self._base, self._shards, self._ready, self._failed = base, shards, ready, failed
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            merge = Merge(self._base)
            try:
                last = len(self._shards) - 1
                for number, (shard, ready) in enumerate(zip(self._shards, self._ready, strict=True)):
                    if number == last and number > 0:
                        merge.index()  # while the last chunk is generated (see the module's doc)
                    ready.wait()
                    if self._failed.is_set():
                        merge.close()
                        return
                    merge.append(shard)
                    shard.unlink()
            except BaseException:
                merge.close()
                raise
            merge.finish()
        except BaseException as exc:  # handed to the building thread
            self.error = exc
            self._failed.set()
