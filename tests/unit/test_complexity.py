"""Depth, aliases and cost estimates of documents against the real schema."""

from __future__ import annotations

import time

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, parse
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.schema import build_schema
from customs_gateway.security.complexity import CostModel, estimate_cost, operation_shapes

SCHEMA: GraphQLSchema = build_schema()._schema
MODEL = CostModel(
    weights={"Query.manifests": 20, "Query.manifest": 10, "Manifest.inspections": 3, "Inspection.manifest": 5},
    list_sizes={"Manifest.goods": 10, "Manifest.inspections": 4},
    default_list_size=10,
)


def cost(query: str, **variables: object) -> int:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return estimate_cost(SCHEMA, document, operation, variables, MODEL).cost


def test_cost_is_weight_plus_items_times_children() -> None:
    # manifests: call 20 + 1 connection; 7 edges × (1 + node 1 + goods 10 × (1 + china 1))
    assert cost("{ manifests(first: 7) { edges { node { id goods { china { hs6 } } } } } }") == 21 + 7 * (2 + 10 * 2)


def test_leaves_cost_nothing_and_typename_is_free() -> None:
    assert cost('{ manifest(id: "x") { id direction __typename } }') == 11


def test_the_default_page_size_of_the_field_applies() -> None:
    assert cost("{ manifests { nodes { id } } }") == 21 + 20 * 1


def test_variables_and_their_defaults_set_the_page() -> None:
    query = "query($n: Int = 3) { manifests(first: $n) { nodes { id } } }"
    assert cost(query) == 21 + 3
    assert cost(query, n=50) == 21 + 50


def test_a_fragment_costs_what_its_fields_cost_inline() -> None:
    inline = "{ manifests(first: 5) { nodes { id inspections { id manifest { id } } } } }"
    spread = (
        "{ manifests(first: 5) { nodes { ...M } } } fragment M on Manifest { id inspections { id manifest { id } } }"
    )
    assert cost(spread) == cost(inline) == 21 + 5 * (1 + 3 + 4 * (1 + 5 + 1))


def test_a_fragment_cycle_terminates() -> None:
    query = '{ manifest(id: "x") { ...A } } fragment A on Manifest { id ...B } fragment B on Manifest { ...A }'
    assert cost(query) == 11
    assert operation_shapes(parse(query))[0].depth == 2


def test_entities_cost_per_representation() -> None:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Manifest { id } } }"
    assert cost(query, r=[{}] * 8) == 8 * 1


def test_depth_counts_fields_not_fragments_and_skips_introspection() -> None:
    query = 'query Q { a: manifest(id: "x") { ...F } } fragment F on Manifest { b: vehicle { id } }'
    shapes = operation_shapes(parse(query))
    assert [(s.name, s.depth, s.aliases) for s in shapes] == [("Q", 3, 2)]
    assert operation_shapes(parse("{ __schema { types { fields { name } } } }"))[0].depth == 1


def test_a_fragment_spread_many_times_is_measured_once() -> None:
    # 20 levels, each spreading the next twice: 2**20 expansions if walked naively.
    fragments = " ".join(f"fragment F{i} on Manifest {{ id ...F{i + 1} ...F{i + 1} }}" for i in range(20))
    query = '{ manifest(id: "x") { ...F0 } } ' + fragments + " fragment F20 on Manifest { a: id }"
    started = time.process_time()
    shape = operation_shapes(parse(query))[0]
    estimate = cost(query)
    assert time.process_time() - started < 1.0
    assert shape.aliases == 2**20  # what execution would really expand
    assert estimate == 11


@given(st.integers(min_value=1, max_value=100), st.integers(min_value=1, max_value=100))
def test_cost_grows_with_the_page(small: int, large: int) -> None:
    small, large = sorted((small, large))
    query = "query($n: Int!) { manifests(first: $n) { nodes { id goods { hs6 } inspections { id } } } }"
    assert cost(query, n=small) <= cost(query, n=large)


@given(st.integers(min_value=1, max_value=8))
def test_nesting_multiplies(levels: int) -> None:
    inner = "id"
    for _ in range(levels):
        inner = f"inspections {{ manifest {{ {inner} }} }}"
    query = f'{{ manifest(id: "x") {{ {inner} }} }}'
    expected = 0
    for _ in range(levels):
        expected = 3 + 4 * (1 + 5 + 1 + expected)
    assert cost(query) == 10 + 1 + expected
    assert operation_shapes(parse(query))[0].depth == 2 * levels + 2


@pytest.mark.parametrize("name", ["Query.manifests", "Manifest.inspections"])
def test_a_configured_weight_is_used(name: str) -> None:
    assert MODEL.weights[name] > 0
