"""Field rules and carrier scoping, enforced in the schema.

Field rules: :data:`~customs_gateway.security.rules.FIELD_RULES` is the table; :func:`ruled`
turns a table entry into a strawberry field with :class:`FieldRuleExtension` (checks the rule
before the resolver runs, so a denied field costs no upstream call) and the rule's "Visible to"
sentence at the end of its description. ``fields.resolver`` applies it to every resolver whose
``Type.field`` is in the table; attribute fields use :func:`ruled_field`.

Carrier scoping: a ``carrier`` client sees a trip only when every record of it that could be
read names its carrier id. Single lookups of another carrier's trip (``manifest``,
``inspection``, ``_entities``) give null with ``FORBIDDEN``; lists leave such trips out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar, runtime_checkable

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.utils.str_converters import to_camel_case

from ..domain import ChinaManifestRecord, KazakhstanPIRecord
from ..errors import Forbidden, UpstreamError
from ..ids import RecordKey
from ..security import Principal, Role
from ..security.rules import FIELD_RULES, FieldRule, Subject
from ..services import InspectionItem, PageResult, Trip

__all__ = [
    "FieldRuleExtension",
    "HasSubject",
    "filter_inspections",
    "filter_trips",
    "inspection_visible",
    "require_inspection_visible",
    "require_trip_visible",
    "rule_for",
    "ruled",
    "ruled_field",
    "scope_page",
    "trip_visible",
]

T = TypeVar("T")


@runtime_checkable
class HasSubject(Protocol):
    """A GraphQL object whose ruled fields depend on whose record it is."""

    def rule_subject(self) -> Subject: ...


def _principal(info: strawberry.Info[Any, Any]) -> Principal:
    principal: Principal = info.context.principal
    return principal


class FieldRuleExtension(FieldExtension):
    def __init__(self, key: str, rule: FieldRule) -> None:
        self.key = key
        self.rule = rule

    def check(self, source: Any, info: strawberry.Info[Any, Any]) -> None:
        """Raise Forbidden unless the rule lets the request's principal see this field of ``source``."""
        # getattr, not isinstance(source, HasSubject): a runtime-checkable Protocol check walks
        # the protocol's members on every call, and this runs for every ruled field of a response.
        rule_subject = getattr(source, "rule_subject", None) if self.rule.needs_subject else None
        subject = rule_subject() if callable(rule_subject) else None
        principal = _principal(info)
        if not self.rule.allows(principal, subject):
            raise Forbidden(f"{self.key} is not visible to the role {principal.role} ({self.rule.name}).")

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info[Any, Any], **kwargs: Any) -> Any:
        self.check(source, info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: strawberry.Info[Any, Any], **kwargs: Any
    ) -> Any:
        self.check(source, info)
        return await next_(source, info, **kwargs)


def rule_for(qualname: str) -> tuple[str, FieldRule] | None:
    """The table entry of a resolver, from its ``__qualname__`` (``Manifest.driver``)."""
    parts = qualname.split(".")
    if len(parts) < 2:
        return None
    key = f"{parts[-2]}.{to_camel_case(parts[-1])}"
    rule = FIELD_RULES.get(key)
    return None if rule is None else (key, rule)


def ruled(key: str, description: str) -> tuple[str, list[FieldExtension]]:
    """(description with the "Visible to" sentence, [extension]) of table entry ``key``."""
    rule = FIELD_RULES[key]
    return f"{description} {rule.visible_to()}", [FieldRuleExtension(key, rule)]


def ruled_field(key: str, description: str) -> Any:
    """An attribute field under table entry ``key`` (nullable: a denied field is null)."""
    text, extensions = ruled(key, description)
    return strawberry.field(description=text, extensions=extensions, default=None)


# --- carrier scoping ------------------------------------------------------------------------


async def _settled(get: Awaitable[T]) -> T | UpstreamError:
    try:
        return await get
    except UpstreamError as exc:
        return exc


async def trip_visible(principal: Principal, trip: Trip) -> bool:
    """Whether ``principal`` may see ``trip``: always, but for a carrier only its own trips.

    Both records are read (the one not yet known through the per-request loaders); one that
    failed is left out of the decision, and when both failed the failure is raised (we cannot
    tell whose trip it is, so nothing of it is shown).
    """
    if principal.role != Role.CARRIER.value:
        return True
    cn, kz = await asyncio.gather(_settled(trip.china.get()), _settled(trip.kazakhstan.get()))
    records = [r for r in (cn, kz) if isinstance(r, ChinaManifestRecord | KazakhstanPIRecord)]
    if not records:
        if isinstance(cn, UpstreamError):
            raise cn
        if isinstance(kz, UpstreamError):
            raise kz
        return False
    return principal.carrier_id is not None and all(r.carrier.id == principal.carrier_id for r in records)


def _not_visible(what: str) -> Forbidden:
    return Forbidden(f"This {what} is not visible to your carrier: it belongs to another carrier's trip.")


async def require_trip_visible(info: strawberry.Info[Any, Any], trip: Trip) -> Trip:
    if not await trip_visible(_principal(info), trip):
        raise _not_visible("manifest")
    return trip


async def filter_trips(info: strawberry.Info[Any, Any], trips: Sequence[Trip]) -> list[Trip]:
    principal = _principal(info)
    if principal.role != Role.CARRIER.value:
        return list(trips)
    visible = await asyncio.gather(*(trip_visible(principal, t) for t in trips))
    return [t for t, ok in zip(trips, visible, strict=True) if ok]


async def inspection_visible(info: strawberry.Info[Any, Any], item: InspectionItem) -> bool:
    principal = _principal(info)
    if principal.role != Role.CARRIER.value:
        return True
    record = item.inspection
    trip = await info.context.gateway.by_record(RecordKey(record.authority, record.record_id))
    return trip is not None and await trip_visible(principal, trip)


async def require_inspection_visible(info: strawberry.Info[Any, Any], item: InspectionItem) -> InspectionItem:
    if not await inspection_visible(info, item):
        raise _not_visible("inspection")
    return item


async def filter_inspections(info: strawberry.Info[Any, Any], items: Sequence[InspectionItem]) -> list[InspectionItem]:
    if _principal(info).role != Role.CARRIER.value:
        return list(items)
    visible = await asyncio.gather(*(inspection_visible(info, i) for i in items))
    return [i for i, ok in zip(items, visible, strict=True) if ok]


async def scope_page(
    info: strawberry.Info[Any, Any], page: PageResult[T], visible: Callable[[Sequence[T]], Awaitable[list[T]]]
) -> PageResult[T]:
    """``page`` without the items the principal may not see. The end cursor stays where the
    unfiltered page ended, so paging goes on past the left-out items (a carrier's page can hold
    fewer than ``first`` items, even none, with ``hasNextPage`` still true)."""
    if _principal(info).role != Role.CARRIER.value or not page.edges:
        return page
    kept = set(map(id, await visible([item for _, item in page.edges])))
    edges = [(cursor, item) for cursor, item in page.edges if id(item) in kept]
    if len(edges) == len(page.edges):
        return page
    return replace(page, edges=edges, resume=page.resume if page.resume is not None else page.edges[-1][0])
