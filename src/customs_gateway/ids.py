"""The gateway's own identifiers and cursors, and recognising the authorities' ids by format.

Stable ids are opaque to clients (base64url text, no padding) but decode to the record they are
anchored on: a manifest id names the exporting side's record of the trip (or the only record a
one-sided trip has), an inspection id names the inspection and the record it belongs to. Cursors
name a position in a time-ordered list: (instant, authority, key).

A manifest id (``m2``) carries only *immutable* facts of its anchor record — crossing, direction,
the anchor's authority and key, its common manifest id, canonical plate and declaration instant —
so it stays the same when the other side's record appears later, and it holds everything needed
to ask both authorities for the whole trip in one concurrent round (by common id at phase ≥ 1, by
plate and time window at phase 0) instead of first fetching the anchor. ``m1`` ids (anchor only)
handed out earlier still resolve.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from .domain import Authority, Direction
from .errors import InvalidInput

__all__ = [
    "Cursor",
    "IdKind",
    "InspectionKey",
    "ManifestKey",
    "RecordKey",
    "classify_manifest_id",
    "decode_cursor",
    "decode_inspection_id",
    "decode_manifest_id",
    "decode_manifest_key",
    "encode_cursor",
    "encode_inspection_id",
    "encode_manifest_id",
]

_MAX_ID_LENGTH = 300
_BATCH_NO = re.compile(r"[0-9]{4}[IE][0-9]{13}")  # port + ieFlag + yyyyMMdd + 5-digit sequence
_PI_NUMBER = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9]{7}")  # office - ddmmyy - 7-digit sequence
_COMMON_ID = re.compile(r"CKM-[A-Z]+-[0-9]{8}-[0-9]{3,7}")
# An authority's own inspection / control number inside an inspection id: its systems' formats
# (CI9403202503010000001, 55201011-010325-K000123-1) fit this; anything else never goes on the wire.
_INSPECTION_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _record_key_valid(authority: Authority, key: str) -> bool:
    """Whether ``key`` has the format of ``authority``'s record ids. A stable id is only base64, so
    a client can forge one around any text: what it names must look like a record id before the
    gateway puts it in an upstream URL (the wire clients percent-encode it as well)."""
    return bool((_BATCH_NO if authority is Authority.GACC else _PI_NUMBER).fullmatch(key))


class IdKind(StrEnum):
    STABLE = "STABLE"
    CHINA_BATCH_NO = "CHINA_BATCH_NO"
    KAZAKHSTAN_PI_NUMBER = "KAZAKHSTAN_PI_NUMBER"
    COMMON_MANIFEST_ID = "COMMON_MANIFEST_ID"


@dataclass(frozen=True, slots=True)
class RecordKey:
    """One authority's manifest-like record: a Chinese batch number or a Kazakh PI number."""

    authority: Authority
    key: str


@dataclass(frozen=True, slots=True)
class ManifestKey:
    """What a manifest id says about its trip: the anchor record and its immutable facts."""

    anchor: RecordKey
    crossing_id: str | None
    direction: Direction
    common_manifest_id: str | None
    plate: str  # the anchor's canonical plate
    declared_at: dt.datetime  # the anchor's declaration / registration instant, UTC


@dataclass(frozen=True, slots=True)
class InspectionKey:
    authority: Authority
    record_id: str
    inspection_id: str


@dataclass(frozen=True, slots=True)
class Cursor:
    at: dt.datetime  # UTC
    authority: Authority
    key: str

    def sort_key(self) -> tuple[dt.datetime, str, str]:
        return (self.at, self.authority.value, self.key)


def _pack(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _unpack(text: str, tag: str, count: int) -> list[str] | None:
    if not text or len(text) > _MAX_ID_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split("|")
    if len(parts) != count + 1 or parts[0] != tag or not all(parts):
        return None
    return parts[1:]


def _authority(text: str) -> Authority | None:
    try:
        return Authority(text)
    except ValueError:
        return None


_NONE = "-"  # an absent optional part (every packed part must be non-empty)


def encode_manifest_id(key: ManifestKey) -> str:
    return _pack(
        "m2",
        key.anchor.authority.value,
        key.anchor.key,
        key.crossing_id or _NONE,
        key.direction.value,
        key.common_manifest_id or _NONE,
        key.plate or _NONE,
        key.declared_at.astimezone(dt.UTC).isoformat(),
    )


def decode_manifest_key(text: str) -> ManifestKey | None:
    """The full key of an ``m2`` id; None for anything else (including ``m1`` ids)."""
    parts = _unpack(text, "m2", 7)
    if parts is None or (authority := _authority(parts[0])) is None or not _record_key_valid(authority, parts[1]):
        return None
    try:
        direction = Direction(parts[3])
        at = dt.datetime.fromisoformat(parts[6])
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return ManifestKey(
        anchor=RecordKey(authority, parts[1]),
        crossing_id=None if parts[2] == _NONE else parts[2],
        direction=direction,
        common_manifest_id=None if parts[4] == _NONE else parts[4],
        plate="" if parts[5] == _NONE else parts[5],
        declared_at=at.astimezone(dt.UTC),
    )


def decode_manifest_id(text: str) -> RecordKey | None:
    """The anchor record of a manifest id (``m2``, or the older anchor-only ``m1``)."""
    if (key := decode_manifest_key(text)) is not None:
        return key.anchor
    parts = _unpack(text, "m1", 2)
    if parts is None or (authority := _authority(parts[0])) is None or not _record_key_valid(authority, parts[1]):
        return None
    return RecordKey(authority, parts[1])


def encode_inspection_id(key: InspectionKey) -> str:
    return _pack("i1", key.authority.value, key.record_id, key.inspection_id)


def decode_inspection_id(text: str) -> InspectionKey | None:
    parts = _unpack(text, "i1", 3)
    if parts is None or (authority := _authority(parts[0])) is None:
        return None
    if not _record_key_valid(authority, parts[1]) or not _INSPECTION_NO.fullmatch(parts[2]):
        return None
    return InspectionKey(authority, parts[1], parts[2])


def classify_manifest_id(text: str) -> tuple[IdKind, str]:
    """Which kind of id a client gave us, by its format, and the id cleaned of spaces.

    Raises:
        InvalidInput: none of the four formats.
    """
    value = text.strip()
    if len(value) > _MAX_ID_LENGTH:
        raise InvalidInput(f"id is too long (at most {_MAX_ID_LENGTH} characters)")
    if _BATCH_NO.fullmatch(value):
        return IdKind.CHINA_BATCH_NO, value
    if _PI_NUMBER.fullmatch(value):
        return IdKind.KAZAKHSTAN_PI_NUMBER, value
    if _COMMON_ID.fullmatch(value.upper()):
        return IdKind.COMMON_MANIFEST_ID, value.upper()
    if decode_manifest_id(value) is not None:
        return IdKind.STABLE, value
    raise InvalidInput(
        "not a manifest id: expected the gateway's id, a Chinese batch number (9403E2025112800123), "
        "a Kazakh preliminary-information number (55201011-281125-0001234) or a common manifest id "
        "(CKM-KHORGOS-20251128-00123)"
    )


def encode_cursor(cursor: Cursor) -> str:
    return _pack("c1", cursor.at.astimezone(dt.UTC).isoformat(), cursor.authority.value, cursor.key)


def decode_cursor(text: str) -> Cursor:
    """Raises InvalidInput for anything that is not a cursor this gateway handed out."""
    parts = _unpack(text, "c1", 3)
    authority = _authority(parts[1]) if parts else None
    if parts is None or authority is None:
        raise InvalidInput("invalid cursor")
    try:
        at = dt.datetime.fromisoformat(parts[0])
    except ValueError as exc:
        raise InvalidInput("invalid cursor") from exc
    if at.tzinfo is None:
        raise InvalidInput("invalid cursor")
    return Cursor(at.astimezone(dt.UTC), authority, parts[2])
