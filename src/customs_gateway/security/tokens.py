"""JWT bearer tokens: HS256 with a shared secret, RS256 with the public keys of a JWKS file.

The algorithm a token names in its header picks the key *type* we verify it with, and only the
algorithms configured are accepted, so:

- ``alg: none`` (and any other algorithm) is refused before any verification;
- key confusion (an HS256 token "signed" with the RSA public key as HMAC secret) fails: an
  HS256 token is only ever checked against the configured HMAC secret, never an RSA key;
- ``exp``, ``iss`` and ``aud`` are required and, with ``nbf``, checked with a small leeway.

Messages say whether a token expired or is otherwise invalid, never which check or key failed.

RS256 keys come from a JWKS file that is re-read when it changes (``jwks_reload_s``, see
:mod:`.jwks`); when the keys change, the verified tokens kept below are forgotten.

A client sends the same token for its whole lifetime, so a verified token's Principal is kept
(bounded LRU, keyed by the token's SHA-256) until the token's ``exp``: a repeat costs a hash
instead of a signature check (RS256: ~200 µs of CPU → ~2 µs, ``benchmarks/auth.py``). Only
tokens that passed every check are kept, and never past their expiry (with the leeway).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jwt

from ..errors import Unauthenticated
from .config import JwtSettings
from .jwks import JwksFile
from .principal import Principal
from .roles import Role

__all__ = ["MAX_TOKEN_LENGTH", "VERIFIED_CACHE_SIZE", "TokenVerifier"]

MAX_TOKEN_LENGTH = 8192
VERIFIED_CACHE_SIZE = 4096
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:@|-]{1,128}")
_CARRIER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_INVALID = "Invalid bearer token."


class TokenVerifier:
    def __init__(self, settings: JwtSettings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._verified: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._hmac_key = settings.hs256_secret.get_secret_value() if settings.hs256_secret else None
        self._jwks: JwksFile | None = None
        if settings.jwks_file is not None:
            self._jwks = JwksFile(settings.jwks_file, reload_s=settings.jwks_reload_s)
        self._generation = 0

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise Unauthenticated(_INVALID)
        digest = hashlib.sha256(token.encode("ascii")).digest()
        if self._jwks is not None and self._jwks.refresh() != self._generation:
            # the keys changed: a token verified with a withdrawn key must not live on in the cache
            self._verified.clear()
            self._generation = self._jwks.generation
        hit = self._verified.get(digest)
        if hit is not None:
            principal, expires = hit
            if self._clock() < expires:
                self._verified.move_to_end(digest)
                return principal
            del self._verified[digest]
        claims = self._decode(token)
        principal = self._principal(claims)
        self._verified[digest] = (principal, float(claims["exp"]) + self._settings.leeway_s)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _key(self, header: dict[str, Any]) -> Any:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._settings.algorithms:
            raise Unauthenticated(_INVALID)
        if alg == "HS256":
            return self._hmac_key
        assert self._jwks is not None  # RS256 configured implies a JWKS (settings check it)
        kid = header.get("kid")
        candidates = [k for k in self._jwks.in_force() if k.key_type == "RSA" and (kid is None or k.key_id == kid)]
        if len(candidates) != 1:  # no kid with several keys is ambiguous: refuse rather than guess
            raise Unauthenticated(_INVALID)
        return candidates[0].key

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            key = self._key(header)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_s,
                options={"require": ["exp", "iss", "aud"], "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The bearer token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(_INVALID) from exc
        return claims

    def _principal(self, claims: dict[str, Any]) -> Principal:
        s = self._settings
        client, role_name, carrier = claims.get(s.client_claim), claims.get(s.role_claim), claims.get(s.carrier_claim)
        if not isinstance(client, str) or not _CLIENT_ID.fullmatch(client):
            raise Unauthenticated(_INVALID)
        try:
            role = Role(role_name) if isinstance(role_name, str) else None
        except ValueError:
            role = None
        if role is None:
            raise Unauthenticated(_INVALID)
        if role is Role.CARRIER:
            if not isinstance(carrier, str) or not _CARRIER_ID.fullmatch(carrier):
                raise Unauthenticated(_INVALID)
        else:
            carrier = None
        return Principal(client_id=client, role=role.value, carrier_id=carrier, method="jwt")
