"""``customs-gateway hash-key`` and the demo's access settings."""

from __future__ import annotations

import io
import re
import tomllib

import pytest

from customs_gateway.cli import demo_banner, demo_security, main
from customs_gateway.errors import Unauthenticated
from customs_gateway.security import Role, SecuritySettings
from customs_gateway.security.apikeys import KEY_PREFIX, ApiKeyVerifier
from customs_gateway.security.authn import Authenticator


def _verifier(entry_toml: str) -> ApiKeyVerifier:
    return ApiKeyVerifier(SecuritySettings.model_validate(tomllib.loads(entry_toml)["security"]).api_keys)


def test_hash_key_prints_a_new_key_once_and_an_entry_that_accepts_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-key", "--client-id", "acme-trucks", "--role", "carrier", "--carrier-id", "91650000MA7"]) == 0
    out, err = capsys.readouterr()
    [key] = re.findall(rf"{KEY_PREFIX}\S+", err)
    assert key not in out  # the configuration entry holds only the digest
    principal = _verifier(out).verify(key)
    assert (principal.client_id, principal.role, principal.carrier_id) == ("acme-trucks", "carrier", "91650000MA7")
    with pytest.raises(Unauthenticated):
        _verifier(out).verify(key[:-1] + ("A" if key[-1] != "A" else "B"))


def test_hash_key_hashes_a_key_from_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "cgw_" + "q" * 43
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    assert main(["hash-key", "--stdin", "--role", "analyst"]) == 0
    out, err = capsys.readouterr()
    assert key not in out + err
    assert _verifier(out).verify(key).role == "analyst"


def test_the_demo_turns_on_the_read_only_demo_role_says_so_and_accepts_its_keys() -> None:
    keys = {Role.CHINA_CUSTOMS: "cgw_" + "c" * 43, Role.ANALYST: "cgw_" + "a" * 43}
    authenticator = Authenticator(SecuritySettings.model_validate(demo_security(keys)))
    assert authenticator.authenticate({}).role == "demo"
    assert authenticator.authenticate({"x-api-key": keys[Role.ANALYST]}).role == "analyst"
    banner = demo_banner(keys)
    assert "anonymous access is ON" in banner and "`demo`" in banner
    assert all(key in banner for key in keys.values())
