"""Hostile credentials against a real gateway on loopback: every bad one gets 401 with a
``WWW-Authenticate`` challenge and a GraphQL-shaped ``UNAUTHENTICATED`` error, leaks nothing, and
nothing reaches an authority. Good ones of every kind get their role."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from tests.e2e.conftest import World, gateway_settings
from tests.security_fixtures import (
    AUDIENCE,
    CUSTOMS_KEY,
    HS256_SECRET,
    KEYS,
    bearer,
    claims,
    hs256,
    role_headers,
    rs256,
    rsa_key,
    security_settings,
    write_jwks,
)

from customs_gateway.app import create_app
from customs_gateway.security import Role
from customs_gateway.security.apikeys import hash_key
from customs_sim.serving import serve_in_thread

# A field any role may read, resolved without calling an authority.
PROBE = "{ crossingPoints { id } }"
# A query that calls both authorities: a refused request must not get this far.
UPSTREAM_PROBE = '{ manifest(id: "9403E2025030100001") { id } }'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _handmade(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token pyjwt would refuse to make: ``alg: none``, or HS256 keyed with an RSA public key."""
    claims_json = {k: int(v.timestamp()) if isinstance(v, dt.datetime) else v for k, v in payload.items()}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims_json).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _confused(payload: dict[str, Any]) -> str:
    """The classic key confusion: HS256 with the server's RSA public key (PEM) as HMAC secret."""
    public = rsa_key().public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _handmade({"alg": "HS256", "typ": "JWT", "kid": "test-rsa-1"}, payload, pem)


@pytest.fixture(scope="module")
def gateway(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    jwks = write_jwks(tmp_path_factory.mktemp("jwks"))
    # Every case here presents a refused credential from 127.0.0.1 on purpose: the lockout of such an
    # address has its own tests (tests/integration/test_gateway_rate_limit.py).
    security = security_settings(jwks, rate_limit={"failed_auth_per_minute": 0})
    settings = gateway_settings(world.china.server.url, world.kazakhstan.server.url, security=security)
    with serve_in_thread(create_app(settings)) as server:
        yield server.url


@pytest.fixture(scope="module")
def anonymous_gateway(world: World) -> Iterator[str]:
    security = security_settings(anonymous_role="demo")
    settings = gateway_settings(world.china.server.url, world.kazakhstan.server.url, security=security)
    with serve_in_thread(create_app(settings)) as server:
        yield server.url


def post(url: str, headers: dict[str, str], query: str = PROBE) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=30)


def assert_refused(response: httpx.Response, *secrets: str) -> str:
    assert response.status_code == 401, response.text
    challenges = response.headers.get_list("www-authenticate")
    assert any(c.startswith('Bearer realm="customs-gateway"') for c in challenges)
    assert any(c.startswith("ApiKey ") for c in challenges)
    body = response.json()
    assert body.keys() == {"errors"}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    for secret in (s for s in secrets if len(s) >= 8):  # a short string could occur by chance
        assert secret not in response.text
        assert all(secret not in c for c in challenges)
    message: str = error["message"]
    return message


def test_no_credentials_is_401_with_a_challenge(gateway: str) -> None:
    message = assert_refused(post(gateway, {}))
    assert "X-API-Key" in message and "Bearer" in message
    assert 'error="' not in post(gateway, {}).headers["www-authenticate"]  # RFC 6750: no error code without a token


@pytest.mark.parametrize("role", list(KEYS))
def test_each_roles_api_key_is_accepted(gateway: str, role: Role) -> None:
    response = post(gateway, role_headers(role))
    assert response.status_code == 200
    assert len(response.json()["data"]["crossingPoints"]) == 5


def almost_right_keys() -> list[tuple[str, str]]:
    key = CUSTOMS_KEY
    flipped = key[:-1] + ("a" if key[-1] != "a" else "b")
    return [
        ("last character changed", flipped),
        ("one character short", key[:-1]),
        ("one character more", key + "k"),
        ("upper-cased", key.upper()),
        ("the prefix only", "cgw_"),
        ("the stored digest itself", hash_key(key)),
        ("the digest without its prefix", hash_key(key).removeprefix("sha256:")),
        ("another role's key with a character changed", KEYS[Role.ANALYST][:-2] + "zz"),
        ("a guessed key", "cgw_" + "0" * 43),
        ("empty", ""),
        ("very long", "k" * 10_000),
        ("non-ASCII", key[:-1] + "é"),
    ]


@pytest.mark.parametrize(("case", "key"), almost_right_keys(), ids=[c for c, _ in almost_right_keys()])
def test_guessed_and_almost_right_api_keys_are_refused_alike(gateway: str, case: str, key: str) -> None:
    response = httpx.post(
        f"{gateway}/graphql", json={"query": PROBE}, headers={"X-API-Key": key.encode("utf-8")}, timeout=30
    )
    assert assert_refused(response, key) in ("Invalid API key.",)


def bad_tokens() -> list[tuple[str, Callable[[], str], str]]:
    """(case, token maker, expected message): each must be refused. Tokens are made when the
    test runs, so their times are relative to then."""

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def good() -> dict[str, Any]:
        return claims(Role.KAZAKHSTAN_CUSTOMS)

    invalid, expired = "Invalid bearer token.", "The bearer token has expired."
    return [
        ("forged: signed with another secret", lambda: hs256(good(), secret="x" * 48), invalid),
        ("forged: RS256 signed by another key", lambda: _other_rsa_token(good()), invalid),
        ("tampered payload", lambda: _tampered(hs256(good())), invalid),
        ("expired", lambda: hs256({**good(), "exp": now() - dt.timedelta(minutes=5)}), expired),
        ("expired RS256", lambda: rs256({**good(), "exp": now() - dt.timedelta(hours=1)}), expired),
        ("not yet valid", lambda: hs256({**good(), "nbf": now() + dt.timedelta(minutes=10)}), invalid),
        ("wrong issuer", lambda: hs256({**good(), "iss": "https://evil.example"}), invalid),
        ("wrong audience", lambda: hs256({**good(), "aud": "another-service"}), invalid),
        ("no expiry", lambda: hs256({k: v for k, v in good().items() if k != "exp"}), invalid),
        ("no audience", lambda: hs256({k: v for k, v in good().items() if k != "aud"}), invalid),
        ("alg none", lambda: _handmade({"alg": "none", "typ": "JWT"}, good(), None), invalid),
        ("alg None", lambda: _handmade({"alg": "None", "typ": "JWT"}, good(), None), invalid),
        ("key confusion: HS256 keyed with the RSA public key", lambda: _confused(good()), invalid),
        ("HS512 with the right secret", lambda: _hs512(good()), invalid),
        ("unknown kid", lambda: rs256(good(), kid="not-a-key"), invalid),
        ("unknown role", lambda: hs256(claims("root")), invalid),
        ("carrier without carrier id", lambda: hs256(claims(Role.CARRIER)), invalid),
        ("sub with control characters", lambda: hs256(claims(Role.ANALYST, sub="a\nb")), invalid),
        ("audience list without ours", lambda: hs256({**good(), "aud": [AUDIENCE + "x", "other"]}), invalid),
        ("not a JWT", lambda: "not.a.jwt", invalid),
        ("garbage", lambda: "%%%%", invalid),
        ("huge", lambda: "a" * 20_000, invalid),
    ]


def _other_rsa_token(payload: dict[str, Any]) -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, other, algorithm="RS256", headers={"kid": "test-rsa-1"})


def _hs512(payload: dict[str, Any]) -> str:
    import jwt

    with warnings.catch_warnings():  # pyjwt warns that the secret is short for HS512: it is meant to be refused
        warnings.simplefilter("ignore")
        return jwt.encode(payload, HS256_SECRET, algorithm="HS512")


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims_json = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims_json["role"] = "china_customs"
    return f"{header}.{_b64(json.dumps(claims_json).encode())}.{signature}"


@pytest.mark.parametrize(("case", "make", "message"), bad_tokens(), ids=[c for c, _, _ in bad_tokens()])
def test_hostile_bearer_tokens_are_refused(gateway: str, case: str, make: Callable[[], str], message: str) -> None:
    token = make()
    response = post(gateway, bearer(token))
    assert assert_refused(response, token) == message
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("HS256", lambda: hs256(claims(Role.PARTNER_AGENCY))),
        ("RS256", lambda: rs256(claims(Role.ANALYST))),
        ("RS256 within the leeway", lambda: rs256({**claims(Role.ANALYST), "exp": dt.datetime.now(dt.UTC)})),
        ("carrier", lambda: hs256(claims(Role.CARRIER, carrier_id="91650000MA7XXXX01"))),
    ],
)
def test_valid_tokens_are_accepted(gateway: str, case: str, make: Callable[[], str]) -> None:
    response = post(gateway, bearer(make()))
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


@pytest.mark.parametrize(
    ("case", "headers", "message"),
    [
        ("both an API key and a token", {"X-API-Key": CUSTOMS_KEY, **bearer(hs256(claims(Role.ANALYST)))}, "not both"),
        ("Basic scheme", {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}, "Bearer"),
        ("Bearer without a token", {"Authorization": "Bearer"}, "Bearer"),
        ("the API key sent as a bearer token", bearer(CUSTOMS_KEY), "Invalid bearer token."),
    ],
)
def test_malformed_credentials_are_refused(gateway: str, case: str, headers: dict[str, str], message: str) -> None:
    assert message in assert_refused(post(gateway, headers), CUSTOMS_KEY)


def test_refused_requests_never_reach_an_authority(gateway: str, world: World) -> None:
    world.china.reset()
    world.kazakhstan.reset()
    for headers in ({}, {"X-API-Key": CUSTOMS_KEY[:-1] + "x"}, bearer(hs256(claims(Role.ANALYST), secret="y" * 40))):
        assert_refused(post(gateway, headers, UPSTREAM_PROBE))
        response = httpx.get(f"{gateway}/graphql", params={"query": UPSTREAM_PROBE}, headers=headers, timeout=30)
        assert response.status_code == 401
    assert world.china.counters() == {} and world.kazakhstan.counters() == {}


def test_public_paths_and_the_graphiql_page_need_no_credentials(gateway: str) -> None:
    assert httpx.get(f"{gateway}/healthz", timeout=30).status_code == 200
    page = httpx.get(f"{gateway}/graphql", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # ...but the page with a bad credential, or a query over GET, still needs a valid one.
    assert_refused(httpx.get(f"{gateway}/graphql", headers={"Accept": "text/html", "X-API-Key": "cgw_" + "1" * 40}))
    assert_refused(httpx.get(f"{gateway}/graphql", params={"query": PROBE}, timeout=30))


def test_anonymous_access_when_configured_is_the_demo_role_and_bad_credentials_are_still_refused(
    anonymous_gateway: str,
) -> None:
    response = post(anonymous_gateway, {})
    assert response.status_code == 200 and len(response.json()["data"]["crossingPoints"]) == 5
    assert_refused(post(anonymous_gateway, {"X-API-Key": "cgw_" + "2" * 40}))
    assert_refused(post(anonymous_gateway, bearer(hs256(claims(Role.CHINA_CUSTOMS), secret="z" * 40))))
