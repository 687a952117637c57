"""Text forms shared by the KGD documents: the posts' local times, escapes, rates' decimals.

Split from :mod:`customs_sim.kazakhstan.render` so the PI document (:mod:`.pi_doc`) and the other
documents format values the same way without importing each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from xml.sax.saxutils import escape

from customs_sim.clocktext import ISO_CLOCK, TWO_DIGITS, iso_date
from customs_sim.model import Trip
from customs_sim.reference import KZ_OFFSET_SWITCH, kz_tz

__all__ = [
    "CENT",
    "CORRIDORS",
    "GRAM",
    "STATUS_NAMES",
    "RateLookup",
    "common_id",
    "esc",
    "format_local",
    "local_day",
]

RateLookup = Callable[[dt.date, str], Decimal]
"""``(day, currency) -> KZT per unit``: the National Bank rate, as ``customs_sim.rates.nbk_rate``."""

CORRIDORS: dict[str, str] = {"GREEN": "ЗЕЛЕНЫЙ", "YELLOW": "ЖЕЛТЫЙ", "RED": "КРАСНЫЙ"}
STATUS_NAMES: dict[str, str] = {
    "REGISTERED": "Зарегистрирована",
    "ARRIVED": "Прибытие",
    "RELEASED": "Выпуск разрешен",
    "EXITED": "Убытие",
}
CENT = Decimal("0.01")
GRAM = Decimal("0.001")


def _suffix(zone: dt.timezone) -> str:
    delta = zone.utcoffset(None)
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# The two offsets the posts used, built once: format_local() runs several times per trip at build time.
_BEFORE_SWITCH = KZ_OFFSET_SWITCH - dt.timedelta(microseconds=1)
_ZONES = {
    instant: (zone, _suffix(zone)) for instant in (_BEFORE_SWITCH, KZ_OFFSET_SWITCH) for zone in (kz_tz(instant),)
}

_SHIFTS = {suffix: zone.utcoffset(None) for zone, suffix in _ZONES.values()}
_UTC = dt.UTC


# (offset in seconds, suffix) after and before the switch.
_AFTER_LOCAL = int(_SHIFTS[_ZONES[KZ_OFFSET_SWITCH][1]].total_seconds()), _ZONES[KZ_OFFSET_SWITCH][1]
_BEFORE_LOCAL = int(_SHIFTS[_ZONES[_BEFORE_SWITCH][1]].total_seconds()), _ZONES[_BEFORE_SWITCH][1]
_SWITCH_TS = int(KZ_OFFSET_SWITCH.timestamp())


def format_local(at: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS+06:00`` in the border posts' offset at that instant (seconds truncated)."""
    if at.tzinfo is _UTC and at.year >= 1970:  # every ground-truth instant: table lookups (clocktext)
        ts = int(at.timestamp())
        shift, suffix = _AFTER_LOCAL if ts >= _SWITCH_TS else _BEFORE_LOCAL
        day, second = divmod(ts + shift, 86_400)
        return f"{iso_date(day)}T{ISO_CLOCK[second // 60]}{TWO_DIGITS[second % 60]}{suffix}"
    zone, suffix = _ZONES[KZ_OFFSET_SWITCH if at >= KZ_OFFSET_SWITCH else _BEFORE_SWITCH]
    return at.astimezone(zone).replace(tzinfo=None, microsecond=0).isoformat() + suffix


def local_day(at: dt.datetime) -> dt.date:
    zone, suffix = _ZONES[KZ_OFFSET_SWITCH if at >= KZ_OFFSET_SWITCH else _BEFORE_SWITCH]
    if at.tzinfo is _UTC:  # as in format_local
        return (at + _SHIFTS[suffix]).date()
    return at.astimezone(zone).date()


def esc(text: str) -> str:
    # Most values need no escaping; the membership tests are much cheaper than escape()'s replaces.
    if "&" in text or "<" in text or ">" in text:
        return escape(text)
    return text


def common_id(trip: Trip) -> str:
    """``<CommonManifestId>`` (right after ``<PINumber>``), or nothing at a phase-0 crossing."""
    return "" if trip.common_id is None else f"<CommonManifestId>{esc(trip.common_id)}</CommonManifestId>"
