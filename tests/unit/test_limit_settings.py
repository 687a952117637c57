"""Limit settings and the caches the limits must keep effective."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import GraphQLError
from pydantic import ValidationError

from customs_gateway.schema import build_schema, validation
from customs_gateway.security.limits_config import DEFAULT_UPSTREAM_WEIGHTS, LimitSettings, PersistedSettings


def test_a_configured_weight_overrides_one_default_and_keeps_the_others() -> None:
    settings = LimitSettings(upstream_weights={"Query.manifests": 50})
    assert settings.upstream_weights["Query.manifests"] == 50
    assert settings.upstream_weights["Query.inspections"] == DEFAULT_UPSTREAM_WEIGHTS["Query.inspections"]


def test_the_body_must_hold_a_query() -> None:
    with pytest.raises(ValidationError, match="max_body_bytes"):
        LimitSettings(max_query_bytes=100_000, max_body_bytes=50_000)


def test_allow_list_mode_needs_its_file() -> None:
    with pytest.raises(ValidationError, match="allow_list_file"):
        PersistedSettings(mode="allow_list")


def test_the_validation_cache_stays_effective_with_the_limit_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit rules are built once per schema, so the second run of a document is a cache hit
    (its depth/alias verdict comes from the cache: the document is validated once)."""
    validated: list[object] = []
    real = validation.validate_document

    def counting(*args: Any) -> list[GraphQLError]:
        validated.append(args)
        return real(*args)

    monkeypatch.setattr(validation, "validate_document", counting)
    schema = build_schema()
    query = "query CacheProbe { __typename }"
    asyncio.run(schema.execute(query))
    asyncio.run(schema.execute(query))
    assert len(validated) == 1
