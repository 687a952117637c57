"""Persisted operations (allow-list and automatic persisted queries) and the introspection switch,
on a real gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from tests.integration.gateway_guard_fixtures import guarded_gateway

from customs_gateway.security.persisted import document_hash, load_allow_list

LISTED = "query Crossings { crossingPoints { id phase } }"
UNLISTED = "{ crossingPoints { id } }"


def persisted(sha: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


@pytest.fixture(scope="module")
def allow_list_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path = tmp_path_factory.mktemp("ops") / "operations.json"
    path.write_bytes(orjson.dumps({document_hash(LISTED): LISTED}))
    with guarded_gateway(persisted={"mode": "allow_list", "allow_list_file": str(path)}) as client:
        yield client


@pytest.fixture(scope="module")
def apq_client() -> Iterator[httpx.Client]:
    with guarded_gateway(persisted={"mode": "apq", "apq_max_entries": 2}) as client:
        yield client


def test_allow_list_serves_a_listed_operation_by_hash(allow_list_client: httpx.Client) -> None:
    body = allow_list_client.post("/graphql", json={"extensions": persisted(document_hash(LISTED))}).json()
    assert "errors" not in body, body
    assert {c["id"] for c in body["data"]["crossingPoints"]} >= {"KHORGOS", "DULATA"}


def test_allow_list_serves_a_listed_operation_by_text(allow_list_client: httpx.Client) -> None:
    body = allow_list_client.post("/graphql", json={"query": LISTED}).json()
    assert "errors" not in body, body


@pytest.mark.parametrize(
    "payload",
    [
        {"query": UNLISTED},
        {"extensions": persisted(document_hash(UNLISTED))},
        {"extensions": persisted("0" * 64)},
    ],
)
def test_allow_list_refuses_anything_else(allow_list_client: httpx.Client, payload: dict[str, object]) -> None:
    body = allow_list_client.post("/graphql", json=payload).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


def test_a_hash_that_is_not_the_documents_is_refused(allow_list_client: httpx.Client) -> None:
    body = allow_list_client.post("/graphql", json={"query": UNLISTED, "extensions": persisted(document_hash(LISTED))})
    error = body.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "provided sha256Hash does not match the query"


def test_apq_not_found_then_registered_then_served_by_hash(apq_client: httpx.Client) -> None:
    query = 'query Apq { crossingPoint(id: "KHORGOS") { id name } }'
    sha = document_hash(query)
    first = apq_client.post("/graphql", json={"extensions": persisted(sha)}).json()
    assert first["errors"][0]["message"] == "PersistedQueryNotFound"
    assert first["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = apq_client.post("/graphql", json={"query": query, "extensions": persisted(sha)}).json()
    assert registered["data"]["crossingPoint"]["id"] == "KHORGOS"
    params = {"extensions": orjson.dumps(persisted(sha)).decode()}
    again = apq_client.get("/graphql", params=params, headers={"Accept": "application/json"}).json()
    assert again == registered


def test_apq_store_is_bounded(apq_client: httpx.Client) -> None:
    queries = [f'query Q{i} {{ crossingPoint(id: "KHORGOS") {{ id }} }}' for i in range(3)]
    for query in queries:
        apq_client.post("/graphql", json={"query": query, "extensions": persisted(document_hash(query))})
    oldest = apq_client.post("/graphql", json={"extensions": persisted(document_hash(queries[0]))}).json()
    newest = apq_client.post("/graphql", json={"extensions": persisted(document_hash(queries[2]))}).json()
    assert oldest["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "errors" not in newest


def test_with_persisted_queries_off_a_bare_hash_is_refused_clearly() -> None:
    with guarded_gateway() as client:
        body = client.post("/graphql", json={"extensions": persisted("a" * 64)}).json()
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert "send the query" in body["errors"][0]["message"]


def test_an_allow_list_entry_must_be_its_documents_hash(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps({"0" * 64: LISTED}))
    with pytest.raises(ValueError, match="not the sha256 of its document"):
        load_allow_list(path)


INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_off_refuses_schema_type_and_service_sdl() -> None:
    with guarded_gateway(introspection=False) as client:
        for query in (INTROSPECTION, '{ __type(name: "Manifest") { name } }', "{ _service { sdl } }"):
            body = client.post("/graphql", json={"query": query}).json()
            assert body["data"] is None and "introspection has been disabled" in body["errors"][0]["message"]
        assert "errors" not in client.post("/graphql", json={"query": "{ crossingPoints { id } }"}).json()


def test_introspection_on_in_the_shipped_configuration() -> None:
    with guarded_gateway() as client:
        body = client.post("/graphql", json={"query": INTROSPECTION}).json()
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_batching_when_configured_runs_up_to_max_batch_operations() -> None:
    with guarded_gateway(limits={"max_batch": 2}) as client:
        two = client.post("/graphql", json=[{"query": LISTED}, {"query": '{ crossingPoint(id: "DULATA") { id } }'}])
        three = client.post("/graphql", json=[{"query": LISTED}] * 3)
    assert two.status_code == 200
    assert [len(item["data"]) for item in two.json()] == [1, 1]
    assert two.json()[1]["data"]["crossingPoint"]["id"] == "DULATA"
    assert three.status_code == 400
    error = three.json()["errors"][0]
    assert error["message"] == "batch of 3 operations exceeds the limit 2"
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "batch", "actual": 3, "max": 2}
