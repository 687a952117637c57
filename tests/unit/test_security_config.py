"""Security settings: every role has limits, credentials are validated where they are configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from customs_gateway.config import load_settings
from customs_gateway.security import ApiKeySettings, JwtSettings, Role, SecuritySettings

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gateway.toml"
SECRETS = {"china": {"app_secret": "x"}, "kazakhstan": {"client_secret": "y"}}
DIGEST = "sha256:" + "ab" * 32


def test_the_documented_config_gives_every_role_limits_and_no_anonymous_access() -> None:
    security = load_settings(CONFIG, **SECRETS).security
    assert security.anonymous_role is None
    assert set(security.roles) == set(Role)
    assert security.roles[Role.CARRIER].cost_budget == 2000
    assert security.roles[Role("china_customs")].requests_per_minute == 1200


def test_configured_roles_override_the_defaults_field_by_field() -> None:
    security = SecuritySettings(roles={"carrier": {"cost_budget": 7}})  # type: ignore[dict-item]
    assert security.roles[Role.CARRIER].cost_budget == 7
    default = SecuritySettings().roles[Role.CARRIER]
    assert security.roles[Role.CARRIER].requests_per_minute == default.requests_per_minute
    assert security.roles[Role.ANALYST] == SecuritySettings().roles[Role.ANALYST]


def test_unknown_role_names_get_the_most_restrictive_limits() -> None:
    security = SecuritySettings()
    assert security.role("anonymous").cost_budget == min(r.cost_budget for r in security.roles.values())
    with pytest.raises(ValidationError):
        SecuritySettings(roles={"root": {"cost_budget": 1}})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "carrier"}, "needs carrier_id"),
        ({"role": "analyst", "carrier_id": "X"}, "only for the carrier role"),
        ({"role": "analyst", "key_hash": "plain-text-key"}, "sha256"),
        ({"role": "superuser"}, "role"),
    ],
)
def test_an_api_key_entry_is_checked(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ApiKeySettings(**{"client_id": "c", "key_hash": DIGEST, **fields})  # type: ignore[arg-type]


def test_two_keys_cannot_share_a_name_or_a_digest() -> None:
    key = ApiKeySettings(client_id="a", role=Role.ANALYST, key_hash=DIGEST)
    with pytest.raises(ValidationError, match="unique"):
        SecuritySettings(api_keys=(key, key.model_copy(update={"key_hash": "sha256:" + "cd" * 32})))
    with pytest.raises(ValidationError, match="same key_hash"):
        SecuritySettings(api_keys=(key, key.model_copy(update={"client_id": "b"})))


def test_jwt_settings_need_the_keys_of_their_algorithms() -> None:
    with pytest.raises(ValidationError, match="HS256 needs"):
        JwtSettings(issuer="i", audience="a", algorithms=("HS256",), hs256_secret="short")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="RS256 needs jwks_file"):
        JwtSettings(issuer="i", audience="a")
    with pytest.raises(ValidationError, match="HS256 and/or RS256"):
        JwtSettings(issuer="i", audience="a", algorithms=("none",), jwks_file=Path("x"))
    secret = JwtSettings(issuer="i", audience="a", algorithms=("HS256",), hs256_secret="s" * 32)  # type: ignore[arg-type]
    assert "s" * 32 not in repr(secret)
