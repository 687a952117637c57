"""What the schema layer may ask of an authority: one small interface per source.

Sources are built from their typed settings, an ``httpx.AsyncClient`` and a logger, all injected
(see ``app.py``); the schema reaches them only through the request context. Every method raises
only :mod:`customs_gateway.errors` exceptions. Times in queries are aware datetimes; each source
converts them to its authority's wire form. Lookups by key return ``None`` for unknown keys:
"not found" is an answer, not an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Generic, NamedTuple, Protocol, TypeVar, overload

from ..domain import (
    ArrivalNotice,
    Checkpoint,
    ChinaManifestRecord,
    Direction,
    ExchangeRate,
    Inspection,
    KazakhstanPIRecord,
    Money,
    Party,
    PlateId,
)
from ..money import minor_to_decimal

__all__ = [
    "BATCH_LIMIT",
    "MASS_PLACES",
    "MONEY_PLACES",
    "PLATES_LIMIT",
    "ChinaSource",
    "KazakhstanSource",
    "LazyItems",
    "Page",
    "RecordQuery",
    "ScanLine",
    "ScanRecord",
    "remember",
]

BATCH_LIMIT = 50  # both authorities' batch endpoints take at most 50 keys
PLATES_LIMIT = 50  # both list endpoints take at most 50 repeated plate filters per call
MASS_PLACES: Final = 3  # both authorities write masses in kg with at most 3 decimals
MONEY_PLACES: Final = 2  # and amounts with at most 2

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K")
V = TypeVar("V")

SCAN_MEMO_LIMIT: Final = 4096  # distinct values a scan reader remembers per table (dates, codes, carriers repeat a lot)


def remember(table: dict[K, V], key: K, value: V, limit: int = SCAN_MEMO_LIMIT) -> None:
    """Store ``value`` in a scan reader's memo table, emptied when full: bounded without an LRU's
    bookkeeping on the hot path (a reader meets a few hundred distinct values a page)."""
    if len(table) >= limit:
        table.clear()
    table[key] = value


class ScanLine(NamedTuple):
    """What reports read of one goods line: its HS-6, gross mass in grams (thousandths of a kg,
    the wire's precision) and value in minor units (hundredths) of ``currency``.

    Exact integers rather than ``Decimal``: a cold report adds up every line of its window;
    :attr:`gross_kg` and :attr:`value` give the ``Decimal`` forms the full mappers read.
    A named tuple rather than a frozen dataclass: a quarter of the cost to create.
    """

    hs6: str
    gross_g: int
    value_minor: int
    currency: str

    @property
    def gross_kg(self) -> Decimal:
        return minor_to_decimal(self.gross_g, MASS_PLACES)

    @property
    def value(self) -> Money:
        return Money(minor_to_decimal(self.value_minor, MONEY_PLACES), self.currency)


class ScanRecord(NamedTuple):
    """What reports read of one manifest / PI record, read from the wire without building the
    whole domain record (parties, drivers, containers, texts): a cold report reads every record
    of its window, and mapping each in full was most of its CPU time. Each field is read and
    checked by the same parsers as the full mapping, so both agree on every value.

    ``key``: GACC batch number / KGD PI number; ``declared_at``: GACC declaration / KGD
    registration; ``final_at``: the side's final event (release when importing, exit when
    exporting), None while open; ``rate_date``: the day whose NBK rates value the record (see
    :mod:`customs_gateway.discrepancies`); ``carrier``: id and name only (country not read);
    ``total_minor``: the total value in minor units of ``currency`` (:attr:`total_value`).
    """

    key: str
    common_manifest_id: str | None
    direction: Direction
    declared_at: dt.datetime
    final_at: dt.datetime | None
    plate: PlateId
    carrier: Party
    rate_date: dt.date
    total_minor: int
    currency: str
    goods: tuple[ScanLine, ...]

    @property
    def total_value(self) -> Money:
        return Money(minor_to_decimal(self.total_minor, MONEY_PLACES), self.currency)


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """A filter on manifest-like records, in the authority's own codes.

    ``post_code``: the authority's post code (China port code "9403", Kazakh checkpoint
    "55201011"); ``plates``: records of any of these plates (at most :data:`PLATES_LIMIT`), each
    already in the spelling that authority stores (the source does not guess); the window applies
    to the declaration / registration time, start inclusive, end exclusive.
    """

    post_code: str | None = None
    direction: Direction | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    plates: tuple[str, ...] = ()
    common_manifest_id: str | None = None


class LazyItems(Sequence[T], Generic[R, T]):
    """A page's records, each mapped from its wire form on first access (then kept).

    A list page is fetched a little larger than its reader is likely to need (one more round
    trip costs more than a few records on the wire), so mapping — the bulk of a record's CPU
    cost — waits until someone reads the record. A record that breaks the contract raises its
    :class:`~customs_gateway.errors.UpstreamContract` when it is read.
    """

    __slots__ = ("_map", "_mapped", "_raw")

    def __init__(self, raw: Sequence[R], map_one: Callable[[R, int], T]) -> None:
        self._raw = raw
        self._map = map_one
        self._mapped: list[T | None] = [None] * len(raw)

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._raw)))]
        if index < 0:
            index += len(self._raw)
        found = self._mapped[index]
        if found is None:
            found = self._mapped[index] = self._map(self._raw[index], index)
        return found

    def __iter__(self) -> Iterator[T]:
        for index in range(len(self._raw)):
            yield self[index]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One upstream page: ``items`` may map lazily (:class:`LazyItems`); ``total`` as announced."""

    items: Sequence[T]
    total: int


class ChinaSource(Protocol):
    async def checkpoints(self) -> list[Checkpoint]: ...

    async def manifests(self, batch_nos: Sequence[str]) -> dict[str, ChinaManifestRecord | None]:
        """Batch get; any number of keys (split into calls of at most BATCH_LIMIT)."""
        ...

    async def manifest(self, batch_no: str) -> ChinaManifestRecord | None: ...

    async def inspections(self, batch_nos: Sequence[str]) -> dict[str, list[Inspection]]:
        """Every inspection of each batch (empty list for a known batch without any)."""
        ...

    async def manifests_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, ChinaManifestRecord | None]:
        """The manifest carrying each common manifest id (None when no manifest carries it)."""
        ...

    async def inspections_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, list[Inspection]]:
        """Every inspection of the manifest carrying each common id (``[]`` when none)."""
        ...

    async def manifest_page(self, query: RecordQuery, page: int, size: int) -> Page[ChinaManifestRecord]:
        """One page (1-based, size ≤ 100) in declaration-time order."""
        ...

    async def manifest_scan_page(self, query: RecordQuery, page: int, size: int) -> Page[ScanRecord]:
        """As :meth:`manifest_page`, each record read only for reports (never cached)."""
        ...

    def iter_manifests(self, query: RecordQuery, page_size: int = 100) -> AsyncIterator[ChinaManifestRecord]:
        """Every record matching ``query``, page after page."""
        ...

    def iter_inspections(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page_size: int = 100
    ) -> AsyncIterator[Inspection]: ...


class KazakhstanSource(Protocol):
    async def checkpoints(self) -> list[Checkpoint]: ...

    async def records(self, pi_numbers: Sequence[str]) -> dict[str, KazakhstanPIRecord | None]:
        """Batch get; any number of keys (split into calls of at most BATCH_LIMIT)."""
        ...

    async def record(self, pi_number: str) -> KazakhstanPIRecord | None: ...

    async def controls(self, pi_numbers: Sequence[str]) -> dict[str, list[Inspection]]:
        """Every control of each PI record (empty list for a known record without any)."""
        ...

    async def records_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, KazakhstanPIRecord | None]:
        """The PI record carrying each common manifest id (None when no record carries it)."""
        ...

    async def controls_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, list[Inspection]]:
        """Every control of the record carrying each common id (``[]`` when none)."""
        ...

    async def arrivals(self, pi_numbers: Sequence[str]) -> dict[str, ArrivalNotice | None]: ...

    async def arrivals_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, ArrivalNotice | None]:
        """The arrival notification of the trip of each common manifest id (the latest, should
        there be several); None when there is none (yet, or an export: KGD notifies arrivals
        into Kazakhstan only)."""
        ...

    async def record_page(self, query: RecordQuery, offset: int, limit: int) -> Page[KazakhstanPIRecord]:
        """One page (0-based offset, limit ≤ 500) in registration-time order."""
        ...

    async def record_scan_page(self, query: RecordQuery, offset: int, limit: int) -> Page[ScanRecord]:
        """As :meth:`record_page`, each record read only for reports (never cached)."""
        ...

    def iter_records(self, query: RecordQuery, page_size: int = 500) -> AsyncIterator[KazakhstanPIRecord]: ...

    def iter_controls(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page_size: int = 500
    ) -> AsyncIterator[Inspection]: ...

    async def exchange_rates(self, day: dt.date) -> dict[str, ExchangeRate]:
        """NBK rates of ``day`` by currency (KZT per unit)."""
        ...

    async def exchange_rates_range(self, start: dt.date, end: dt.date) -> dict[dt.date, dict[str, ExchangeRate]]:
        """NBK rates of every day from ``start`` to ``end`` (both inclusive), in one call per 366 days."""
        ...
