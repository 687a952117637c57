"""Kazakhstan's system of record: an SQLite database of pre-rendered KGD XML fragments.

:class:`KazakhstanStoreWriter` renders each ground-truth trip once at build time;
:class:`KazakhstanStore` serves them read-only, so a request costs an index lookup and a byte join.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from customs_sim.kazakhstan.render import RateLookup, render_checkpoint, render_exchange_rates, render_trip
from customs_sim.model import Trip
from customs_sim.reference import CROSSINGS
from customs_sim.sqlitebuild import connect_for_build

__all__ = ["KazakhstanStore", "KazakhstanStoreWriter", "Page", "RecordQuery"]

# Rowid tables, not WITHOUT ROWID: rows carry kilobytes of XML, and SQLite's clustered WITHOUT ROWID
# b-trees are meant for small rows. The record numbers are unique by indexes created after the bulk
# insert, not PRIMARY KEYs maintained row by row: a dataset build's merge then copies a shard's
# records without decoding them (see customs_sim.shards). The secondary indexes cover every list query.
_SCHEMA = """
CREATE TABLE pi (
    pi_number TEXT NOT NULL, checkpoint TEXT NOT NULL, direction TEXT NOT NULL,
    registered_at INTEGER NOT NULL, plate_key TEXT NOT NULL, common_id TEXT, doc BLOB NOT NULL
);
CREATE TABLE arrivals (
    notification_number TEXT NOT NULL, pi_number TEXT NOT NULL, checkpoint TEXT NOT NULL,
    arrived_at INTEGER NOT NULL, common_id TEXT, doc BLOB NOT NULL
);
CREATE TABLE controls (
    control_number TEXT NOT NULL, pi_number TEXT NOT NULL, checkpoint TEXT NOT NULL,
    started_at INTEGER NOT NULL, common_id TEXT, doc BLOB NOT NULL
);
CREATE TABLE rates (
    day TEXT NOT NULL, currency TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (day, currency)
) WITHOUT ROWID;
CREATE TABLE checkpoints (code TEXT PRIMARY KEY, ordinal INTEGER NOT NULL, doc BLOB NOT NULL);
"""

# Created after the bulk insert: building them once is much cheaper than maintaining them per row.
# Each list query filters on (checkpoint?, direction?) and orders by (time, number); PI numbers
# and common manifest ids are selective enough on their own (and are looked up in batches of 50).
_INDEXES = """
CREATE UNIQUE INDEX pi_pk ON pi (pi_number);
CREATE UNIQUE INDEX arrivals_pk ON arrivals (notification_number);
CREATE UNIQUE INDEX controls_pk ON controls (control_number);
CREATE INDEX pi_by_time ON pi (registered_at, pi_number);
CREATE INDEX pi_by_checkpoint ON pi (checkpoint, registered_at, pi_number);
CREATE INDEX pi_by_checkpoint_direction ON pi (checkpoint, direction, registered_at, pi_number);
CREATE INDEX pi_by_direction ON pi (direction, registered_at, pi_number);
CREATE INDEX pi_by_plate ON pi (plate_key, registered_at, pi_number);
CREATE INDEX pi_by_common_id ON pi (common_id) WHERE common_id IS NOT NULL;
CREATE INDEX arrivals_by_time ON arrivals (arrived_at, notification_number);
CREATE INDEX arrivals_by_checkpoint ON arrivals (checkpoint, arrived_at, notification_number);
CREATE INDEX arrivals_by_pi ON arrivals (pi_number);
CREATE INDEX arrivals_by_common_id ON arrivals (common_id) WHERE common_id IS NOT NULL;
CREATE INDEX controls_by_time ON controls (started_at, control_number);
CREATE INDEX controls_by_checkpoint ON controls (checkpoint, started_at, control_number);
CREATE INDEX controls_by_pi ON controls (pi_number);
CREATE INDEX controls_by_common_id ON controls (common_id) WHERE common_id IS NOT NULL;
ANALYZE;
"""

# Rows per executemany: 1,000 kilobyte documents keep a build worker's heap ~100 MiB smaller than
# 5,000 did (freed large buffers fragment the heap), at no measurable cost per row.
_CHUNK = 1_000


def _default_rates() -> RateLookup:
    # Imported late: the rates module belongs to the generator and pulls in its own data. Looked
    # up once per writer, not per trip (an import statement costs a microsecond even when cached).
    from customs_sim.rates import nbk_rate

    return nbk_rate


class KazakhstanStoreWriter:
    """Build the database at ``path``: ``add`` trips and ``add_rates``, then ``close``.

    The database is written to a temporary sibling and renamed into place on ``close``, so an
    interrupted build never leaves a half-written file that a dataset cache would reuse.
    ``rate_of`` gives the National Bank rate a PI's KZT values are computed with. ``indexes=False``
    leaves out the indexes and statistics: a dataset shard's rows are merged into a database that
    creates them once (see :mod:`customs_sim.shards`).
    """

    def __init__(self, path: Path, rate_of: RateLookup | None = None, *, indexes: bool = True) -> None:
        self._path = Path(path)
        self._indexes = indexes
        self._tmp = self._path.with_name(self._path.name + ".building")
        self._tmp.unlink(missing_ok=True)
        self._rate_of = rate_of or _default_rates()
        # No journal, no fsync, 16 KiB pages: see customs_sim.sqlitebuild.
        self._conn = connect_for_build(self._tmp)
        self._conn.executescript(_SCHEMA)
        self._conn.executemany(
            "INSERT INTO checkpoints VALUES (?, ?, ?)",
            [(c.kz.code, i, render_checkpoint(c).encode()) for i, c in enumerate(CROSSINGS)],
        )
        self._pi: list[tuple[object, ...]] = []
        self._arrivals: list[tuple[object, ...]] = []
        self._controls: list[tuple[object, ...]] = []
        self._closed = False

    def add(self, trip: Trip) -> None:
        records = render_trip(trip, self._rate_of)
        if records is None:
            return
        # The records are named tuples in their table's column order: they are the rows.
        self._pi.append(records.pi)
        if records.arrival is not None:
            self._arrivals.append(records.arrival)
        self._controls.extend(records.controls)
        if len(self._pi) >= _CHUNK:
            self._flush()

    def add_rates(self, rows: Iterable[tuple[dt.date, str, Decimal]]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO rates VALUES (?, ?, ?)",
            ((day.isoformat(), currency, str(value)) for day, currency, value in rows),
        )

    def _flush(self) -> None:
        self._conn.executemany("INSERT INTO pi VALUES (?, ?, ?, ?, ?, ?, ?)", self._pi)
        self._conn.executemany("INSERT INTO arrivals VALUES (?, ?, ?, ?, ?, ?)", self._arrivals)
        self._conn.executemany("INSERT INTO controls VALUES (?, ?, ?, ?, ?, ?)", self._controls)
        self._pi.clear()
        self._arrivals.clear()
        self._controls.clear()

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

    def __enter__(self) -> KazakhstanStoreWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Filters of a list call; ``since``/``until`` are UTC epoch seconds (inclusive/exclusive)."""

    checkpoint: str | None = None
    direction: str | None = None
    since: int | None = None
    until: int | None = None
    plate_keys: tuple[str, ...] = ()
    common_id: str | None = None
    pi_numbers: tuple[str, ...] = ()  # any of these PI numbers; empty: no such filter
    common_ids: tuple[str, ...] = ()  # any of these common manifest ids; empty: no such filter


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    docs: list[bytes]


# table, time column, number column: the list order of each resource is (time, number).
_LISTS = {
    "pi": ("pi", "registered_at", "pi_number"),
    "arrivals": ("arrivals", "arrived_at", "notification_number"),
    "controls": ("controls", "started_at", "control_number"),
}


# Batch lookups name their index: on small tables (or skewed statistics) SQLite would rather scan a
# table in list order than search 50 keys and sort, which costs a read of every row. INDEXED BY
# makes each batch an index search whatever the statistics, and an error should the index go.
_BY_COMMON_ID = " INDEXED BY pi_by_common_id"
_BATCH_INDEXES = {
    # batch key column: (the pi lookup's index clause, the controls lookup's); pi_number is the key
    "pi_number": ("", " INDEXED BY controls_by_pi"),
    "common_id": (_BY_COMMON_ID, " INDEXED BY controls_by_common_id"),
}


def _marks(n: int) -> str:
    return ",".join("?" * n)


class KazakhstanStore:
    """Read-only access to a built database.

    Opened ``immutable`` (SQLite skips locking and change detection) and shared by the event loop
    thread; every query is an index lookup of well under a millisecond, so handlers call it
    directly instead of paying a thread hop.
    """

    def __init__(self, path: Path) -> None:
        uri = f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        rows = self._conn.execute("SELECT code, doc FROM checkpoints ORDER BY ordinal").fetchall()
        self.checkpoint_codes: frozenset[str] = frozenset(code for code, _ in rows)
        self.checkpoint_docs: list[bytes] = [doc for _, doc in rows]
        self._rate_fragments: dict[tuple[dt.date, dt.date], list[bytes]] = {}

    def close(self) -> None:
        self._conn.close()

    def _one(self, sql: str, key: str) -> bytes | None:
        row = self._conn.execute(sql, (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def pi(self, number: str) -> bytes | None:
        return self._one("SELECT doc FROM pi WHERE pi_number = ?", number)

    def arrival(self, number: str) -> bytes | None:
        return self._one("SELECT doc FROM arrivals WHERE notification_number = ?", number)

    def control(self, number: str) -> bytes | None:
        return self._one("SELECT doc FROM controls WHERE control_number = ?", number)

    def pi_batch(self, numbers: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Found docs in the order asked (duplicates once), and the unknown numbers."""
        wanted = list(dict.fromkeys(numbers))
        rows = self._conn.execute(
            f"SELECT pi_number, doc FROM pi WHERE pi_number IN ({_marks(len(wanted))})",  # noqa: S608
            wanted,
        ).fetchall()
        found = dict(rows)
        return [found[n] for n in wanted if n in found], [n for n in wanted if n not in found]

    def pi_by_common_ids(self, common_ids: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Records carrying those common manifest ids (in the order asked), and the unknown ids."""
        wanted = list(dict.fromkeys(common_ids))
        rows = self._conn.execute(
            f"SELECT common_id, doc FROM pi{_BY_COMMON_ID} WHERE common_id IN ({_marks(len(wanted))})"  # noqa: S608
            " ORDER BY registered_at, pi_number",
            wanted,
        ).fetchall()
        by_id: dict[str, list[bytes]] = {}
        for common_id, doc in rows:
            by_id.setdefault(common_id, []).append(doc)
        return [doc for c in wanted for doc in by_id.get(c, ())], [c for c in wanted if c not in by_id]

    def controls_of(self, pi_numbers: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Every control of the known PI numbers (list order), and the PI numbers that are unknown."""
        return self._controls_by("pi_number", pi_numbers)

    def controls_by_common_ids(self, common_ids: Sequence[str]) -> tuple[list[bytes], list[str]]:
        """Every control of the records carrying those common manifest ids (list order), and the
        ids no record carries."""
        return self._controls_by("common_id", common_ids)

    def _controls_by(self, column: str, keys: Sequence[str]) -> tuple[list[bytes], list[str]]:
        # A key is known when a PI record carries it, whether or not it had any control.
        wanted = list(dict.fromkeys(keys))
        marks = _marks(len(wanted))
        pi_index, controls_index = _BATCH_INDEXES[column]
        known = {
            row[0]
            for row in self._conn.execute(
                f"SELECT {column} FROM pi{pi_index} WHERE {column} IN ({marks})",  # noqa: S608
                wanted,
            )
        }
        docs = [
            row[0]
            for row in self._conn.execute(
                f"SELECT doc FROM controls{controls_index} WHERE {column} IN ({marks})"  # noqa: S608
                " ORDER BY started_at, control_number",
                wanted,
            )
        ]
        return docs, [n for n in wanted if n not in known]

    def page(self, resource: str, query: RecordQuery, offset: int, limit: int) -> Page:
        table, time_col, number_col = _LISTS[resource]
        where: list[str] = []
        args: list[object] = []
        for column, value in (
            ("checkpoint", query.checkpoint),
            ("direction", query.direction),
            ("common_id", query.common_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if query.since is not None:
            where.append(f"{time_col} >= ?")
            args.append(query.since)
        if query.until is not None:
            where.append(f"{time_col} < ?")
            args.append(query.until)
        if query.plate_keys:
            where.append(f"plate_key IN ({_marks(len(query.plate_keys))})")
            args.extend(query.plate_keys)
        if query.pi_numbers:
            where.append(f"pi_number IN ({_marks(len(query.pi_numbers))})")
            args.extend(query.pi_numbers)
        if query.common_ids:
            where.append(f"common_id IN ({_marks(len(query.common_ids))})")
            args.extend(query.common_ids)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        # Column names come from the fixed tables above, values are all bound parameters.
        total = self._conn.execute(f"SELECT count(*) FROM {table}{clause}", args).fetchone()[0]  # noqa: S608
        # Page over the covering index first and fetch the documents of that page only: with
        # OFFSET, SQLite would otherwise read (and skip) the kilobyte documents of every earlier row.
        rowids = [
            row[0]
            for row in self._conn.execute(
                f"SELECT rowid FROM {table}{clause} ORDER BY {time_col}, {number_col} LIMIT ? OFFSET ?",  # noqa: S608
                [*args, limit, offset],
            )
        ]
        if not rowids:
            return Page(int(total), [])
        docs = dict(
            self._conn.execute(
                f"SELECT rowid, doc FROM {table} WHERE rowid IN ({_marks(len(rowids))})",  # noqa: S608
                rowids,
            ).fetchall()
        )
        return Page(int(total), [docs[rowid] for rowid in rowids])

    def rates(self, first: dt.date, last: dt.date) -> dict[dt.date, list[tuple[str, Decimal]]]:
        """Rates of the days from ``first`` to ``last`` inclusive that have any, per day."""
        out: dict[dt.date, list[tuple[str, Decimal]]] = {}
        for day, currency, value in self._conn.execute(
            "SELECT day, currency, value FROM rates WHERE day BETWEEN ? AND ? ORDER BY day",
            (first.isoformat(), last.isoformat()),
        ):
            out.setdefault(dt.date.fromisoformat(day), []).append((currency, Decimal(value)))
        for rows in out.values():
            rows.sort(key=_currency_order)
        return out

    def rate_fragments(self, first: dt.date, last: dt.date) -> list[bytes]:
        """The ``<ExchangeRates>`` fragments of the days from ``first`` to ``last`` that have rates,
        in day order: rendered once per range (the database is immutable, and a gateway asks for
        the same few ranges, the days around its trips, over and over)."""
        key = (first, last)
        found = self._rate_fragments.get(key)
        if found is None:
            found = [render_exchange_rates(day, rows).encode() for day, rows in sorted(self.rates(first, last).items())]
            if len(self._rate_fragments) >= _RATE_FRAGMENT_RANGES:
                self._rate_fragments.clear()  # bounded: ranges are client input
            self._rate_fragments[key] = found
        return found


_CURRENCY_ORDER = {"USD": 0, "CNY": 1, "EUR": 2, "RUB": 3}
_RATE_FRAGMENT_RANGES = 4096  # remembered ranges of rendered rates (a few MB at most)


def _currency_order(row: tuple[str, Decimal]) -> tuple[int, str]:
    return (_CURRENCY_ORDER.get(row[0], len(_CURRENCY_ORDER)), row[0])
