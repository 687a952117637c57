"""What a hostile client sends the real gateway: each gets a clear error, nothing leaks (no stack
traces, upstream URLs or secrets) and nothing reaches an upstream it should not (the simulators' own
per-endpoint counters, over HTTP, are the witness). Credentials are tested in the authentication suite.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import CN_SECRET, KZ_SECRET, Upstreams, World

from customs_gateway.domain import Authority, Direction
from customs_gateway.ids import InspectionKey, ManifestKey, RecordKey, encode_inspection_id, encode_manifest_id

HOSTILE = [
    "..",
    "%2E%2E",
    "../../ports",
    "%2E%2E%2F%2E%2E%2Fports",
    "9403E2025030100001/../../inspections",
    "..%2F..%2Fports",
    "9403E2025030100001%2F..%2Fports",
    "x?pageSize=1000",
    "x&portCode=9403",
    "x#fragment",
    "x\r\nX-Injected: 1",
    "x%0d%0aX-Injected:%201",
    "x\x00y",
    "ports",
]
LEAKS = ("Traceback", "127.0.0.1", "http://", "localhost", CN_SECRET, KZ_SECRET, "sign=", "Bearer ")


def post(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    assert not any(leak in response.text for leak in LEAKS), response.text
    body: dict[str, Any] = response.json()
    return body


def forged_manifest_id(authority: Authority, key: str) -> str:
    at = dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC)
    return encode_manifest_id(
        ManifestKey(RecordKey(authority, key), "KHORGOS", Direction.CN_TO_KZ, None, "XINF12345", at)
    )


MANIFEST = "query($id: ID!) { manifest(id: $id) { id china { batchNo } kazakhstan { piNumber } inspections { id } } }"
INSPECTION = "query($id: ID!) { inspection(id: $id) { id number manifest { id } } }"


def lookup_endpoints(upstreams: Upstreams, client: httpx.Client, query: str, value: str) -> set[str]:
    upstreams.reset()
    post(client, query, id=value)
    return upstreams.endpoints()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_manifest_ids_are_refused_before_any_call(
    client: httpx.Client, upstreams: Upstreams, value: str
) -> None:
    upstreams.reset()
    body = post(client, MANIFEST, id=value)
    assert body["data"]["manifest"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith("not a manifest id")
    assert upstreams.endpoints() == set()


@pytest.mark.parametrize("authority", list(Authority))
@pytest.mark.parametrize("value", HOSTILE)
def test_forged_manifest_ids_reach_only_the_lookup_endpoints(
    world: World, client: httpx.Client, upstreams: Upstreams, authority: Authority, value: str
) -> None:
    trip = next(t for t in world.trips if t.cn_batch_no and t.kz_pi_number and t.crossing == "KHORGOS")
    genuine = trip.cn_batch_no if authority is Authority.GACC else trip.kz_pi_number
    assert genuine is not None
    allowed = lookup_endpoints(upstreams, client, MANIFEST, forged_manifest_id(authority, genuine))
    assert allowed, "the genuine lookup must reach the authorities (else this test proves nothing)"
    used = lookup_endpoints(upstreams, client, MANIFEST, forged_manifest_id(authority, value))
    assert not any("(unrouted)" in e for e in used), used
    assert used <= allowed, f"{value!r} reached {used - allowed}"
    assert used == set()  # a record key that is not a batch / PI number is refused before any call


@pytest.mark.parametrize("value", HOSTILE)
def test_forged_inspection_ids_reach_only_the_lookup_endpoints(
    world: World, client: httpx.Client, upstreams: Upstreams, value: str
) -> None:
    trip = next(t for t in world.trips if t.cn_batch_no and t.kz_pi_number)
    records = {Authority.GACC: trip.cn_batch_no or "", Authority.KGD: trip.kz_pi_number or ""}
    allowed = set()
    for authority, record in records.items():
        genuine = encode_inspection_id(InspectionKey(authority, record, "INSP-1"))
        allowed |= lookup_endpoints(upstreams, client, INSPECTION, genuine)
    assert allowed, "the genuine lookups must reach the authorities (else this test proves nothing)"
    for authority, record in records.items():
        for key in (InspectionKey(authority, value, "INSP-1"), InspectionKey(authority, record, value)):
            used = lookup_endpoints(upstreams, client, INSPECTION, encode_inspection_id(key))
            assert not any("(unrouted)" in e for e in used), used
            assert used <= allowed, f"{value!r} reached {used - allowed}"


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_inspection_ids_are_refused_before_any_call(
    client: httpx.Client, upstreams: Upstreams, value: str
) -> None:
    upstreams.reset()
    body = post(client, INSPECTION, id=value)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert upstreams.endpoints() == set()


VEHICLE = "query($p: String!) { vehicle(plate: $p) { id manifests(first: 3) { id } } }"


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_plates_are_refused_or_reduced_to_a_canonical_plate(
    client: httpx.Client, upstreams: Upstreams, value: str
) -> None:
    """The plate parser tolerates spellings (it drops separators), so some of these read as a plate;
    then only its canonical letters and digits go upstream, as a query parameter of the list calls."""
    upstreams.reset()
    post(client, VEHICLE, p="123ABC02")
    allowed = upstreams.endpoints()
    upstreams.reset()
    body = post(client, VEHICLE, p=value)
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert upstreams.endpoints() == set()
    else:
        assert re.fullmatch(r"[A-Z0-9]+", body["data"]["vehicle"]["id"])
        assert upstreams.endpoints() <= allowed


def refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert not any(leak in response.text for leak in LEAKS), response.text
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code, body
    message: str = body["errors"][0]["message"]
    return message


QUERY = "{ manifests(first: 2) { edges { cursor } } }"


def test_invalid_utf8_is_a_clear_400(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    body = b'{"query": "{ manifest(id: \\"\xff\xfe\\") { id } }"}'
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert "parse request body as JSON" in refusal(response, 400, "BAD_REQUEST")
    assert upstreams.endpoints() == set()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"]
)
def test_wrong_content_types_are_415(client: httpx.Client, upstreams: Upstreams, content_type: str) -> None:
    upstreams.reset()
    response = client.post("/graphql", content=f'{{"query": "{QUERY}"}}', headers={"Content-Type": content_type})
    assert "application/json" in refusal(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert upstreams.endpoints() == set()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"query": "{ crossingPoints { id } }", "variables": "x"}', "`variables` must be an object"),
        ('{"query": 42}', "`query` must be a string"),
        ('{"query": "{ x }"', "parse request body as JSON"),
        ('{"query": "{ crossingPoints { id } }", "variables": ' + "[" * 5000 + "]" * 5000 + "}", "parse request body"),
    ],
)
def test_malformed_bodies_are_clear_400s(client: httpx.Client, payload: str, message: str) -> None:
    response = client.post("/graphql", content=payload, headers={"Content-Type": "application/json"})
    assert message in refusal(response, 400, "BAD_REQUEST")


def test_variables_of_the_wrong_type_are_refused_before_any_call(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    body = post(client, "query($n: Int!) { manifests(first: $n) { edges { cursor } } }", n={"$gt": 1})
    assert "Int cannot represent" in body["errors"][0]["message"]
    assert upstreams.endpoints() == set()


def test_a_huge_body_is_413_before_it_is_read(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    response = client.post("/graphql", json={"query": QUERY, "variables": {"pad": "x" * 300_000}})
    assert "exceeds the limit of 262144 bytes" in refusal(response, 413, "PAYLOAD_TOO_LARGE")
    streamed = client.post(
        "/graphql",
        content=iter([b'{"query": "' + b" " * 200_000, b" " * 200_000 + b'"}']),
        headers={"Content-Type": "application/json"},
    )
    refusal(streamed, 413, "PAYLOAD_TOO_LARGE")
    assert upstreams.endpoints() == set()


def test_get_refuses_mutations_and_huge_query_strings(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    json_accept = {"Accept": "application/json"}
    mutation = client.get("/graphql", params={"query": "mutation { crossingPoints { id } }"}, headers=json_accept)
    assert mutation.status_code in (400, 405) and mutation.json()["errors"]
    assert not any(leak in mutation.text for leak in LEAKS)
    huge = client.get("/graphql", params={"query": "{ crossingPoints { id } }" + " " * 60_000}, headers=json_accept)
    refusal(huge, 414, "URI_TOO_LONG")
    assert upstreams.endpoints() == set()


def test_a_get_query_runs_and_is_not_cached_by_intermediaries(client: httpx.Client) -> None:
    response = client.get(
        "/graphql", params={"query": "{ crossingPoints { id } }"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200 and response.json()["data"]["crossingPoints"]
    assert response.headers["Cache-Control"] == "no-store"
