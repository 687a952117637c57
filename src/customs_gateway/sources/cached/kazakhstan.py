"""The Kazakhstan source behind the cache: the same :class:`~customs_gateway.sources.base.KazakhstanSource`.

As for China: one multi-get per batch, only the misses upstream, pages and lists by all their
parameters. Exchange rates are cached per day, so a range call asks the upstream for the span of
the days missing from the cache only (one range call, as the inner source would make).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from ...cache import CacheConfig, EntityCache, ListQuery, TtlClass
from ...domain import ArrivalNotice, Checkpoint, ExchangeRate, Inspection, KazakhstanPIRecord
from ...errors import InvalidInput
from ..base import KazakhstanSource, Page, RecordQuery, ScanRecord
from .policy import TtlRules
from .reader import CachedResource, cached_resource
from .values import DayRates, InspectionList, KazakhstanPage, list_key, record_query_params, utc_text

__all__ = ["AUTHORITY", "CachedKazakhstanSource"]

AUTHORITY = "KAZAKHSTAN"
V = TypeVar("V")
_Controls = tuple[Inspection, ...]


class CachedKazakhstanSource:
    """``inner`` with every lookup, page, list and rate read through ``cache``."""

    def __init__(self, inner: KazakhstanSource, cache: EntityCache, config: CacheConfig) -> None:
        self._inner = inner
        rules = TtlRules(config.ttl.settled_after_s, cache.now)

        def make(name: str, annotation: object, ttl: Callable[[V], TtlClass]) -> CachedResource[V]:
            return cached_resource(cache, config, AUTHORITY, name, annotation, ttl)

        self._records = make("pi_record", KazakhstanPIRecord, rules.kazakhstan_record)
        self._by_common = make("pi_record_by_common_id", KazakhstanPIRecord, rules.kazakhstan_record)
        self._controls = make("controls", _Controls, rules.inspections)
        self._controls_by_common = make("controls_by_common_id", _Controls, rules.inspections)
        self._arrivals = make("arrival", ArrivalNotice, rules.arrival)
        self._arrivals_by_common = make("arrival_by_common_id", ArrivalNotice, rules.arrival)
        self._rates: CachedResource[DayRates] = make("exchange_rates", DayRates, lambda value: rules.rates(value.day))
        self._pages: CachedResource[KazakhstanPage] = make("pi_record_page", KazakhstanPage, rules.listing)
        records = tuple[KazakhstanPIRecord, ...]
        self._lists: CachedResource[tuple[KazakhstanPIRecord, ...]] = make("pi_record_list", records, rules.listing)
        self._control_lists: CachedResource[InspectionList] = make("control_list", InspectionList, rules.listing)

    async def checkpoints(self) -> list[Checkpoint]:
        return await self._inner.checkpoints()  # reference data read once at most: not worth an entry

    # -- batches ------------------------------------------------------------------------------

    async def records(self, pi_numbers: Sequence[str]) -> dict[str, KazakhstanPIRecord | None]:
        found = await self._records.load(_named(pi_numbers), self._inner.records)
        return {key: found.get(key) for key in pi_numbers}

    async def record(self, pi_number: str) -> KazakhstanPIRecord | None:
        if not pi_number.strip():
            return None

        async def fetch(keys: list[str]) -> dict[str, KazakhstanPIRecord | None]:
            return {key: await self._inner.record(key) for key in keys}

        return (await self._records.load([pi_number], fetch)).get(pi_number)

    async def controls(self, pi_numbers: Sequence[str]) -> dict[str, list[Inspection]]:
        async def fetch(keys: list[str]) -> dict[str, _Controls | None]:
            found = await self._inner.controls(keys)
            return {key: tuple(found.get(key, ())) for key in keys}

        loaded = await self._controls.load(_named(pi_numbers), fetch)
        return {key: list(loaded.get(key) or ()) for key in pi_numbers}

    async def records_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, KazakhstanPIRecord | None]:
        found = await self._by_common.load(_named(common_ids), self._inner.records_by_common_ids)
        return {key: found.get(key) for key in common_ids}

    async def controls_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, list[Inspection]]:
        async def fetch(keys: list[str]) -> dict[str, _Controls | None]:
            found = await self._inner.controls_by_common_ids(keys)
            return {key: tuple(found.get(key, ())) for key in keys}

        loaded = await self._controls_by_common.load(_named(common_ids), fetch)
        return {key: list(loaded.get(key) or ()) for key in common_ids}

    async def arrivals(self, pi_numbers: Sequence[str]) -> dict[str, ArrivalNotice | None]:
        found = await self._arrivals.load(_named(pi_numbers), self._inner.arrivals)
        return {key: found.get(key) for key in pi_numbers}

    async def arrivals_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, ArrivalNotice | None]:
        found = await self._arrivals_by_common.load(_named(common_ids), self._inner.arrivals_by_common_ids)
        return {key: found.get(key) for key in common_ids}

    # -- pages and lists ----------------------------------------------------------------------

    async def record_page(self, query: RecordQuery, offset: int, limit: int) -> Page[KazakhstanPIRecord]:
        key = list_key("pi_record_page", offset=offset, limit=limit, **record_query_params(query))

        async def fetch(keys: list[ListQuery]) -> dict[ListQuery, KazakhstanPage]:
            # Mapped in full to be cached: a record breaking the contract fails the page here.
            found = await self._inner.record_page(query, offset, limit)
            return {key: KazakhstanPage(tuple(found.items), found.total)}

        loaded = (await self._pages.load([key], fetch))[key]
        assert loaded is not None
        return Page(items=loaded.items, total=loaded.total)

    async def record_scan_page(self, query: RecordQuery, offset: int, limit: int) -> Page[ScanRecord]:
        # Not cached: scans cache their aggregates (reports' partials), not the day's records.
        return await self._inner.record_scan_page(query, offset, limit)

    async def iter_records(self, query: RecordQuery, page_size: int = 500) -> AsyncIterator[KazakhstanPIRecord]:
        key = list_key("pi_records", page_size=page_size, **record_query_params(query))

        async def fetch(keys: list[ListQuery]) -> dict[ListQuery, tuple[KazakhstanPIRecord, ...]]:
            return {key: tuple([r async for r in self._inner.iter_records(query, page_size)])}

        for record in (await self._lists.load([key], fetch))[key] or ():
            yield record

    async def iter_controls(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page_size: int = 500
    ) -> AsyncIterator[Inspection]:
        key = list_key("controls", post=post_code, start=utc_text(start), end=utc_text(end), page_size=page_size)

        async def fetch(keys: list[ListQuery]) -> dict[ListQuery, InspectionList]:
            found = [i async for i in self._inner.iter_controls(post_code, start, end, page_size)]
            return {key: InspectionList(tuple(found))}

        loaded = (await self._control_lists.load([key], fetch))[key]
        for control in loaded.items if loaded is not None else ():
            yield control

    # -- exchange rates -----------------------------------------------------------------------

    async def exchange_rates(self, day: dt.date) -> dict[str, ExchangeRate]:
        return (await self.exchange_rates_range(day, day)).get(day, {})

    async def exchange_rates_range(self, start: dt.date, end: dt.date) -> dict[dt.date, dict[str, ExchangeRate]]:
        if end < start:
            raise InvalidInput("end must not be before start")
        span = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        days = {day.isoformat(): day for day in span}

        async def fetch(keys: list[str]) -> dict[str, DayRates]:
            wanted = [days[key] for key in keys]
            table = await self._inner.exchange_rates_range(min(wanted), max(wanted))
            return {key: DayRates(days[key], table.get(days[key], {})) for key in keys}

        loaded = await self._rates.load(list(days), fetch)
        return {day: found.rates for key, day in days.items() if (found := loaded.get(key)) is not None and found.rates}


def _named(keys: Sequence[str]) -> list[str]:
    """Keys that name something (blank ones are never sent upstream, and never cached)."""
    return [key for key in keys if key.strip()]


if TYPE_CHECKING:
    _implements: type[KazakhstanSource] = CachedKazakhstanSource
