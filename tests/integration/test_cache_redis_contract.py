"""The cache contract on Redis: a real redis-server, two connection pools as two replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from tests.cache_contract import CacheContract, RawGet

from customs_gateway.cache import RedisBackend

pytest_plugins = ("redis_server",)


class TestRedisBackend(CacheContract):
    @pytest.fixture
    async def backend(self, redis_url: str) -> AsyncIterator[RedisBackend]:
        backend = RedisBackend(redis_url, timeout_s=2.0)
        yield backend
        await backend.close()

    @pytest.fixture
    async def peer_backend(self, redis_url: str) -> AsyncIterator[RedisBackend]:
        backend = RedisBackend(redis_url, timeout_s=2.0)  # another replica: its own pool, same server
        yield backend
        await backend.close()

    @pytest.fixture
    async def raw_get(self, redis_url: str) -> AsyncIterator[RawGet]:
        client = redis.Redis.from_url(redis_url)

        async def raw_get(key: str) -> bytes | None:
            value = await client.get(key)
            assert value is None or isinstance(value, bytes)
            return value

        yield raw_get
        await client.aclose()
