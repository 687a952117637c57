"""The cost memo answers exactly what estimate_cost computes, and stays bounded."""

from __future__ import annotations

from graphql import OperationDefinitionNode, parse
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.test_complexity import MODEL, SCHEMA

from customs_gateway.security.complexity import estimate_cost
from customs_gateway.security.cost_cache import CostCache

DOCUMENTS = [
    "query($n: Int, $id: ID!) { manifests(first: $n) { nodes { id } } manifest(id: $id) { id } }",
    "query($n: Int = 3) { manifests(first: $n) { edges { node { ...M } } } } "
    "fragment M on Manifest { id inspections { id manifest { id } } }",
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Manifest { id goods { hs6 } } } }",
    "query($r: _Any!, $s: _Any!) { _entities(representations: [$r, $s]) { ... on Manifest { id } } }",
    "query A($n: Int) { manifests(first: $n) { nodes { id } } } query B { manifests(first: 2) { nodes { id } } }",
]

variable_values = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=500),
    st.lists(st.just({"__typename": "Manifest", "id": "x"}), max_size=30),
    st.text(max_size=8),
    st.booleans(),
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(range(len(DOCUMENTS))),
            st.sampled_from([None, "A", "B"]),
            st.dictionaries(st.sampled_from(["n", "id", "r", "s"]), variable_values, max_size=4),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_memo_answers_what_estimate_cost_computes(
    requests: list[tuple[int, str | None, dict[str, object]]],
) -> None:
    costs = CostCache(MODEL, maxsize=4)
    for index, name, variables in requests:
        text = DOCUMENTS[index]
        document = parse(text)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operation = next((o for o in operations if (o.name.value if o.name else None) == name), operations[0])
        expected = estimate_cost(SCHEMA, document, operation, variables, MODEL)
        assert costs.estimate(SCHEMA, document, operation, variables, text) == expected


def test_variables_the_estimate_does_not_read_share_one_entry() -> None:
    costs = CostCache(MODEL)
    text = DOCUMENTS[0]
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    first = costs.estimate(SCHEMA, document, operation, {"n": 5, "id": "a"}, text)
    assert costs.estimate(SCHEMA, document, operation, {"n": 5, "id": "b"}, text) is first
    assert costs.estimate(SCHEMA, document, operation, {"n": 6, "id": "a"}, text).cost == first.cost + 1


def test_the_memo_is_bounded() -> None:
    costs = CostCache(MODEL, maxsize=3)
    for n in range(10):
        text = f"{{ manifests(first: {n + 1}) {{ nodes {{ id }} }} }}"
        document = parse(text)
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        costs.estimate(SCHEMA, document, operation, None, text)
    assert len(costs._estimates) <= 3 and len(costs._reads) <= 3
