"""Typed settings of what protects the gateway from what clients send: operation limits, persisted
operations, introspection, rate limits, CORS and response headers.

Each is a section under ``[security]`` (``[security.limits]``, ``[security.persisted]``,
``[security.rate_limit]``, ``[security.cors]``, ``[security.headers]``); per-role figures (cost budget,
requests per minute) live with the roles in ``[security.roles.<role>]``. ``docs/limits.md`` explains
each figure and how the cost of an operation is estimated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = [
    "DEFAULT_LIST_SIZES",
    "DEFAULT_UPSTREAM_WEIGHTS",
    "CorsSettings",
    "HeaderSettings",
    "LimitSettings",
    "PersistedSettings",
    "RateLimitSettings",
]

#: Fields whose resolver asks an authority (directly or through a batched loader), and what one call
#: weighs in the cost estimate, as ``Type.field``. Lists of trips weigh most: each reads pages of
#: both authorities.
DEFAULT_UPSTREAM_WEIGHTS: dict[str, int] = {
    "Query.manifests": 20,
    "Query.inspections": 20,
    "Query.manifest": 10,
    "Query.inspection": 10,
    "Query._entities": 10,
    "Vehicle.manifests": 20,
    "Inspection.manifest": 5,
    "Manifest.timeline": 3,
    "Manifest.inspections": 3,
    "Manifest.china": 2,
    "Manifest.kazakhstan": 2,
    "ChinaManifest.inspections": 3,
    "KazakhstanPreliminaryInformation.inspections": 3,
    "KazakhstanPreliminaryInformation.arrival": 3,
}

#: Estimated items of list fields that take no page size, as ``Type.field`` (others: default_list_size).
DEFAULT_LIST_SIZES: dict[str, int] = {
    "Query.crossingPoints": 5,
    "Manifest.goods": 10,
    "Manifest.timeline": 8,
    "Manifest.inspections": 4,
    "ChinaManifest.goods": 10,
    "ChinaManifest.inspections": 2,
    "ChinaManifest.containers": 2,
    "ChinaManifest.seals": 2,
    "KazakhstanPreliminaryInformation.goods": 10,
    "KazakhstanPreliminaryInformation.inspections": 2,
    "KazakhstanPreliminaryInformation.containers": 2,
    "KazakhstanPreliminaryInformation.seals": 2,
}


class LimitSettings(BaseModel):
    """Operation limits, all checked before the operation runs (so before any upstream call).

    ``max_query_bytes``: the document's UTF-8 size, checked before parsing; ``max_tokens``: the
    parser stops after this many tokens; ``max_depth``: nesting of selections (fragments expanded,
    introspection excluded: graphql-core's own rule bounds that); ``max_aliases``: aliased fields in
    the operation, fragments expanded; ``max_page_size``: the largest ``first``; ``max_batch``: the
    operations one HTTP request may carry in a JSON array (0: batching off, arrays refused);
    ``max_body_bytes``: the HTTP request body. The cost budget is per role (``[security.roles]``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_query_bytes: int = Field(default=16_384, ge=64)
    max_tokens: int = Field(default=2_000, ge=16)
    max_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=0)
    max_page_size: int = Field(default=100, ge=1)
    max_batch: int = Field(default=0, ge=0, le=100)
    max_body_bytes: int = Field(default=262_144, ge=1_024)
    default_list_size: int = Field(default=10, ge=1)
    list_sizes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_LIST_SIZES))
    upstream_weights: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_UPSTREAM_WEIGHTS))

    @field_validator("list_sizes", "upstream_weights", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        """A configured table overrides the defaults field by field (it does not replace them)."""
        defaults = DEFAULT_LIST_SIZES if info.field_name == "list_sizes" else DEFAULT_UPSTREAM_WEIGHTS
        return {**defaults, **value} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _body_holds_a_query(self) -> LimitSettings:
        if self.max_body_bytes < self.max_query_bytes:
            raise ValueError("max_body_bytes must be at least max_query_bytes")
        return self


class PersistedSettings(BaseModel):
    """Persisted operations.

    ``mode``: ``off`` (documents as sent), ``apq`` (Apollo's automatic persisted queries: a client
    may send only the sha256 of a document it sent before; for development), ``allow_list`` (only
    the documents of ``allow_list_file``, a JSON object ``{"<sha256 hex>": "<document>"}``, are
    served, by hash or by text; for production front-ends). ``apq_max_entries`` bounds the APQ store.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["off", "apq", "allow_list"] = "off"
    allow_list_file: Path | None = None
    apq_max_entries: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _file_for_allow_list(self) -> PersistedSettings:
        if self.mode == "allow_list" and self.allow_list_file is None:
            raise ValueError("persisted mode allow_list needs allow_list_file")
        return self


class RateLimitSettings(BaseModel):
    """Per-client rate limits (``requests_per_minute`` of the client's role, ``[security.roles]``).

    ``storage``: a ``limits`` storage URI; ``memory://`` counts in this process, ``redis://host:port/db``
    (or ``rediss://``) shares the counts between replicas. ``strategy``: ``moving-window`` (exact,
    more work per request) or ``fixed-window``. Clients without credentials are counted by address.

    ``failed_auth_per_minute``: credentials refused from one client address within a minute before
    that address is refused outright (429, ``Retry-After``), right credentials included, until the
    window has room again: guessing API keys or forging tokens then costs a minute per few dozen
    guesses. ``0`` turns it off. Clients behind one NAT share the count: size it for that.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    storage: str = "memory://"
    strategy: Literal["moving-window", "fixed-window"] = "moving-window"
    key_prefix: str = "customs-gateway-rl"
    failed_auth_per_minute: int = Field(default=30, ge=0)


class CorsSettings(BaseModel):
    """Cross-origin requests from browser front-ends. No ``allow_origins``: no CORS headers at all
    (browsers then refuse cross-origin calls). Origins are exact (``https://portal.example.kz``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "POST")
    allow_headers: tuple[str, ...] = ("Content-Type", "Authorization", "X-API-Key", "X-Request-Id")
    expose_headers: tuple[str, ...] = ("Retry-After", "X-Request-Id")
    allow_credentials: bool = False
    max_age_s: int = Field(default=600, ge=0)

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> CorsSettings:
        if self.allow_credentials and "*" in self.allow_origins:
            raise ValueError("allow_credentials cannot be combined with the origin *")
        return self


class HeaderSettings(BaseModel):
    """Security headers added to every response. ``hsts``: send Strict-Transport-Security (only
    behind TLS); the Content-Security-Policy is strict for API answers and allows what GraphiQL needs
    on its page when the IDE is on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hsts: bool = False
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)
    hsts_include_subdomains: bool = True
    referrer_policy: str = "no-referrer"
    frame_ancestors: str = "'none'"
