"""Per-client rate limits with the ``limits`` library: each client (``Principal.client_id``; an
anonymous client by its address) may send its role's ``requests_per_minute`` GraphQL requests.

The counts live in ``limits`` storage: ``memory://`` in this process, ``redis://…`` shared by every
replica (the same Redis the cache may use, another database is wise). Over the rate, the answer is
429 with ``Retry-After`` (whole seconds until the window lets the next request in) and a
GraphQL-shaped error (``RATE_LIMITED``), before the request is parsed. If the storage fails (Redis
down), requests are let through and a warning is logged: losing rate limits for a while is better
than refusing every client of two customs services.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import SecuritySettings
from .principal import Principal, principal_of
from .refusal import refusal_response

__all__ = ["ClientRateLimiter", "RateLimitMiddleware"]

logger = logging.getLogger("customs_gateway.rate_limit")

# The namespace of refused-credential counts (per client address), apart from any role's.
_FAILURES = "failed-authentication"


def _async_storage_uri(uri: str) -> tuple[str, dict[str, str]]:
    """``limits``' async storage for ``uri``; Redis through redis-py (already a dependency)."""
    scheme = uri.split("://", 1)[0]
    options = {"implementation": "redispy"} if scheme in ("redis", "rediss", "redis+unix") else {}
    return ("" if scheme.startswith("async+") else "async+") + uri, options


class ClientRateLimiter:
    """Counts one request of a principal; says how long to wait when it is over its role's rate."""

    def __init__(self, security: SecuritySettings, *, clock: Callable[[], float] = time.time) -> None:
        settings = security.rate_limit
        uri, options = _async_storage_uri(settings.storage)
        self._pool: ConnectionPool | None = None
        if options:  # Redis: our own pool, so that close() can close it
            self._pool = ConnectionPool.from_url(settings.storage)
            storage = storage_from_string(uri, **options, connection_pool=self._pool)  # type: ignore[arg-type]
        else:
            storage = storage_from_string(uri)
        strategy = MovingWindowRateLimiter if settings.strategy == "moving-window" else FixedWindowRateLimiter
        self._storage = storage
        self._limiter: RateLimiter = strategy(storage)
        self._security = security
        self._prefix = settings.key_prefix
        self._clock = clock

    async def close(self) -> None:
        """Close the Redis connections (``limits`` has no close of its own: the pool is ours)."""
        if self._pool is not None:
            await self._pool.aclose()

    def _role(self, principal: Principal) -> str:
        if principal.method == "anonymous" and self._security.anonymous_role is not None:
            return self._security.anonymous_role.value
        return principal.role

    async def _over(self, item: RateLimitItem, *identifiers: str, count: bool) -> int | None:
        """``None`` while ``identifiers`` have room in ``item`` (counting one hit when ``count``),
        else the seconds until they have (at least 1). A failing storage lets the request
        through, loudly: losing limits for a while beats refusing every client."""
        try:
            check = self._limiter.hit if count else self._limiter.test
            if await check(item, self._prefix, *identifiers):
                return None
            stats = await self._limiter.get_window_stats(item, self._prefix, *identifiers)
        except Exception:
            logger.warning("rate limit storage failed; request let through", exc_info=True)
            return None
        return max(1, math.ceil(stats.reset_time - self._clock()))

    async def failures_retry_after(self, address: str) -> int | None:
        """``None`` while ``address`` may still present credentials, else the seconds to wait."""
        allowed = self._security.rate_limit.failed_auth_per_minute
        if allowed == 0:
            return None
        return await self._over(RateLimitItemPerMinute(allowed), _FAILURES, address, count=False)

    async def count_failure(self, address: str) -> None:
        """Count one refused credential from ``address``."""
        allowed = self._security.rate_limit.failed_auth_per_minute
        if allowed == 0:
            return
        try:
            await self._limiter.hit(RateLimitItemPerMinute(allowed), self._prefix, _FAILURES, address)
        except Exception:
            logger.warning("rate limit storage failed; failed authentication not counted", exc_info=True)

    async def retry_after(self, principal: Principal, address: str) -> int | None:
        """Count one request; ``None`` when allowed, else the seconds to wait (at least 1)."""
        role = self._role(principal)
        item = RateLimitItemPerMinute(self._security.role(role).requests_per_minute)
        client = principal.client_id if principal.method != "anonymous" else f"anonymous@{address}"
        return await self._over(item, role, client, count=True)


class RateLimitMiddleware:
    """429 for a client over its rate on ``paths``; behind authentication (it reads the Principal)."""

    def __init__(self, app: ASGIApp, *, limiter: ClientRateLimiter, paths: tuple[str, ...] = ("/graphql",)) -> None:
        self.app = app
        self._limiter = limiter
        self._paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        address = request.client.host if request.client else "unknown"
        wait = await self._limiter.retry_after(principal_of(request), address)
        if wait is None:
            await self.app(scope, receive, send)
            return
        message = f"rate limit exceeded: retry in {wait} s"
        response = refusal_response(
            429, message, "RATE_LIMITED", {"retryAfterSeconds": wait}, headers={"Retry-After": str(wait)}
        )
        await response(scope, receive, send)
