"""Operation limits on the real gateway: each refusal names the limit and its figures, and a refused
operation makes no upstream request at all (the simulators' own counters, over HTTP, say so)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.e2e.conftest import WINDOW_FROM, WINDOW_TO, Upstreams

CUSTOMS_BUDGET = 20_000  # [security.roles.china_customs] in config/gateway.toml: the e2e clients' role


def refused(client: httpx.Client, upstreams: Upstreams, query: str, **variables: Any) -> dict[str, Any]:
    """POST the query; it must be refused with one error and no upstream request."""
    upstreams.reset()
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["data"] is None and len(body["errors"]) == 1, body
    assert upstreams.totals() == (0, 0), "a refused operation reached an upstream"
    error: dict[str, Any] = body["errors"][0]
    return error


def trip_fields(depth: int) -> str:
    """manifest { inspections { manifest { inspections { … id } } } }: each level calls upstream."""
    inner = "id"
    for _ in range(depth):
        inner = f"inspections {{ manifest {{ {inner} }} }}"
    return inner


def test_a_deep_query_is_refused_with_its_depth(client: httpx.Client, upstreams: Upstreams) -> None:
    query = f'{{ manifest(id: "CKM-KHORGOS-20250301-00001") {{ {trip_fields(6)} }} }}'
    error = refused(client, upstreams, query)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "depth", "actual": 14, "max": 12}
    assert error["message"] == "query depth 14 exceeds the limit 12"


def test_a_query_just_within_the_depth_limit_runs(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    inner = "vehicle { manifests(first: 1) { china { inspections { manifest { vehicle { id } } } } } }"
    query = f'{{ manifest(id: "CKM-KHORGOS-20250301-00001") {{ {trip_fields(2).replace("id", inner)} }} }}'  # depth 12
    body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    assert sum(upstreams.totals()) > 0


def test_an_alias_bomb_is_refused(client: httpx.Client, upstreams: Upstreams) -> None:
    query = "{ " + " ".join(f'a{i}: manifest(id: "CKM-KHORGOS-20250301-{i:05d}") {{ id }}' for i in range(31)) + " }"
    error = refused(client, upstreams, query)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "aliases", "actual": 31, "max": 30}


def test_aliases_hidden_in_nested_fragments_are_counted(client: httpx.Client, upstreams: Upstreams) -> None:
    # 4 fragments, each aliasing 8 fields: 32 aliases, though no selection set holds more than 8.
    fragments = " ".join(
        f"fragment F{n} on Query {{ "
        + " ".join(f'f{n}_{i}: manifest(id: "CKM-KHORGOS-20250301-{i:05d}") {{ id }}' for i in range(8))
        + (f" ...F{n + 1}" if n < 3 else "")
        + " }"
        for n in range(4)
    )
    error = refused(client, upstreams, "{ ...F0 } " + fragments)
    assert error["extensions"]["limit"] == "aliases" and error["extensions"]["actual"] == 32


def test_a_fragment_cycle_is_refused_without_hanging(client: httpx.Client, upstreams: Upstreams) -> None:
    query = (
        "{ manifests { edges { node { ...A } } } } "
        "fragment A on Manifest { id inspections { manifest { ...B } } } "
        "fragment B on Manifest { id ...A }"
    )
    error = refused(client, upstreams, query)
    assert "Cannot spread fragment 'A' within itself" in error["message"]


def test_too_many_tokens_are_refused_before_parsing_completes(client: httpx.Client, upstreams: Upstreams) -> None:
    query = "{ " + " ".join("crossingPoints { id }" for _ in range(700)) + " }"
    error = refused(client, upstreams, query)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "actual": 2802, "max": 2000}


def test_a_query_over_the_size_limit_is_refused_unparsed(client: httpx.Client, upstreams: Upstreams) -> None:
    query = "{ crossingPoints { id } }" + " " * 16_384 + "# padding"
    error = refused(client, upstreams, query)
    size = len(query.encode())
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "querySize", "actual": size, "max": 16_384}
    assert error["message"] == f"query of {size} bytes exceeds the limit 16384"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ manifests(first: 101) { edges { cursor } } }", {}),
        ("query($n: Int!) { inspections(first: $n) { nodes { id } } }", {"n": 5000}),
        ('{ vehicle(plate: "123ABC02") { manifests(first: 1000) { id } } }', {}),
    ],
)
def test_a_page_over_the_page_size_is_refused_before_any_call(
    client: httpx.Client, upstreams: Upstreams, query: str, variables: dict[str, Any]
) -> None:
    error = refused(client, upstreams, query, **variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["limit"] == "pageSize" and error["extensions"]["max"] == 100
    assert "exceeds the page size limit 100" in error["message"]


EVERYTHING = """
query($f: ManifestFilter, $n: Int!) { manifests(filter: $f, first: $n) { edges { node {
  id vehicle { id manifests(first: 20) { id goods { lineNo } } }
  goods { china { hs6 } kazakhstan { hs6 } } inspections { id manifest { id } }
} } } }
"""


def test_a_query_over_the_roles_budget_is_refused_with_the_figures(client: httpx.Client, upstreams: Upstreams) -> None:
    error = refused(client, upstreams, EVERYTHING, f={"from": WINDOW_FROM, "to": WINDOW_TO}, n=100)
    extensions = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX" and extensions["limit"] == "cost"
    assert extensions["max"] == CUSTOMS_BUDGET and extensions["actual"] > CUSTOMS_BUDGET
    budget = f"the budget {CUSTOMS_BUDGET} for role china_customs"
    assert error["message"] == f"query cost {extensions['actual']} exceeds {budget}"


def test_the_same_query_with_a_smaller_page_runs(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    response = client.post(
        "/graphql", json={"query": EVERYTHING, "variables": {"f": {"from": WINDOW_FROM, "to": WINDOW_TO}, "n": 2}}
    )
    body = response.json()
    assert "errors" not in body, body
    assert len(body["data"]["manifests"]["edges"]) == 2
    assert sum(upstreams.totals()) > 0


def test_an_array_of_operations_is_refused_while_batching_is_off(client: httpx.Client, upstreams: Upstreams) -> None:
    upstreams.reset()
    response = client.post("/graphql", json=[{"query": "{ manifests { edges { cursor } } }"}] * 2)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"] == "batching is off: send one operation per request (a JSON object)"
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert upstreams.totals() == (0, 0)
