"""Resilience settings: each authority's section feeds its guard; the deadline lives in [server]."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from customs_gateway.config import load_settings
from customs_gateway.domain import Authority

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "gateway.toml"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOMS_GATEWAY_CONFIG", raising=False)
    monkeypatch.setenv("CUSTOMS_GATEWAY_CHINA__APP_SECRET", "cn-very-secret")
    monkeypatch.setenv("CUSTOMS_GATEWAY_KAZAKHSTAN__CLIENT_SECRET", "kz-very-secret")


def test_the_default_file_gives_each_authority_its_own_policy_and_the_server_its_deadline() -> None:
    settings = load_settings(CONFIG)
    config = settings.resilience()
    assert config.operation_deadline_s == 15.0
    china, kazakhstan = config.policy_for(Authority.GACC), config.policy_for(Authority.KGD)
    assert (china.retry.attempts, china.breaker.failure_threshold, china.limiter.max_concurrency) == (3, 5, 20)
    assert (kazakhstan.breaker.open_s, kazakhstan.limiter.max_wait_s) == (10.0, 1.0)
    assert settings.kazakhstan.total_timeout_s == 20.0
    assert settings.china.max_body_bytes == settings.kazakhstan.max_body_bytes == 8 * 1024 * 1024


def test_one_authority_is_tuned_without_touching_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMS_GATEWAY_KAZAKHSTAN__BREAKER__FAILURE_THRESHOLD", "2")
    monkeypatch.setenv("CUSTOMS_GATEWAY_SERVER__OPERATION_DEADLINE_S", "4.5")
    config = load_settings(CONFIG).resilience()
    assert config.policy_for(Authority.KGD).breaker.failure_threshold == 2
    assert config.policy_for(Authority.KGD).breaker.open_s == 10.0  # the rest of the table: from the file
    assert config.policy_for(Authority.GACC).breaker.failure_threshold == 5
    assert config.operation_deadline_s == 4.5


def test_overrides_in_code_reach_the_guard_settings() -> None:
    settings = load_settings(CONFIG, china={"retry": {"attempts": 1}, "limiter": {"max_concurrency": 2}})
    policy = settings.resilience().policy_for(Authority.GACC)
    assert (policy.retry.attempts, policy.limiter.max_concurrency) == (1, 2)


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ({"breaker": {"min_calls": 30, "window": 20}}, "min_calls"),
        ({"breaker": {"open_s": 0}}, "open_s"),
        ({"retry": {"attempts": 0}}, "attempts"),
        ({"limiter": {"max_concurrency": 0}}, "max_concurrency"),
        ({"total_timeout_s": -1}, "total_timeout_s"),
        ({"breaker": {"threshold": 3}}, "threshold"),
    ],
)
def test_inconsistent_or_unknown_resilience_settings_are_refused(
    section: dict[str, object], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        load_settings(CONFIG, kazakhstan=section)


def test_the_operation_deadline_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="operation_deadline_s"):
        load_settings(CONFIG, server={"operation_deadline_s": 0})
