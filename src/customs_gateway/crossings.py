"""The crossing points as the gateway's use-cases see them: plain, immutable reference data.

Built once from :class:`~customs_gateway.config.CrossingSettings` by the app factory, so the
service and schema layers never import the settings machinery (nor, through it, httpx).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

__all__ = ["CN_TIME_ZONE", "KZ_TIME_ZONE", "BorderPostRef", "CrossingPoint", "CrossingRegistry", "kz_offset"]

CN_TIME_ZONE = "Asia/Shanghai"
# The Kazakh border posts are in Asia/Almaty's region; since 2024-03-01 the whole country is UTC+5.
KZ_TIME_ZONE = "Asia/Almaty"
_KZ_SWITCH = dt.datetime(2024, 2, 29, 18, 0, tzinfo=dt.UTC)


def kz_offset(at: dt.datetime) -> dt.timedelta:
    """The Kazakh posts' UTC offset at the instant ``at``: +06:00 before 2024-03-01, +05:00 since."""
    return dt.timedelta(hours=5) if at >= _KZ_SWITCH else dt.timedelta(hours=6)


class _CrossingConfig(Protocol):
    """What the app factory hands us: ``config.CrossingSettings`` satisfies it."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def phase(self) -> int: ...
    @property
    def cn_port_code(self) -> str: ...
    @property
    def cn_name(self) -> str: ...
    @property
    def cn_name_latin(self) -> str: ...
    @property
    def cn_locode(self) -> str | None: ...
    @property
    def cn_locode_official(self) -> bool: ...
    @property
    def kz_checkpoint_code(self) -> str: ...
    @property
    def kz_name(self) -> str: ...
    @property
    def kz_name_latin(self) -> str: ...
    @property
    def kz_locode(self) -> str | None: ...
    @property
    def kz_locode_official(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class BorderPostRef:
    code: str  # CN 4-digit customs code / KZ 8-digit office code
    name: str  # native script
    name_latin: str
    locode: str | None
    locode_official: bool


@dataclass(frozen=True, slots=True)
class CrossingPoint:
    id: str
    name: str
    phase: int  # 0 none, 1 common manifest, 2 mutual recognition of inspections
    china: BorderPostRef
    kazakhstan: BorderPostRef

    @property
    def has_common_manifest(self) -> bool:
        return self.phase >= 1


class CrossingRegistry:
    """The configured crossings, findable by id, Chinese port code or Kazakh checkpoint code."""

    def __init__(self, crossings: Iterable[CrossingPoint]) -> None:
        self.all: tuple[CrossingPoint, ...] = tuple(crossings)
        self._by_id: Mapping[str, CrossingPoint] = MappingProxyType({c.id: c for c in self.all})
        self._by_port = MappingProxyType({c.china.code: c for c in self.all})
        self._by_checkpoint = MappingProxyType({c.kazakhstan.code: c for c in self.all})

    @classmethod
    def from_settings(cls, settings: Iterable[_CrossingConfig]) -> CrossingRegistry:
        return cls(
            CrossingPoint(
                id=s.id,
                name=s.name,
                phase=s.phase,
                china=BorderPostRef(s.cn_port_code, s.cn_name, s.cn_name_latin, s.cn_locode, s.cn_locode_official),
                kazakhstan=BorderPostRef(
                    s.kz_checkpoint_code, s.kz_name, s.kz_name_latin, s.kz_locode, s.kz_locode_official
                ),
            )
            for s in settings
        )

    def by_id(self, crossing_id: str) -> CrossingPoint | None:
        return self._by_id.get(crossing_id.upper())

    def by_port(self, port_code: str) -> CrossingPoint | None:
        return self._by_port.get(port_code)

    def by_checkpoint(self, checkpoint_code: str) -> CrossingPoint | None:
        return self._by_checkpoint.get(checkpoint_code)
