"""The gateway over a generated dataset (5 days, 300 trucks a day), checked against its ground truth.

Lists read both authorities lazily from the cursor; these tests check that paging still lists
every record exactly once, joined as the ground truth says, and that a page of 50 trips with
everything costs at most two upstream requests per (authority, endpoint).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from tests.e2e.conftest import DATA_FROM, DATA_TO, DataWorld, gql

from customs_sim.model import EventKind, Side, Trip
from customs_sim.reference import CROSSINGS_BY_ID

PAGE = """
query($filter: ManifestFilter, $first: Int!, $after: String) {
  manifests(filter: $filter, first: $first, after: $after) {
    edges { node { id status link { method } china { batchNo } kazakhstan { piNumber } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

EVERYTHING = """query($f: ManifestFilter, $first: Int!, $after: String) {
  manifests(filter: $f, first: $first, after: $after) { edges { node {
    id status commonManifestId vehicle { id plate { canonical native } }
    goods { hs6 china { value { amountUsd } } kazakhstan { value { amountUsd } } }
    inspections { authority outcome recognizedByOtherSide }
    timeline { kind }
    china { batchNo inspections { number } }
    kazakhstan { piNumber arrival { number } inspections { number } }
  } } pageInfo { hasNextPage endCursor } } }"""


def pages(client: httpx.Client, filter: dict[str, Any], first: int) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = gql(client, PAGE, filter=filter, first=first, after=after)
        assert "errors" not in body, body
        page = body["data"]["manifests"]
        nodes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def has_cn(trip: Trip) -> bool:
    return trip.cn_batch_no is not None and Side.CN in trip.seen_by and trip.event(EventKind.CN_DECLARED) is not None


def has_kz(trip: Trip) -> bool:
    return (
        trip.kz_pi_number is not None
        and Side.KZ in trip.seen_by
        and trip.event(EventKind.KZ_PI_SUBMITTED) is not None
    )


def test_every_record_listed_once_and_joined_as_the_truth_says(data: DataWorld, data_client: httpx.Client) -> None:
    nodes = pages(data_client, {"from": DATA_FROM, "to": DATA_TO}, first=100)
    trips = list(data.truth.trips())
    batch_nos = Counter(n["china"]["batchNo"] for n in nodes if n["china"])
    pi_numbers = Counter(n["kazakhstan"]["piNumber"] for n in nodes if n["kazakhstan"])
    assert len({n["id"] for n in nodes}) == len(nodes)
    assert set(batch_nos) == {t.cn_batch_no for t in trips if has_cn(t)}
    assert set(pi_numbers) == {t.kz_pi_number for t in trips if has_kz(t)}
    assert max(batch_nos.values()) == 1 and max(pi_numbers.values()) == 1
    wrong: dict[int, int] = Counter()
    joined: dict[int, int] = Counter()
    for node in nodes:
        if not (node["china"] and node["kazakhstan"]):
            assert node["status"] in {"CHINA_ONLY", "KAZAKHSTAN_ONLY"}
            continue
        trip = data.truth.by_cn_batch_no(node["china"]["batchNo"])
        assert trip is not None
        phase = CROSSINGS_BY_ID[trip.crossing].phase
        joined[phase] += 1
        if trip.kz_pi_number != node["kazakhstan"]["piNumber"]:
            wrong[phase] += 1
    assert wrong[1] == wrong[2] == 0  # a common id decides
    assert joined[0] and wrong[0] <= joined[0] // 50  # plate and time: rare mistakes on reused trucks


def test_filters_against_the_truth(data: DataWorld, data_client: httpx.Client) -> None:
    window = {"from": DATA_FROM, "to": DATA_TO}
    dulata = pages(data_client, {**window, "crossingPoints": ["DULATA"], "direction": "KZ_TO_CN"}, first=50)
    expected = {
        t.kz_pi_number if has_kz(t) else t.cn_batch_no
        for t in data.truth.trips()
        if t.crossing == "DULATA" and t.direction.value == "KZ_CN" and (has_kz(t) or has_cn(t))
    }
    assert {(n["kazakhstan"] or {}).get("piNumber") or n["china"]["batchNo"] for n in dulata} == expected
    kz_only = pages(data_client, {**window, "crossingPoints": ["KHORGOS"], "status": ["KAZAKHSTAN_ONLY"]}, first=50)
    assert {n["kazakhstan"]["piNumber"] for n in kz_only} == {
        t.kz_pi_number for t in data.truth.trips() if t.crossing == "KHORGOS" and has_kz(t) and not has_cn(t)
    }


def test_a_page_of_fifty_with_everything_costs_two_requests_per_resource(
    data: DataWorld, data_client: httpx.Client
) -> None:
    data.china.reset()
    data.kazakhstan.reset()
    body = gql(data_client, EVERYTHING, f={"from": "2025-03-02T00:00:00Z", "to": "2025-03-04T00:00:00Z"}, first=50)
    assert "errors" not in body, body
    assert len(body["data"]["manifests"]["edges"]) == 50
    counts = {**data.china.counters(), **data.kazakhstan.counters()}
    counts.pop("POST /auth/token", None)
    assert counts and all(v <= 2 for v in counts.values()), counts
    single = [k for k in counts if k.endswith("{batchNo}") or k.endswith("{number}")]
    assert not single, counts  # nothing fetched one by one


def test_a_stable_id_costs_one_round(data: DataWorld, data_client: httpx.Client) -> None:
    trip = next(t for t in data.truth.trips() if t.crossing == "KHORGOS" and has_cn(t) and has_kz(t))
    query = """query($id: ID!) { manifest(id: $id) { id china { batchNo } kazakhstan { piNumber }
      inspections { number } goods { china { value { amountUsd } } } } }"""
    stable = gql(data_client, query, id=trip.cn_batch_no)["data"]["manifest"]["id"]
    data.china.reset()
    data.kazakhstan.reset()
    body = gql(data_client, query, id=stable)
    assert "errors" not in body, body
    m = body["data"]["manifest"]
    assert m["id"] == stable and m["kazakhstan"]["piNumber"] == trip.kz_pi_number
    assert {i["number"] for i in m["inspections"]} >= {i.id for i in trip.inspections if i.side is Side.CN}
    counts = {**data.china.counters(), **data.kazakhstan.counters()}
    counts.pop("POST /auth/token", None)
    # By common id, both sides, records and inspections, plus one range of rates: nothing by key.
    assert counts == {
        "POST /gacc/api/v1/road-manifests/batch-query": 1,
        "POST /gacc/api/v1/inspections/batch-query": 1,
        "GET /api/v1/preliminary-information/batch": 1,
        "GET /api/v1/control-results/batch": 1,
        "GET /api/v1/exchange-rates": 1,
    }, counts
