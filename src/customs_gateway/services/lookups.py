"""Keyed lookups the use-cases need, batched per request (the schema's DataLoaders implement it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

from ..domain import ArrivalNotice, ChinaManifestRecord, ExchangeRate, Inspection, KazakhstanPIRecord

__all__ = ["Lookups"]


class Lookups(Protocol):
    """One key at a time for the caller; one upstream batch call per 50 keys underneath."""

    async def china_manifest(self, batch_no: str) -> ChinaManifestRecord | None: ...

    async def china_inspections(self, batch_no: str) -> list[Inspection]: ...

    async def kazakhstan_record(self, pi_number: str) -> KazakhstanPIRecord | None: ...

    async def kazakhstan_controls(self, pi_number: str) -> list[Inspection]: ...

    async def arrival(self, pi_number: str) -> ArrivalNotice | None: ...

    async def arrival_by_common_id(self, common_id: str) -> ArrivalNotice | None:
        """The arrival notification of a CN→KZ trip by its common id (primes the by-PI lookup)."""
        ...

    async def rates(self, day: dt.date) -> Mapping[str, ExchangeRate]: ...

    def prefetch_rates(self, start: dt.date, end: dt.date) -> None:
        """Start one range call for these days now; :meth:`rates` of those days waits for it."""
        ...

    async def china_by_common_id(self, common_id: str) -> ChinaManifestRecord | None:
        """The Chinese manifest carrying a common manifest id (primes the by-batch-number lookup)."""
        ...

    async def kazakhstan_by_common_id(self, common_id: str) -> KazakhstanPIRecord | None: ...

    async def china_inspections_by_common_id(self, common_id: str) -> list[Inspection]: ...

    async def kazakhstan_controls_by_common_id(self, common_id: str) -> list[Inspection]: ...

    def prime_china(self, record: ChinaManifestRecord) -> None:
        """Remember a record a list call already returned, so no batch call fetches it again."""
        ...

    def prime_kazakhstan(self, record: KazakhstanPIRecord) -> None: ...
