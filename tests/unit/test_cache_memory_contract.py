"""The cache contract on the bounded in-memory backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.cache_contract import CacheContract, RawGet

from customs_gateway.cache import CacheBackend, MemoryBackend


class TestMemoryBackend(CacheContract):
    @pytest.fixture
    async def backend(self) -> AsyncIterator[MemoryBackend]:
        backend = MemoryBackend(max_entries=10_000, max_bytes=64 * 1024 * 1024)
        yield backend
        await backend.close()

    @pytest.fixture
    def peer_backend(self, backend: MemoryBackend) -> CacheBackend:
        return backend  # two EntityCaches in one process share its one store

    @pytest.fixture
    def raw_get(self, backend: MemoryBackend) -> RawGet:
        async def raw_get(key: str) -> bytes | None:
            return backend.store.peek(key)

        return raw_get
