"""The RS256 public keys of a JWKS file, re-read when the file changes.

Identity providers rotate signing keys: a new key is published next to the old one, tokens
signed with it follow, and the old key is withdrawn later. The file is therefore looked at again
(one ``stat``) at most every ``reload_s`` seconds while tokens are being verified, and re-read
when its modification time or size changed. A file that cannot be read or parsed at that point
leaves the keys in use unchanged (and says so in the log): a half-written file during a
deployment must not lock every RS256 client out. At start, a bad file is an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import jwt

__all__ = ["JwksFile"]

logger = logging.getLogger("customs_gateway.security")


class JwksFile:
    def __init__(self, path: Path, *, reload_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._reload_s = reload_s
        self._clock = clock
        self._stamp = self._stat()
        self._keys = self._read()
        self._checked = clock()
        self.generation = 0
        """Bumped whenever the keys change, so that what was verified with the old ones is forgotten."""

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = self._path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read(self) -> jwt.PyJWKSet:
        return jwt.PyJWKSet.from_json(self._path.read_text(encoding="utf-8"))

    def refresh(self) -> int:
        """Re-read the file if it changed (looked at once per interval); the keys' generation."""
        now = self._clock()
        if self._reload_s > 0 and now - self._checked >= self._reload_s:
            self._checked = now
            stamp = self._stat()
            if stamp is not None and stamp != self._stamp:
                self._reload(stamp)
        return self.generation

    def in_force(self) -> list[jwt.PyJWK]:
        """The keys now in force."""
        return list(self._keys.keys)

    def _reload(self, stamp: tuple[int, int]) -> None:
        try:
            keys = self._read()
        except (OSError, ValueError, jwt.PyJWKSetError, jwt.PyJWKError) as exc:
            logger.warning("JWKS file %s not reloaded, the previous keys stay: %s", self._path.name, exc)
            return
        self._stamp, self._keys = stamp, keys
        self.generation += 1
        logger.info("JWKS file %s reloaded: %d keys", self._path.name, len(keys.keys))
