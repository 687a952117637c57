"""Every role × every protected field, over the generated dataset, checked against its ground truth.

The expected matrix is written out here, apart from the rules table it tests: where a role may
see a field the value must be the ground truth's; where it may not, that field alone is null
with ``FORBIDDEN`` at its path and the rest of the answer comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DataWorld, gql
from tests.e2e.test_gateway_dataset import has_cn, has_kz
from tests.security_fixtures import bearer, carrier_headers, claims, hs256, role_headers

from customs_gateway.security import Role
from customs_sim.model import EventKind, Side, Trip
from customs_sim.rates import nbk_rate

CENT = Decimal("0.01")
KZ_OFFSET = dt.timedelta(hours=5)  # the dataset is in 2025: the Kazakh posts are at +05:00


def chosen_trip(data: DataWorld) -> Trip:
    """A Khorgos trip both authorities recorded, each with an inspection of its own."""
    for trip in data.truth.trips():
        sides = {i.side for i in trip.inspections}
        if trip.crossing == "KHORGOS" and has_cn(trip) and has_kz(trip) and sides == {Side.CN, Side.KZ}:
            return trip
    raise AssertionError("the dataset has no Khorgos trip inspected by both sides")


def other_carrier(data: DataWorld, trip: Trip) -> str:
    return next(t.carrier.id for t in data.truth.trips() if t.carrier.id != trip.carrier.id)


def kzt(trip: Trip, value: Decimal) -> Decimal:
    submitted = trip.event(EventKind.KZ_PI_SUBMITTED)
    assert submitted is not None
    day = (submitted.at.astimezone(dt.UTC) + KZ_OFFSET).date()
    rate = nbk_rate(day, trip.invoice_currency).quantize(CENT, ROUND_HALF_UP)
    return (value * rate).quantize(CENT, ROUND_HALF_UP)


# (field, the selection under manifest, path of the ruled field's value, truth of the allowed value)
Probe = tuple[str, str, Callable[[dict[str, Any]], Any], Callable[[Trip], Any]]
PROBES: list[Probe] = [
    (
        "Manifest.driver",
        "driver { passportNo nameLatin }",
        lambda m: m["driver"] and m["driver"]["passportNo"],
        lambda t: t.driver.id,
    ),
    (
        "ChinaManifest.driver",
        "china { batchNo driver { passportNo } }",
        lambda m: m["china"]["driver"] and m["china"]["driver"]["passportNo"],
        lambda t: t.driver.id,
    ),
    (
        "KazakhstanPreliminaryInformation.driver",
        "kazakhstan { piNumber driver { passportNo } }",
        lambda m: m["kazakhstan"]["driver"] and m["kazakhstan"]["driver"]["passportNo"],
        lambda t: t.driver.id,
    ),
    (
        "DeclaredGoods.value",
        "china { batchNo goods { lineNo value { amount } } }",
        lambda m: [g["value"] and Decimal(g["value"]["amount"]) for g in m["china"]["goods"]],
        lambda t: [i.cn_value for i in t.items],
    ),
    (
        "DeclaredGoods.valueKzt",
        "kazakhstan { piNumber goods { lineNo valueKzt } }",
        lambda m: [g["valueKzt"] and Decimal(g["valueKzt"]) for g in m["kazakhstan"]["goods"]],
        lambda t: [kzt(t, i.kz_value) for i in t.items],
    ),
    (
        "Totals.value",
        "china { batchNo totals { grossKg value { amount } } }",
        lambda m: m["china"]["totals"]["value"] and Decimal(m["china"]["totals"]["value"]["amount"]),
        lambda t: sum((i.cn_value for i in t.items), Decimal(0)),
    ),
    (
        "KazakhstanPreliminaryInformation.totalValueKzt",
        "kazakhstan { piNumber totalValueKzt }",
        lambda m: m["kazakhstan"]["totalValueKzt"] and Decimal(m["kazakhstan"]["totalValueKzt"]),
        lambda t: sum((kzt(t, i.kz_value) for i in t.items), Decimal(0)),
    ),
    (
        "Inspection.note (GACC)",
        "china { batchNo inspections { number note } }",
        lambda m: sorted(str(i["note"]) for i in m["china"]["inspections"]),
        lambda t: sorted(i.note for i in t.inspections if i.side is Side.CN),
    ),
    (
        "Inspection.note (KGD)",
        "kazakhstan { piNumber inspections { number note } }",
        lambda m: sorted(str(i["note"]) for i in m["kazakhstan"]["inspections"]),
        lambda t: sorted(i.note for i in t.inspections if i.side is Side.KZ),
    ),
]

CUSTOMS_ONLY = {"china_customs", "kazakhstan_customs"}
ALL_BUT_OTHER_CARRIERS = {"china_customs", "kazakhstan_customs", "partner_agency", "analyst", "demo", "carrier (own)"}
#: The specification, written independently of security/rules.py.
EXPECTED: dict[str, set[str]] = {
    "Manifest.driver": CUSTOMS_ONLY,
    "ChinaManifest.driver": CUSTOMS_ONLY,
    "KazakhstanPreliminaryInformation.driver": CUSTOMS_ONLY,
    "DeclaredGoods.value": ALL_BUT_OTHER_CARRIERS,
    "DeclaredGoods.valueKzt": ALL_BUT_OTHER_CARRIERS,
    "Totals.value": ALL_BUT_OTHER_CARRIERS,
    "KazakhstanPreliminaryInformation.totalValueKzt": ALL_BUT_OTHER_CARRIERS,
    "Inspection.note (GACC)": {"china_customs"},
    "Inspection.note (KGD)": {"kazakhstan_customs"},
}
AUDIENCES = [
    "china_customs", "kazakhstan_customs", "partner_agency", "analyst", "demo", "carrier (own)", "carrier (other)"
]  # fmt: skip


def headers_of(audience: str, data: DataWorld, trip: Trip) -> dict[str, str]:
    if audience == "carrier (own)":
        return carrier_headers(trip.carrier.id)
    if audience == "carrier (other)":
        return carrier_headers(other_carrier(data, trip))
    if audience == "demo":
        return bearer(hs256(claims(Role.DEMO, sub="demo-client")))
    return role_headers(Role(audience))


def ask(data: DataWorld, headers: dict[str, str], trip: Trip, selection: str) -> dict[str, Any]:
    query = f'query($id: ID!) {{ manifest(id: $id) {{ id direction {selection} }} }}'
    with httpx.Client(base_url=data.gateway_url, timeout=60, headers=headers) as http:
        return gql(http, query, id=trip.cn_batch_no)


def forbidden_paths(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    errors = body.get("errors") or []
    assert all(e["extensions"]["code"] == "FORBIDDEN" for e in errors), errors
    return [tuple(e["path"]) for e in errors]


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize(("field", "selection", "value_of", "truth_of"), PROBES, ids=[p[0] for p in PROBES])
def test_each_role_sees_exactly_the_protected_fields_it_may(
    data: DataWorld,
    audience: str,
    field: str,
    selection: str,
    value_of: Callable[[dict[str, Any]], Any],
    truth_of: Callable[[Trip], Any],
) -> None:
    trip = chosen_trip(data)
    body = ask(data, headers_of(audience, data, trip), trip, selection)
    if audience == "carrier (other)":
        # Another carrier's trip is not there at all: null with FORBIDDEN, never a field of it.
        assert body["data"] == {"manifest": None}
        assert forbidden_paths(body) == [("manifest",)]
        return
    manifest = body["data"]["manifest"]
    assert manifest["id"]
    assert manifest["direction"] == ("CN_TO_KZ" if trip.direction.value == "CN_KZ" else "KZ_TO_CN")
    if audience in EXPECTED[field]:
        assert "errors" not in body, body["errors"]
        assert value_of(manifest) == truth_of(trip)
    else:
        paths = forbidden_paths(body)
        assert paths, f"{audience} was shown {field}"
        truth = truth_of(trip)
        value = value_of(manifest)
        # Every instance of the field is null (a list: each item's field), and only it is.
        if isinstance(truth, list):
            assert all(v in (None, "None") for v in value) and len(value) == len(truth)
        else:
            assert value is None
        assert all(path[-1] in {"driver", "value", "valueKzt", "totalValueKzt", "note"} for path in paths)


def test_the_schema_says_who_may_see_each_ruled_field(data: DataWorld) -> None:
    query = '{ __type(name: "Manifest") { fields { name description } } }'
    with httpx.Client(base_url=data.gateway_url, timeout=60, headers=role_headers(Role.ANALYST)) as http:
        fields = {f["name"]: f["description"] for f in gql(http, query)["data"]["__type"]["fields"]}
    assert fields["driver"].endswith("Visible to: china_customs, kazakhstan_customs.")
    assert "Visible to" not in fields["carrier"]


TRADE_FLOW = """query($f: ReportFilterInput!) { tradeFlow(filter: $f, groupBy: [CROSSING, DIRECTION]) {
  crossingPoint direction china { valueUsd grossKg trucks } kazakhstan { valueUsd grossKg trucks }
  valueGapUsd kazakhstanToChinaValueRatio } }"""
REPORT_VALUES = {"china_customs", "kazakhstan_customs", "partner_agency", "analyst", "demo"}


@pytest.mark.parametrize("audience", AUDIENCES)
def test_report_value_aggregates_by_role(data: DataWorld, audience: str) -> None:
    """Allowed roles get exactly the customs answer (checked against the truth in
    test_gateway_reports); carriers get the masses and truck counts, values null with FORBIDDEN."""
    trip = chosen_trip(data)
    f = {"from": trip.day.isoformat(), "to": trip.day.isoformat(), "crossingPoints": ["KHORGOS"]}
    with httpx.Client(base_url=data.gateway_url, timeout=60, headers=role_headers(Role.CHINA_CUSTOMS)) as http:
        reference = gql(http, TRADE_FLOW, f=f)
    assert "errors" not in reference and reference["data"]["tradeFlow"], reference
    with httpx.Client(base_url=data.gateway_url, timeout=60, headers=headers_of(audience, data, trip)) as http:
        body = gql(http, TRADE_FLOW, f=f)
    if audience in REPORT_VALUES:
        assert body == reference
        return
    rows, expected = body["data"]["tradeFlow"], reference["data"]["tradeFlow"]
    assert [(r["china"]["trucks"], r["kazakhstan"]["grossKg"]) for r in rows] == [
        (r["china"]["trucks"], r["kazakhstan"]["grossKg"]) for r in expected
    ]
    assert all(r["valueGapUsd"] is None and r["china"]["valueUsd"] is None for r in rows)
    denied = {path[-1] for path in forbidden_paths(body)}
    assert denied == {"valueUsd", "valueGapUsd", "kazakhstanToChinaValueRatio"}
