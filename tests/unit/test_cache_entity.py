"""EntityCache beyond the backend contract: a failing backend, shutdown, config and factory."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from customs_gateway.cache import (
    NOT_FOUND,
    CacheConfig,
    CacheCounters,
    CachePolicy,
    EntityCache,
    EvictionListener,
    KeyBuilder,
    MemoryBackend,
    RedisBackend,
    Resource,
    TtlClass,
    create_cache,
    parse_redis_url,
)
from customs_gateway.resilience import ManualClock

MANIFEST = Resource("GACC", "manifest")
POLICY = CachePolicy(fresh_s=60, stale_s=600)


class BrokenBackend:
    """A backend that is down: every call raises, as a Redis timeout or refused connection would."""

    def __init__(self) -> None:
        self.closed = False

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        raise TimeoutError("backend timed out")

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        raise ConnectionError("backend refused")

    async def delete(self, key: str) -> None:
        raise ConnectionError("backend refused")

    def add_eviction_listener(self, listener: EvictionListener) -> None:
        pass

    async def close(self) -> None:
        self.closed = True


async def test_a_broken_backend_degrades_to_no_cache_not_to_errors() -> None:
    counters = CacheCounters()
    cache = EntityCache(BrokenBackend(), keys=KeyBuilder("t", 1), not_found_policy=CachePolicy(30), observer=counters)
    calls: list[list[str]] = []

    async def fetch(keys: list[str]) -> dict[str, bytes]:
        calls.append(keys)
        return {"m1": b"v"}

    first = await cache.load_many(MANIFEST, ["m1", "m2"], fetch, POLICY)
    await cache.set(MANIFEST, "m3", b"v", POLICY)
    await cache.invalidate(MANIFEST, "m3")

    assert first.values == {"m1": b"v", "m2": NOT_FOUND}
    assert await cache.get_many(MANIFEST, ["m1"]) == {}
    assert counters.backend_errors == {"get": 2, "set": 2, "delete": 1}
    assert counters.misses["manifest"] == 3


async def test_close_cancels_background_refreshes_and_closes_the_backend() -> None:
    clock = ManualClock(1_750_000_000.0)
    backend = MemoryBackend(max_entries=100, max_bytes=10**6)
    cache = EntityCache(backend, keys=KeyBuilder("t", 1), not_found_policy=CachePolicy(30), clock=clock)
    await cache.set(MANIFEST, "m1", b"old", POLICY)
    clock.advance(61)
    never = asyncio.Event()

    async def hanging_fetch(keys: list[str]) -> dict[str, bytes]:
        await never.wait()
        return {}

    result = await cache.load_many(MANIFEST, ["m1"], hanging_fetch, POLICY)
    assert result.stale_served

    await asyncio.wait_for(cache.close(), timeout=1)
    await cache.drain()  # nothing left to wait for


async def test_the_clock_is_wall_time_by_default() -> None:
    cache = create_cache(CacheConfig())
    await cache.set(MANIFEST, "m1", b"v", POLICY)
    hit = await cache.get(MANIFEST, "m1")
    assert hit is not None and 1_700_000_000 < hit.fresh_until - 60 < 4_000_000_000
    await cache.close()


def test_config_defaults_and_policies() -> None:
    config = CacheConfig()

    assert config.backend == "memory" and config.max_entries == 100_000
    assert config.policy(TtlClass.FINAL) == CachePolicy(fresh_s=86_400, stale_s=600)
    assert config.policy(TtlClass.IN_PROGRESS) == CachePolicy(fresh_s=60, stale_s=600)
    assert config.policy(TtlClass.LIST) == CachePolicy(fresh_s=30, stale_s=600)
    assert config.policy(TtlClass.NOT_FOUND) == CachePolicy(fresh_s=30, stale_s=0)
    assert config.policy(TtlClass.PAST_RATE).fresh_s > config.policy(TtlClass.CURRENT_RATE).fresh_s
    assert all(config.policy(ttl_class).fresh_s > 0 for ttl_class in TtlClass)


def test_config_is_validated_and_keeps_the_redis_url_secret() -> None:
    config = CacheConfig.model_validate(
        {"backend": "redis", "redis_url": "redis://:hunter2@cache:6380/2", "ttl": {"list_s": 5}}
    )

    assert "hunter2" not in repr(config) and "hunter2" not in str(config.model_dump())
    assert config.ttl.list_s == 5
    with pytest.raises(ValidationError):
        CacheConfig.model_validate({"redis_url": "http://cache:6379"})
    with pytest.raises(ValidationError):
        CacheConfig.model_validate({"namespace": "a:b"})
    with pytest.raises(ValidationError):
        CacheConfig.model_validate({"ttl": {"final_s": 0}})
    with pytest.raises(ValidationError):
        CacheConfig.model_validate({"max_entries": 10, "surprise": True})


def test_policy_is_validated() -> None:
    assert CachePolicy(fresh_s=60, stale_s=600).backend_ttl_s == 660
    with pytest.raises(ValueError):
        CachePolicy(fresh_s=0)
    with pytest.raises(ValueError):
        CachePolicy(fresh_s=1, stale_s=-1)


def test_redis_urls_are_parsed_and_their_password_never_shown() -> None:
    endpoint = parse_redis_url("rediss://gateway:s%3Acret@cache.internal:6380/3")

    assert (endpoint.host, endpoint.port, endpoint.db, endpoint.tls) == ("cache.internal", 6380, 3, True)
    assert (endpoint.username, endpoint.password) == ("gateway", "s:cret")
    assert "s:cret" not in repr(endpoint)
    assert parse_redis_url("redis://localhost").port == 6379
    with pytest.raises(ValueError):
        parse_redis_url("redis://localhost/zero")


async def test_the_factory_builds_the_configured_backend() -> None:
    memory = create_cache(CacheConfig(max_entries=10))
    redis = create_cache(CacheConfig(backend="redis", redis_url="redis://127.0.0.1:1/0"))

    assert isinstance(memory.backend, MemoryBackend) and memory.backend.store.max_entries == 10
    assert isinstance(redis.backend, RedisBackend) and redis.backend.endpoint.port == 1
    assert memory.key_builder.prefix == "cgw:v1:"
    await memory.close()
    await redis.close()
