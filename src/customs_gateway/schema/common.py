"""Small shared GraphQL types: enums, instants, money, plates, parties and crossing points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TypeVar

import strawberry

from ..crossings import CN_TIME_ZONE, KZ_TIME_ZONE, BorderPostRef, kz_offset
from ..crossings import CrossingPoint as CrossingRef
from ..domain import (
    Authority,
    Country,
    Direction,
    ExchangeRate,
    InspectionKind,
    InspectionOutcome,
    PlateId,
    RecordStatus,
    RiskChannel,
)
from ..domain import (
    Driver as DriverRecord,
)
from ..domain import (
    Money as MoneyRecord,
)
from ..domain import (
    Party as PartyRecord,
)
from ..linking import BorderEventKind, LinkMethod, TripStatus
from ..services import to_usd
from .context import Info
from .fields import MaybeAwaitable, resolver

__all__ = [
    "BorderPost",
    "CrossingPoint",
    "Driver",
    "Instant",
    "Locode",
    "Money",
    "Party",
    "Plate",
    "instant",
]

R = TypeVar("R")
_Usd = tuple[Decimal | None, dt.date | None, str | None]  # amount in USD, rate date, rate source

strawberry.enum(Authority, description="A customs authority: GACC (China) or KGD (Kazakhstan).")
strawberry.enum(Country, description="A country as the records give it; OTHER for third countries.")
strawberry.enum(Direction, description="Which way the truck crosses.")
strawberry.enum(RecordStatus, description="One authority's progress with the trip, in one vocabulary for both.")
strawberry.enum(InspectionKind, description="Form of inspection or control, in one vocabulary for both sides.")
strawberry.enum(InspectionOutcome, description="Result of an inspection: no findings, or a violation found.")
strawberry.enum(RiskChannel, description="Kazakhstan's risk corridor: GREEN, YELLOW (documents) or RED (inspection).")
strawberry.enum(LinkMethod, description="How the two authorities' records of one trip were joined.")
strawberry.enum(
    TripStatus,
    description=(
        "Where the trip stands judged from both records: DECLARED (not yet left the exporting country), "
        "IN_TRANSIT, ARRIVED and RELEASED (by the importing side), or CHINA_ONLY / KAZAKHSTAN_ONLY when "
        "only one authority has a record of it (so far)."
    ),
    name="ManifestStatus",
)
strawberry.enum(BorderEventKind, description="A step of the trip as one authority recorded it.")


@strawberry.type(description="An instant in time, in UTC and as the recording authority wrote it.")
class Instant:
    utc: dt.datetime = strawberry.field(description="The instant in UTC.")
    local: dt.datetime = strawberry.field(description="The same instant with the authority's own UTC offset.")
    offset: str = strawberry.field(description="The authority's UTC offset, e.g. +08:00 or +05:00.")


def instant(at: dt.datetime) -> Instant:
    offset = at.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return Instant(utc=at.astimezone(dt.UTC), local=at, offset=f"{sign}{minutes // 60:02d}:{minutes % 60:02d}")


@strawberry.type(description="An amount of money: exact decimal, never a binary float.")
class Money:
    amount: Decimal = strawberry.field(description="The amount, an exact decimal (serialized as a string).")
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. CNY, USD.")
    rate_day: strawberry.Private[dt.date]

    @staticmethod
    def of(money: MoneyRecord, rate_day: dt.date) -> Money:
        return Money(amount=money.amount, currency=money.currency, rate_day=rate_day)

    def _usd(self, info: Info) -> MaybeAwaitable[_Usd]:
        # At once when the amount is in USD or the day's rates are already loaded (the usual
        # case after a by-common-id round): an awaitable per money field would cost graphql-core
        # a task each, after the last upstream answer.
        if self.currency == "USD":
            return self.amount, None, None
        loaders = info.context.loaders
        rates = loaders.rates_now(self.rate_day)
        if rates is not None:
            return self._converted(rates)

        async def later() -> _Usd:
            return self._converted(await loaders.rates(self.rate_day))

        return later()

    def _converted(self, rates: Mapping[str, ExchangeRate]) -> _Usd:
        usd = to_usd(MoneyRecord(self.amount, self.currency), rates)
        return usd.amount_usd, usd.rate_date, usd.rate_source

    @resolver(
        description="The amount in US dollars at the National Bank of Kazakhstan's rate of the day.",
        graphql_type=Decimal | None,
    )
    def amount_usd(self, info: Info) -> MaybeAwaitable[Decimal | None]:
        return _then(self._usd(info), lambda usd: usd[0])

    @resolver(
        description="Date of the exchange rate used for amountUsd; null when already in USD.",
        graphql_type=dt.date | None,
    )
    def rate_date(self, info: Info) -> MaybeAwaitable[dt.date | None]:
        return _then(self._usd(info), lambda usd: usd[1])

    @resolver(
        description="Who published the rate used for amountUsd (NBK); null when already in USD.",
        graphql_type=str | None,
    )
    def rate_source(self, info: Info) -> MaybeAwaitable[str | None]:
        return _then(self._usd(info), lambda usd: usd[2])


def _then(usd: MaybeAwaitable[_Usd], pick: Callable[[_Usd], R]) -> MaybeAwaitable[R]:
    """``pick`` of a conversion: at once when the conversion is done, else when it is."""
    if isinstance(usd, tuple):
        return pick(usd)
    pending: Awaitable[_Usd] = usd

    async def later() -> R:
        return pick(await pending)

    return later()


@strawberry.type(description="A registration plate, understood: one canonical form for every spelling.")
class Plate:
    canonical: str = strawberry.field(description="The join key: ASCII, e.g. XINF12345 or 123ABC02.")
    native: str = strawberry.field(description="As the registering country writes it, e.g. 新F12345.")
    latin: str = strawberry.field(description="In Latin letters (Chinese province in pinyin).")
    country: Country = strawberry.field(description="The registering country.")
    region: str | None = strawberry.field(description="Chinese prefecture (新F) or Kazakh region code (02).")
    trailer: bool = strawberry.field(description="Whether this is a trailer plate.")
    province_known: bool = strawberry.field(description="False when the source dropped the province (F12345).")
    written: str | None = strawberry.field(default=None, description="Exactly as the authority wrote it.")

    @staticmethod
    def of(plate: PlateId, written: str | None = None) -> Plate:
        return Plate(
            canonical=plate.canonical,
            native=plate.native,
            latin=plate.latin,
            country=plate.country,
            region=plate.region,
            trailer=plate.trailer,
            province_known=plate.province_known,
            written=written,
        )


@strawberry.type(description="A company as one authority recorded it (carrier, consignor or consignee).")
class Party:
    identifier: str | None = strawberry.field(description="USCC (China), BIN (Kazakhstan) or foreign id.")
    name: str = strawberry.field(description="The name as recorded, in the authority's language.")
    country: Country = strawberry.field(description="The company's country.")

    @staticmethod
    def of(party: PartyRecord) -> Party:
        return Party(identifier=party.id, name=party.name, country=party.country)


@strawberry.type(description="The truck's driver as one authority recorded them.")
class Driver:
    name: str = strawberry.field(description="The name as recorded (native script where kept).")
    name_latin: str | None = strawberry.field(description="The name in Latin letters, when recorded.")
    passport_no: str | None = strawberry.field(description="Passport number.")
    nationality: Country = strawberry.field(description="Nationality.")

    @staticmethod
    def of(driver: DriverRecord) -> Driver:
        return Driver(
            name=driver.name,
            name_latin=driver.name_latin,
            passport_no=driver.passport_no,
            nationality=driver.nationality,
        )


@strawberry.type(description="A UN/LOCODE or, where none exists, an internal code marked as not official.")
class Locode:
    code: str = strawberry.field(description="The code, e.g. CNHRS or KZNZH.")
    official: bool = strawberry.field(description="True for an official UN/LOCODE; false for an internal code.")


@strawberry.type(description="One side's border post of a crossing point.")
class BorderPost:
    authority: Authority = strawberry.field(description="The customs authority that runs this post.")
    country: Country = strawberry.field(description="The post's country.")
    code: str = strawberry.field(description="Customs code: Chinese port code (4 digits) or Kazakh office (8).")
    name: str = strawberry.field(description="Name in the native script (Chinese or Kazakh).")
    name_latin: str = strawberry.field(description="Name in Latin letters.")
    locode: Locode | None = strawberry.field(description="Location code, with whether it is official.")
    time_zone: str = strawberry.field(description="IANA time zone of the post.")
    utc_offset: str = strawberry.field(description="The post's current UTC offset.")

    @staticmethod
    def of(post: BorderPostRef, authority: Authority, now: dt.datetime) -> BorderPost:
        china = authority is Authority.GACC
        offset = dt.timedelta(hours=8) if china else kz_offset(now)
        return BorderPost(
            authority=authority,
            country=Country.CN if china else Country.KZ,
            code=post.code,
            name=post.name,
            name_latin=post.name_latin,
            locode=Locode(code=post.locode, official=post.locode_official) if post.locode else None,
            time_zone=CN_TIME_ZONE if china else KZ_TIME_ZONE,
            utc_offset=instant(now.astimezone(dt.timezone(offset))).offset,
        )


@strawberry.federation.type(
    keys=["id"], description="A pair of road border posts, one on each side, and its joint-supervision phase."
)
class CrossingPoint:
    id: strawberry.ID = strawberry.field(description="Stable id of the crossing, e.g. KHORGOS.")
    name: str = strawberry.field(description="Name of the pair, e.g. Khorgos – Nur Zholy.")
    phase: int = strawberry.field(
        description="Joint-supervision phase: 0 none, 1 common cargo manifest, 2 mutual recognition of inspections."
    )
    common_manifest: bool = strawberry.field(description="Whether both sides use a common manifest id here.")
    mutual_recognition: bool = strawberry.field(
        description="Whether inspections of one side are accepted by the other."
    )
    china: BorderPost = strawberry.field(description="The Chinese post.")
    kazakhstan: BorderPost = strawberry.field(description="The Kazakh post.")

    @staticmethod
    def of(crossing: CrossingRef, now: dt.datetime) -> CrossingPoint:
        return CrossingPoint(
            id=strawberry.ID(crossing.id),
            name=crossing.name,
            phase=crossing.phase,
            common_manifest=crossing.phase >= 1,
            mutual_recognition=crossing.phase >= 2,
            china=BorderPost.of(crossing.china, Authority.GACC, now),
            kazakhstan=BorderPost.of(crossing.kazakhstan, Authority.KGD, now),
        )

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> CrossingPoint | None:
        crossing = info.context.crossings.by_id(str(id))
        return None if crossing is None else cls.of(crossing, info.context.now())
