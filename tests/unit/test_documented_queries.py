"""The queries users copy from the README and from `customs-gateway demo` must run on this schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from customs_gateway.cli import EXAMPLE_QUERY
from customs_gateway.schema import build_schema

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)


def _readme_queries() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_an_example_query() -> None:
    assert _readme_queries(), "README.md lost its ```graphql example"


@pytest.mark.parametrize("document", [*_readme_queries(), EXAMPLE_QUERY], ids=lambda d: d.split("\n")[1].strip()[:40])
def test_documented_query_is_valid(document: str) -> None:
    schema = build_schema()._schema
    errors = validate(schema, parse(document))
    assert errors == [], [e.message for e in errors]
