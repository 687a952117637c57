"""Instants on the wire: Beijing wall time for GACC, ISO-8601 with the border posts' offset for KGD.

GACC writes ``yyyyMMddHHmmss`` in Beijing time with no offset; China has one zone and no summer
time since 1991, so a fixed ``+08:00`` is exact. KGD writes ISO-8601 with an offset, which we keep
(the domain keeps each authority's offset; compare as instants). The Kazakh border posts (Nur
Zholy, Dostyk, Bakhty, Kalzhat, Maykapchagay) were on UTC+6 until Kazakhstan moved to one zone,
UTC+5, at 2024-03-01 00:00 local (2024-02-29T18:00Z). Kazakhstan's summer time, abolished in
2004, is ignored: no record predates the 2007 joint-supervision pilot.

Parsers raise ``ValueError`` on anything else; each source translates that into
``UpstreamContract`` at its boundary. Every function refuses naive datetimes: a naive value in
this code base is a bug, not a convention.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

__all__ = [
    "CN_TZ",
    "KZ_OFFSET_SWITCH",
    "format_cn_time",
    "format_kz_time",
    "kz_offset",
    "parse_cn_time",
    "parse_kz_time",
    "to_utc",
]

CN_TZ: Final = dt.timezone(dt.timedelta(hours=8))
#: The instant the Kazakh border posts went from UTC+6 to UTC+5.
KZ_OFFSET_SWITCH: Final = dt.datetime(2024, 2, 29, 18, 0, tzinfo=dt.UTC)
_KZ_BEFORE: Final = dt.timedelta(hours=6)
_KZ_AFTER: Final = dt.timedelta(hours=5)

_CN_TIME: Final = re.compile(r"[0-9]{14}")
# Date, 'T', time to minutes or seconds (with an optional fraction), then an offset: no more, no less.
_KZ_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


def parse_cn_time(text: str) -> dt.datetime:
    """``"20251128093015"`` (Beijing wall time) → ``2025-11-28T09:30:15+08:00``.

    Raises:
        ValueError: not exactly 14 ASCII digits, or not a real date and time.
    """
    if _CN_TIME.fullmatch(text) is None:
        raise ValueError(f"not a yyyyMMddHHmmss time: {text!r}")
    return dt.datetime(
        int(text[0:4]),
        int(text[4:6]),
        int(text[6:8]),
        int(text[8:10]),
        int(text[10:12]),
        int(text[12:14]),
        tzinfo=CN_TZ,
    )


def format_cn_time(at: dt.datetime) -> str:
    """Any aware instant → Beijing wall time ``yyyyMMddHHmmss`` (sub-second part truncated)."""
    local = _require_aware(at).astimezone(CN_TZ)
    return (
        f"{local.year:04d}{local.month:02d}{local.day:02d}"
        f"{local.hour:02d}{local.minute:02d}{local.second:02d}"
    )


def parse_kz_time(text: str) -> dt.datetime:
    """ISO-8601 date-time with an offset (``2025-11-28T10:15:00+05:00``), keeping that offset.

    Raises:
        ValueError: no offset, not the extended ISO form, or not a real date and time.
    """
    if _KZ_TIME.fullmatch(text) is None:
        raise ValueError(f"not an ISO-8601 date-time with an offset: {text!r}")
    # Python 3.11's fromisoformat reads this whole grammar, 'Z' and fractions beyond microseconds
    # (truncated) included; the regex above is what makes the offset mandatory.
    return dt.datetime.fromisoformat(text)


def format_kz_time(at: dt.datetime) -> str:
    """Any aware instant → ISO-8601 in the Kazakh border posts' offset at that instant.

    ``2025-11-28T05:15:00Z`` → ``"2025-11-28T10:15:00+05:00"``; sub-second part truncated.
    """
    local = _require_aware(at).astimezone(dt.timezone(kz_offset(at)))
    return local.isoformat(timespec="seconds")


def kz_offset(at: dt.datetime) -> dt.timedelta:
    """The Kazakh border posts' UTC offset at instant ``at``: +6 h before the 2024 switch, +5 h after."""
    return _KZ_BEFORE if _require_aware(at) < KZ_OFFSET_SWITCH else _KZ_AFTER


def to_utc(at: dt.datetime) -> dt.datetime:
    """The same instant with a UTC offset (for comparing, sorting, hashing across authorities)."""
    return _require_aware(at).astimezone(dt.UTC)


def _require_aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: the gateway only handles aware instants")
    return at
