"""The one seam between the entity cache and storage: :class:`CacheBackend`.

Two implementations, both through aiocache (its ``multi_get``/``multi_set`` carry its timeouts and
plugins): :class:`~customs_gateway.cache.memory.MemoryBackend` (bounded, per process) and
:class:`~customs_gateway.cache.redis_backend.RedisBackend` (shared by replicas). aiocache is
untyped; :class:`AiocacheBackend` is the typed wrapper, and the only code that touches its API.

Backends store opaque bytes with a TTL and know nothing of freshness, resources or envelopes:
aiocache's serializers are replaced by :class:`RawBytesSerializer`, which refuses anything but
bytes, so nothing can reach storage pickled, stringified or half-encoded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiocache.serializers import BaseSerializer

__all__ = ["AiocacheBackend", "CacheBackend", "EvictionListener", "RawBytesSerializer"]

EvictionListener = Callable[[str], None]
"""Called with the backend key of each live entry evicted to stay within a bound."""


class CacheBackend(Protocol):
    """Bytes by key, with a TTL. Errors propagate: the entity cache decides to carry on without."""

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """One round trip; ``None`` where a key is absent or expired."""

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        """Store ``(key, value, ttl_seconds)`` items; ``ttl_seconds`` must be positive."""

    async def delete(self, key: str) -> None: ...

    def add_eviction_listener(self, listener: EvictionListener) -> None:
        """Backends that evict on their own behalf (Redis, by its ``maxmemory-policy``) never call it."""

    async def close(self) -> None: ...


class RawBytesSerializer(BaseSerializer):  # type: ignore[misc]  # aiocache is untyped
    """aiocache serializer for values that are already bytes: identity, and a type check.

    ``encoding=None`` tells aiocache's Redis backend not to decode what it reads.
    """

    DEFAULT_ENCODING = None

    def dumps(self, value: object) -> bytes:
        if not isinstance(value, bytes):
            raise TypeError(f"this cache stores bytes only, not {type(value).__name__}")
        return value

    def loads(self, value: bytes | None) -> bytes | None:
        return value


class AiocacheBackend:
    """A :class:`CacheBackend` over an aiocache cache configured with :class:`RawBytesSerializer`."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache
        self._listeners: list[EvictionListener] = []

    @property
    def aiocache(self) -> Any:
        """The wrapped aiocache object (for tests and diagnostics; not part of the seam)."""
        return self._cache

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values = await self._cache.multi_get(list(keys))
        # AIOCACHE_DISABLE=1 makes multi_get return []: that, like any other shape, is all misses.
        if not isinstance(values, list) or len(values) != len(keys):
            return [None] * len(keys)
        return [value if isinstance(value, bytes) else None for value in values]

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        # aiocache's multi_set takes one TTL per call; entries of one policy share a TTL, so this
        # is one call per policy in the batch (one MULTI/EXEC on Redis), usually one or two.
        by_ttl: dict[float, list[tuple[str, bytes]]] = {}
        for key, value, ttl in items:
            if not ttl > 0:
                raise ValueError(f"TTL must be positive, got {ttl!r} for {key!r}")
            # At least a millisecond: Redis would take PEXPIRE 0 as "delete now".
            by_ttl.setdefault(max(float(ttl), 0.001), []).append((key, value))
        for ttl, pairs in by_ttl.items():
            await self._cache.multi_set(pairs, ttl=ttl)

    async def delete(self, key: str) -> None:
        await self._cache.delete(key)

    def add_eviction_listener(self, listener: EvictionListener) -> None:
        self._listeners.append(listener)

    def _evicted(self, key: str) -> None:
        for listener in self._listeners:
            listener(key)

    async def close(self) -> None:
        await self._cache.close()
