"""How long each kind of answer stays true: the TTL class of a value, from its state.

* a manifest-like record is final once its side is done with the trip: ``EXITED``, or
  ``RELEASED`` on the importing side (an exporting side may still record the exit after release);
* a record's inspections (and an arrival notification) are final once settled: every inspection
  finished, the last one ``settled_after_s`` ago (a finished X-ray may still be followed by a
  manual inspection the same day; nothing is added to a trip that crossed long ago); an empty
  list is never final (the first inspection may be on its way);
* an exchange rate of a day that is over in Kazakhstan is final; today's may still change;
* pages and lists are always ``LIST`` (new records appear at any time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from ...cache import TtlClass
from ...domain import ArrivalNotice, ChinaManifestRecord, Direction, Inspection, KazakhstanPIRecord
from ...domain import RecordStatus as S

__all__ = ["TtlRules"]

T = TypeVar("T")

_KZ_TZ = dt.timezone(dt.timedelta(hours=5))  # NBK publishes by Kazakh calendar day (UTC+5 since 2024-03-01)


class TtlRules:
    """TTL classes by state; ``now`` is wall-clock epoch seconds (the cache's clock)."""

    def __init__(self, settled_after_s: float, now: Callable[[], float]) -> None:
        self._settled_after_s = settled_after_s
        self._now = now

    @staticmethod
    def china_record(record: ChinaManifestRecord) -> TtlClass:
        importing = record.direction is Direction.KZ_TO_CN
        return _record_class(record.status, importing)

    @staticmethod
    def kazakhstan_record(record: KazakhstanPIRecord) -> TtlClass:
        importing = record.direction is Direction.CN_TO_KZ
        return _record_class(record.status, importing)

    def inspections(self, inspections: Sequence[Inspection]) -> TtlClass:
        if not inspections or any(i.finished_at is None for i in inspections):
            return TtlClass.IN_PROGRESS
        last = max(i.finished_at for i in inspections if i.finished_at is not None)
        return self._settled(last)

    def arrival(self, notice: ArrivalNotice) -> TtlClass:
        return self._settled(notice.arrived_at)

    def rates(self, day: dt.date) -> TtlClass:
        today = dt.datetime.fromtimestamp(self._now(), _KZ_TZ).date()
        return TtlClass.PAST_RATE if day < today else TtlClass.CURRENT_RATE

    @staticmethod
    def listing(_: T) -> TtlClass:
        return TtlClass.LIST

    def _settled(self, at: dt.datetime) -> TtlClass:
        settled = self._now() - at.timestamp() >= self._settled_after_s
        return TtlClass.FINAL if settled else TtlClass.IN_PROGRESS


def _record_class(status: S, importing: bool) -> TtlClass:
    if status is S.EXITED or (status is S.RELEASED and importing):
        return TtlClass.FINAL
    return TtlClass.IN_PROGRESS
