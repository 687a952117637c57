"""Relay-style connections and the list filters."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

import strawberry

from ..domain import Authority, Direction, InspectionOutcome
from ..errors import UpstreamError
from ..ids import encode_cursor
from ..linking import TripStatus
from ..services import InspectionItem, PageResult, Trip
from .entities import Inspection, Manifest
from .fields import resolver

__all__ = [
    "InspectionConnection",
    "InspectionEdge",
    "InspectionFilter",
    "ManifestConnection",
    "ManifestEdge",
    "ManifestFilter",
    "PageInfo",
    "TimeWindow",
]

T = TypeVar("T")


@strawberry.input(description="Which manifests to list. Without a window: the 24 hours before now (at most 31 days).")
class ManifestFilter:
    crossing_points: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Crossing point ids, e.g. [KHORGOS]; all when omitted."
    )
    direction: Direction | None = strawberry.field(default=None, description="Only this direction.")
    from_: dt.datetime | None = strawberry.field(
        default=None, name="from", description="Window start (inclusive), on the exporting side's declaration time."
    )
    to: dt.datetime | None = strawberry.field(default=None, description="Window end (exclusive).")
    plate: str | None = strawberry.field(default=None, description="A plate in any spelling.")
    hs_prefix: str | None = strawberry.field(
        default=None, description="Leading digits of either side's tariff code, e.g. 8703 or 870380."
    )
    status: list[TripStatus] | None = strawberry.field(default=None, description="Only trips in these states.")


@strawberry.input(description="Which inspections to list. Without a window: the 24 hours before now (at most 31 days).")
class InspectionFilter:
    crossing_points: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Crossing point ids; all when omitted."
    )
    authority: Authority | None = strawberry.field(default=None, description="Only this authority's inspections.")
    direction: Direction | None = strawberry.field(default=None, description="Only trips in this direction.")
    from_: dt.datetime | None = strawberry.field(
        default=None, name="from", description="Window start (inclusive), on the inspection's start time."
    )
    to: dt.datetime | None = strawberry.field(default=None, description="Window end (exclusive).")
    plate: str | None = strawberry.field(default=None, description="Only inspections of this vehicle.")
    hs_prefix: str | None = strawberry.field(default=None, description="Only trips declaring goods under this code.")
    outcome: InspectionOutcome | None = strawberry.field(default=None, description="Only this result.")


@strawberry.type(description="Paging information (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items may follow. True also when the page stopped early at the per-request "
        "cap on upstream pages (at most 10 list pages per authority): the page may then hold fewer than `first` "
        "items, and the next page continues from `endCursor`."
    )
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Where to continue: pass it as `after`. Usually the last item's cursor; when the page stopped "
        "early at the gateway's per-request cap on upstream pages (filters the authorities cannot apply, such "
        "as hsPrefix or status, can make it read many records), the position where reading stopped."
    )


@strawberry.type(description="The time window a list covers, in UTC.")
class TimeWindow:
    from_: dt.datetime = strawberry.field(name="from", description="Start (inclusive).")
    to: dt.datetime = strawberry.field(description="End (exclusive).")


@strawberry.type(description="A manifest and its cursor.")
class ManifestEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Manifest = strawberry.field(description="The manifest.")


@strawberry.type(description="An inspection and its cursor.")
class InspectionEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Inspection = strawberry.field(description="The inspection.")


class _Connection(Generic[T]):
    page: strawberry.Private[PageResult[T]]

    def _page_info(self) -> PageInfo:
        edges = self.page.edges
        return PageInfo(
            has_next_page=self.page.has_next_page,
            has_previous_page=self.page.has_previous_page,
            start_cursor=encode_cursor(edges[0][0]) if edges else None,
            end_cursor=(
                encode_cursor(self.page.resume)
                if self.page.resume is not None
                else encode_cursor(edges[-1][0])
                if edges
                else None
            ),
        )

    def _complete(self) -> bool:
        failures: tuple[UpstreamError, ...] = self.page.failures
        if failures:
            raise failures[0]
        return True


@strawberry.type(description="A page of manifests, both authorities' trips merged in time order, each trip once.")
class ManifestConnection(_Connection[Trip]):
    page: strawberry.Private[PageResult[Trip]]

    @resolver(description="The manifests with their cursors.")
    def edges(self) -> list[ManifestEdge]:
        return [ManifestEdge(cursor=encode_cursor(c), node=Manifest(trip=t)) for c, t in self.page.edges]

    @resolver(description="The manifests.")
    def nodes(self) -> list[Manifest]:
        return [Manifest(trip=t) for _, t in self.page.edges]

    @resolver(description="Paging information.")
    def page_info(self) -> PageInfo:
        return self._page_info()

    @resolver(description="The window listed.")
    def window(self) -> TimeWindow:
        return TimeWindow(from_=self.page.start, to=self.page.end)

    @resolver(
        description="True when both authorities answered; null with an error naming the one that did not "
        "(its one-sided trips are then missing and the other side of the rest carries the error)."
    )
    def complete(self) -> bool | None:
        return self._complete()


@strawberry.type(description="A page of inspections of both authorities, in time order.")
class InspectionConnection(_Connection[InspectionItem]):
    page: strawberry.Private[PageResult[InspectionItem]]

    @resolver(description="The inspections with their cursors.")
    def edges(self) -> list[InspectionEdge]:
        return [InspectionEdge(cursor=encode_cursor(c), node=Inspection.of(i)) for c, i in self.page.edges]

    @resolver(description="The inspections.")
    def nodes(self) -> list[Inspection]:
        return [Inspection.of(i) for _, i in self.page.edges]

    @resolver(description="Paging information.")
    def page_info(self) -> PageInfo:
        return self._page_info()

    @resolver(description="The window listed.")
    def window(self) -> TimeWindow:
        return TimeWindow(from_=self.page.start, to=self.page.end)

    @resolver(
        description="True when every authority asked answered; null with an error naming the one that did "
        "not (its inspections are then missing from the page)."
    )
    def complete(self) -> bool | None:
        return self._complete()
