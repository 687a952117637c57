"""The verified-token cache never outlives a token and stays bounded."""

from __future__ import annotations

import datetime as dt
import time

import jwt
import pytest

from customs_gateway.errors import Unauthenticated
from customs_gateway.security import JwtSettings
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
