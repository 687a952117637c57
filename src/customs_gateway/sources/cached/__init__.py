"""Both sources behind the entity cache: decorators implementing the same interfaces.

``CachedChinaSource(inner, cache, config)`` and ``CachedKazakhstanSource(...)`` are composed in
the app's lifespan over the real sources, so the DataLoaders and services are unchanged: each
batch function still makes one call, which now reads the cache with one multi-get and asks the
upstream only for the misses (single-flighted across concurrent requests by the cache).
Values are the domain records in an exact pickle-free codec (:mod:`.codec`); the request learns
which answers were stale through :mod:`.stale`.
"""

from .china import CachedChinaSource
from .codec import Codec, CodecError, codec_for
from .kazakhstan import CachedKazakhstanSource
from .policy import TtlRules
from .stale import StaleReport, bind_stale_report, collect_stale, current_stale_report, record_stale

__all__ = [
    "CachedChinaSource",
    "CachedKazakhstanSource",
    "Codec",
    "CodecError",
    "StaleReport",
    "TtlRules",
    "bind_stale_report",
    "codec_for",
    "collect_stale",
    "current_stale_report",
    "record_stale",
]
