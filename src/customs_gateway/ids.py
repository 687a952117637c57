"""The gateway's own identifiers and cursors, and recognising the authorities' ids by format.

Stable ids are opaque to clients (base64url text, no padding) but decode to the record they are
anchored on: a manifest id names the exporting side's record of the trip (or the only record a
one-sided trip has), an inspection id names the inspection and the record it belongs to. Cursors
name a position in a time-ordered list: (instant, authority, key).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from .domain import Authority
from .errors import InvalidInput

__all__ = [
    "Cursor",
    "IdKind",
    "InspectionKey",
    "RecordKey",
    "classify_manifest_id",
    "decode_cursor",
    "decode_inspection_id",
    "decode_manifest_id",
    "encode_cursor",
    "encode_inspection_id",
    "encode_manifest_id",
]

_MAX_ID_LENGTH = 200
_BATCH_NO = re.compile(r"[0-9]{4}[IE][0-9]{13}")  # port + ieFlag + yyyyMMdd + 5-digit sequence
_PI_NUMBER = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9]{7}")  # office - ddmmyy - 7-digit sequence
_COMMON_ID = re.compile(r"CKM-[A-Z]+-[0-9]{8}-[0-9]{3,7}")


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


def encode_manifest_id(anchor: RecordKey) -> str:
    return _pack("m1", anchor.authority.value, anchor.key)


def decode_manifest_id(text: str) -> RecordKey | None:
    parts = _unpack(text, "m1", 2)
    if parts is None or (authority := _authority(parts[0])) is None:
        return None
    return RecordKey(authority, parts[1])


def encode_inspection_id(key: InspectionKey) -> str:
    return _pack("i1", key.authority.value, key.record_id, key.inspection_id)


def decode_inspection_id(text: str) -> InspectionKey | None:
    parts = _unpack(text, "i1", 3)
    if parts is None or (authority := _authority(parts[0])) is None:
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
