"""Per-client rate limits (memory and a real redis-server shared by two gateways), security headers
and CORS, on real gateways on loopback."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.integration.gateway_guard_fixtures import guarded_gateway
from tests.security_fixtures import KEYS, api_key_entries

from customs_gateway.security import Role

pytest_plugins = ("redis_server",)

QUERY = {"query": "{ crossingPoints { id } }"}


def slow_roles(per_minute: int) -> dict[str, dict[str, int]]:
    return {role.value: {"requests_per_minute": per_minute} for role in Role}


def test_a_client_over_its_rate_gets_429_with_retry_after() -> None:
    with guarded_gateway(roles=slow_roles(3), api_keys=api_key_entries()) as client:
        analyst = {"X-API-Key": KEYS[Role.ANALYST]}
        statuses = [client.post("/graphql", json=QUERY, headers=analyst).status_code for _ in range(3)]
        refused = client.post("/graphql", json=QUERY, headers=analyst)
        other_client = client.post("/graphql", json=QUERY, headers={"X-API-Key": KEYS[Role.PARTNER_AGENCY]})
        health = client.get("/healthz")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": int(refused.headers["Retry-After"])}
    assert refused.json()["data"] is None
    assert other_client.status_code == 200  # counted per client
    assert health.status_code == 200  # only the GraphQL endpoint is limited


def test_the_rate_is_the_roles() -> None:
    roles = {**slow_roles(2), "china_customs": {"requests_per_minute": 5}}
    with guarded_gateway(roles=roles, api_keys=api_key_entries()) as client:
        customs = {"X-API-Key": KEYS[Role.CHINA_CUSTOMS]}
        analyst = {"X-API-Key": KEYS[Role.ANALYST]}
        customs_ok = sum(client.post("/graphql", json=QUERY, headers=customs).status_code == 200 for _ in range(7))
        analyst_ok = sum(client.post("/graphql", json=QUERY, headers=analyst).status_code == 200 for _ in range(7))
    assert (customs_ok, analyst_ok) == (5, 2)


def test_replicas_share_the_counts_through_redis(redis_url: str) -> None:
    storage = {"storage": redis_url, "key_prefix": f"t{uuid.uuid4().hex[:8]}"}
    settings = {"roles": slow_roles(4), "api_keys": api_key_entries(), "rate_limit": storage}
    analyst = {"X-API-Key": KEYS[Role.ANALYST]}
    with guarded_gateway(**settings) as first, guarded_gateway(**settings) as second:
        statuses = [
            (first if i % 2 else second).post("/graphql", json=QUERY, headers=analyst).status_code for i in range(6)
        ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_an_unreachable_rate_limit_store_lets_requests_through(unreachable_redis_url: str) -> None:
    with guarded_gateway(roles=slow_roles(1), rate_limit={"storage": unreachable_redis_url}) as client:
        statuses = [client.post("/graphql", json=QUERY).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_an_address_guessing_keys_is_locked_out_right_key_included() -> None:
    settings = {"api_keys": api_key_entries(), "rate_limit": {"failed_auth_per_minute": 5}}
    with guarded_gateway(**settings) as client:
        right = {"X-API-Key": KEYS[Role.ANALYST]}
        assert client.post("/graphql", json=QUERY, headers=right).status_code == 200
        guesses = [
            client.post("/graphql", json=QUERY, headers={"X-API-Key": f"guess-{i:04d}-{'x' * 40}"}).status_code
            for i in range(5)
        ]
        bearer = client.post("/graphql", json=QUERY, headers={"Authorization": "Bearer forged.token.here"})
        locked = client.post("/graphql", json=QUERY, headers=right)
        anonymous = client.post("/graphql", json=QUERY)  # nothing presented: the demo role, not locked out
        health = client.get("/healthz")
    assert guesses == [401] * 5
    assert bearer.status_code == 429 and locked.status_code == 429
    wait = int(locked.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert locked.json() == {
        "data": None,
        "errors": [
            {
                "message": f"too many refused credentials from this address: retry in {wait} s",
                "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": wait},
            }
        ],
    }
    assert anonymous.status_code == 200 and health.status_code == 200


def test_failed_authentication_limit_can_be_turned_off() -> None:
    settings = {"api_keys": api_key_entries(), "rate_limit": {"failed_auth_per_minute": 0}}
    with guarded_gateway(**settings) as client:
        guesses = [
            client.post("/graphql", json=QUERY, headers={"X-API-Key": f"guess-{i:04d}-{'x' * 40}"}).status_code
            for i in range(40)
        ]
        right = client.post("/graphql", json=QUERY, headers={"X-API-Key": KEYS[Role.ANALYST]})
    assert guesses == [401] * 40 and right.status_code == 200


def test_replicas_share_failed_authentication_counts_through_redis(redis_url: str) -> None:
    storage = {"storage": redis_url, "key_prefix": f"t{uuid.uuid4().hex[:8]}", "failed_auth_per_minute": 3}
    settings = {"api_keys": api_key_entries(), "rate_limit": storage}
    wrong = {"X-API-Key": "guess-" + "y" * 40}
    with guarded_gateway(**settings) as first, guarded_gateway(**settings) as second:
        statuses = [
            (first if i % 2 else second).post("/graphql", json=QUERY, headers=wrong).status_code for i in range(3)
        ]
        locked = first.post("/graphql", json=QUERY, headers={"X-API-Key": KEYS[Role.ANALYST]})
    assert statuses == [401, 401, 401] and locked.status_code == 429


@pytest.fixture(scope="module")
def plain() -> httpx.Client:
    with guarded_gateway(cors={"allow_origins": ["https://portal.kgd.example"]}) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/graphql", {"json": QUERY}),
        ("POST", "/graphql", {"content": b"{", "headers": {"Content-Type": "application/json"}}),
        ("GET", "/healthz", {}),
        ("GET", "/nowhere", {}),
    ],
)
def test_every_response_carries_the_security_headers(
    plain: httpx.Client, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = plain.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # off unless configured (TLS)


def test_the_graphiql_page_gets_a_policy_that_lets_it_run(plain: httpx.Client) -> None:
    page = plain.get("/graphql", headers={"Accept": "text/html"})
    csp = page.headers["Content-Security-Policy"]
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert "script-src 'self' https://unpkg.com 'sha256-" in csp and "connect-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_hsts_when_configured() -> None:
    with guarded_gateway(headers={"hsts": True, "hsts_max_age_s": 600}) as client:
        response = client.get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_cors_allows_the_configured_origin_only(plain: httpx.Client) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key"}
    allowed = plain.options("/graphql", headers={"Origin": "https://portal.kgd.example", **preflight})
    denied = plain.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
    simple = plain.post("/graphql", json=QUERY, headers={"Origin": "https://portal.kgd.example"})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://portal.kgd.example"
    assert "x-api-key" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert denied.status_code == 400 and "Access-Control-Allow-Origin" not in denied.headers
    assert simple.headers["Access-Control-Allow-Origin"] == "https://portal.kgd.example"


def test_no_cors_headers_without_configured_origins() -> None:
    with guarded_gateway() as client:
        response = client.post("/graphql", json=QUERY, headers={"Origin": "https://portal.kgd.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
