"""Credentials for tests: one API key per role, JWT secrets and an RSA key pair with its JWKS.

The gateways the e2e fixtures start accept these keys; the default test clients send
``CUSTOMS_KEY`` (china_customs). Carrier clients are JWTs minted per test (any carrier id).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from customs_gateway.security import Role
from customs_gateway.security.apikeys import hash_key

ISSUER = "https://idp.test.customs"
AUDIENCE = "customs-gateway"
HS256_SECRET = "e2e-jwt-secret-that-is-long-enough-0123456789"
RSA_KID = "test-rsa-1"

#: One API key per role but carrier (carriers authenticate with JWTs in these tests).
KEYS: dict[Role, str] = {
    role: f"cgw_test_{role.value}_" + "k" * 32 for role in Role if role not in (Role.CARRIER, Role.DEMO)
}
CUSTOMS_KEY = KEYS[Role.CHINA_CUSTOMS]
CUSTOMS_HEADERS = {"X-API-Key": CUSTOMS_KEY}


def api_key_entries() -> list[dict[str, Any]]:
    return [
        {"client_id": f"test-{role.value}", "role": role.value, "key_hash": hash_key(key)} for role, key in KEYS.items()
    ]


def security_settings(jwks_file: Path | None = None, **overrides: Any) -> dict[str, Any]:
    """The ``security`` section of a test gateway: the keys above, HS256 tokens, and RS256 tokens
    too when ``jwks_file`` is given (see :func:`write_jwks`)."""
    jwt_settings: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "hs256_secret": HS256_SECRET}
    if jwks_file is None:
        jwt_settings["algorithms"] = ["HS256"]
    else:
        jwt_settings |= {"algorithms": ["HS256", "RS256"], "jwks_file": str(jwks_file)}
    return {"api_keys": api_key_entries(), "jwt": jwt_settings, **overrides}


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_jwks(directory: Path) -> Path:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key().public_key()))
    path = directory / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": RSA_KID, "use": "sig", "alg": "RS256"}]}))
    return path


def claims(
    role: Role | str, *, carrier_id: str | None = None, sub: str = "test-client", **extra: Any
) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    out: dict[str, Any] = {
        "sub": sub,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now - dt.timedelta(seconds=5),
        "exp": now + dt.timedelta(minutes=5),
        "role": str(role),
    }
    if carrier_id is not None:
        out["carrier_id"] = carrier_id
    return {**out, **extra}


def hs256(payload: dict[str, Any], secret: str = HS256_SECRET, **headers: Any) -> str:
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def rs256(payload: dict[str, Any], kid: str | None = RSA_KID) -> str:
    return jwt.encode(payload, rsa_key(), algorithm="RS256", headers={"kid": kid} if kid else None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def carrier_headers(carrier_id: str) -> dict[str, str]:
    return bearer(hs256(claims(Role.CARRIER, carrier_id=carrier_id, sub=f"carrier-{carrier_id}")))


def role_headers(role: Role) -> dict[str, str]:
    return {"X-API-Key": KEYS[role]}
