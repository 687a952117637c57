"""Typed settings of the China (GACC) source, read once and injected.

Frozen so a running source cannot be reconfigured behind its back; the app secret is a
``SecretStr`` so it never shows in a repr, a log line or an error message.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ...resilience.config import BreakerConfig, LimiterConfig, RetryConfig, UpstreamPolicy
from ..base import BATCH_LIMIT
from ..net import CookielessClient

__all__ = ["ChinaSourceSettings", "build_http_client"]

_MAX_PAGE_SIZE = 100  # the wire contract caps pageSize at 100


class ChinaSourceSettings(BaseModel):
    """How to reach and authenticate against the GACC road-manifest API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="scheme://host[:port][/prefix]; the API lives under /gacc/api/v1/")
    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    connect_timeout_s: float = Field(default=3.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    # httpx has no whole-request deadline; the client enforces this one around send + body read.
    total_timeout_s: float = Field(default=20.0, gt=0)
    max_connections: int = Field(default=20, ge=1)
    batch_limit: int = Field(default=BATCH_LIMIT, ge=1, le=BATCH_LIMIT)
    page_size: int = Field(default=_MAX_PAGE_SIZE, ge=1, le=_MAX_PAGE_SIZE)
    # An answer larger than this is hostile or broken: stop reading instead of filling memory.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # How the gateway protects itself from this authority (the guard: resilience/guard.py).
    retry: RetryConfig = RetryConfig()
    breaker: BreakerConfig = BreakerConfig()
    limiter: LimiterConfig = LimiterConfig()

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = httpx.URL(value)
        if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
            raise ValueError("base_url must be an http(s) URL without query or fragment")
        return value.rstrip("/")

    def policy(self) -> UpstreamPolicy:
        """Retries, breaker and concurrency limit of this authority's guard."""
        return UpstreamPolicy(retry=self.retry, breaker=self.breaker, limiter=self.limiter)

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout_s,
            read=self.read_timeout_s,
            write=self.read_timeout_s,
            pool=self.connect_timeout_s,
        )

    def httpx_limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_connections
        )


def build_http_client(
    settings: ChinaSourceSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one long-lived client for this upstream: explicit timeouts and pool limits.

    The caller owns it (open it in the app's lifespan, close it there). ``transport`` lets tests
    swap the network (``httpx.MockTransport``) and the app pick e.g. an aiohttp transport.
    Redirects are not followed: the wire contract has none, and a redirect would re-send a
    signature computed for another path.
    """
    return CookielessClient(
        timeout=settings.httpx_timeout(),
        limits=settings.httpx_limits(),
        transport=transport,
        follow_redirects=False,
        trust_env=False,
    )
