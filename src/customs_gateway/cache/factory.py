"""Build the gateway's cache from its config: the one place that picks the backend."""

from __future__ import annotations

import time
from collections.abc import Callable

from .backend import CacheBackend
from .config import CacheConfig, TtlClass
from .entity import EntityCache
from .keys import KeyBuilder
from .memory import MemoryBackend
from .observer import CacheObserver
from .redis_backend import RedisBackend

__all__ = ["create_backend", "create_cache"]


def create_backend(config: CacheConfig) -> CacheBackend:
    if config.backend == "redis":
        return RedisBackend(
            config.redis_url.get_secret_value(),
            timeout_s=config.redis_timeout_s,
            pool_max_size=config.redis_pool_max_size,
        )
    return MemoryBackend(max_entries=config.max_entries, max_bytes=config.max_bytes)


def create_cache(
    config: CacheConfig,
    *,
    observer: CacheObserver | None = None,
    backend: CacheBackend | None = None,
    clock: Callable[[], float] = time.time,
) -> EntityCache:
    """The cache for one app (create it in the lifespan, ``await cache.close()`` at shutdown).

    Creating it does no I/O: the Redis connection pool connects on first use.
    """
    return EntityCache(
        backend if backend is not None else create_backend(config),
        keys=KeyBuilder(config.namespace, config.key_version),
        not_found_policy=config.policy(TtlClass.NOT_FOUND),
        observer=observer,
        clock=clock,
    )
