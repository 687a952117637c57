"""OAuth2 client credentials and bearer checks of the Kazakhstan simulator, over real HTTP.

Token expiry runs on an injected clock, so nothing here sleeps.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from kazakhstan_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeClock,
    build_store,
    hand_made_trips,
    parse,
    running_sim,
    text,
    token,
)

from customs_sim.kazakhstan import KazakhstanSimSettings
from customs_sim.kazakhstan.oauth import BearerCheck, TokenIssuer

LIFETIME_S = 60.0
CHECKPOINTS = "/api/v1/checkpoints"


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, clock: FakeClock) -> Iterator[httpx.Client]:
    db = build_store(tmp_path_factory.mktemp("kz-oauth") / "kz.db", hand_made_trips())
    with running_sim(db, token_lifetime_s=LIFETIME_S, clock=clock) as (client, _):
        client.headers.pop("Authorization")
        yield client


def _form(**fields: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **fields,
    }


def _basic(client_id: str, secret: str) -> str:
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def test_client_credentials_in_the_form_give_a_bearer_token(base: httpx.Client) -> None:
    answer = base.post("/auth/token", data=_form())
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == LIFETIME_S
    assert len(body["access_token"]) >= 32
    ok = base.get(CHECKPOINTS, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200


def test_tokens_are_random(base: httpx.Client) -> None:
    assert len({token(base) for _ in range(5)}) == 5


def test_client_credentials_as_http_basic(base: httpx.Client) -> None:
    answer = base.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": _basic(CLIENT_ID, CLIENT_SECRET)},
    )
    assert answer.status_code == 200, answer.text
    access = answer.json()["access_token"]
    assert base.get(CHECKPOINTS, headers={"Authorization": f"Bearer {access}"}).status_code == 200


@pytest.mark.parametrize(
    ("data", "headers", "status", "error"),
    [
        (_form(client_secret="wrong"), {}, 401, "invalid_client"),
        (_form(client_id="someone-else"), {}, 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": _basic(CLIENT_ID, "wrong")},
            401,
            "invalid_client",
        ),
        (_form(grant_type="password"), {}, 400, "unsupported_grant_type"),
        (_form(grant_type="authorization_code"), {}, 400, "unsupported_grant_type"),
        ({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, {}, 400, "invalid_request"),
        (_form(), {"Authorization": _basic(CLIENT_ID, CLIENT_SECRET)}, 400, "invalid_request"),  # two methods
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic !!not-base64!!"},
            400,
            "invalid_request",
        ),
    ],
)
def test_token_request_errors_follow_rfc_6749(
    base: httpx.Client, data: dict[str, str], headers: dict[str, str], status: int, error: str
) -> None:
    answer = base.post("/auth/token", data=data, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == error
    if status == 401 and "Authorization" in headers:
        assert answer.headers["www-authenticate"].startswith("Basic")


def test_token_request_must_be_a_form(base: httpx.Client) -> None:
    answer = base.post("/auth/token", json=_form())
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_repeated_form_parameters_are_rejected(base: httpx.Client) -> None:
    body = "grant_type=client_credentials&grant_type=client_credentials&client_id=gateway&client_secret=x"
    answer = base.post(
        "/auth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.json()["error"] == "invalid_request"


def _assert_401(answer: httpx.Response, code: str) -> None:
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    assert text(parse(answer.content), "Code") == code


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "UNAUTHORIZED"),
        ("Bearer", "UNAUTHORIZED"),
        ("Basic Z2F0ZXdheTp4", "UNAUTHORIZED"),
        ("Bearer not-a-token-we-issued", "INVALID_TOKEN"),
    ],
)
@pytest.mark.parametrize(
    "path", [CHECKPOINTS, "/api/v1/preliminary-information/batch?number=x", "/api/v1/nowhere"]
)
def test_api_calls_need_a_live_bearer_token(
    base: httpx.Client, authorization: str | None, code: str, path: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    _assert_401(base.get(path, headers=headers), code)


def test_token_expires_after_its_lifetime(base: httpx.Client, clock: FakeClock) -> None:
    access = token(base)
    bearer = {"Authorization": f"Bearer {access}"}
    clock.now += LIFETIME_S - 1
    assert base.get(CHECKPOINTS, headers=bearer).status_code == 200
    clock.now += 1
    _assert_401(base.get(CHECKPOINTS, headers=bearer), "TOKEN_EXPIRED")
    fresh = {"Authorization": f"Bearer {token(base)}"}
    assert base.get(CHECKPOINTS, headers=fresh).status_code == 200


def test_the_bearer_scheme_is_case_insensitive(base: httpx.Client) -> None:
    assert base.get(CHECKPOINTS, headers={"Authorization": f"bearer {token(base)}"}).status_code == 200


def test_schema_needs_no_token(base: httpx.Client) -> None:
    assert base.get("/schema/kgd.xsd").status_code == 200


# ---------------------------------------------------------------- the token store itself


def test_token_store_is_bounded() -> None:
    clock = FakeClock()
    issuer = TokenIssuer(
        CLIENT_ID, CLIENT_SECRET, lifetime_s=10, clock=clock, max_tokens=3, expired_grace_s=5
    )
    tokens = [issuer.issue(CLIENT_ID) for _ in range(5)]
    assert len(issuer) == 3
    # The oldest live tokens made room for the newest.
    assert issuer.check(f"Bearer {tokens[0]}") is BearerCheck.INVALID_TOKEN
    assert issuer.check(f"Bearer {tokens[-1]}") is BearerCheck.OK


def test_expired_tokens_are_purged_after_a_grace_period() -> None:
    clock = FakeClock()
    issuer = TokenIssuer(
        CLIENT_ID, CLIENT_SECRET, lifetime_s=10, clock=clock, max_tokens=100, expired_grace_s=5
    )
    old = issuer.issue(CLIENT_ID)
    clock.now += 12
    issuer.purge()
    assert issuer.check(f"Bearer {old}") is BearerCheck.TOKEN_EXPIRED  # still within the grace period
    clock.now += 5
    issuer.purge()
    assert len(issuer) == 0
    assert issuer.check(f"Bearer {old}") is BearerCheck.INVALID_TOKEN


def test_full_store_purges_expired_tokens_before_evicting_live_ones() -> None:
    clock = FakeClock()
    issuer = TokenIssuer(
        CLIENT_ID, CLIENT_SECRET, lifetime_s=10, clock=clock, max_tokens=2, expired_grace_s=0
    )
    issuer.issue(CLIENT_ID)
    clock.now += 11
    live = issuer.issue(CLIENT_ID)
    newest = issuer.issue(CLIENT_ID)  # full: the expired one goes, the live one stays
    assert issuer.check(f"Bearer {live}") is BearerCheck.OK
    assert issuer.check(f"Bearer {newest}") is BearerCheck.OK


def test_settings_hide_the_secret(tmp_path: Path) -> None:
    settings = KazakhstanSimSettings(tmp_path / "kz.db", CLIENT_ID, CLIENT_SECRET)
    assert CLIENT_SECRET not in repr(settings)
    assert CLIENT_ID in repr(settings)
