"""One cached resource of one authority: keys → domain values through :class:`EntityCache`.

What the cached sources share: encode what the upstream answered (never anything it did not
answer), choose the TTL class from the value (final or in progress), read everything with one
multi-get, ask the upstream only for the misses, decode, and tell the request which answers
were stale and how old they are.

A decoded value is remembered next to the bytes it came from (a bounded LRU per resource): a hot
record read by every dashboard request is decoded once, not per request, and the memo is only
used when the cached bytes are still exactly those (so an entry rewritten by another replica is
decoded again). ``benchmarks/cache.py`` measures what it saves.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from ...cache import NOT_FOUND, CacheConfig, CachePolicy, EntityCache, NotFound, Resource, TtlClass
from ...cache.keys import EntityKey
from .codec import Codec, CodecError, codec_for
from .stale import record_stale

__all__ = ["CachedResource", "DecodedMemo", "cached_resource"]

logger = logging.getLogger(__name__)

V = TypeVar("V")
K = TypeVar("K", bound=EntityKey)
_Fetch = Callable[[list[K]], Awaitable[Mapping[K, V | None]]]


class DecodedMemo(Generic[V]):
    """Bounded LRU of ``key → (payload, decoded value)``."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._items: OrderedDict[Hashable, tuple[bytes, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, payload: bytes) -> V | None:
        found = self._items.get(key)
        if found is None or found[0] != payload:
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, payload: bytes, value: V) -> None:
        if self._max <= 0:
            return
        self._items[key] = (payload, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)


class CachedResource(Generic[V]):
    """``load(keys, fetch)``: each key's value, or ``None`` where the authority knows no such key."""

    def __init__(
        self,
        cache: EntityCache,
        config: CacheConfig,
        authority: str,
        name: str,
        codec: Codec[V],
        ttl_class: Callable[[V], TtlClass],
        *,
        memo_entries: int = 0,
    ) -> None:
        self.resource = Resource(authority, name)
        self._cache = cache
        self._config = config
        self._codec = codec
        self._ttl_class = ttl_class
        self._memo: DecodedMemo[V] = DecodedMemo(memo_entries)

    def policy(self, value: V) -> CachePolicy:
        return self._config.policy(self._ttl_class(value))

    async def load(self, keys: Sequence[K], fetch: _Fetch[K, V]) -> dict[K, V | None]:
        """Values for ``keys`` (duplicates allowed), fetching only the misses with one ``fetch``.

        ``fetch`` returns the upstream's answer for the keys it is given, ``None`` (or no entry)
        for a key the authority does not know; it raises on failure (nothing is cached then).
        """
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        fetched: dict[int, tuple[bytes, V, CachePolicy]] = {}
        answered: dict[K, V | None] = {}

        async def fetch_missing(missing: list[K]) -> dict[K, bytes | NotFound]:
            got = await fetch(missing)
            encoded: dict[K, bytes | NotFound] = {}
            for key in missing:
                value = got.get(key)
                answered[key] = value
                if value is None:
                    encoded[key] = NOT_FOUND
                    continue
                raw = self._codec.encode(value)
                fetched[id(raw)] = (raw, value, self.policy(value))
                encoded[key] = raw
            return encoded

        def policy_for(raw: bytes) -> CachePolicy:
            known = fetched.get(id(raw))
            return known[2] if known is not None and known[0] is raw else self.policy(self._codec.decode(raw))

        try:
            result = await self._cache.load_many(self.resource, wanted, fetch_missing, policy_for)
        except CodecError:
            # A value this codec cannot write (it is served, not cached): what fetch answered.
            logger.warning("%s: a value could not be encoded; served uncached", self.resource.name, exc_info=True)
            return {key: answered[key] if key in answered else (await fetch([key])).get(key) for key in wanted}
        values: dict[K, V | None] = {}
        corrupt: list[K] = []
        for key, raw in result.values.items():
            if raw is NOT_FOUND:
                values[key] = None
                continue
            known = fetched.get(id(raw))
            if known is not None and known[0] is raw:
                values[key] = known[1]
                self._memo.put(key, raw, known[1])
                continue
            memoized = self._memo.get(key, raw)
            if memoized is not None:
                values[key] = memoized
                continue
            try:
                decoded = self._codec.decode(raw)
            except CodecError:
                corrupt.append(key)
                continue
            self._memo.put(key, raw, decoded)
            values[key] = decoded
        if corrupt:
            values.update(await self._replace_corrupt(corrupt, fetch))
        self._report(result.stale_since, values)
        return values

    async def _replace_corrupt(self, keys: list[K], fetch: _Fetch[K, V]) -> dict[K, V | None]:
        """Entries whose bytes do not decode (another release's shape, or a hostile writer):
        dropped and fetched again, never served."""
        logger.warning("%s: %d cached entries did not decode; refetching", self.resource.name, len(keys))
        for key in keys:
            await self._cache.invalidate(self.resource, key)
        got = await fetch(keys)
        return {key: got.get(key) for key in keys}

    def _report(self, stale_since: Mapping[K, float], values: Mapping[K, V | None]) -> None:
        if not stale_since:
            return
        now = self._cache.now()
        oldest = 0.0
        for key, since in stale_since.items():
            value = values.get(key)
            fresh_s = self.policy(value).fresh_s if value is not None else 0.0
            oldest = max(oldest, now - since + fresh_s)
        record_stale(self.resource.authority, self.resource.name, oldest)


def cached_resource(
    cache: EntityCache,
    config: CacheConfig,
    authority: str,
    name: str,
    annotation: object,
    ttl_class: Callable[[V], TtlClass],
) -> CachedResource[V]:
    """A :class:`CachedResource` whose codec is built from ``annotation`` (the type of ``V``)."""
    return CachedResource(
        cache, config, authority, name, codec_for(annotation), ttl_class, memo_entries=config.decoded_memo_entries
    )
