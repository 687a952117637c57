"""The shared backend: aiocache's ``RedisCache``, so several gateway replicas share one cache.

aiocache takes host, port, db and password rather than a URL; :func:`parse_redis_url` turns the
configured ``redis://[user:password@]host[:port][/db]`` (``rediss://`` for TLS) into those.
Eviction under memory pressure is Redis's own (``maxmemory`` with ``allkeys-lru`` or
``volatile-lru`` in production); every key written here has a TTL, so ``volatile-*`` policies work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from aiocache import RedisCache

from .backend import AiocacheBackend, RawBytesSerializer

__all__ = ["RedisBackend", "RedisEndpoint", "parse_redis_url"]


@dataclass(frozen=True, slots=True, repr=False)
class RedisEndpoint:
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    tls: bool

    def __repr__(self) -> str:  # never the password
        return f"RedisEndpoint({self.host}:{self.port}/{self.db}, tls={self.tls})"


def parse_redis_url(url: str) -> RedisEndpoint:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("a Redis URL starts with redis:// or rediss://")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ValueError("the path of a Redis URL is a database number")
    return RedisEndpoint(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(path) if path else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=parts.scheme == "rediss",
    )


class RedisBackend(AiocacheBackend):
    """:class:`aiocache.RedisCache` storing raw bytes, with a per-operation timeout."""

    def __init__(self, url: str, *, timeout_s: float = 0.25, pool_max_size: int | None = 64) -> None:
        endpoint = parse_redis_url(url)
        cache: Any = RedisCache(
            serializer=RawBytesSerializer(),
            endpoint=endpoint.host,
            port=endpoint.port,
            db=endpoint.db,
            password=endpoint.password,
            timeout=timeout_s,
            pool_max_size=pool_max_size,
            create_connection_timeout=timeout_s,
            ssl=endpoint.tls,
            connection_pool_kwargs={"username": endpoint.username} if endpoint.username else None,
        )
        super().__init__(cache)
        self.endpoint = endpoint

    async def close(self) -> None:
        # aiocache's close() calls redis-py's deprecated Redis.close(); aclose() is its successor
        # (and the test suite turns DeprecationWarning into an error).
        await self.aiocache.client.aclose()
