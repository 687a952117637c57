"""The cached shapes that are not domain records themselves, and the list-query keys.

A page is cached with its ``total`` (the streams need it); a whole list (what ``iter_*`` walks)
as one tuple; a day's exchange rates with their day (the day decides the TTL). List keys hold
every parameter of the call, times in UTC (the same instant written with two offsets is one key).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...cache import ListQuery
from ...domain import ChinaManifestRecord, ExchangeRate, Inspection, KazakhstanPIRecord
from ..base import RecordQuery

__all__ = [
    "ChinaPage",
    "DayRates",
    "KazakhstanPage",
    "list_key",
    "record_query_params",
    "utc_text",
]


@dataclass(frozen=True, slots=True)
class ChinaPage:
    items: tuple[ChinaManifestRecord, ...]
    total: int


@dataclass(frozen=True, slots=True)
class KazakhstanPage:
    items: tuple[KazakhstanPIRecord, ...]
    total: int


@dataclass(frozen=True, slots=True)
class InspectionList:
    items: tuple[Inspection, ...]


@dataclass(frozen=True, slots=True)
class DayRates:
    day: dt.date
    rates: dict[str, ExchangeRate]


def utc_text(at: dt.datetime | None) -> str | None:
    """An instant as UTC ISO-8601; a naive time as written (the source refuses it anyway)."""
    if at is None:
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        return "naive:" + at.isoformat()
    return at.astimezone(dt.UTC).isoformat()


def record_query_params(query: RecordQuery) -> dict[str, object]:
    return {
        "post": query.post_code,
        "direction": query.direction.value if query.direction is not None else None,
        "start": utc_text(query.start),
        "end": utc_text(query.end),
        "plates": list(query.plates),
        "common": query.common_manifest_id,
    }


def list_key(call: str, **params: object) -> ListQuery:
    return ListQuery.of({"call": call, **params})
