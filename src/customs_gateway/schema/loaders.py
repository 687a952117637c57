"""Per-request DataLoaders over the authorities' batch endpoints (at most 50 keys per call).

Built fresh for every GraphQL request, so batching and de-duplication never leak between
requests. Implements :class:`~customs_gateway.services.Lookups` for the use-cases.
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
        self.china_inspections_by_batch = DataLoader[str, list[Inspection]](
            self._load_china_inspections, max_batch_size=BATCH_LIMIT
        )
        self.kazakhstan_records = DataLoader[str, KazakhstanPIRecord | None](
            self._load_kazakhstan_records, max_batch_size=BATCH_LIMIT
        )
        self.kazakhstan_controls_by_pi = DataLoader[str, list[Inspection]](
            self._load_kazakhstan_controls, max_batch_size=BATCH_LIMIT
        )
        self.arrivals = DataLoader[str, ArrivalNotice | None](self._load_arrivals, max_batch_size=BATCH_LIMIT)
        self.rates_by_day = DataLoader[dt.date, Mapping[str, ExchangeRate]](
            self._load_rates, max_batch_size=BATCH_LIMIT
        )

    # -- load functions: one upstream batch call per list of keys ---------------------------

    async def _load_china_manifests(self, keys: list[str]) -> list[ChinaManifestRecord | None]:
        found = await self._china.manifests(keys)
        return [found.get(key) for key in keys]

    async def _load_china_inspections(self, keys: list[str]) -> list[list[Inspection]]:
        found = await self._china.inspections(keys)
        return [found.get(key, []) for key in keys]

    async def _load_kazakhstan_records(self, keys: list[str]) -> list[KazakhstanPIRecord | None]:
        found = await self._kazakhstan.records(keys)
        return [found.get(key) for key in keys]

    async def _load_kazakhstan_controls(self, keys: list[str]) -> list[list[Inspection]]:
        found = await self._kazakhstan.controls(keys)
        return [found.get(key, []) for key in keys]

    async def _load_arrivals(self, keys: list[str]) -> list[ArrivalNotice | None]:
        found = await self._kazakhstan.arrivals(keys)
        return [found.get(key) for key in keys]

    async def _load_rates(self, days: list[dt.date]) -> list[Mapping[str, ExchangeRate]]:
        # The rates resource is per day; the days of one request are asked concurrently.
        return list(await asyncio.gather(*(self._kazakhstan.exchange_rates(day) for day in days)))

    # -- Lookups -------------------------------------------------------------------------------

    async def china_manifest(self, batch_no: str) -> ChinaManifestRecord | None:
        return await self.china_manifests.load(batch_no)

    async def china_inspections(self, batch_no: str) -> list[Inspection]:
        return await self.china_inspections_by_batch.load(batch_no)

    async def kazakhstan_record(self, pi_number: str) -> KazakhstanPIRecord | None:
        return await self.kazakhstan_records.load(pi_number)

    async def kazakhstan_controls(self, pi_number: str) -> list[Inspection]:
        return await self.kazakhstan_controls_by_pi.load(pi_number)

    async def arrival(self, pi_number: str) -> ArrivalNotice | None:
        return await self.arrivals.load(pi_number)

    async def rates(self, day: dt.date) -> Mapping[str, ExchangeRate]:
        return await self.rates_by_day.load(day)

    def prime_china(self, record: ChinaManifestRecord) -> None:
        self.china_manifests.prime(record.batch_no, record)

    def prime_kazakhstan(self, record: KazakhstanPIRecord) -> None:
        self.kazakhstan_records.prime(record.pi_number, record)
