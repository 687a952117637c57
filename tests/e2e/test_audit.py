"""The audit log: one JSON line per operation on ``customs_gateway.audit``, over a real gateway."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import WINDOW_FROM, WINDOW_TO, World
from tests.security_fixtures import KEYS, role_headers

from customs_gateway.observability import JsonFormatter
from customs_gateway.security import Role
from customs_gateway.security.audit import AUDIT_LOGGER, PERSONAL

LIST = """query KhorgosByPlate($f: ManifestFilter!, $first: Int!) {
  manifests(filter: $f, first: $first) { edges { node { id driver { name } } } } }"""


def _audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == AUDIT_LOGGER]


def test_one_json_line_per_operation_with_who_what_where_and_how_it_ended(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    f = {"plate": "新F10001", "crossingPoints": ["KHORGOS"], "from": WINDOW_FROM, "to": WINDOW_TO}
    variables = {"f": f, "first": 5}
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER), httpx.Client(base_url=world.gateway_url) as http:
        body = http.post(
            "/graphql", json={"query": LIST, "variables": variables}, headers=role_headers(Role.PARTNER_AGENCY)
        ).json()
    assert body["data"]["manifests"]["edges"], body
    [line] = _audit_lines(caplog)
    assert line["logger"] == AUDIT_LOGGER and line["audit"] == "operation"
    assert (line["client"], line["role"], line["auth_method"]) == ("test-partner_agency", "partner_agency", "api_key")
    assert line["operation"] == "KhorgosByPlate"
    assert line["document_sha256"] == hashlib.sha256(LIST.encode()).hexdigest()
    assert line["variables"] == {"f": {**f, "plate": PERSONAL}, "first": 5}
    assert "新F10001" not in json.dumps(line, ensure_ascii=False)
    assert line["authorities"] == ["GACC", "KGD"]
    # partner_agency may not see drivers: the answer is partial, and the line says why.
    assert (line["outcome"], line["error_codes"]) == ("partial", ["FORBIDDEN"])
    assert line["duration_ms"] > 0


def test_an_operation_that_needs_no_authority_names_none(world: World, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER), httpx.Client(base_url=world.gateway_url) as http:
        http.post("/graphql", json={"query": "{ crossingPoints { id } }"}, headers=role_headers(Role.ANALYST))
    [line] = _audit_lines(caplog)
    assert (line["role"], line["operation"], line["authorities"], line["outcome"]) == ("analyst", None, [], "ok")


def test_a_refused_request_is_audited_without_its_credential(world: World, caplog: pytest.LogCaptureFixture) -> None:
    guess = KEYS[Role.CHINA_CUSTOMS][:-3] + "xyz"
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER), httpx.Client(base_url=world.gateway_url) as http:
        response = http.post("/graphql", json={"query": "{ crossingPoints { id } }"}, headers={"X-API-Key": guess})
    assert response.status_code == 401
    [line] = _audit_lines(caplog)
    assert (line["audit"], line["outcome"], line["error_codes"]) == ("refused", "unauthenticated", ["UNAUTHENTICATED"])
    assert guess not in json.dumps(line)
