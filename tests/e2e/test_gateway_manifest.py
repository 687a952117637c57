"""manifest(id:) end to end, checked against the ground-truth trips."""

from __future__ import annotations

from decimal import Decimal

import httpx
from tests.e2e.conftest import World, gql, utc

from customs_sim.model import Direction, EventKind, Side

MANIFEST = """
query($id: ID!) {
  manifest(id: $id) {
    id direction status commonManifestId
    link { method confidence }
    crossingPoint { id phase china { code } kazakhstan { code } }
    vehicle { id plate { canonical native country region } }
    goods { lineNo hs6 hs6Agrees
            china { tariffCode description grossKg value { amount currency amountUsd rateDate rateSource } }
            kazakhstan { tariffCode grossKg value { amount currency amountUsd } } }
    timeline { kind authority at { utc offset } }
    inspections { id authority kind outcome number recognizedByOtherSide startedAt { utc } }
    china { batchNo declaredAt { utc local offset } }
    kazakhstan { piNumber registeredAt { offset } }
  }
}
"""


def test_by_batch_number_joins_both_sides(world: World, client: httpx.Client) -> None:
    trip = world.trip("T20250301-KHORGOS-0001")
    body = gql(client, MANIFEST, id=trip.cn_batch_no)
    assert "errors" not in body, body
    m = body["data"]["manifest"]
    assert m["direction"] == "CN_TO_KZ"
    assert m["crossingPoint"]["id"] == "KHORGOS" and m["crossingPoint"]["phase"] == 2
    assert m["china"]["batchNo"] == trip.cn_batch_no
    assert m["kazakhstan"]["piNumber"] == trip.kz_pi_number
    assert m["commonManifestId"] == trip.common_id
    assert m["link"]["method"] == "COMMON_MANIFEST_ID"
    assert m["vehicle"]["plate"]["native"] == trip.truck.plate
    assert m["vehicle"]["plate"]["country"] == "CN"
    assert m["china"]["declaredAt"]["offset"] == "+08:00"
    declared = trip.event(EventKind.CN_DECLARED)
    assert declared is not None and utc(m["china"]["declaredAt"]["utc"]) == declared.at
    # goods: masses and values are exact decimals, equal to what each side recorded
    assert [g["lineNo"] for g in m["goods"]] == [item.seq for item in trip.items]
    for g, item in zip(m["goods"], trip.items, strict=True):
        assert g["hs6"] == item.hs6
        assert g["china"]["tariffCode"] == item.cn_code
        assert Decimal(g["china"]["grossKg"]) == item.cn_gross_kg
        assert Decimal(g["kazakhstan"]["grossKg"]) == item.kz_gross_kg
        assert Decimal(g["china"]["value"]["amount"]) == item.cn_value
        assert g["china"]["value"]["currency"] == trip.cn_currency
        assert Decimal(g["kazakhstan"]["value"]["amount"]) == item.kz_value
        assert g["kazakhstan"]["value"]["amountUsd"] == g["kazakhstan"]["value"]["amount"]  # invoiced in USD
        assert g["china"]["value"]["amountUsd"] is not None and g["china"]["value"]["rateSource"]
    # both sides' inspections, attributed
    # (KGD numbers its controls itself: compare those by when they started)
    cn_truth = {i.id for i in trip.inspections if i.side is Side.CN}
    kz_truth = sorted(i.started_at for i in trip.inspections if i.side is Side.KZ)
    assert {i["number"] for i in m["inspections"] if i["authority"] == "GACC"} == cn_truth
    kz_got = sorted(utc(i["startedAt"]["utc"]) for i in m["inspections"] if i["authority"] == "KGD")
    assert kz_got == kz_truth and kz_truth
    # timeline in time order, both sides
    times = [utc(e["at"]["utc"]) for e in m["timeline"]]
    assert times == sorted(times)
    assert {e["authority"] for e in m["timeline"]} == {"GACC", "KGD"}


def test_every_id_form_finds_the_same_trip(world: World, client: httpx.Client) -> None:
    trip = world.trip("T20250301-KHORGOS-0001")
    first = gql(client, MANIFEST, id=trip.cn_batch_no)["data"]["manifest"]
    for any_id in (first["id"], trip.common_id, trip.cn_batch_no):
        again = gql(client, MANIFEST, id=any_id)
        assert "errors" not in again, again
        assert again["data"]["manifest"]["id"] == first["id"]
        assert again["data"]["manifest"]["kazakhstan"]["piNumber"] == trip.kz_pi_number


def test_plate_and_time_link_at_phase_zero(world: World, client: httpx.Client) -> None:
    trip = world.trip("T20250301-ALASHANKOU-0003")  # phase 0: no common id, Kazakh truck "103 ABC 19"
    m = gql(client, MANIFEST, id=trip.cn_batch_no)["data"]["manifest"]
    assert m["direction"] == "KZ_TO_CN"
    assert m["link"]["method"] == "PLATE_AND_TIME"
    assert m["kazakhstan"]["piNumber"] == trip.kz_pi_number
    assert m["vehicle"]["plate"]["canonical"] == trip.truck.plate
    assert m["status"] == "RELEASED"


def test_one_sided_trip_says_so(world: World, client: httpx.Client) -> None:
    trip = world.trip("T20250301-BAKHTY-0006")
    assert trip.seen_by == frozenset({Side.KZ}) and trip.direction is Direction.CN_TO_KZ
    unknown = gql(client, MANIFEST, id="9405E2025030100006")
    assert unknown["data"]["manifest"] is None


def test_unknown_and_malformed_ids(client: httpx.Client) -> None:
    assert gql(client, MANIFEST, id="9403E2099010199999")["data"]["manifest"] is None
    bad = gql(client, MANIFEST, id="hello world")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
