"""The Kazakhstan source: the :class:`~customs_gateway.sources.base.KazakhstanSource` interface over KGD.

Batches: any number of keys, de-duplicated, split into calls of at most ``batch_limit`` keys that
run concurrently. Lists: ``offset``/``limit`` pages with the total in ``X-Total-Count``; iterators
walk pages until the total first announced is reached (or a page comes back empty), so a growing
upstream cannot keep them running forever.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import httpx

from ...domain import ArrivalNotice, Authority, Checkpoint, ExchangeRate, Inspection, KazakhstanPIRecord
from ...errors import InvalidInput, UpstreamContract
from ...timeutil import format_kz_time
from ..base import PLATES_LIMIT, KazakhstanSource, LazyItems, Page, RecordQuery, ScanRecord
from . import mapping, xml
from .client import KazakhstanClient, NotFound, resource_path
from .scan import ScanPageReader
from .settings import KazakhstanSourceSettings

__all__ = ["KazakhstanSourceImpl"]

K = TypeVar("K")
T = TypeVar("T")
Params = list[tuple[str, str]]

_PI = "/preliminary-information"
_CONTROLS = "/control-results"
_ARRIVALS = "/arrival-notifications"
_RATES_RANGE_DAYS = 366  # the range call's maximum span (both ends inclusive)


def _distinct(keys: Sequence[str]) -> list[str]:
    """Keys in first-seen order without repeats; blank keys are never sent (they name nothing)."""
    return list(dict.fromkeys(key for key in keys if key.strip()))


def _chunks(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _window(params: Params, start: dt.datetime | None, end: dt.datetime | None) -> None:
    for name, at in (("from", start), ("to", end)):
        if at is None:
            continue
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput(f"{name}: a time window needs aware datetimes")
        params.append((name, format_kz_time(at)))


def _check_window(offset: int, limit: int, page_size: int) -> None:
    if offset < 0:
        raise InvalidInput("offset must be ≥ 0")
    if not 1 <= limit <= page_size:
        raise InvalidInput(f"limit must be between 1 and {page_size}")


def _total(headers: httpx.Headers, endpoint: str) -> int:
    value = headers.get("X-Total-Count")
    if value is None or not value.strip().isdigit():
        raise UpstreamContract(
            Authority.KGD, "X-Total-Count header missing or not a count", endpoint=endpoint
        )
    return int(value)


class KazakhstanSourceImpl:
    """KGD behind the gateway's Kazakhstan interface; every method raises only gateway errors."""

    def __init__(
        self, settings: KazakhstanSourceSettings, client: KazakhstanClient, scan_reader: ScanPageReader | None = None
    ) -> None:
        self._settings = settings
        self._client = client
        self._scan_reader = scan_reader if scan_reader is not None else ScanPageReader()

    # -- batches ------------------------------------------------------------------------------

    async def _batched(
        self, keys: Sequence[str], fetch_chunk: Callable[[list[str]], Awaitable[dict[K, T]]]
    ) -> dict[K, T]:
        chunks = _chunks(_distinct(keys), self._settings.batch_limit)
        if len(chunks) == 1:
            # One call: awaited here, not through gather's task, so it is sent in this turn of
            # the event loop instead of the next (behind every other call started meanwhile).
            return await fetch_chunk(chunks[0])
        merged: dict[K, T] = {}
        for part in await asyncio.gather(*(fetch_chunk(chunk) for chunk in chunks)):
            merged.update(part)
        return merged

    async def records(self, pi_numbers: Sequence[str]) -> dict[str, KazakhstanPIRecord | None]:
        found = await self._batched(pi_numbers, self._records_chunk)
        return {key: found.get(key) for key in pi_numbers}

    async def _records_chunk(self, numbers: list[str]) -> dict[str, KazakhstanPIRecord | None]:
        endpoint = f"{_PI}/batch"
        root, _ = await self._client.get(
            endpoint, [("number", n) for n in numbers], roots=("PreliminaryInformationList",)
        )
        items = [
            mapping.pi_record(el, index)
            for index, el in enumerate(mapping.list_items(root, "PreliminaryInformation"), start=1)
        ]
        by_number: dict[str, KazakhstanPIRecord | None] = {r.pi_number: r for r in items}
        missing = mapping.not_found_keys(root)
        answered = by_number.keys() | missing
        unanswered = [n for n in numbers if n not in answered]
        if unanswered:
            raise UpstreamContract(
                Authority.KGD,
                f"batch answer neither returned nor listed as not found: {unanswered[:3]}",
                endpoint=endpoint,
            )
        by_number.update(dict.fromkeys(missing - by_number.keys()))
        return by_number

    async def records_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, KazakhstanPIRecord | None]:
        """The PI record of each common manifest id; None for an id no record carries."""
        found = await self._batched(common_ids, self._common_records_chunk)
        return {key: found.get(key) for key in common_ids}

    async def _common_records_chunk(self, common_ids: list[str]) -> dict[str, KazakhstanPIRecord | None]:
        endpoint = f"{_PI}/batch"
        root, _ = await self._client.get(
            endpoint, [("commonManifestId", c) for c in common_ids], roots=("PreliminaryInformationList",)
        )
        by_common: dict[str, KazakhstanPIRecord | None] = {}
        for index, el in enumerate(mapping.list_items(root, "PreliminaryInformation"), start=1):
            record = mapping.pi_record(el, index)
            common_id = record.common_manifest_id
            if common_id is None or common_id not in common_ids:
                stray = f"batch answer has a record not asked for: {record.pi_number[:40]}"
                raise UpstreamContract(Authority.KGD, stray, endpoint=endpoint)
            by_common[common_id] = record
        missing = mapping.not_found_keys(root, "CommonManifestId")
        if unanswered := [c for c in common_ids if c not in by_common and c not in missing]:
            raise UpstreamContract(
                Authority.KGD,
                f"batch answer neither returned nor listed as not found: {unanswered[:3]}",
                endpoint=endpoint,
            )
        by_common.update(dict.fromkeys(missing - by_common.keys()))
        return by_common

    async def controls_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, list[Inspection]]:
        """Controls of the record of each common id, oldest first; ``[]`` when none (or no record)."""
        grouped = await self._batched(common_ids, self._common_controls_chunk)
        return {key: list(grouped.get(key, ())) for key in common_ids}

    async def _common_controls_chunk(self, common_ids: list[str]) -> dict[str, list[Inspection]]:
        endpoint = f"{_CONTROLS}/batch"
        root, _ = await self._client.get(
            endpoint, [("commonManifestId", c) for c in common_ids], roots=("ControlResultList",)
        )
        grouped: dict[str, list[Inspection]] = {c: [] for c in common_ids}
        for index, el in enumerate(mapping.list_items(root, "ControlResult"), start=1):
            control = mapping.inspection(el, index)
            bucket = grouped.get(control.common_manifest_id or "")
            if bucket is None:
                raise UpstreamContract(
                    Authority.KGD, f"batch answer has a control not asked for: {control.id[:40]}", endpoint=endpoint
                )
            bucket.append(control)
        for bucket in grouped.values():
            bucket.sort(key=lambda control: (control.started_at, control.id))
        return grouped

    async def record(self, pi_number: str) -> KazakhstanPIRecord | None:
        # A blank id names nothing, and "batch" would reach the sibling batch route, not a record.
        if not pi_number.strip() or pi_number == "batch":
            return None
        try:
            root, _ = await self._client.get(
                resource_path("preliminary-information", pi_number), roots=("PreliminaryInformation",)
            )
        except NotFound:
            return None
        return mapping.pi_record(root)

    async def controls(self, pi_numbers: Sequence[str]) -> dict[str, list[Inspection]]:
        """Controls by PI number: ``[]`` for a known record without any, and also for an unknown one."""
        grouped = await self._batched(pi_numbers, self._controls_chunk)
        return {key: list(grouped.get(key, ())) for key in pi_numbers}

    async def _controls_chunk(self, numbers: list[str]) -> dict[str, list[Inspection]]:
        root, _ = await self._client.get(
            f"{_CONTROLS}/batch", [("piNumber", n) for n in numbers], roots=("ControlResultList",)
        )
        grouped: dict[str, list[Inspection]] = {n: [] for n in numbers}
        for index, el in enumerate(mapping.list_items(root, "ControlResult"), start=1):
            control = mapping.inspection(el, index)
            grouped.setdefault(control.record_id, []).append(control)
        return grouped

    async def arrivals(self, pi_numbers: Sequence[str]) -> dict[str, ArrivalNotice | None]:
        """The arrival notification of each PI record (the latest, should there be several)."""
        found = await self._batched(pi_numbers, self._arrivals_chunk)
        return {key: found.get(key) for key in pi_numbers}

    async def _arrivals_chunk(self, numbers: list[str]) -> dict[str, ArrivalNotice | None]:
        params: Params = [("piNumber", n) for n in numbers]
        latest: dict[str, ArrivalNotice | None] = dict.fromkeys(numbers)
        async for notice in self._iterate(
            _ARRIVALS,
            params,
            "ArrivalNotificationList",
            "ArrivalNotification",
            mapping.arrival_notice,
            self._settings.page_size,
        ):
            current = latest.get(notice.pi_number)
            if current is None or notice.arrived_at >= current.arrived_at:
                latest[notice.pi_number] = notice
        return latest

    async def arrivals_by_common_ids(self, common_ids: Sequence[str]) -> dict[str, ArrivalNotice | None]:
        """The arrival notification of each common manifest id (the latest, should there be several)."""
        found = await self._batched(common_ids, self._common_arrivals_chunk)
        return {key: found.get(key) for key in common_ids}

    async def _common_arrivals_chunk(self, common_ids: list[str]) -> dict[str, ArrivalNotice | None]:
        params: Params = [("commonManifestId", c) for c in common_ids]
        latest: dict[str, ArrivalNotice | None] = dict.fromkeys(common_ids)
        async for notice in self._iterate(
            _ARRIVALS,
            params,
            "ArrivalNotificationList",
            "ArrivalNotification",
            mapping.arrival_notice,
            self._settings.page_size,
        ):
            key = notice.common_manifest_id
            if key is None or key not in latest:
                stray = f"arrival answer has a notification not asked for: {notice.number[:40]}"
                raise UpstreamContract(Authority.KGD, stray, endpoint=_ARRIVALS)
            current = latest[key]
            if current is None or notice.arrived_at >= current.arrived_at:
                latest[key] = notice
        return latest

    # -- pages --------------------------------------------------------------------------------

    async def _page(
        self,
        path: str,
        params: Params,
        root_name: str,
        item_name: str,
        parse: Callable[[xml.Element, int], T],
        offset: int,
        limit: int,
    ) -> Page[T]:
        _check_window(offset, limit, self._settings.page_size)
        paged = [*params, ("offset", str(offset)), ("limit", str(limit))]
        root, headers = await self._client.get(path, paged, roots=(root_name,))
        total = _total(headers, path)

        def parse_at(el: xml.Element, index: int) -> T:
            return parse(el, offset + index + 1)

        return Page(items=LazyItems(mapping.list_items(root, item_name), parse_at), total=total)

    async def _iterate(
        self,
        path: str,
        params: Params,
        root_name: str,
        item_name: str,
        parse: Callable[[xml.Element, int], T],
        page_size: int,
    ) -> AsyncIterator[T]:
        # The caller's page size, within what the authority serves per page.
        page_size = min(page_size, self._settings.page_size)
        offset = 0
        bound: int | None = None
        while bound is None or offset < bound:
            page = await self._page(path, params, root_name, item_name, parse, offset, page_size)
            bound = page.total if bound is None else min(bound, page.total)
            for item in page.items[: max(bound - offset, 0)]:
                yield item
            if not page.items:
                return
            offset += len(page.items)

    def _record_params(self, query: RecordQuery) -> Params:
        params: Params = []
        if query.post_code is not None:
            params.append(("checkpoint", query.post_code))
        if query.direction is not None:
            params.append(("direction", mapping.WIRE_DIRECTIONS[query.direction]))
        _window(params, query.start, query.end)
        plates = list(dict.fromkeys(plate for plate in query.plates if plate.strip()))
        if len(plates) > PLATES_LIMIT:
            raise InvalidInput(f"at most {PLATES_LIMIT} plates per query")
        params.extend(("plate", plate) for plate in plates)
        if query.common_manifest_id is not None:
            params.append(("commonManifestId", query.common_manifest_id))
        return params

    async def record_page(self, query: RecordQuery, offset: int, limit: int) -> Page[KazakhstanPIRecord]:
        return await self._page(
            _PI,
            self._record_params(query),
            "PreliminaryInformationList",
            "PreliminaryInformation",
            mapping.pi_record,
            offset,
            limit,
        )

    async def record_scan_page(self, query: RecordQuery, offset: int, limit: int) -> Page[ScanRecord]:
        # Not through _page's ElementTree: the scan reader parses and extracts the page in C.
        _check_window(offset, limit, self._settings.page_size)
        paged = [*self._record_params(query), ("offset", str(offset)), ("limit", str(limit))]
        page, headers = await self._client.get_read(_PI, paged, self._scan_reader.extract)
        total = _total(headers, _PI)
        return Page(items=self._scan_reader.records(page, offset), total=total)

    def iter_records(self, query: RecordQuery, page_size: int = 500) -> AsyncIterator[KazakhstanPIRecord]:
        return self._iterate(
            _PI,
            self._record_params(query),
            "PreliminaryInformationList",
            "PreliminaryInformation",
            mapping.pi_record,
            page_size,
        )

    def iter_controls(
        self, post_code: str | None, start: dt.datetime | None, end: dt.datetime | None, page_size: int = 500
    ) -> AsyncIterator[Inspection]:
        params: Params = [] if post_code is None else [("checkpoint", post_code)]
        _window(params, start, end)
        return self._iterate(
            _CONTROLS, params, "ControlResultList", "ControlResult", mapping.inspection, page_size
        )

    # -- reference data -------------------------------------------------------------------------

    async def checkpoints(self) -> list[Checkpoint]:
        root, _ = await self._client.get("/checkpoints", roots=("Checkpoints",))
        return [
            mapping.checkpoint(el, i) for i, el in enumerate(mapping.list_items(root, "Checkpoint"), start=1)
        ]

    async def exchange_rates(self, day: dt.date) -> dict[str, ExchangeRate]:
        root, _ = await self._client.get(
            "/exchange-rates", [("date", day.isoformat())], roots=("ExchangeRates",)
        )
        return mapping.exchange_rates(root)

    async def exchange_rates_range(self, start: dt.date, end: dt.date) -> dict[dt.date, dict[str, ExchangeRate]]:
        if end < start:
            raise InvalidInput("end must not be before start")
        spans: list[tuple[dt.date, dt.date]] = []
        first = start
        while first <= end:
            last = min(end, first + dt.timedelta(days=_RATES_RANGE_DAYS - 1))
            spans.append((first, last))
            first = last + dt.timedelta(days=1)
        if len(spans) == 1:  # one call: sent in this turn of the event loop (see _batched)
            return await self._rates_span(*spans[0])
        merged: dict[dt.date, dict[str, ExchangeRate]] = {}
        for part in await asyncio.gather(*(self._rates_span(a, b) for a, b in spans)):
            merged.update(part)
        return merged

    async def _rates_span(self, start: dt.date, end: dt.date) -> dict[dt.date, dict[str, ExchangeRate]]:
        root, _ = await self._client.get(
            "/exchange-rates", [("from", start.isoformat()), ("to", end.isoformat())], roots=("ExchangeRatesList",)
        )
        return {day: rates for day, rates in mapping.exchange_rates_list(root).items() if start <= day <= end}


if TYPE_CHECKING:
    # mypy proves the structural match with the interface the schema layer codes against.
    _implements: type[KazakhstanSource] = KazakhstanSourceImpl
