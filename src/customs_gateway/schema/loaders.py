"""Per-request DataLoaders over the authorities' batch endpoints (at most 50 keys per call).

Built fresh for every GraphQL request, so batching and de-duplication never leak between
requests. Implements :class:`~customs_gateway.services.Lookups` for the use-cases.

Keys: Chinese records by batch number, Kazakh records by PI number, both by common manifest id
(whatever a by-common-id call returns is primed into the by-key loaders, so the same record is
never fetched twice in one request), inspections by record key and by common id, and NBK rates
by day — the days of one batch come from one range call, and a range can be prefetched in the
first round of a request (:meth:`Loaders.prefetch_rates`), in its turn among that round's calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping

from strawberry.dataloader import DataLoader

from ..domain import ArrivalNotice, ChinaManifestRecord, ExchangeRate, Inspection, KazakhstanPIRecord
from ..sources.base import BATCH_LIMIT, ChinaSource, KazakhstanSource

__all__ = ["Loaders"]


class Loaders:
    def __init__(self, china: ChinaSource, kazakhstan: KazakhstanSource) -> None:
        self._china = china
        self._kazakhstan = kazakhstan
        self.china_manifests = DataLoader[str, ChinaManifestRecord | None](
            self._load_china_manifests, max_batch_size=BATCH_LIMIT
        )
        self.china_by_common = DataLoader[str, ChinaManifestRecord | None](
            self._load_china_by_common, max_batch_size=BATCH_LIMIT
        )
        self.china_inspections_by_batch = DataLoader[str, list[Inspection]](
            self._load_china_inspections, max_batch_size=BATCH_LIMIT
        )
        self.china_inspections_by_common = DataLoader[str, list[Inspection]](
            self._load_china_inspections_by_common, max_batch_size=BATCH_LIMIT
        )
        self.kazakhstan_records = DataLoader[str, KazakhstanPIRecord | None](
            self._load_kazakhstan_records, max_batch_size=BATCH_LIMIT
        )
        self.kazakhstan_by_common = DataLoader[str, KazakhstanPIRecord | None](
            self._load_kazakhstan_by_common, max_batch_size=BATCH_LIMIT
        )
        self.kazakhstan_controls_by_pi = DataLoader[str, list[Inspection]](
            self._load_kazakhstan_controls, max_batch_size=BATCH_LIMIT
        )
        self.kazakhstan_controls_by_common = DataLoader[str, list[Inspection]](
            self._load_kazakhstan_controls_by_common, max_batch_size=BATCH_LIMIT
        )
        self.arrivals = DataLoader[str, ArrivalNotice | None](self._load_arrivals, max_batch_size=BATCH_LIMIT)
        self.arrivals_by_common = DataLoader[str, ArrivalNotice | None](
            self._load_arrivals_by_common, max_batch_size=BATCH_LIMIT
        )
        self.rates_by_day = DataLoader[dt.date, Mapping[str, ExchangeRate]](
            self._load_rates, max_batch_size=BATCH_LIMIT
        )

    # -- load functions: one upstream batch call per list of keys ---------------------------

    async def _load_china_manifests(self, keys: list[str]) -> list[ChinaManifestRecord | None]:
        found = await self._china.manifests(keys)
        return [found.get(key) for key in keys]

    async def _load_china_by_common(self, keys: list[str]) -> list[ChinaManifestRecord | None]:
        found = await self._china.manifests_by_common_ids(keys)
        for record in found.values():
            if record is not None:
                self.prime_china(record)
        return [found.get(key) for key in keys]

    async def _load_china_inspections(self, keys: list[str]) -> list[list[Inspection]]:
        found = await self._china.inspections(keys)
        return [found.get(key, []) for key in keys]

    async def _load_china_inspections_by_common(self, keys: list[str]) -> list[list[Inspection]]:
        found = await self._china.inspections_by_common_ids(keys)
        _prime_by_record(self.china_inspections_by_batch, found)
        return [found.get(key, []) for key in keys]

    async def _load_kazakhstan_records(self, keys: list[str]) -> list[KazakhstanPIRecord | None]:
        found = await self._kazakhstan.records(keys)
        return [found.get(key) for key in keys]

    async def _load_kazakhstan_by_common(self, keys: list[str]) -> list[KazakhstanPIRecord | None]:
        found = await self._kazakhstan.records_by_common_ids(keys)
        for record in found.values():
            if record is not None:
                self.prime_kazakhstan(record)
        return [found.get(key) for key in keys]

    async def _load_kazakhstan_controls(self, keys: list[str]) -> list[list[Inspection]]:
        found = await self._kazakhstan.controls(keys)
        return [found.get(key, []) for key in keys]

    async def _load_kazakhstan_controls_by_common(self, keys: list[str]) -> list[list[Inspection]]:
        found = await self._kazakhstan.controls_by_common_ids(keys)
        _prime_by_record(self.kazakhstan_controls_by_pi, found)
        return [found.get(key, []) for key in keys]

    async def _load_arrivals(self, keys: list[str]) -> list[ArrivalNotice | None]:
        found = await self._kazakhstan.arrivals(keys)
        return [found.get(key) for key in keys]

    async def _load_arrivals_by_common(self, keys: list[str]) -> list[ArrivalNotice | None]:
        found = await self._kazakhstan.arrivals_by_common_ids(keys)
        for notice in found.values():
            if notice is not None:
                self.arrivals.prime(notice.pi_number, notice)
        return [found.get(key) for key in keys]

    async def _load_rates(self, days: list[dt.date]) -> list[Mapping[str, ExchangeRate]]:
        # One range call covers every day of the batch (the days of one request lie close together).
        table = await self._kazakhstan.exchange_rates_range(min(days), max(days))
        return [table.get(day, {}) for day in days]

    # -- Lookups -------------------------------------------------------------------------------

    async def china_manifest(self, batch_no: str) -> ChinaManifestRecord | None:
        return await self.china_manifests.load(batch_no)

    async def china_by_common_id(self, common_id: str) -> ChinaManifestRecord | None:
        return await self.china_by_common.load(common_id)

    async def china_inspections(self, batch_no: str) -> list[Inspection]:
        return await self.china_inspections_by_batch.load(batch_no)

    async def china_inspections_by_common_id(self, common_id: str) -> list[Inspection]:
        return await self.china_inspections_by_common.load(common_id)

    async def kazakhstan_record(self, pi_number: str) -> KazakhstanPIRecord | None:
        return await self.kazakhstan_records.load(pi_number)

    async def kazakhstan_by_common_id(self, common_id: str) -> KazakhstanPIRecord | None:
        return await self.kazakhstan_by_common.load(common_id)

    async def kazakhstan_controls(self, pi_number: str) -> list[Inspection]:
        return await self.kazakhstan_controls_by_pi.load(pi_number)

    async def kazakhstan_controls_by_common_id(self, common_id: str) -> list[Inspection]:
        return await self.kazakhstan_controls_by_common.load(common_id)

    async def arrival(self, pi_number: str) -> ArrivalNotice | None:
        return await self.arrivals.load(pi_number)

    async def arrival_by_common_id(self, common_id: str) -> ArrivalNotice | None:
        return await self.arrivals_by_common.load(common_id)

    async def rates(self, day: dt.date) -> Mapping[str, ExchangeRate]:
        return await self.rates_by_day.load(day)

    def rates_now(self, day: dt.date) -> Mapping[str, ExchangeRate] | None:
        """The rates of ``day`` if this request's loader already holds them, else None (without
        loading anything): a money field then answers at once instead of through an awaitable
        (the rates of a by-common-id round have usually arrived with the records)."""
        loaded = self.rates_by_day.cache_map.get(day)
        if loaded is None or not loaded.done() or loaded.cancelled() or loaded.exception() is not None:
            return None
        return loaded.result()

    def prefetch_rates(self, start: dt.date, end: dt.date) -> None:
        # Through the by-day loader, from a task of its own: the range goes out as one call, in
        # its turn among the lookups started just before and after it (a loader batch is sent in
        # the order the loads were made), and the days are then answered from the loader.
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]

        async def prefetch() -> None:
            await self.rates_by_day.load_many(days)  # load_many loads at once: in the task, not here

        task = asyncio.ensure_future(prefetch())
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def prime_china(self, record: ChinaManifestRecord) -> None:
        self.china_manifests.prime(record.batch_no, record)
        if record.common_manifest_id:
            self.china_by_common.prime(record.common_manifest_id, record)

    def prime_kazakhstan(self, record: KazakhstanPIRecord) -> None:
        self.kazakhstan_records.prime(record.pi_number, record)
        if record.common_manifest_id:
            self.kazakhstan_by_common.prime(record.common_manifest_id, record)


def _prime_by_record(loader: DataLoader[str, list[Inspection]], by_common: Mapping[str, list[Inspection]]) -> None:
    """Inspections found by common id, filed under their record key too (when any exist: an
    empty list does not say which record it belongs to)."""
    by_record: dict[str, list[Inspection]] = {}
    for inspections in by_common.values():
        for inspection in inspections:
            by_record.setdefault(inspection.record_id, []).append(inspection)
    for record_id, inspections in by_record.items():
        loader.prime(record_id, inspections)
