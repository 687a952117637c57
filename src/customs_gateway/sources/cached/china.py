"""The China source behind the cache: the same :class:`~customs_gateway.sources.base.ChinaSource`.

Every batch lookup reads the cache with one multi-get and passes only the misses to the inner
source (in its own batches of 50); pages and whole lists are cached by all their parameters.
Errors are the inner source's: an upstream failure is raised unless a stale entry within its
grace can answer (then the request's stale report says so), and nothing failed is ever cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from ...cache import CacheConfig, EntityCache, ListQuery, TtlClass
from ...domain import Checkpoint, ChinaManifestRecord, Inspection
from ..base import ChinaSource, Page, RecordQuery, ScanRecord
from .policy import TtlRules
from .reader import CachedResource, cached_resource
from .values import ChinaPage, InspectionList, list_key, record_query_params, utc_text

__all__ = ["AUTHORITY", "CachedChinaSource"]

AUTHORITY = "CHINA"
V = TypeVar("V")


class CachedChinaSource:
    """``inner`` with every lookup, page and list read through ``cache``."""

    def __init__(self, inner: ChinaSource, cache: EntityCache, config: CacheConfig) -> None:
        self._inner = inner
        rules = TtlRules(config.ttl.settled_after_s, cache.now)

        def make(name: str, annotation: object, ttl: Callable[[V], TtlClass]) -> CachedResource[V]:
            return cached_resource(cache, config, AUTHORITY, name, annotation, ttl)

        self._manifests = make("manifest", ChinaManifestRecord, rules.china_record)
        self._by_common = make("manifest_by_common_id", ChinaManifestRecord, rules.china_record)
        self._inspections = make("inspections", tuple[Inspection, ...], rules.inspections)
        self._inspections_by_common = make("inspections_by_common_id", tuple[Inspection, ...], rules.inspections)
        self._pages: CachedResource[ChinaPage] = make("manifest_page", ChinaPage, rules.listing)
        records = tuple[ChinaManifestRecord, ...]
        self._lists: CachedResource[tuple[ChinaManifestRecord, ...]] = make("manifest_list", records, rules.listing)
        self._inspection_lists: CachedResource[InspectionList] = make("inspection_list", InspectionList, rules.listing)

    async def checkpoints(self) -> list[Checkpoint]:
        return await self._inner.checkpoints()  # reference data read once at most: not worth an entry

    async def manifests(self, batch_nos: Sequence[str]) -> dict[str, ChinaManifestRecord | None]:
        found = await self._manifests.load([key for key in batch_nos if key], self._inner.manifests)
        return {key: found.get(key) for key in batch_nos}

    async def manifest(self, batch_no: str) -> ChinaManifestRecord | None:
        async def fetch(keys: list[str]) -> dict[str, ChinaManifestRecord | None]:
            return {key: await self._inner.manifest(key) for key in keys}

        return (await self._manifests.load([batch_no], fetch)).get(batch_no)

    async def inspections(self, batch_nos: Sequence[str]) -> dict[str, list[Inspection]]:
        async def fetch(keys: list[str]) -> dict[str, tuple[Inspection, ...] | None]:
            found = await self._inner.inspections(keys)
            return {key: tuple(found[key]) if key in found else None for key in keys}

        loaded = await self._inspections.load([key for key in batch_nos if key], fetch)
        # An unknown batch stays absent, as the inner source answers (see ChinaSource.inspections).
        return {key: list(value) for key, value in loaded.items() if value is not None}

    async def manifests_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, ChinaManifestRecord | None]:
        found = await self._by_common.load([key for key in common_ids if key], self._inner.manifests_by_common_ids)
        return {key: found.get(key) for key in common_ids}

    async def inspections_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, list[Inspection]]:
        async def fetch(keys: list[str]) -> dict[str, tuple[Inspection, ...] | None]:
            found = await self._inner.inspections_by_common_ids(keys)
            return {key: tuple(found.get(key, ())) for key in keys}

        loaded = await self._inspections_by_common.load([key for key in common_ids if key], fetch)
        return {key: list(loaded.get(key) or ()) for key in common_ids}

    async def manifest_page(self, query: RecordQuery, page: int, size: int) -> Page[ChinaManifestRecord]:
        key = list_key("manifest_page", page=page, size=size, **record_query_params(query))

        async def fetch(keys: list[ListQuery]) -> dict[ListQuery, ChinaPage]:
            # Mapped in full to be cached: a record breaking the contract fails the page here.
            found = await self._inner.manifest_page(query, page, size)
            return {key: ChinaPage(tuple(found.items), found.total)}

        loaded = (await self._pages.load([key], fetch))[key]
        assert loaded is not None
        return Page(items=loaded.items, total=loaded.total)

    async def manifest_scan_page(self, query: RecordQuery, page: int, size: int) -> Page[ScanRecord]:
        # Not cached: scans cache their aggregates (reports' partials), not the day's records.
        return await self._inner.manifest_scan_page(query, page, size)

    async def iter_manifests(self, query: RecordQuery, page_size: int = 100) -> AsyncIterator[ChinaManifestRecord]:
        key = list_key("manifests", page_size=page_size, **record_query_params(query))

        async def fetch(keys: list[ListQuery]) -> dict[ListQuery, tuple[ChinaManifestRecord, ...]]:
            return {key: tuple([r async for r in self._inner.iter_manifests(query, page_size)])}

        for record in (await self._lists.load([key], fetch))[key] or ():
            yield record

    async def iter_inspections(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page_size: int = 100
    ) -> AsyncIterator[Inspection]:
        key = list_key("inspections", post=post_code, start=utc_text(start), end=utc_text(end), page_size=page_size)

        async def fetch(keys: list[ListQuery]) -> dict[ListQuery, InspectionList]:
            found = [i async for i in self._inner.iter_inspections(post_code, start, end, page_size)]
            return {key: InspectionList(tuple(found))}

        loaded = (await self._inspection_lists.load([key], fetch))[key]
        for inspection in loaded.items if loaded is not None else ():
            yield inspection


if TYPE_CHECKING:
    _implements: type[ChinaSource] = CachedChinaSource
