"""crossingPoints, vehicle(plate:), manifests and inspections lists, against the ground truth."""

from __future__ import annotations

import httpx
from tests.e2e.conftest import WINDOW_FROM, WINDOW_TO, World, gql, utc

from customs_sim.model import EventKind, Side
from customs_sim.reference import CROSSINGS

LIST = """
query($filter: ManifestFilter, $first: Int!, $after: String) {
  manifests(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id status china { batchNo } kazakhstan { piNumber } } }
    pageInfo { hasNextPage endCursor }
    complete
  }
}
"""


def _cn_records(world: World) -> set[str]:
    """Batch numbers China has by the as-of instant (a trip not yet declared there has none)."""
    return {t.cn_batch_no for t in world.trips if t.cn_batch_no and t.event(EventKind.CN_DECLARED)}


def _kz_records(world: World) -> set[str]:
    return {t.kz_pi_number for t in world.trips if t.kz_pi_number and t.event(EventKind.KZ_PI_SUBMITTED)}


def _all_pages(client: httpx.Client, filter: dict[str, object], first: int) -> list[dict[str, object]]:
    nodes: list[dict[str, object]] = []
    after = None
    while True:
        body = gql(client, LIST, filter=filter, first=first, after=after)
        assert "errors" not in body, body
        page = body["data"]["manifests"]
        nodes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def test_crossing_points(client: httpx.Client) -> None:
    body = gql(
        client,
        "{ crossingPoints { id phase china { code locode { code official } } "
        "kazakhstan { code timeZone locode { code official } } } }",
    )
    got = {c["id"]: c for c in body["data"]["crossingPoints"]}
    for crossing in CROSSINGS:
        assert got[crossing.id]["phase"] == crossing.phase
        assert got[crossing.id]["china"]["code"] == crossing.cn.code
        assert got[crossing.id]["kazakhstan"]["code"] == crossing.kz.code
        assert got[crossing.id]["kazakhstan"]["locode"]["official"] is False


def test_window_and_first_are_validated(client: httpx.Client) -> None:
    too_many = gql(client, LIST, filter={"from": WINDOW_FROM, "to": WINDOW_TO}, first=101)
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_long = gql(client, LIST, filter={"from": "2025-01-01T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, first=5)
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_vehicle_by_any_spelling(world: World, client: httpx.Client) -> None:
    trip = world.trip("T20250301-KHORGOS-0001")  # 新F10001
    query = (
        "query($p: String!) { vehicle(plate: $p) { id plate { canonical native latin country region } "
        "manifests { china { batchNo } } } }"
    )
    seen = set()
    for spelling in ("新F10001", "新F·10001", "新Ｆ１０００１", "XINF10001"):
        body = gql(client, query, p=spelling)
        assert "errors" not in body, body
        v = body["data"]["vehicle"]
        assert v["plate"]["native"] == trip.truck.plate and v["plate"]["country"] == "CN"
        seen.add(v["id"])
        assert trip.cn_batch_no in {m["china"]["batchNo"] for m in v["manifests"] if m["china"]}
    assert len(seen) == 1
    kz_truck = world.trip("T20250301-ALASHANKOU-0003").truck.plate  # 103ABC19
    for spelling in (kz_truck, "103 ABC 19"):
        v = gql(client, query, p=spelling)["data"]["vehicle"]
        assert v["plate"]["canonical"] == kz_truck and v["plate"]["country"] == "KZ" and v["plate"]["region"] == "19"


def test_inspections_list(world: World, client: httpx.Client) -> None:
    query = """query($f: InspectionFilter, $after: String) { inspections(filter: $f, first: 10, after: $after) {
      edges { node { authority number startedAt { utc } } } pageInfo { hasNextPage endCursor } complete } }"""
    got, after = [], None
    while True:
        body = gql(client, query, f={"from": WINDOW_FROM, "to": WINDOW_TO}, after=after)
        assert "errors" not in body, body
        page = body["data"]["inspections"]
        got.extend(e["node"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    times = [utc(n["startedAt"]["utc"]) for n in got]
    assert times == sorted(times)
    expected = sorted(
        i.started_at
        for t in world.trips
        for i in t.inspections
        if (i.side is Side.CN and t.cn_batch_no) or (i.side is Side.KZ and t.kz_pi_number)
    )
    assert times == expected
