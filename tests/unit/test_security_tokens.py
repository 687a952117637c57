"""The verified-token cache never outlives a token and stays bounded; JWKS key rotation."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from customs_gateway.errors import Unauthenticated
from customs_gateway.security import JwtSettings
from customs_gateway.security import jwks as jwks_module
from customs_gateway.security import tokens as tokens_module
from customs_gateway.security.tokens import TokenVerifier

SECRET = "unit-test-hs256-secret-0123456789abcdef"
SETTINGS = JwtSettings(issuer="i", audience="a", algorithms=("HS256",), hs256_secret=SECRET, leeway_s=0)  # type: ignore[arg-type]


def _token(exp_in_s: float, **extra: object) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "c", "role": "analyst", "iss": "i", "aud": "a", "exp": now + dt.timedelta(seconds=exp_in_s)}
    return jwt.encode({**claims, **extra}, SECRET, algorithm="HS256")


def test_a_cached_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(SETTINGS)
    token = _token(1.0)
    assert verifier.verify(token).role == "analyst"
    assert verifier.verify(token).role == "analyst"  # from the cache
    time.sleep(1.6)  # exp has whole seconds: up to 1 s earlier than asked, never later
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)


def test_the_cache_is_bounded_and_refusals_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
    verifier = TokenVerifier(SETTINGS)
    for i in range(10):
        verifier.verify(_token(60, jti=str(i)))
    assert len(verifier._verified) == 3
    claims = {"sub": "c", "role": "analyst", "iss": "i", "aud": "a", "exp": 2**40}
    forged = jwt.encode(claims, "x" * 40, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    assert len(verifier._verified) == 3


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _rsa_jwk(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, object]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**public, "kid": kid, "use": "sig", "alg": "RS256"}


def _write(path: Path, *jwks: dict[str, object]) -> None:
    path.write_text(json.dumps({"keys": list(jwks)}))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + len(jwks)))  # a new stamp even within one tick


def test_a_rotated_jwks_file_is_picked_up_and_a_withdrawn_key_forgotten(tmp_path: Path) -> None:
    old_key, old_jwk = _rsa_jwk("old")
    new_key, new_jwk = _rsa_jwk("new")
    path = tmp_path / "jwks.json"
    _write(path, old_jwk)
    settings = JwtSettings(issuer="i", audience="a", algorithms=("RS256",), jwks_file=path, jwks_reload_s=10)
    clock = _Clock()
    verifier = TokenVerifier(settings)
    verifier._jwks = jwks_module.JwksFile(path, reload_s=10, clock=clock)
    claims = {"sub": "c", "role": "analyst", "iss": "i", "aud": "a", "exp": 2**40}
    old_token = jwt.encode(claims, old_key, algorithm="RS256", headers={"kid": "old"})
    new_token = jwt.encode(claims, new_key, algorithm="RS256", headers={"kid": "new"})
    assert verifier.verify(old_token).role == "analyst"
    _write(path, old_jwk, new_jwk)  # the provider publishes the new key next to the old one
    with pytest.raises(Unauthenticated):
        verifier.verify(new_token)  # not looked at again before the interval
    clock.now = 10
    assert verifier.verify(new_token).role == "analyst"
    _write(path, new_jwk)  # and withdraws the old one
    clock.now = 20
    with pytest.raises(Unauthenticated):
        verifier.verify(old_token)  # verified before, but no longer served from the cache
    assert verifier.verify(new_token).role == "analyst"


def test_a_broken_jwks_file_keeps_the_keys_in_force(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _, jwk = _rsa_jwk("k1")
    path = tmp_path / "jwks.json"
    _write(path, jwk)
    clock = _Clock()
    jwks = jwks_module.JwksFile(path, reload_s=5, clock=clock)
    path.write_text('{"keys": [')  # half written during a deployment
    clock.now = 5
    with caplog.at_level(logging.WARNING, logger="customs_gateway.security"):
        assert jwks.refresh() == 0
    assert [k.key_id for k in jwks.in_force()] == ["k1"]
    assert "not reloaded" in caplog.text
    with pytest.raises(ValueError):
        jwks_module.JwksFile(path, reload_s=5)  # at start a bad file is an error
