"""The bytes the cache stores: a fixed 24-byte binary header, then the caller's bytes verbatim.

Why not pickle: a cache shared by replicas (Redis) is a place anyone with network access to it
can write to, and unpickling is code execution. Why not a JSON envelope: the payload already *is*
bytes (validated wire records or domain JSON); JSON would force base64 and a second parse. A
fixed header is one ``struct.unpack`` and a slice.

Layout (big endian)::

    offset  size  field
    0       2     magic  b"CG"
    2       1     format version (1)
    3       1     kind: 0 value, 1 not-found (the payload is then empty)
    4       8     fresh_until, int64 milliseconds since the Unix epoch
    12      8     stale_until, int64 milliseconds since the Unix epoch
    20      4     payload length, uint32 (a truncated entry is detected, not served)
    24      n     payload

The instants are wall-clock time because replicas sharing a Redis compare them with their own
clocks; milliseconds because that is the backend's TTL resolution anyway. Anything that does not
decode exactly (wrong magic, unknown version or kind, length mismatch) is :class:`CorruptEntry`
and the cache treats it as a miss: a garbled value is never served.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal, TypeAlias

__all__ = [
    "HEADER",
    "MAGIC",
    "NOT_FOUND",
    "CorruptEntry",
    "Entry",
    "Freshness",
    "NotFound",
    "Value",
    "decode",
    "encode",
]

MAGIC: Final = b"CG"
_VERSION: Final = 1
HEADER: Final = struct.Struct(">2sBBqqI")
_KIND_VALUE: Final = 0
_KIND_NOT_FOUND: Final = 1
_MAX_PAYLOAD: Final = 2**32 - 1


class NotFound(Enum):
    """The authority answered "no such entity". A value of its own because aiocache (and Redis)
    cannot tell a cached ``None`` from a miss, and because ``None`` invites ``if not value``."""

    NOT_FOUND = "not-found"

    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND: Final = NotFound.NOT_FOUND

Value: TypeAlias = bytes | Literal[NotFound.NOT_FOUND]
"""What a cache entry holds: the caller's bytes, or :data:`NOT_FOUND`."""


class Freshness(Enum):
    FRESH = "fresh"
    STALE = "stale"


class CorruptEntry(ValueError):
    """Stored bytes that are not an entry this code wrote: treated as a miss, never served."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached value with the instants (epoch seconds) until which it is fresh, then stale."""

    value: Value
    fresh_until: float
    stale_until: float

    def freshness(self, now: float) -> Freshness | None:
        """``None`` once past ``stale_until``: the entry must not be served at all any more."""
        if now < self.fresh_until:
            return Freshness.FRESH
        if now < self.stale_until:
            return Freshness.STALE
        return None


def encode(entry: Entry) -> bytes:
    if entry.value is NOT_FOUND:
        kind, payload = _KIND_NOT_FOUND, b""
    elif isinstance(entry.value, bytes):
        kind, payload = _KIND_VALUE, entry.value
    else:  # a str or a dict here is a bug in the caller, not something to stringify
        raise TypeError(f"cache values are bytes or NOT_FOUND, not {type(entry.value).__name__}")
    if len(payload) > _MAX_PAYLOAD:
        raise ValueError("cache value over 4 GiB")
    header = HEADER.pack(
        MAGIC, _VERSION, kind, round(entry.fresh_until * 1000), round(entry.stale_until * 1000), len(payload)
    )
    return header + payload


def decode(raw: bytes) -> Entry:
    if len(raw) < HEADER.size:
        raise CorruptEntry(f"{len(raw)} bytes: shorter than the header")
    magic, version, kind, fresh_ms, stale_ms, length = HEADER.unpack_from(raw)
    if magic != MAGIC or version != _VERSION:
        raise CorruptEntry(f"not a cache entry of format {_VERSION} (magic {magic!r}, version {version})")
    if length != len(raw) - HEADER.size:
        raise CorruptEntry(f"payload is {len(raw) - HEADER.size} bytes, header says {length}")
    if kind == _KIND_VALUE:
        value: Value = raw[HEADER.size :]
    elif kind == _KIND_NOT_FOUND and length == 0:
        value = NOT_FOUND
    else:
        raise CorruptEntry(f"unknown kind {kind} (or a not-found with a payload)")
    return Entry(value, fresh_ms / 1000, stale_ms / 1000)
