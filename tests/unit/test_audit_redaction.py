"""Audit redaction (pure): personal data never survives, and a line stays bounded whatever the variables."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from customs_gateway.security.audit import PERSONAL, document_hash, redact_variables

personal_names = st.sampled_from(["plate", "driverName", "passportNo", "vin", "Plate", "driver"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=60) | st.dictionaries(st.text(max_size=10), inner, max_size=60),
    max_leaves=30,
)


@settings(max_examples=50)
@given(name=personal_names, secret=st.text(min_size=1, max_size=50), rest=st.integers() | st.text(max_size=20))
def test_personal_values_never_survive_redaction_at_any_depth(name: str, secret: str, rest: Any) -> None:
    nested = {"filter": {"inner": [{name: secret}]}, name: secret, "other": rest}
    redacted = redact_variables(nested)
    assert redacted[name] == PERSONAL and redacted["filter"]["inner"][0][name] == PERSONAL


@settings(max_examples=50)
@given(value=json_values)
def test_redaction_bounds_what_a_hostile_variables_object_can_put_in_a_log_line(value: Any) -> None:
    assert len(json.dumps(redact_variables({"v": value}))) < 100_000


def test_huge_and_deep_variables_are_cut() -> None:
    assert len(json.dumps(redact_variables({"v": "x" * 1_000_000}))) < 400
    assert len(redact_variables({"v": list(range(10_000))})["v"]) == 51
    deep: Any = "bottom"
    for _ in range(1000):
        deep = {"d": deep}
    assert "bottom" not in json.dumps(redact_variables(deep))


def test_the_document_hash_is_sha256_of_the_text() -> None:
    assert document_hash("{ a }") == hashlib.sha256(b"{ a }").hexdigest()
    assert document_hash(None) is None
