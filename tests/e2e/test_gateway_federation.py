"""Federation: entities resolve by their stable ids through the same loaders."""

from __future__ import annotations

import httpx
from tests.e2e.conftest import World, gql


def test_entities_resolve_by_stable_id(world: World, client: httpx.Client) -> None:
    trip = world.trip("T20250301-KHORGOS-0001")
    stable = gql(client, "query($id: ID!) { manifest(id: $id) { id } }", id=trip.cn_batch_no)["data"]["manifest"]["id"]
    body = gql(
        client,
        """query($r: [_Any!]!) { _entities(representations: $r) {
          ... on Manifest { kazakhstan { piNumber } }
          ... on Vehicle { plate { native } }
          ... on CrossingPoint { phase } } }""",
        r=[
            {"__typename": "Manifest", "id": stable},
            {"__typename": "Vehicle", "id": "XINF10001"},
            {"__typename": "CrossingPoint", "id": "DULATA"},
        ],
    )
    assert "errors" not in body, body
    manifest, vehicle, crossing = body["data"]["_entities"]
    assert manifest["kazakhstan"]["piNumber"] == trip.kz_pi_number
    assert vehicle["plate"]["native"] == "新F10001"
    assert crossing["phase"] == 1
    sdl = gql(client, "{ _service { sdl } }")["data"]["_service"]["sdl"]
    assert '@key(fields: "id")' in sdl
