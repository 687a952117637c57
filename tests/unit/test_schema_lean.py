"""Lean resolvers: argument-free resolver fields answer as strawberry would, the rest keep its path."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension

from customs_gateway.schema.lean import install_lean_resolvers


class Deny(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        raise PermissionError("denied")


@strawberry.type
class Item:
    value: int

    @strawberry.field
    def doubled(self) -> int:
        return 2 * self.value

    @strawberry.field
    async def later(self) -> int:
        return self.value + 1

    @strawberry.field
    def asker(self, info: strawberry.Info) -> str:
        return f"{info.context['who']}:{info.field_name}:{[f.name for f in info.selected_fields]}"

    @strawberry.field
    def scaled(self, by: int = 3) -> int:
        return by * self.value

    @strawberry.field(extensions=[Deny()])
    def secret(self) -> int | None:
        return self.value


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(value=1), Item(value=5)]


def test_only_argument_free_unextended_resolvers_become_lean() -> None:
    schema = strawberry.Schema(query=Query)
    item = schema._schema.type_map["Item"]
    before = {name: field.resolve for name, field in item.fields.items()}
    assert install_lean_resolvers(schema) == 4  # doubled, later, asker and Query.items
    after = {name: field.resolve for name, field in item.fields.items()}
    assert {name for name in after if after[name] is not before[name]} == {"doubled", "later", "asker"}


async def test_lean_resolvers_answer_as_strawberry_does() -> None:
    document = "{ items { value doubled later asker scaled(by: 10) secret } }"
    plain, lean = strawberry.Schema(query=Query), strawberry.Schema(query=Query)
    install_lean_resolvers(lean)
    expected = await plain.execute(document, context_value={"who": "me"})
    result = await lean.execute(document, context_value={"who": "me"})
    assert result.data == expected.data
    assert result.data is not None and result.data["items"][1] == {
        "value": 5, "doubled": 10, "later": 6, "asker": "me:asker:['asker']", "scaled": 50, "secret": None,
    }  # fmt: skip
    assert [e.message for e in result.errors or ()] == [e.message for e in expected.errors or ()] == ["denied"] * 2
