"""Typed, frozen settings of the Kazakhstan (KGD) source.

Read once (by ``config.py`` / the app factory) and injected; the client secret is a
:class:`pydantic.SecretStr` so it never shows in a repr, a log line or a traceback.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ...resilience.config import BreakerConfig, LimiterConfig, RetryConfig, UpstreamPolicy

__all__ = ["KazakhstanSourceSettings"]

# A token shorter-lived than the configured margin would be refreshed on every call; for such
# lifetimes (seconds, in tests) refresh this fraction of the lifetime early instead.
_MAX_MARGIN_FRACTION = 0.2


class KazakhstanSourceSettings(BaseModel):
    """How to reach and talk to the KGD API (see ``docs/wire-kazakhstan.md``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="scheme://host[:port], without /api/v1")
    client_id: str
    client_secret: SecretStr
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=15.0, gt=0)
    write_timeout_s: float = Field(default=5.0, gt=0)
    pool_timeout_s: float = Field(default=5.0, gt=0)
    # httpx has no whole-request deadline; the guard enforces this one around send + body read.
    total_timeout_s: float = Field(default=20.0, gt=0)
    max_connections: int = Field(default=20, ge=1)
    max_keepalive_connections: int = Field(default=10, ge=0)
    # The authority's own caps: 1–50 keys per batch call, limit 1–500 per page.
    batch_limit: int = Field(default=50, ge=1, le=50)
    page_size: int = Field(default=500, ge=1, le=500)
    token_refresh_margin_s: float = Field(default=60.0, ge=0)
    # A body larger than this is hostile or broken: stop reading it (protects memory).
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # How the gateway protects itself from this authority (the guard: resilience/guard.py).
    retry: RetryConfig = RetryConfig()
    breaker: BreakerConfig = BreakerConfig()
    limiter: LimiterConfig = LimiterConfig()

    @property
    def api_url(self) -> str:
        return self.base_url.rstrip("/") + "/api/v1"

    @property
    def token_url(self) -> str:
        return self.base_url.rstrip("/") + "/auth/token"

    def policy(self) -> UpstreamPolicy:
        """Retries, breaker and concurrency limit of this authority's guard."""
        return UpstreamPolicy(retry=self.retry, breaker=self.breaker, limiter=self.limiter)

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout_s,
            read=self.read_timeout_s,
            write=self.write_timeout_s,
            pool=self.pool_timeout_s,
        )

    def httpx_limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_keepalive_connections
        )

    def refresh_margin_s(self, lifetime_s: float) -> float:
        """Seconds before expiry to refresh a token that lives ``lifetime_s`` seconds."""
        return min(self.token_refresh_margin_s, lifetime_s * _MAX_MARGIN_FRACTION)
