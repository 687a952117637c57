"""Redis specifics: one MGET per multi-get, TTLs as Redis sees them, two OS processes sharing
entries, and an unreachable Redis degrading to no cache."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from customs_gateway.cache import (
    NOT_FOUND,
    CacheConfig,
    CacheCounters,
    CachePolicy,
    EntityCache,
    KeyBuilder,
    RedisBackend,
    Resource,
    create_cache,
)

pytest_plugins = ("redis_server",)

MANIFEST = Resource("GACC", "manifest")
POLICY = CachePolicy(fresh_s=60, stale_s=600)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def cache(redis_url: str) -> AsyncIterator[EntityCache]:
    config = CacheConfig(backend="redis", redis_url=redis_url, namespace=f"t{uuid.uuid4().hex[:12]}")
    cache = create_cache(config)
    yield cache
    await cache.close()


async def _calls(client: redis.Redis, command: str) -> int:
    stats = await client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_get_many_is_one_mget_and_set_many_one_transaction(cache: EntityCache, client: redis.Redis) -> None:
    mgets, msets, gets = await _calls(client, "mget"), await _calls(client, "mset"), await _calls(client, "get")

    await cache.set_many(MANIFEST, {f"m{i}": b"v" for i in range(100)}, POLICY)
    hits = await cache.get_many(MANIFEST, [f"m{i}" for i in range(120)])

    assert len(hits) == 100
    assert await _calls(client, "mget") == mgets + 1
    assert await _calls(client, "mset") == msets + 1
    assert await _calls(client, "get") == gets


async def test_redis_keeps_an_entry_for_fresh_plus_stale(cache: EntityCache, client: redis.Redis) -> None:
    await cache.set(MANIFEST, "m1", b"v", POLICY)
    await cache.set(MANIFEST, "ghost", NOT_FOUND, CachePolicy(fresh_s=30))

    keys = cache.key_builder
    assert 659_000 < await client.pttl(keys.build(MANIFEST, "m1")) <= 660_000
    assert 29_000 < await client.pttl(keys.build(MANIFEST, "ghost")) <= 30_000


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from customs_gateway.cache import CacheConfig, CachePolicy, Resource, create_cache

    async def main(url: str, namespace: str) -> None:
        cache = create_cache(CacheConfig(backend="redis", redis_url=url, namespace=namespace))

        async def fetch(keys):
            return {"m1": b'{"written_by":"the other process"}'}

        result = await cache.load_many(Resource("GACC", "manifest"), ["m1", "m2"], fetch, CachePolicy(60, 600))
        assert not result.stale_served
        await cache.close()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_an_entry_written_by_another_process_is_served_here(redis_url: str) -> None:
    namespace = f"t{uuid.uuid4().hex[:12]}"
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITER, redis_url, namespace, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(writer.communicate(), timeout=30)
    assert writer.returncode == 0, stderr.decode()
    counters = CacheCounters()
    cache = create_cache(CacheConfig(backend="redis", redis_url=redis_url, namespace=namespace), observer=counters)

    async def must_not_fetch(keys: list[str]) -> dict[str, bytes]:
        raise AssertionError(f"fetched {keys}: the other process's entries were not used")

    result = await cache.load_many(MANIFEST, ["m1", "m2"], must_not_fetch, POLICY)
    await cache.close()

    assert result.values == {"m1": b'{"written_by":"the other process"}', "m2": NOT_FOUND}
    assert counters.hits == {"manifest": 2}


async def test_an_unreachable_redis_is_no_cache_not_an_outage(unreachable_redis_url: str) -> None:
    counters = CacheCounters()
    backend = RedisBackend(unreachable_redis_url, timeout_s=0.2)
    cache = EntityCache(backend, keys=KeyBuilder("t", 1), not_found_policy=CachePolicy(30), observer=counters)

    async def fetch(keys: list[str]) -> dict[str, bytes]:
        return {"m1": b"from upstream"}

    started = time.monotonic()
    result = await cache.load_many(MANIFEST, ["m1"], fetch, POLICY)
    elapsed = time.monotonic() - started
    await cache.close()

    assert result.values == {"m1": b"from upstream"}
    assert counters.backend_errors == {"get": 1, "set": 1}
    assert elapsed < 1.0
