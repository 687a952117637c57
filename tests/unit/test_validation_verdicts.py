"""The validation cache keyed by text gives strawberry's verdicts, once per text and rule set, bounded."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import GraphQLError, NoDeprecatedCustomRule
from strawberry.extensions import AddValidationRules

from customs_gateway.schema.validation import ValidationVerdicts, VerdictCache


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "x") -> str:
        return f"hello {name}"


class CountingVerdicts(ValidationVerdicts):
    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.misses = 0

    def put(self, key: Any, errors: list[GraphQLError]) -> None:
        self.misses += 1
        super().put(key, errors)


def schema_with(verdicts: ValidationVerdicts, *extra: Any) -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=[lambda: VerdictCache(verdicts), *extra])


TEXTS = [  # valid, and invalid in several ways
    "{ hello }",
    '{ hello(name: "y") }',
    "{ nope }",
    "{ hello(name: 3) }",
    "query A { hello } query A { hello }",
    "{ hello { deeper } }",
]


@pytest.mark.parametrize("text", TEXTS)
def test_verdicts_are_strawberrys_own_first_and_again(text: str) -> None:
    verdicts = CountingVerdicts(8)
    schema = schema_with(verdicts)
    reference = strawberry.Schema(query=Query).execute_sync(text)  # strawberry validating, uncached
    expected = [(e.message, e.locations) for e in reference.errors or ()]
    for _ in range(3):
        result = schema.execute_sync(text)
        assert [(e.message, e.locations) for e in result.errors or ()] == expected
        assert result.data == reference.data
    assert verdicts.misses == 1  # validated once, then answered from the cache


def test_rules_are_part_of_the_key() -> None:
    verdicts = CountingVerdicts(8)
    plain = schema_with(verdicts)
    stricter = schema_with(verdicts, lambda: AddValidationRules([NoDeprecatedCustomRule]))
    assert plain.execute_sync("{ hello }").errors is None
    assert stricter.execute_sync("{ hello }").errors is None
    assert verdicts.misses == 2  # one verdict per rule set, not one shared


def test_the_table_is_bounded_and_forgets_the_least_recently_used() -> None:
    verdicts = ValidationVerdicts(2)
    a, b, c = (("a", ()), ("b", ()), ("c", ()))
    verdicts.put(a, [])
    verdicts.put(b, [])
    assert verdicts.get(a) == []  # a is now the most recently used
    verdicts.put(c, [])
    assert len(verdicts) == 2
    assert verdicts.get(b) is None and verdicts.get(a) == [] and verdicts.get(c) == []


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        ValidationVerdicts(0)
