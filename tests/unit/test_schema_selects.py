"""``selects``: whether a query asks for a field below the one being resolved, through fragments."""

from __future__ import annotations

import pytest
import strawberry

from customs_gateway.schema.fields import selects


@strawberry.type
class Arrival:
    number: str = "A1"


@strawberry.type
class Side:
    pi_number: str = "P1"
    arrival: Arrival = strawberry.field(default_factory=Arrival)


@strawberry.type
class Trip:
    id: str = "t"
    timeline: list[str] = strawberry.field(default_factory=list)
    kazakhstan: Side = strawberry.field(default_factory=Side)


seen: list[tuple[bool, bool]] = []


@strawberry.type
class Query:
    @strawberry.field
    def trip(self, info: strawberry.Info) -> Trip:
        seen.append((selects(info, "timeline"), selects(info, "kazakhstan", "arrival")))
        return Trip()


schema = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ trip { id } }", (False, False)),
        ("{ trip { id timeline } }", (True, False)),
        ("{ trip { kazakhstan { piNumber } } }", (False, False)),
        ("{ trip { kazakhstan { arrival { number } } } }", (False, True)),
        ("{ trip { ... on Trip { timeline } } }", (True, False)),
        ("{ trip { ...T } } fragment T on Trip { kazakhstan { ...S } } fragment S on Side { arrival { number } }",
         (False, True)),
        ("{ trip { arrivalAlias: kazakhstan { a: arrival { number } } } }", (False, True)),  # aliases don't hide it
        ("{ trip { kazakhstan { piNumber } } other: trip { timeline } }", (False, False)),  # another field's
    ],
)  # fmt: skip
def test_selects_sees_fields_through_fragments_and_aliases(document: str, expected: tuple[bool, bool]) -> None:
    seen.clear()
    result = schema.execute_sync(document)
    assert result.errors is None
    assert seen[0] == expected
