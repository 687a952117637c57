"""The use-cases between the schema and the sources: find, list and join trips of both sides.

Nothing here imports strawberry or httpx: the schema layer calls these with a per-request
:class:`Gateway` and a :class:`Lookups` implementation (its DataLoaders).
"""

from __future__ import annotations

from .inspections import (
    InspectionItem,
    InspectionQuery,
    inspection_by_key,
    list_inspections,
    trip_inspections,
    trip_inspections_now,
)
from .lazy import Lazy
from .lookups import Lookups
from .manifests import ManifestQuery, list_manifests, vehicle_trips
from .paging import MAX_FIRST, PageResult
from .trips import Gateway, Trip
from .valuation import UsdValue, to_usd

__all__ = [
    "MAX_FIRST",
    "Gateway",
    "InspectionItem",
    "InspectionQuery",
    "Lazy",
    "Lookups",
    "ManifestQuery",
    "PageResult",
    "Trip",
    "UsdValue",
    "inspection_by_key",
    "list_inspections",
    "list_manifests",
    "to_usd",
    "trip_inspections",
    "trip_inspections_now",
    "vehicle_trips",
]
