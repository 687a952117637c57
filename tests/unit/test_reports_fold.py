"""The scan's integer fold (cents and grams, turned into Decimal once per group) against adding up
``Decimal`` amounts line by line, as reports defined their figures before: the same values with
the same digits and exponents (a partial's figures are stored and shown as decimal strings).

Records are the simulators' own (both sides, so several currencies), valued with rates that miss
CNY on some days (unpriced lines), plus records without goods lines and one whose lines change
currency back and forth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from collections.abc import Mapping
from decimal import Decimal

import orjson
import pytest

from customs_gateway.discrepancies import totals_gap
from customs_gateway.domain import Direction, ExchangeRate
from customs_gateway.money import convert
from customs_gateway.reports.partials import Flow, SidePartial, minutes_between
from customs_gateway.reports.scan import SideFold, Stub, fold_record
from customs_gateway.reports.valuation import LARGEST_KEPT, GapTotals, TripGap, ValuationPartial
from customs_gateway.reports.valuation_fold import UsdFactors, ValuationFold, _trip_gap
from customs_gateway.sources.base import ScanRecord
from customs_gateway.sources.china.scan import ManifestScanReader
from customs_gateway.sources.kazakhstan.scan import ScanPageReader
from customs_sim.china import render as cn_render
from customs_sim.generator import DatasetParams, generate_trips
from customs_sim.kazakhstan import render as kz_render
from customs_sim.kazakhstan.documents import list_document
from customs_sim.rates import nbk_rate

PARAMS = DatasetParams(seed=17, start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 6), trucks_per_day=50)
RatesByDay = Mapping[dt.date, Mapping[str, ExchangeRate]]


@pytest.fixture(scope="module")
def records() -> dict[str, list[ScanRecord]]:
    trips = list(generate_trips(PARAMS))
    cn_reader = ManifestScanReader()
    china = [cn_reader.read(orjson.loads(r.manifest.doc)) for r in map(cn_render.render_trip, trips) if r is not None]
    kz_reader = ScanPageReader()
    docs = [r.pi.doc for r in (kz_render.render_trip(trip, nbk_rate) for trip in trips) if r is not None]
    page = kz_reader.extract(list_document("PreliminaryInformationList", docs), "/preliminary-information")
    kazakhstan = kz_reader.records(page, 0)
    bare = [record._replace(goods=()) for record in (china[0], kazakhstan[0])]
    # Lines whose currency changes back and forth (the fold looks a factor up again at each change).
    lines = [line for record in china[:6] for line in record.goods][:5]
    mixed = china[1]._replace(
        goods=tuple(
            line._replace(currency=c) for line, c in zip(lines, ["CNY", "USD", "CNY", "EUR", "EUR"], strict=True)
        )
    )
    return {"china": [*china, mixed, bare[0]], "kazakhstan": [*kazakhstan, bare[1]]}


def rates_for(records: list[ScanRecord], *, without_cny_on: set[dt.date]) -> RatesByDay:
    days = {record.rate_date for record in records}
    return {
        day: {
            currency: ExchangeRate(currency, nbk_rate(day, currency), day, "NBK")
            for currency in ("USD", "CNY", "EUR", "RUB")
            if not (currency == "CNY" and day in without_cny_on)
        }
        for day in days
    }


def reference_fold(records: list[ScanRecord], rates: RatesByDay) -> tuple[SidePartial, list[dict[str, Decimal]]]:
    """The figures' definition: each line converted by ``money.convert``, added up in Decimal."""
    side = SidePartial()
    per_record = []
    for record in records:
        total = Flow(trucks=1)
        by_hs6: dict[str, Decimal] = {}
        seen: set[str] = set()
        chapters: set[str] = set()
        for line in record.goods:
            flow = side.hs6.setdefault(line.hs6, Flow())
            try:
                usd = convert(line.value, "USD", rates.get(record.rate_date, {})).amount
            except KeyError:
                side.unpriced += 1
            else:
                flow.value_usd += usd
                total.value_usd += usd
                by_hs6[line.hs6] = by_hs6.get(line.hs6, Decimal(0)) + usd
            flow.gross_kg += line.gross_kg
            total.gross_kg += line.gross_kg
            if line.hs6 not in seen:
                seen.add(line.hs6)
                flow.trucks += 1
            chapters.add(line.hs6[:2])
        for chapter in chapters:
            side.chapter_trucks[chapter] = side.chapter_trucks.get(chapter, 0) + 1
        side.total.add(total)
        if record.final_at is None:
            side.open += 1
        else:
            minutes = minutes_between(record.declared_at, record.final_at)
            side.clearance[minutes] = side.clearance.get(minutes, 0) + 1
        per_record.append(by_hs6)
    return side, per_record


def dumped(side: SidePartial) -> object:
    return (
        side.total.dump(),
        {code: flow.dump() for code, flow in sorted(side.hs6.items())},
        side.chapter_trucks,
        side.unpriced,
        side.clearance,
        side.open,
    )


@pytest.mark.parametrize("side_name", ["china", "kazakhstan"])
@pytest.mark.parametrize("missing_cny", [False, True])
def test_the_integer_fold_gives_the_decimal_figures(
    records: dict[str, list[ScanRecord]], side_name: str, missing_cny: bool
) -> None:
    chosen = records[side_name]
    first_day = min(record.rate_date for record in chosen)
    rates = rates_for(chosen, without_cny_on={first_day} if missing_cny else set())
    expected, expected_lines = reference_fold(chosen, rates)
    fold = SideFold()
    factors = UsdFactors(rates)
    stubs = [fold_record(fold, record, factors) for record in chosen]
    folded = SidePartial()
    fold.into(folded)
    assert dumped(folded) == dumped(expected)
    assert (folded.unpriced > 0) is missing_cny
    assert [
        {code: Decimal(cents).scaleb(-2) for code, cents in stub.usd_by_hs6.items()} for stub in stubs
    ] == expected_lines
    # Stubs are built with tuple.__new__: the class, its arity, and each field where Stub puts it.
    assert all(type(stub) is Stub and len(stub) == len(Stub._fields) for stub in stubs)
    assert [(s.common_id, s.plate, s.declared_at, s.final_at, s.record) for s in stubs] == [
        (r.common_manifest_id, r.plate, r.declared_at, r.final_at, r) for r in chosen
    ]
    assert {currency for record in chosen for _, _, _, currency in record.goods} >= {"USD", "CNY"}


def test_a_side_without_priced_lines_keeps_decimal_zero(records: dict[str, list[ScanRecord]]) -> None:
    fold = SideFold()
    fold_record(fold, records["china"][-1], UsdFactors({}))  # the record without goods lines
    side = SidePartial()
    fold.into(side)
    assert side.total.dump() == ["0", "0", 1] == reference_fold([records["china"][-1]], {})[0].total.dump()


@pytest.mark.parametrize("missing_cny", [False, True])
def test_valuation_gaps_are_the_discrepancy_s_value_gaps(
    records: dict[str, list[ScanRecord]], missing_cny: bool
) -> None:
    count = min(len(records["china"]), len(records["kazakhstan"]))
    china, kazakhstan = records["china"][:count], records["kazakhstan"][:count]
    # Twice as many trips as LARGEST_KEPT and more, so the partial trims its largest gaps on the way.
    pairs = [*zip(china, kazakhstan, strict=True), *zip(china, kazakhstan[1:] + kazakhstan[:1], strict=True)]
    rates = rates_for(
        [record for pair in pairs for record in pair],
        without_cny_on={pairs[0][0].rate_date} if missing_cny else set(),
    )
    fold = ValuationFold()
    expected = []
    by_carrier: dict[str, GapTotals] = {}
    by_hs6: dict[str, GapTotals] = {}
    for cn, kz in pairs:
        fold.fold_pair(cn, kz, rates, "KHORGOS", dt.date(2025, 3, 4))
        gap = totals_gap(
            cn.total_value,
            kz.total_value,
            cn.direction,
            (cn.rate_date, rates.get(cn.rate_date)),
            (kz.rate_date, rates.get(kz.rate_date)),
        )
        if gap is None:
            continue
        expected.append((cn.key, str(gap.china_usd), str(gap.kazakhstan_usd), str(gap.gap_usd), str(gap.relative_gap)))
        # The groups as they were added up before the sums were integers: Decimal by Decimal.
        carrier = cn.carrier.id or kz.carrier.id or cn.carrier.name
        by_carrier.setdefault(carrier, GapTotals()).add(GapTotals(gap.china_usd, gap.kazakhstan_usd, gap.gap_usd, 1))
        cn_lines, kz_lines = (reference_lines(r, rates) for r in (cn, kz))
        for code in cn_lines.keys() | kz_lines.keys():
            cn_usd, kz_usd = cn_lines.get(code, Decimal(0)), kz_lines.get(code, Decimal(0))
            code_gap = kz_usd - cn_usd if cn.direction is Direction.CN_TO_KZ else cn_usd - kz_usd
            by_hs6.setdefault(code, GapTotals()).add(GapTotals(cn_usd, kz_usd, code_gap, 1))
    partial = ValuationPartial.from_bytes(fold.partial().to_bytes())
    assert partial.unpriced == len(pairs) - len(expected) and (partial.unpriced > 0) is missing_cny
    assert str(partial.total.gap_usd) == str(sum((Decimal(row[3]) for row in expected), Decimal(0)))
    assert {k: t.dump() for k, t in partial.by_carrier.items()} == {k: t.dump() for k, t in by_carrier.items()}
    assert {k: t.dump() for k, t in partial.by_hs6.items()} == {k: t.dump() for k, t in by_hs6.items()}
    assert any(t.china_usd == 0 and str(t.china_usd) == "0" for t in partial.by_hs6.values())  # a code China lacks
    largest = sorted(expected, key=lambda row: (-abs(Decimal(row[3])), row[0]))[:LARGEST_KEPT]
    assert len(expected) > 2 * LARGEST_KEPT
    assert [
        (g.china_batch_no, str(g.china_usd), str(g.kazakhstan_usd), str(g.gap_usd), str(g.relative_gap))
        for g in partial.largest
    ] == largest


def test_trip_gaps_are_built_with_exactly_trip_gap_s_fields() -> None:
    # valuation_fold._trip_gap sets TripGap's fields without its generated __init__: that is the
    # same only while TripGap has these fields, in this order, and nothing else to run.
    fields = dataclasses.fields(TripGap)
    assert [f.name for f in fields] == list(inspect.signature(_trip_gap).parameters)
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields)
    assert not hasattr(TripGap, "__post_init__")


def test_a_folded_trip_gap_is_the_one_its_constructor_builds(records: dict[str, list[ScanRecord]]) -> None:
    count = min(len(records["china"]), len(records["kazakhstan"]))
    pairs = list(zip(records["china"][:count], records["kazakhstan"][:count], strict=True))
    rates = rates_for([record for pair in pairs for record in pair], without_cny_on=set())
    fold = ValuationFold()
    for cn, kz in pairs:
        fold.fold_pair(cn, kz, rates, "KHORGOS", dt.date(2025, 3, 4))
    gaps = fold.partial().largest
    assert gaps and any(gap.relative_gap is not None for gap in gaps)
    for gap in gaps:
        built = TripGap(**{f.name: getattr(gap, f.name) for f in dataclasses.fields(TripGap)})
        assert (gap, hash(gap), repr(gap), type(gap), gap.dump()) == (
            built,
            hash(built),
            repr(built),
            TripGap,
            built.dump(),
        )
        with pytest.raises(dataclasses.FrozenInstanceError):
            gap.crossing = "X"  # type: ignore[misc]


def reference_lines(record: ScanRecord, rates: RatesByDay) -> dict[str, Decimal]:
    by_hs6: dict[str, Decimal] = {}
    for line in record.goods:
        try:
            usd = convert(line.value, "USD", rates[record.rate_date]).amount
        except KeyError:
            continue
        by_hs6[line.hs6] = by_hs6.get(line.hs6, Decimal(0)) + usd
    return by_hs6


def test_valuation_from_the_fold_s_cents_is_valuation_from_the_lines(records: dict[str, list[ScanRecord]]) -> None:
    china, kazakhstan = records["china"][:40], records["kazakhstan"][:40]
    rates = rates_for([*china, *kazakhstan], without_cny_on=set())
    factors = UsdFactors(rates)
    with_cents, recomputed = ValuationFold(), ValuationFold()
    for cn, kz in zip(china, kazakhstan, strict=True):
        cn_stub, kz_stub = fold_record(SideFold(), cn, factors), fold_record(SideFold(), kz, factors)
        day = cn.declared_at.date()
        with_cents.fold_pair(cn, kz, rates, "KHORGOS", day, lines_usd=(cn_stub.usd_by_hs6, kz_stub.usd_by_hs6))
        recomputed.fold_pair(cn, kz, rates, "KHORGOS", day)
    assert with_cents.partial().to_bytes() == recomputed.partial().to_bytes()
    assert with_cents.partial().total.trips == 40
