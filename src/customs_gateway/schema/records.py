"""Each authority's own record of a trip, as a typed view: who said what, in their own words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from ..domain import (
    Authority,
    ChinaManifestRecord,
    Direction,
    GoodsLine,
    KazakhstanPIRecord,
    RecordStatus,
    RiskChannel,
    VehicleRef,
)
from ..security.rules import Subject
from ..services import Trip, trip_inspections, trip_inspections_now
from .access import ruled_field
from .common import Driver, Instant, Money, Party, Plate, instant
from .context import Info
from .fields import MaybeAwaitable, resolver

if TYPE_CHECKING:
    from .entities import Inspection

__all__ = [
    "ArrivalNotification",
    "ChinaManifest",
    "DeclaredGoods",
    "ExchangeRateInfo",
    "KazakhstanPreliminaryInformation",
    "RecordedVehicle",
    "Totals",
    "record_owner",
]

_LazyInspection = Annotated["Inspection", strawberry.lazy("customs_gateway.schema.entities")]


def _local_day(at: dt.datetime) -> dt.date:
    return at.date()


def record_owner(record: ChinaManifestRecord | KazakhstanPIRecord) -> Subject:
    """Whose record it is and which carrier it names: what the field rules look at."""
    authority = Authority.GACC if isinstance(record, ChinaManifestRecord) else Authority.KGD
    carrier = record.carrier.id
    return Subject(authority=authority, carriers=frozenset() if carrier is None else frozenset({carrier}))


@strawberry.type(description="A vehicle as one authority recorded it.")
class RecordedVehicle:
    written: str = strawberry.field(description="The plate exactly as the authority wrote it.")
    plate: Plate = strawberry.field(description="The plate, understood.")
    vin: str | None = strawberry.field(description="Vehicle identification number, when recorded.")
    make: str | None = strawberry.field(description="Make, as recorded.")

    @staticmethod
    def of(vehicle: VehicleRef) -> RecordedVehicle:
        return RecordedVehicle(
            written=vehicle.written, plate=Plate.of(vehicle.plate, vehicle.written), vin=vehicle.vin, make=vehicle.make
        )


@strawberry.type(description="One goods item as one authority declared it.")
class DeclaredGoods:
    authority: Authority = strawberry.field(description="Who declared it.")
    line_no: int = strawberry.field(description="Item number on that authority's record.")
    tariff_code: str = strawberry.field(description="The full code: China 10/13 digits, EAEU ТН ВЭД 10 digits.")
    hs6: str = strawberry.field(description="The first six digits: the Harmonized System subheading.")
    description: str = strawberry.field(description="Goods description in the original language.")
    language: str = strawberry.field(description="Language of the description (BCP 47: zh, ru).")
    packages: int = strawberry.field(description="Number of packages.")
    package_kind: str | None = strawberry.field(description="Package kind code (UN/ECE Rec. 21), e.g. CT, VN.")
    gross_kg: Decimal = strawberry.field(description="Gross mass in kilograms, exact decimal.")
    net_kg: Decimal | None = strawberry.field(description="Net mass in kilograms, exact decimal.")
    value: Money | None = ruled_field("DeclaredGoods.value", "Declared value.")
    value_kzt: Decimal | None = ruled_field("DeclaredGoods.valueKzt", "Kazakhstan only: the value in tenge.")
    owner: strawberry.Private[Subject]

    def rule_subject(self) -> Subject:
        return self.owner

    @staticmethod
    def of(line: GoodsLine, rate_day: dt.date, owner: Subject) -> DeclaredGoods:
        return DeclaredGoods(
            owner=owner,
            authority=line.authority,
            line_no=line.line_no,
            tariff_code=line.tariff_code,
            hs6=line.hs6,
            description=line.description,
            language=line.description_language,
            packages=line.packages,
            package_kind=line.package_kind,
            gross_kg=line.gross_kg,
            net_kg=line.net_kg,
            value=Money.of(line.value, rate_day),
            value_kzt=line.value_kzt,
        )


@strawberry.type(description="A record's totals.")
class Totals:
    packages: int = strawberry.field(description="Total number of packages.")
    gross_kg: Decimal = strawberry.field(description="Total gross mass in kilograms, exact decimal.")
    value: Money | None = ruled_field("Totals.value", "Total declared value.")
    item_count: int = strawberry.field(description="Number of goods items.")
    owner: strawberry.Private[Subject]

    def rule_subject(self) -> Subject:
        return self.owner


@strawberry.type(description="The National Bank of Kazakhstan rate a Kazakh record was valued at.")
class ExchangeRateInfo:
    currency: str = strawberry.field(description="The invoice currency.")
    kzt_per_unit: Decimal = strawberry.field(description="Tenge for one unit of the currency.")
    date: dt.date = strawberry.field(description="The rate's date.")
    source: str = strawberry.field(description="Who published it (НБРК / NBK).")


@strawberry.type(description="KGD's notification that the truck arrived at the Kazakh post.")
class ArrivalNotification:
    number: str = strawberry.field(description="Notification number.")
    checkpoint_code: str = strawberry.field(description="The Kazakh post's customs office code.")
    arrived_at: Instant = strawberry.field(description="When the truck arrived.")
    vehicle_written: str = strawberry.field(description="The plate as written on the notification.")


@strawberry.type(description="GACC's road manifest (公路舱单) of the trip: China's own record, unchanged in meaning.")
class ChinaManifest:
    record: strawberry.Private[ChinaManifestRecord]
    trip: strawberry.Private[Trip]

    @resolver(description="Cargo transport batch number (货物运输批次号).")
    def batch_no(self) -> str:
        return self.record.batch_no

    @resolver(description="Common manifest id shared with Kazakhstan (phase ≥ 1 crossings).")
    def common_manifest_id(self) -> str | None:
        return self.record.common_manifest_id

    @resolver(description="Chinese customs port code, e.g. 9403.")
    def port_code(self) -> str:
        return self.record.port_code

    @resolver(description="Port name in Chinese.")
    def port_name(self) -> str:
        return self.record.port_name

    @resolver(description="Direction of the trip.")
    def direction(self) -> Direction:
        return self.record.direction

    @resolver(description="GACC's status in the common vocabulary.")
    def status(self) -> RecordStatus:
        return self.record.status

    @resolver(description="GACC's status as it wrote it, e.g. 30 已出境.")
    def status_original(self) -> str:
        return self.record.status_original

    @resolver(description="When the manifest was declared.")
    def declared_at(self) -> Instant:
        return instant(self.record.declared_at)

    @resolver(description="Exit from (export) or entry into (import) China.")
    def border_crossed_at(self) -> Instant | None:
        at = self.record.border_crossed_at
        return instant(at) if at else None

    @resolver(description="Release by Chinese customs (imports).")
    def released_at(self) -> Instant | None:
        at = self.record.released_at
        return instant(at) if at else None

    @resolver(description="The truck.")
    def vehicle(self) -> RecordedVehicle:
        return RecordedVehicle.of(self.record.vehicle)

    @resolver(description="The trailer, if any.")
    def trailer(self) -> RecordedVehicle | None:
        return RecordedVehicle.of(self.record.trailer) if self.record.trailer else None

    @resolver(description="The driver.")
    def driver(self) -> Driver | None:
        return Driver.of(self.record.driver)

    @resolver(description="The carrier.")
    def carrier(self) -> Party:
        return Party.of(self.record.carrier)

    @resolver(description="The consignor.")
    def consignor(self) -> Party:
        return Party.of(self.record.consignor)

    @resolver(description="The consignee.")
    def consignee(self) -> Party:
        return Party.of(self.record.consignee)

    @resolver(description="ISO 6346 container numbers.")
    def containers(self) -> list[str]:
        return list(self.record.containers)

    @resolver(description="Seal numbers.")
    def seals(self) -> list[str]:
        return list(self.record.seals)

    @resolver(description="Totals as GACC recorded them.")
    def totals(self) -> Totals:
        r = self.record
        return Totals(
            packages=r.total_packages,
            gross_kg=r.total_gross_kg,
            value=Money.of(r.total_value, _local_day(r.declared_at)),
            item_count=len(r.goods),
            owner=record_owner(r),
        )

    @resolver(description="Goods items as GACC declared them (descriptions in Chinese).")
    def goods(self) -> list[DeclaredGoods]:
        day, owner = _local_day(self.record.declared_at), record_owner(self.record)
        return [DeclaredGoods.of(line, day, owner) for line in self.record.goods]

    @resolver(description="GACC's inspections of this trip.", graphql_type=list[_LazyInspection] | None)
    def inspections(self, info: Info) -> MaybeAwaitable[list[_LazyInspection] | None]:
        return _inspections(info, self.trip, Authority.GACC)


@strawberry.type(description="KGD's preliminary information (ПИ) of the trip: Kazakhstan's own record.")
class KazakhstanPreliminaryInformation:
    record: strawberry.Private[KazakhstanPIRecord]
    trip: strawberry.Private[Trip]

    def rule_subject(self) -> Subject:
        return record_owner(self.record)

    @resolver(description="Preliminary-information number.")
    def pi_number(self) -> str:
        return self.record.pi_number

    @resolver(description="Common manifest id shared with China (phase ≥ 1 crossings).")
    def common_manifest_id(self) -> str | None:
        return self.record.common_manifest_id

    @resolver(description="Kazakh customs office code of the post, e.g. 55201011.")
    def checkpoint_code(self) -> str:
        return self.record.checkpoint_code

    @resolver(description="Direction of the trip.")
    def direction(self) -> Direction:
        return self.record.direction

    @resolver(description="KGD's status in the common vocabulary.")
    def status(self) -> RecordStatus:
        return self.record.status

    @resolver(description="KGD's status as it wrote it.")
    def status_original(self) -> str:
        return self.record.status_original

    @resolver(description="When the preliminary information was registered.")
    def registered_at(self) -> Instant:
        return instant(self.record.registered_at)

    @resolver(description="Risk corridor assigned by KGD's risk system, once assessed.")
    def risk_channel(self) -> RiskChannel | None:
        return self.record.risk_channel

    @resolver(description="Release by KGD (imports).")
    def released_at(self) -> Instant | None:
        at = self.record.released_at
        return instant(at) if at else None

    @resolver(description="Exit from Kazakhstan (exports).")
    def exited_at(self) -> Instant | None:
        at = self.record.exited_at
        return instant(at) if at else None

    @resolver(description="KGD's arrival notification, when the truck has arrived (imports).")
    async def arrival(self, info: Info) -> ArrivalNotification | None:
        if self.record.direction is not Direction.CN_TO_KZ:
            return None  # KGD notifies arrivals into Kazakhstan only: no call for an export
        notice = await self.trip.arrival_notice(self.record, info.context.loaders)
        if notice is None:
            return None
        return ArrivalNotification(
            number=notice.number,
            checkpoint_code=notice.checkpoint_code,
            arrived_at=instant(notice.arrived_at),
            vehicle_written=notice.vehicle_written,
        )

    @resolver(description="The truck.")
    def vehicle(self) -> RecordedVehicle:
        return RecordedVehicle.of(self.record.vehicle)

    @resolver(description="The trailer, if any.")
    def trailer(self) -> RecordedVehicle | None:
        return RecordedVehicle.of(self.record.trailer) if self.record.trailer else None

    @resolver(description="The driver.")
    def driver(self) -> Driver | None:
        return Driver.of(self.record.driver)

    @resolver(description="The carrier.")
    def carrier(self) -> Party:
        return Party.of(self.record.carrier)

    @resolver(description="The consignor.")
    def consignor(self) -> Party:
        return Party.of(self.record.consignor)

    @resolver(description="The consignee.")
    def consignee(self) -> Party:
        return Party.of(self.record.consignee)

    @resolver(description="ISO 6346 container numbers.")
    def containers(self) -> list[str]:
        return list(self.record.containers)

    @resolver(description="Seal numbers.")
    def seals(self) -> list[str]:
        return list(self.record.seals)

    @resolver(description="The NBK rate the record was valued at.")
    def exchange_rate(self) -> ExchangeRateInfo:
        rate = self.record.exchange_rate
        return ExchangeRateInfo(
            currency=rate.currency, kzt_per_unit=rate.kzt_per_unit, date=rate.date, source=rate.source
        )

    @resolver(description="Totals as KGD recorded them (value in the invoice currency).")
    def totals(self) -> Totals:
        r = self.record
        return Totals(
            packages=r.total_packages,
            gross_kg=r.total_gross_kg,
            value=Money.of(r.total_value, r.exchange_rate.date),
            item_count=len(r.goods),
            owner=record_owner(r),
        )

    @resolver(description="Total value in tenge.")
    def total_value_kzt(self) -> Decimal | None:
        return self.record.total_value_kzt

    @resolver(description="Goods items as KGD recorded them (descriptions in Russian).")
    def goods(self) -> list[DeclaredGoods]:
        day, owner = self.record.exchange_rate.date, record_owner(self.record)
        return [DeclaredGoods.of(line, day, owner) for line in self.record.goods]

    @resolver(description="KGD's controls of this trip.", graphql_type=list[_LazyInspection] | None)
    def inspections(self, info: Info) -> MaybeAwaitable[list[_LazyInspection] | None]:
        return _inspections(info, self.trip, Authority.KGD)


def _inspections(info: Info, trip: Trip, authority: Authority) -> MaybeAwaitable[list[_LazyInspection] | None]:
    """One side's inspections as schema objects: at once when they have arrived (see
    ``services.trip_inspections_now``), else when they do."""
    from .entities import Inspection

    gw = info.context.gateway
    items = trip_inspections_now(gw, trip, authority)
    if items is not None:
        return [Inspection.of(item) for item in items]

    async def later() -> list[_LazyInspection] | None:
        return [Inspection.of(item) for item in await trip_inspections(gw, trip, authority)]

    return later()
