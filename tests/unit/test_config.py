"""Typed settings: the TOML file, environment overrides, secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from customs_gateway.config import PACKAGED_CONFIG, default_scan_workers, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOMS_GATEWAY_CONFIG", raising=False)
    monkeypatch.setenv("CUSTOMS_GATEWAY_CHINA__APP_SECRET", "cn-very-secret")
    monkeypatch.setenv("CUSTOMS_GATEWAY_KAZAKHSTAN__CLIENT_SECRET", "kz-very-secret")


def test_default_file_describes_five_crossings_with_their_phases() -> None:
    settings = load_settings(ROOT / "config" / "gateway.toml")
    phases = {crossing.id: crossing.phase for crossing in settings.crossings}
    assert phases == {"KHORGOS": 2, "ALASHANKOU": 0, "BAKHTY": 0, "DULATA": 1, "JEMINAY": 1}
    assert settings.china.base_url == "http://127.0.0.1:8101"
    assert settings.cache.backend == "memory"


def test_runs_from_any_directory_with_the_packaged_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert len(load_settings().crossings) == 5
    packaged = ROOT / "src" / "customs_gateway" / PACKAGED_CONFIG
    assert packaged.read_bytes() == (ROOT / "config" / "gateway.toml").read_bytes()


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMS_GATEWAY_CHINA__BASE_URL", "http://10.0.0.1:9000")
    monkeypatch.setenv("CUSTOMS_GATEWAY_SERVER__PORT", "9100")
    settings = load_settings(ROOT / "config" / "gateway.toml")
    assert settings.china.base_url == "http://10.0.0.1:9000"
    assert settings.server.port == 9100
    assert settings.china.app_id == "customs-gateway"  # the rest of the section still comes from the file


def test_secrets_never_show_in_reprs() -> None:
    settings = load_settings(ROOT / "config" / "gateway.toml")
    text = repr(settings) + str(settings) + repr(settings.china) + repr(settings.kazakhstan)
    assert "cn-very-secret" not in text
    assert "kz-very-secret" not in text
    assert settings.china.app_secret.get_secret_value() == "cn-very-secret"


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "nope.toml")


def test_missing_secret_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOMS_GATEWAY_CHINA__APP_SECRET")
    with pytest.raises(ValidationError, match="app_secret"):
        load_settings(ROOT / "config" / "gateway.toml")


def test_crossing_ids_must_be_unique(tmp_path: Path) -> None:
    text = (ROOT / "config" / "gateway.toml").read_text(encoding="utf-8")
    duplicated = text.replace('id = "BAKHTY"', 'id = "KHORGOS"')
    path = tmp_path / "gateway.toml"
    path.write_text(duplicated, encoding="utf-8")
    with pytest.raises(ValidationError, match="unique"):
        load_settings(path)


@pytest.mark.parametrize(("cores", "workers"), [(None, 0), (1, 0), (2, 2), (16, 2)])
def test_reports_scan_in_two_worker_processes_where_there_are_two_cores(cores: int | None, workers: int) -> None:
    assert default_scan_workers(cores) == workers


def test_scan_workers_are_a_bounded_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMS_GATEWAY_REPORTS__SCAN_WORKERS", "3")
    assert load_settings().reports.scan_workers == 3
    for bad in ("-1", "65"):
        monkeypatch.setenv("CUSTOMS_GATEWAY_REPORTS__SCAN_WORKERS", bad)
        with pytest.raises(ValidationError, match="scan_workers"):
            load_settings()
