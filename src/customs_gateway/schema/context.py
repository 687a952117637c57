"""What every resolver may use: the per-request use-cases, loaders and reference data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import strawberry

from ..crossings import CrossingRegistry
from ..discrepancies import DiscrepancyThresholds
from ..linking import LinkWindow
from ..recognition import RecognitionPolicy
from ..reports import ReportService
from ..security import ANONYMOUS, Principal
from ..services import Gateway
from ..sources.base import ChinaSource, KazakhstanSource
from .loaders import Loaders

__all__ = ["GatewayContext", "Info", "build_context"]


@dataclass(slots=True)
class GatewayContext:
    gateway: Gateway
    loaders: Loaders
    crossings: CrossingRegistry
    now: Callable[[], dt.datetime]
    request: Any = None
    response: Any = None
    reports: ReportService | None = None  # None where the app serves no reports (some tests)
    extra: dict[str, Any] = field(default_factory=dict)
    # Who asks: the field rules and carrier scoping read it (the authentication middleware set it).
    principal: Principal = ANONYMOUS


Info: TypeAlias = strawberry.Info[GatewayContext, None]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_context(
    *,
    china: ChinaSource,
    kazakhstan: KazakhstanSource,
    crossings: CrossingRegistry,
    window: LinkWindow,
    now: Callable[[], dt.datetime] = _utc_now,
    request: Any = None,
    response: Any = None,
    principal: Principal = ANONYMOUS,
    reports: ReportService | None = None,
    recognition: RecognitionPolicy | None = None,
    thresholds: DiscrepancyThresholds | None = None,
) -> GatewayContext:
    """A fresh context (fresh loaders, empty identity map) for one GraphQL request."""
    loaders = Loaders(china, kazakhstan)
    gateway = Gateway(
        china=china,
        kazakhstan=kazakhstan,
        lookups=loaders,
        crossings=crossings,
        window=window,
        recognition=recognition,
        thresholds=thresholds,
    )
    return GatewayContext(gateway, loaders, crossings, now, request, response, reports=reports, principal=principal)
