"""API keys: made with 256 bits of randomness, stored only as a SHA-256 digest, compared in constant time.

Why SHA-256 and not scrypt/argon2: those slow hashes protect *low-entropy* secrets (passwords)
against offline guessing. An API key here is 32 random bytes: nobody can guess it from its
digest, whatever the hash, and a fast hash keeps every request's check in microseconds (a slow
hash per request would also hand anyone sending bogus keys an easy way to burn CPU). Keys shorter
than :data:`MIN_KEY_LENGTH` are refused before any hashing, so a configured digest of a short,
guessable key can never be matched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..errors import Unauthenticated
from .config import ApiKeySettings
from .principal import Principal

__all__ = ["KEY_PREFIX", "MAX_KEY_LENGTH", "MIN_KEY_LENGTH", "ApiKeyVerifier", "hash_key", "new_key"]

KEY_PREFIX = "cgw_"
MIN_KEY_LENGTH = 32
MAX_KEY_LENGTH = 256


def new_key() -> str:
    """A fresh API key: a recognisable prefix (secret scanners) and 32 random bytes, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The digest to put in the configuration (``key_hash``)."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyVerifier:
    """Finds the configured key a presented key is, comparing every digest in constant time."""

    def __init__(self, keys: tuple[ApiKeySettings, ...]) -> None:
        self._keys = [(bytes.fromhex(k.key_hash.removeprefix("sha256:")), k) for k in keys]

    def verify(self, presented: str) -> Principal:
        if not MIN_KEY_LENGTH <= len(presented) <= MAX_KEY_LENGTH or not presented.isascii():
            raise Unauthenticated("Invalid API key.")
        digest = hashlib.sha256(presented.encode("ascii")).digest()
        found: ApiKeySettings | None = None
        for expected, entry in self._keys:
            # No early exit: the time taken does not depend on which key (if any) matched.
            if hmac.compare_digest(digest, expected):
                found = entry
        if found is None:
            raise Unauthenticated("Invalid API key.")
        return Principal(
            client_id=found.client_id, role=found.role.value, carrier_id=found.carrier_id, method="api_key"
        )
