"""The China source: the :class:`~customs_gateway.sources.base.ChinaSource` the schema layer uses.

Batching, paging and "not found" live here; the wire lives in :mod:`.client`, the record
shapes in :mod:`.mapping`. Every method raises only :mod:`customs_gateway.errors` exceptions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable, Sequence
from typing import Any, TypeVar

from ...domain import Checkpoint, ChinaManifestRecord, Inspection
from ...errors import InvalidInput
from ...timeutil import format_cn_time
from ..base import PLATES_LIMIT, LazyItems, Page, RecordQuery, ScanRecord
from .client import ChinaClient, NotFoundCode
from .mapping import IE_FLAG_BY_DIRECTION, map_checkpoint, map_inspection, map_manifest
from .payloads import BatchResult, PageData, contract_error, read_batch, read_list, read_page
from .scan import ManifestScanReader
from .settings import ChinaSourceSettings

__all__ = ["ChinaSourceImpl"]

T = TypeVar("T")
_MANIFESTS = ("road-manifests",)
_INSPECTIONS = ("inspections",)
_BATCH_QUERY = "batch-query"
_BY_BATCH_NO = "batchNos"
_BY_COMMON = "commonManifestNos"


class ChinaSourceImpl:
    """GACC road manifests, inspections and ports, in the unified model.

    Built from its settings and a :class:`ChinaClient` (which holds the injected
    ``httpx.AsyncClient``); keeps no state between calls (the scan reader's caches hold pure
    values only), so one instance serves the whole app.
    """

    def __init__(
        self, settings: ChinaSourceSettings, client: ChinaClient, scan_reader: ManifestScanReader | None = None
    ) -> None:
        self._settings = settings
        self._client = client
        self._scan_reader = scan_reader if scan_reader is not None else ManifestScanReader()

    async def checkpoints(self) -> list[Checkpoint]:
        data = await self._client.get(("ports",))
        return [map_checkpoint(raw) for raw in read_list(data, "ports")]

    async def manifest(self, batch_no: str) -> ChinaManifestRecord | None:
        if not _addressable(batch_no):
            return None
        try:
            data = await self._client.get((*_MANIFESTS, batch_no))
        except NotFoundCode:
            return None
        record = map_manifest(data)
        if record.batch_no != batch_no:
            raise contract_error(f"manifest {batch_no[:64]}", f"answer is batch {record.batch_no[:64]}")
        return record

    async def manifests(self, batch_nos: Sequence[str]) -> dict[str, ChinaManifestRecord | None]:
        """Batch get in concurrent calls of at most ``batch_limit`` keys; None for unknown keys.

        Every asked key is in the answer. Upstream must account for each key it was sent (in
        ``list`` or ``notFound``) and send no other: anything else is a contract error.
        """
        keys = _unique(batch_nos)
        results: dict[str, ChinaManifestRecord | None] = dict.fromkeys(batch_nos)
        chunks = await _gather([self._manifest_chunk(chunk) for chunk in self._chunks(keys)])
        for chunk in chunks:
            results.update(chunk)
        return results

    async def _manifest_chunk(self, keys: list[str]) -> dict[str, ChinaManifestRecord | None]:
        batch = await self._batch_query(_MANIFESTS, keys, "manifest batch-query")
        found = {record.batch_no: record for record in map(map_manifest, batch.items)}
        _check_accounted("manifest batch-query", keys, set(found), batch.not_found)
        return {key: found.get(key) for key in keys}

    async def inspections(self, batch_nos: Sequence[str]) -> dict[str, list[Inspection]]:
        """Inspections of each batch, oldest first.

        A known batch without inspections maps to ``[]``; a batch the authority does not know
        (its ``notFound``) is **absent** from the result, so callers can tell "never inspected"
        from "no such batch" without a second call.
        """
        keys = _unique(batch_nos)
        results: dict[str, list[Inspection]] = {}
        for chunk in await _gather([self._inspection_chunk(chunk) for chunk in self._chunks(keys)]):
            results.update(chunk)
        return results

    async def _inspection_chunk(self, keys: list[str]) -> dict[str, list[Inspection]]:
        batch = await self._batch_query(_INSPECTIONS, keys, "inspection batch-query")
        grouped: dict[str, list[Inspection]] = {key: [] for key in keys if key not in batch.not_found}
        for inspection in map(map_inspection, batch.items):
            bucket = grouped.get(inspection.record_id)
            if bucket is None:  # not asked, or also claimed unknown
                stray = inspection.record_id[:64]
                raise contract_error("inspection batch-query", f"unexpected batch {stray}")
            bucket.append(inspection)
        _check_accounted("inspection batch-query", keys, None, batch.not_found)
        for bucket in grouped.values():
            bucket.sort(key=lambda inspection: (inspection.started_at, inspection.id))
        return grouped

    async def manifests_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, ChinaManifestRecord | None]:
        """The manifest of each common manifest number (the joint-supervision exchange); None
        for a number no manifest carries. Same accounting rules as :meth:`manifests`."""
        keys = _unique(common_ids)
        results: dict[str, ChinaManifestRecord | None] = dict.fromkeys(common_ids)
        for chunk in await _gather([self._common_manifest_chunk(chunk) for chunk in self._chunks(keys)]):
            results.update(chunk)
        return results

    async def _common_manifest_chunk(self, keys: list[str]) -> dict[str, ChinaManifestRecord | None]:
        what = "manifest batch-query by common number"
        batch = await self._batch_query(_MANIFESTS, keys, what, _BY_COMMON)
        found: dict[str, ChinaManifestRecord] = {}
        for record in map(map_manifest, batch.items):
            if record.common_manifest_id is None:
                raise contract_error(what, f"manifest {record.batch_no[:64]} has no common number")
            found[record.common_manifest_id] = record
        _check_accounted(what, keys, set(found), batch.not_found)
        return {key: found.get(key) for key in keys}

    async def inspections_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, list[Inspection]]:
        """Inspections of the manifest of each common number, oldest first; ``[]`` for a number
        without inspections or without a manifest."""
        keys = _unique(common_ids)
        results: dict[str, list[Inspection]] = {key: [] for key in common_ids}
        for chunk in await _gather([self._common_inspection_chunk(chunk) for chunk in self._chunks(keys)]):
            results.update(chunk)
        return results

    async def _common_inspection_chunk(self, keys: list[str]) -> dict[str, list[Inspection]]:
        what = "inspection batch-query by common number"
        batch = await self._batch_query(_INSPECTIONS, keys, what, _BY_COMMON)
        grouped: dict[str, list[Inspection]] = {key: [] for key in keys}
        for inspection in map(map_inspection, batch.items):
            bucket = grouped.get(inspection.common_manifest_id or "")
            if bucket is None or inspection.common_manifest_id in batch.not_found:
                stray = (inspection.common_manifest_id or "(none)")[:64]
                raise contract_error(what, f"unexpected common number {stray}")
            bucket.append(inspection)
        _check_accounted(what, keys, None, batch.not_found)
        for bucket in grouped.values():
            bucket.sort(key=lambda inspection: (inspection.started_at, inspection.id))
        return grouped

    async def _manifest_wire_page(self, query: RecordQuery, page: int, size: int) -> PageData:
        _check_page(page, size)
        params = [*_manifest_params(query), ("pageNum", str(page)), ("pageSize", str(size))]
        data = await self._client.get(_MANIFESTS, params)
        return read_page(data, "manifest page")

    async def manifest_page(self, query: RecordQuery, page: int, size: int) -> Page[ChinaManifestRecord]:
        wire_page = await self._manifest_wire_page(query, page, size)
        return Page(items=LazyItems(wire_page.items, _by_position(map_manifest)), total=wire_page.total)

    async def manifest_scan_page(self, query: RecordQuery, page: int, size: int) -> Page[ScanRecord]:
        wire_page = await self._manifest_wire_page(query, page, size)
        return Page(items=[self._scan_reader.read(raw) for raw in wire_page.items], total=wire_page.total)

    def iter_manifests(self, query: RecordQuery, page_size: int = 100) -> AsyncIterator[ChinaManifestRecord]:
        size = min(page_size, self._settings.page_size)
        return _every_item(
            lambda page: self.manifest_page(query, page, size), size, key=lambda record: record.batch_no
        )

    async def inspection_page(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page: int, size: int
    ) -> Page[Inspection]:
        _check_page(page, size)
        params = _window_params(start, end) | {"pageNum": str(page), "pageSize": str(size)}
        if post_code:
            params["portCode"] = post_code
        data = await self._client.get(_INSPECTIONS, params)
        wire_page = read_page(data, "inspection page")
        return Page(items=LazyItems(wire_page.items, _by_position(map_inspection)), total=wire_page.total)

    def iter_inspections(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page_size: int = 100
    ) -> AsyncIterator[Inspection]:
        size = min(page_size, self._settings.page_size)
        return _every_item(
            lambda page: self.inspection_page(post_code, start, end, page, size),
            size,
            key=lambda inspection: inspection.id,
        )

    async def _batch_query(
        self, resource: tuple[str], keys: list[str], what: str, by: str = _BY_BATCH_NO
    ) -> BatchResult:
        # A batch query is a read sent as POST: safe to retry.
        data = await self._client.post((*resource, _BATCH_QUERY), {by: keys}, idempotent=True)
        return read_batch(data, what)

    def _chunks(self, keys: list[str]) -> list[list[str]]:
        size = self._settings.batch_limit
        return [keys[start : start + size] for start in range(0, len(keys), size)]


_MAX_KEY_LENGTH = 64


def _by_position(map_one: Callable[[object], T]) -> Callable[[object, int], T]:
    """A mapper for :class:`LazyItems` (GACC records name themselves in errors: no position needed)."""

    def mapped(raw: object, index: int) -> T:
        return map_one(raw)

    return mapped


def _addressable(key: str) -> bool:
    """Whether ``key`` can be a GACC id in a URL path at all; other keys are unknown by definition.

    The client percent-encodes every segment, so no key can reach another path; this spares the
    round trip for keys that cannot exist (empty would be the list endpoint, and a ``/`` is
    decoded by the server's router into a path no id route matches, answered E4040).
    """
    return (
        0 < len(key) <= _MAX_KEY_LENGTH
        and key.isprintable()
        and "/" not in key
        and "\\" not in key
        and key not in (".", "..")
    )


def _unique(keys: Sequence[str]) -> list[str]:
    """Asked keys once each, in order; empty keys are never sent (they are never found)."""
    return [key for key in dict.fromkeys(keys) if key]


def _check_accounted(what: str, keys: list[str], found: set[str] | None, not_found: frozenset[str]) -> None:
    """Upstream must answer about exactly the keys it was sent.

    ``found`` is None where the answer cannot list found keys (inspections: a known batch may
    have no record); then only stray ``notFound`` keys are checked.
    """
    asked = set(keys)
    if stray := ((found or set()) | not_found) - asked:
        raise contract_error(what, f"answered keys not asked: {sorted(stray)[:3]}")
    if found is not None and (missing := asked - found - not_found):
        raise contract_error(what, f"keys neither found nor notFound: {sorted(missing)[:3]}")


def _check_page(page: int, size: int) -> None:
    if page < 1:
        raise InvalidInput("page numbers start at 1")
    if not 1 <= size <= 100:
        raise InvalidInput("page size must be 1..100")


def _cn_time(at: dt.datetime, name: str) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{name} must be an aware datetime")
    return format_cn_time(at)


def _window_params(start: dt.datetime | None, end: dt.datetime | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if start is not None:
        params["startTime"] = _cn_time(start, "start")
    if end is not None:
        params["endTime"] = _cn_time(end, "end")
    return params


def _manifest_params(query: RecordQuery) -> list[tuple[str, str]]:
    """RecordQuery → the road-manifests filters; unset fields are not sent, plates repeat."""
    params = list(_window_params(query.start, query.end).items())
    if query.post_code:
        params.append(("portCode", query.post_code))
    if query.direction is not None:
        params.append(("ieFlag", IE_FLAG_BY_DIRECTION[query.direction]))
    plates = list(dict.fromkeys(plate for plate in query.plates if plate))
    if len(plates) > PLATES_LIMIT:
        raise InvalidInput(f"at most {PLATES_LIMIT} plates per query")
    params.extend(("plateNo", plate) for plate in plates)
    if query.common_manifest_id:
        params.append(("commonManifestNo", query.common_manifest_id))
    return params


async def _every_item(
    fetch: Callable[[int], Awaitable[Page[T]]], page_size: int, key: Callable[[T], Hashable]
) -> AsyncIterator[T]:
    """Page 1, 2, … until every ``total`` item is seen or a page comes back short.

    Guards: no more than ceil(total / size) pages as the first page announced them (an upstream
    answering full pages forever cannot keep us looping), and an item seen on an earlier page
    (data shifting under the pagination) is not yielded twice.
    """
    first = await fetch(1)
    max_pages = max(1, math.ceil(first.total / page_size))
    seen: set[Hashable] = set()
    page, number = first, 1
    while True:
        for item in page.items:
            item_key = key(item)
            if item_key not in seen:
                seen.add(item_key)
                yield item
        if len(page.items) < page_size or len(seen) >= first.total or number >= max_pages:
            return
        number += 1
        page = await fetch(number)


async def _gather(coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
    """``asyncio.gather``, but a failure cancels the sibling calls instead of leaving them running."""
    if len(coroutines) == 1:  # one call: awaited in this turn of the event loop, without a task
        return [await coroutines[0]]
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
