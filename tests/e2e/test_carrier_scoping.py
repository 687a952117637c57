"""A carrier sees its own trips only, on every query path, and never another carrier's data
through any cache.

The caches are warmed first by a customs client and by carrier A over every path (so whatever
the gateway caches — upstream entities, list pages, report partials, parsed documents — holds
A's trip), then carrier B asks for that trip over the same paths: lookups by each kind of id,
lists, a vehicle's trips, inspections, ``_entities`` and reports. B must get null with
``FORBIDDEN`` or a list without it, and no identifier of A's trip anywhere in any answer.
Caches hold what the authorities said, keyed by authority and id, not by who asked: the field
rules and scoping run after them, on every request, which is what this proves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DataWorld, gql
from tests.e2e.test_gateway_dataset import has_cn, has_kz
from tests.security_fixtures import CUSTOMS_HEADERS, carrier_headers

from customs_sim.model import Side, Trip

MANIFEST = """query($id: ID!) { manifest(id: $id) {
  id commonManifestId carrier { identifier } driver { passportNo }
  china { batchNo totals { value { amount } } goods { value { amount } } inspections { id number note } }
  kazakhstan { piNumber totalValueKzt inspections { id number } }
  inspections { id number }
} }"""
LIST = """query($f: ManifestFilter!, $after: String) { manifests(filter: $f, first: 100, after: $after) {
  edges { node { id carrier { identifier } china { batchNo } kazakhstan { piNumber } } }
  pageInfo { hasNextPage endCursor } } }"""
INSPECTIONS = """query($f: InspectionFilter!, $after: String) { inspections(filter: $f, first: 100, after: $after) {
  edges { node { id number recordId } } pageInfo { hasNextPage endCursor } } }"""
VEHICLE = """query($plate: String!) { vehicle(plate: $plate) { manifests(first: 50) {
  id carrier { identifier } china { batchNo } kazakhstan { piNumber } } } }"""
INSPECTION = """query($id: ID!) { inspection(id: $id) { id number note manifest { id } } }"""
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Manifest { id china { batchNo } kazakhstan { piNumber } }
  ... on Inspection { id number }
  ... on Vehicle { manifests(first: 50) { id china { batchNo } kazakhstan { piNumber } } } } }"""
TRADE_FLOW = """query($f: ReportFilterInput!) { tradeFlow(filter: $f, groupBy: [CROSSING]) {
  crossingPoint china { valueUsd trucks } kazakhstan { valueUsd trucks } valueGapUsd } }"""


def _carrier_trip(data: DataWorld) -> Trip:
    """A Khorgos trip of a carrier with several trips, both sides recorded, inspected by both."""
    counts: dict[str, int] = {}
    for trip in data.truth.trips():
        counts[trip.carrier.id] = counts.get(trip.carrier.id, 0) + 1
    for trip in data.truth.trips():
        sides = {i.side for i in trip.inspections}
        if (
            trip.crossing == "KHORGOS"
            and has_cn(trip)
            and has_kz(trip)
            and sides == {Side.CN, Side.KZ}
            and counts[trip.carrier.id] >= 3
            and trip.common_id is not None
        ):
            return trip
    raise AssertionError("no suitable trip in the dataset")


def _window(trip: Trip) -> dict[str, str]:
    day = dt.datetime.combine(trip.day, dt.time(), dt.UTC)
    return {"from": (day - dt.timedelta(days=1)).isoformat(), "to": (day + dt.timedelta(days=2)).isoformat()}


def _pages(http: httpx.Client, query: str, f: dict[str, Any]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        body = gql(http, query, f=f, after=after)
        assert "errors" not in body, body
        connection = next(iter(body["data"].values()))
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("paging did not end")


class Paths:
    """Every query path to one trip, asked by one client; returns every answer body."""

    def __init__(self, data: DataWorld, trip: Trip, ids: dict[str, str]) -> None:
        self.data, self.trip, self.ids = data, trip, ids

    def ask_all(self, headers: dict[str, str]) -> dict[str, Any]:
        t = self.trip
        window = {**_window(t), "crossingPoints": ["KHORGOS"]}
        answers: dict[str, Any] = {}
        with httpx.Client(base_url=self.data.gateway_url, timeout=120, headers=headers) as http:
            for kind, any_id in (
                ("batch", t.cn_batch_no),
                ("pi", t.kz_pi_number),
                ("common", t.common_id),
                ("stable", self.ids["stable"]),
            ):
                answers[f"manifest by {kind}"] = gql(http, MANIFEST, id=any_id)
            answers["manifests"] = _pages(http, LIST, window)
            answers["manifests by plate"] = _pages(http, LIST, {**_window(t), "plate": t.truck.plate})
            answers["inspections"] = _pages(http, INSPECTIONS, window)
            answers["vehicle"] = gql(http, VEHICLE, plate=t.truck.plate)
            for number, inspection_id in enumerate(self.ids["inspections"]):
                answers[f"inspection {number}"] = gql(http, INSPECTION, id=inspection_id)
            answers["_entities"] = gql(
                http,
                ENTITIES,
                r=[
                    {"__typename": "Manifest", "id": self.ids["stable"]},
                    *({"__typename": "Inspection", "id": i} for i in self.ids["inspections"]),
                    {"__typename": "Vehicle", "id": self.ids["vehicle"]},
                ],
            )
            day = t.day.isoformat()
            answers["tradeFlow"] = gql(http, TRADE_FLOW, f={"from": day, "to": day, "crossingPoints": ["KHORGOS"]})
            csv = http.get("/reports/trade-flow.csv", params={"from": day, "to": day, "crossing": "KHORGOS"})
            answers["trade-flow.csv"] = {"status": csv.status_code, "text": csv.text}
        return answers


@pytest.fixture(scope="module")
def paths(data: DataWorld, data_client: httpx.Client) -> Paths:
    trip = _carrier_trip(data)
    body = gql(data_client, MANIFEST, id=trip.cn_batch_no)
    assert "errors" not in body, body
    manifest = body["data"]["manifest"]
    vehicle_query = "query($p: String!) { vehicle(plate: $p) { id } }"
    vehicle = gql(data_client, vehicle_query, p=trip.truck.plate)["data"]["vehicle"]["id"]
    ids = {"stable": manifest["id"], "inspections": [i["id"] for i in manifest["inspections"]], "vehicle": vehicle}
    assert len(ids["inspections"]) == len(trip.inspections) >= 2
    return Paths(data, trip, ids)


def _secrets(trip: Trip, ids: dict[str, Any]) -> list[str]:
    """Strings of A's trip that must not appear in an answer to B (the plate B asked by may)."""
    return [
        s
        for s in (trip.cn_batch_no, trip.kz_pi_number, trip.common_id, ids["stable"], trip.driver.id,
                  *ids["inspections"], *(i.id for i in trip.inspections), *(i.note for i in trip.inspections))
        if s
    ]  # fmt: skip


def test_a_carrier_sees_its_own_trip_on_every_path(paths: Paths) -> None:
    trip = paths.trip
    answers = paths.ask_all(carrier_headers(trip.carrier.id))
    for kind in ("batch", "pi", "common", "stable"):
        body = answers[f"manifest by {kind}"]
        manifest = body["data"]["manifest"]
        assert manifest["china"]["batchNo"] == trip.cn_batch_no
        assert manifest["kazakhstan"]["piNumber"] == trip.kz_pi_number
        assert manifest["carrier"]["identifier"] == trip.carrier.id
        assert _value_sum(manifest["china"]["goods"]) == sum(i.cn_value for i in trip.items)
        # Its own trip, but still no driver's personal data and no internal notes for a carrier.
        assert {tuple(e["path"][-1:]) for e in body["errors"]} == {("driver",), ("note",)}
    listed = {n["china"]["batchNo"] for n in answers["manifests"] if n["china"]}
    assert trip.cn_batch_no in listed
    assert {n["carrier"]["identifier"] for n in answers["manifests"]} == {trip.carrier.id}
    assert {n["number"] for n in answers["inspections"]} >= {i.id for i in trip.inspections}


def test_another_carrier_never_sees_it_whatever_the_caches_hold(paths: Paths, data: DataWorld) -> None:
    trip = paths.trip
    paths.ask_all(CUSTOMS_HEADERS)  # warm every cache as customs…
    paths.ask_all(carrier_headers(trip.carrier.id))  # …and as the trip's own carrier
    other = next(t for t in data.truth.trips() if t.carrier.id != trip.carrier.id and t.crossing == "KHORGOS")
    answers = paths.ask_all(carrier_headers(other.carrier.id))

    for kind in ("batch", "pi", "common", "stable"):
        body = answers[f"manifest by {kind}"]
        assert body["data"] == {"manifest": None}
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["manifest"], "FORBIDDEN")]
    for number in range(len(paths.ids["inspections"])):
        body = answers[f"inspection {number}"]
        assert body["data"] == {"inspection": None} and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    entities = answers["_entities"]
    manifest, *inspections, vehicle = entities["data"]["_entities"]
    assert manifest is None and all(i is None for i in inspections)
    assert vehicle == {"manifests": []}  # A's truck: none of its trips is B's
    assert {e["extensions"]["code"] for e in entities["errors"]} == {"FORBIDDEN"}
    assert len(entities["errors"]) == 1 + len(inspections)

    # Lists: only B's own trips (per the ground truth), none of A's.
    own = {t.cn_batch_no for t in data.truth.trips() if t.carrier.id == other.carrier.id} - {None}
    listed = {n["china"]["batchNo"] for n in answers["manifests"] if n["china"]}
    assert listed <= own and trip.cn_batch_no not in listed
    assert {n["carrier"]["identifier"] for n in answers["manifests"]} <= {other.carrier.id}
    assert answers["manifests by plate"] == [] and answers["vehicle"]["data"]["vehicle"]["manifests"] == []
    mine = [t for t in data.truth.trips() if t.carrier.id == other.carrier.id]
    own_records = {r for t in mine for r in (t.cn_batch_no, t.kz_pi_number)}
    assert {n["recordId"] for n in answers["inspections"]} <= own_records

    # Reports: aggregated values are not for carriers (a narrow filter would reveal one trip's).
    flow = answers["tradeFlow"]
    assert flow["data"]["tradeFlow"] and all(row["valueGapUsd"] is None for row in flow["data"]["tradeFlow"])
    assert {e["extensions"]["code"] for e in flow["errors"]} == {"FORBIDDEN"}
    assert answers["trade-flow.csv"]["status"] == 403

    text = repr(answers)
    leaked = [s for s in _secrets(trip, paths.ids) if s in text]
    assert leaked == []


def _value_sum(goods: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(g["value"]["amount"]) for g in goods), Decimal(0))
