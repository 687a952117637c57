"""Typed security settings: credentials (hashed API keys, JWT), anonymous access and per-role limits.

``[security]`` in the TOML file; secrets (the HS256 JWT secret) only from the environment, e.g.
``CUSTOMS_GATEWAY_SECURITY__JWT__HS256_SECRET``. API keys are stored as their SHA-256 digest
(``customs-gateway hash-key`` makes a key and its digest), so the configuration file holds nothing
a reader could present as a credential.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from .limits_config import CorsSettings, HeaderSettings, LimitSettings, PersistedSettings, RateLimitSettings
from .roles import Role

__all__ = ["ApiKeySettings", "JwtSettings", "RoleSettings", "SecuritySettings", "default_roles"]

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class RoleSettings(BaseModel):
    """What one role may spend. ``cost_budget``: the largest estimated cost of one operation;
    ``requests_per_minute``: per client of this role (operation limits and rate limits read these)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cost_budget: int = Field(default=5_000, ge=1)
    requests_per_minute: int = Field(default=300, ge=1)


_DEFAULT_ROLES: dict[Role, RoleSettings] = {
    Role.CHINA_CUSTOMS: RoleSettings(cost_budget=20_000, requests_per_minute=1_200),
    Role.KAZAKHSTAN_CUSTOMS: RoleSettings(cost_budget=20_000, requests_per_minute=1_200),
    Role.PARTNER_AGENCY: RoleSettings(cost_budget=10_000, requests_per_minute=600),
    Role.ANALYST: RoleSettings(cost_budget=20_000, requests_per_minute=300),
    Role.CARRIER: RoleSettings(cost_budget=2_000, requests_per_minute=120),
    Role.DEMO: RoleSettings(cost_budget=5_000, requests_per_minute=120),
}


def default_roles() -> dict[Role, RoleSettings]:
    return dict(_DEFAULT_ROLES)


class ApiKeySettings(BaseModel):
    """One API key: ``client_id`` names it (rate limits, audit), ``key_hash`` is ``sha256:<hex>`` of
    the key, ``carrier_id`` is required for (and only allowed with) the ``carrier`` role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
    role: Role
    key_hash: str = Field(description="sha256:<64 hex digits> of the key (customs-gateway hash-key)")
    carrier_id: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("key_hash")
    @classmethod
    def _digest(cls, value: str) -> str:
        if not _DIGEST.fullmatch(value):
            raise ValueError("key_hash must be sha256:<64 lowercase hex digits> (customs-gateway hash-key)")
        return value

    @model_validator(mode="after")
    def _carrier(self) -> ApiKeySettings:
        _check_carrier(self.role, self.carrier_id, f"API key {self.client_id!r}")
        return self


class JwtSettings(BaseModel):
    """Bearer tokens from an identity provider. HS256 with ``hs256_secret`` (environment only), RS256
    with the public keys of ``jwks_file``; ``iss``, ``aud``, ``exp`` and ``nbf`` are always checked,
    and ``exp`` is required. ``role_claim`` names the role (one of :class:`Role`),
    ``carrier_claim`` the carrier id of a ``carrier`` token, ``client_claim`` the client id.
    ``jwks_file`` is looked at again every ``jwks_reload_s`` seconds while tokens arrive and re-read
    when it changed (key rotation without a restart; ``0``: never)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    algorithms: tuple[str, ...] = ("RS256",)
    hs256_secret: SecretStr | None = None
    jwks_file: Path | None = None
    jwks_reload_s: float = Field(default=10.0, ge=0)
    role_claim: str = "role"
    carrier_claim: str = "carrier_id"
    client_claim: str = "sub"
    leeway_s: float = Field(default=30.0, ge=0, le=300)

    @field_validator("algorithms")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - {"HS256", "RS256"}
        if unknown or not value:
            raise ValueError(f"algorithms must be HS256 and/or RS256, not {sorted(unknown) or 'empty'}")
        return value

    @model_validator(mode="after")
    def _keys(self) -> JwtSettings:
        if "HS256" in self.algorithms and (self.hs256_secret is None or len(self.hs256_secret) < 32):
            raise ValueError("HS256 needs hs256_secret of at least 32 characters (from the environment)")
        if "RS256" in self.algorithms and self.jwks_file is None:
            raise ValueError("RS256 needs jwks_file")
        return self


class SecuritySettings(BaseModel):
    """``anonymous_role``: the role of a request without credentials; ``None`` (the default) refuses
    such requests with 401. The demo sets it to ``demo``. ``public_paths`` are served to anyone
    (health and metrics carry no trip data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    anonymous_role: Role | None = None
    api_keys: tuple[ApiKeySettings, ...] = ()
    jwt: JwtSettings | None = None
    roles: dict[Role, RoleSettings] = Field(default_factory=default_roles)
    public_paths: tuple[str, ...] = ("/healthz", "/readyz", "/metrics")
    api_key_header: str = "X-API-Key"
    # What protects the gateway from what clients send (docs/limits.md, security/limits_config.py).
    # Introspection is off unless configured: config/gateway.toml (the demo's) turns it on.
    introspection: bool = False
    limits: LimitSettings = LimitSettings()
    persisted: PersistedSettings = PersistedSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    cors: CorsSettings = CorsSettings()
    headers: HeaderSettings = HeaderSettings()

    @field_validator("roles", mode="before")
    @classmethod
    def _fill_roles(cls, value: Any) -> Any:
        """Every role has settings: the configured ones override the defaults one by one."""
        if not isinstance(value, dict):
            return value
        merged: dict[Any, Any] = {role: settings.model_dump() for role, settings in _DEFAULT_ROLES.items()}
        for name, settings in value.items():
            role = Role(name)
            base = merged[role]
            merged[role] = {**base, **(settings.model_dump() if isinstance(settings, BaseModel) else settings)}
        return merged

    @model_validator(mode="after")
    def _unique_clients(self) -> SecuritySettings:
        ids = [key.client_id for key in self.api_keys]
        if len(set(ids)) != len(ids):
            raise ValueError("API key client_id values must be unique")
        digests = [key.key_hash for key in self.api_keys]
        if len(set(digests)) != len(digests):
            raise ValueError("two API keys have the same key_hash")
        return self

    def role(self, role: str) -> RoleSettings:
        """The settings of ``role``; the most restrictive configured ones for an unknown name."""
        try:
            return self.roles[Role(role)]
        except (ValueError, KeyError):
            return min(self.roles.values(), key=lambda r: (r.cost_budget, r.requests_per_minute))


def _check_carrier(role: Role, carrier_id: str | None, what: str) -> None:
    if role is Role.CARRIER and carrier_id is None:
        raise ValueError(f"{what}: the carrier role needs carrier_id")
    if role is not Role.CARRIER and carrier_id is not None:
        raise ValueError(f"{what}: carrier_id is only for the carrier role")
