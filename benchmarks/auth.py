"""Authentication cost per request: CPU time of one credential check, by kind.

Measures in-process (no network): an API key among 100 configured keys (constant-time compare
against every digest), an HS256 token and an RS256 token (2048-bit key from a JWKS file), each
through :class:`customs_gateway.security.authn.Authenticator` as the middleware calls it, plus a
refused guess. CPU time (``time.process_time``), so the figures hold on a loaded machine.

Targets: a first-sight token under 400 µs of CPU, everything else (API keys, a token seen before:
clients reuse theirs until it expires) under 50 µs. A cold gateway request costs milliseconds.

Usage: ``python benchmarks/auth.py [--n 2000]``. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from customs_gateway.errors import Unauthenticated
from customs_gateway.security import SecuritySettings
from customs_gateway.security.apikeys import hash_key, new_key
from customs_gateway.security.authn import Authenticator

FIRST_SIGHT_TARGET_US, TARGET_US = 400.0, 50.0
SECRET = "benchmark-hs256-secret-0123456789abcdef"  # noqa: S105 - a benchmark's own, not a secret


def _settings(directory: Path, keys: list[str], private: rsa.RSAPrivateKey) -> SecuritySettings:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    return SecuritySettings.model_validate(
        {
            "api_keys": [
                {"client_id": f"client-{i}", "role": "analyst", "key_hash": hash_key(key)}
                for i, key in enumerate(keys)
            ],
            "jwt": {
                "issuer": "https://idp",
                "audience": "customs-gateway",
                "algorithms": ["HS256", "RS256"],
                "hs256_secret": SECRET,
                "jwks_file": str(jwks),
            },
        }
    )


def _cpu_us(check: Callable[[int], object], n: int) -> float:
    check(n)  # warm (index n: the fresh-token cases keep one spare token for it)
    began = time.process_time()
    for i in range(n):
        check(i)
    return (time.process_time() - began) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    keys = [new_key() for _ in range(100)]
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "c", "role": "analyst", "iss": "https://idp", "aud": "customs-gateway",
              "exp": now + dt.timedelta(hours=1), "nbf": now}  # fmt: skip
    # Distinct tokens (a new client each time) for the first-sight figures: nothing cached.
    fresh_hs = [jwt.encode({**claims, "jti": str(i)}, SECRET, algorithm="HS256") for i in range(args.n + 1)]
    header = {"kid": "k1"}
    fresh_rs = [
        jwt.encode({**claims, "jti": str(i)}, private, algorithm="RS256", headers=header) for i in range(args.n + 1)
    ]
    hs, rs = fresh_hs[0], fresh_rs[0]
    with tempfile.TemporaryDirectory() as tmp:
        auth = Authenticator(_settings(Path(tmp), keys, private))

    def refused(_: int) -> None:
        try:
            auth.authenticate({"x-api-key": "cgw_" + "x" * 43})
        except Unauthenticated:
            return
        raise AssertionError("a guessed key was accepted")

    cases: dict[str, Callable[[int], object]] = {
        "API key (last of 100 configured)": lambda _: auth.authenticate({"x-api-key": keys[-1]}),
        "API key guessed (refused)": refused,
        "JWT HS256, first sight": lambda i: auth.authenticate({"authorization": f"Bearer {fresh_hs[i]}"}),
        "JWT RS256 (2048-bit), first sight": lambda i: auth.authenticate({"authorization": f"Bearer {fresh_rs[i]}"}),
        "JWT HS256, repeated (verified cache)": lambda _: auth.authenticate({"authorization": f"Bearer {hs}"}),
        "JWT RS256, repeated (verified cache)": lambda _: auth.authenticate({"authorization": f"Bearer {rs}"}),
    }
    ok = True
    print(f"CPU time per authentication, mean of {args.n}:")
    for name, check in cases.items():
        us = _cpu_us(check, args.n)
        target = FIRST_SIGHT_TARGET_US if "first sight" in name else TARGET_US
        ok &= us < target
        print(f"  {name:<40} {us:8.1f} µs  (target < {target:.0f}) {'ok' if us < target else 'MISSED'}")
    print("all targets met" if ok else "some target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
