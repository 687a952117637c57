"""The field rules table and the schema agree: every rule is on a real, nullable field that says
who may see it and enforces it, and no field that looks sensitive escapes the table."""

from __future__ import annotations

import re

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType
from strawberry.utils.str_converters import to_camel_case

from customs_gateway.domain import Authority
from customs_gateway.schema import build_schema
from customs_gateway.schema.access import FieldRuleExtension
from customs_gateway.security import Principal, Role
from customs_gateway.security.rules import DECLARED_VALUE, FIELD_RULES, INTERNAL_NOTE, PERSONAL_DATA, Subject

SCHEMA = build_schema()
SENSITIVE = re.compile(r"driver|passport|value|gap|note|remark", re.IGNORECASE)
#: Fields whose names look sensitive but carry nothing a rule protects, and why.
NOT_RULED = {
    "GoodsItem.hs6Agrees": "compares tariff codes, no value",
    "Money.amountUsd": "only reachable under a ruled value field",
    "ValueGap.gapUsd": "only reachable under the ruled Discrepancy.valueGap",
    "ValueGap.relativeGap": "only reachable under the ruled Discrepancy.valueGap",
    "Driver.passportNo": "only reachable under a ruled driver field",
}


def _object_types() -> dict[str, GraphQLObjectType]:
    return {
        name: t
        for name, t in SCHEMA._schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }


@pytest.mark.parametrize("key", sorted(FIELD_RULES))
def test_each_rule_is_on_a_nullable_field_that_states_and_enforces_it(key: str) -> None:
    type_name, field_name = key.split(".")
    field = _object_types()[type_name].fields[field_name]
    assert not isinstance(field.type, GraphQLNonNull), f"{key} must be nullable: a denied field is null"
    assert field.description is not None and field.description.endswith(FIELD_RULES[key].visible_to())
    definition = SCHEMA.get_type_by_name(type_name)
    assert definition is not None
    fields = definition.fields  # type: ignore[union-attr]
    strawberry_field = next(f for f in fields if (f.graphql_name or to_camel_case(f.python_name)) == field_name)
    assert any(isinstance(e, FieldRuleExtension) and e.rule is FIELD_RULES[key] for e in strawberry_field.extensions)


def test_nothing_is_both_ruled_and_excused() -> None:
    assert set(NOT_RULED) & set(FIELD_RULES) == set()


def test_no_sensitive_looking_field_escapes_the_table() -> None:
    unruled = [
        f"{type_name}.{field_name}"
        for type_name, t in _object_types().items()
        for field_name in t.fields
        if SENSITIVE.search(field_name) and f"{type_name}.{field_name}" not in FIELD_RULES
    ]
    assert sorted(set(unruled) - set(NOT_RULED)) == [], "add these to security/rules.py FIELD_RULES (or NOT_RULED)"


def _principal(role: Role, carrier: str | None = None) -> Principal:
    return Principal(client_id="c", role=role.value, carrier_id=carrier, method="api_key")


def test_rule_conditions() -> None:
    own, other = Subject(Authority.GACC, frozenset({"A"})), Subject(Authority.KGD, frozenset({"B"}))
    assert DECLARED_VALUE.allows(_principal(Role.CARRIER, "A"), own)
    assert not DECLARED_VALUE.allows(_principal(Role.CARRIER, "A"), other)
    assert not DECLARED_VALUE.allows(_principal(Role.CARRIER, "A"), Subject(Authority.GACC, frozenset({"A", "B"})))
    assert not DECLARED_VALUE.allows(_principal(Role.CARRIER, "A"), None)
    assert INTERNAL_NOTE.allows(_principal(Role.CHINA_CUSTOMS), own)
    assert not INTERNAL_NOTE.allows(_principal(Role.CHINA_CUSTOMS), other)
    assert INTERNAL_NOTE.allows(_principal(Role.KAZAKHSTAN_CUSTOMS), other)
    assert not PERSONAL_DATA.allows(Principal(client_id="anonymous", role="anonymous"))
    assert not any(rule.allows(_principal(Role.ANALYST), own) for rule in (PERSONAL_DATA, INTERNAL_NOTE))


def test_docs_list_every_ruled_field() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    missing = [key for key in FIELD_RULES if f"| `{key.split(' ')[0]}` |" not in docs]
    assert missing == [], "add these to the field-rule table in docs/security.md"
