"""Local date and time texts from epoch seconds, by table lookup.

A dataset build writes several local times per trip in each authority's format (KGD
``2024-03-01T08:15:00+05:00``, GACC ``20240301081500``); ``datetime.isoformat`` or %-formatting
six fields cost several times more than picking the day's date text (cached) and the minute's and
the second's texts from small tables. Days count from 1970-01-01 (day 0); only whole seconds.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

__all__ = ["COMPACT_CLOCK", "ISO_CLOCK", "TWO_DIGITS", "compact_date", "iso_date"]

_EPOCH = dt.date(1970, 1, 1).toordinal()

#: ``"HH:MM:"`` for each minute of the day.
ISO_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(24 * 60))
#: ``"HHMM"`` for each minute of the day.
COMPACT_CLOCK = tuple(f"{m // 60:02d}{m % 60:02d}" for m in range(24 * 60))
#: ``"00"`` to ``"59"``.
TWO_DIGITS = tuple(f"{s:02d}" for s in range(60))


@lru_cache(maxsize=8192)
def iso_date(day: int) -> str:
    """``YYYY-MM-DD`` of day number ``day``."""
    return dt.date.fromordinal(_EPOCH + day).isoformat()


@lru_cache(maxsize=8192)
def compact_date(day: int) -> str:
    """``YYYYMMDD`` of day number ``day``."""
    return dt.date.fromordinal(_EPOCH + day).strftime("%Y%m%d")
