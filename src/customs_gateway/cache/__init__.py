"""The upstream-entity cache: bounded memory or Redis through aiocache, read-through with single
flight, stale-while-revalidate and stale-if-error.

Layers, each in its own module and usable alone:

* ``envelope``: the stored bytes (a 24-byte binary header with fresh/stale instants, then the
  caller's bytes; no pickle);
* ``keys``: injective keys ``<ns>:v<n>:<authority>:<resource>:<id|params hash>``;
* ``backend`` / ``memory`` / ``redis_backend``: bytes by key with a TTL, over aiocache;
* ``singleflight``: concurrent identical loads collapse into one;
* ``entity``: :class:`EntityCache`, what the sources call (``get_many``, ``set_many``, ``load_many``);
* ``config`` / ``policy`` / ``factory``: typed settings, per-entry TTL policy, construction.

Typical use in a source's DataLoader batch function::

    result = await cache.load_many(MANIFEST, ids, fetch_manifests, policy_for=policy_by_state)
    if result.stale_served: ...  # tell the client in the response's extensions
"""

from .backend import AiocacheBackend, CacheBackend, EvictionListener, RawBytesSerializer
from .config import CacheConfig, TtlClass, TtlConfig
from .entity import CacheHit, EntityCache, FetchMissing, LoadResult, PolicyFor
from .envelope import NOT_FOUND, CorruptEntry, Entry, Freshness, NotFound, Value
from .factory import create_backend, create_cache
from .keys import EntityKey, KeyBuilder, ListQuery, Resource
from .memory import BoundedMemoryCache, MemoryBackend
from .observer import CacheCounters, CacheObserver, NullObserver
from .policy import CachePolicy
from .redis_backend import RedisBackend, parse_redis_url
from .singleflight import SingleFlight

__all__ = [
    "NOT_FOUND",
    "AiocacheBackend",
    "BoundedMemoryCache",
    "CacheBackend",
    "CacheConfig",
    "CacheCounters",
    "CacheHit",
    "CacheObserver",
    "CachePolicy",
    "CorruptEntry",
    "EntityCache",
    "EntityKey",
    "Entry",
    "EvictionListener",
    "FetchMissing",
    "Freshness",
    "KeyBuilder",
    "ListQuery",
    "LoadResult",
    "MemoryBackend",
    "NotFound",
    "NullObserver",
    "PolicyFor",
    "RawBytesSerializer",
    "RedisBackend",
    "Resource",
    "SingleFlight",
    "TtlClass",
    "TtlConfig",
    "Value",
    "create_backend",
    "create_cache",
    "parse_redis_url",
]
