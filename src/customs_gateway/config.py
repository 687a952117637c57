"""Typed settings, read once: a TOML file (``config/gateway.toml`` by default), then environment
variables, which win.

Environment variables use the prefix ``CUSTOMS_GATEWAY_`` and ``__`` between levels, e.g.
``CUSTOMS_GATEWAY_CHINA__APP_SECRET`` or ``CUSTOMS_GATEWAY_KAZAKHSTAN__BASE_URL``. Secrets are
``SecretStr``: they never show in a repr, a log line or an error.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .cache.config import CacheConfig
from .discrepancies import DiscrepancyThresholds, Severity
from .domain import Authority, InspectionKind
from .recognition import RecognitionPolicy, RecognitionRule
from .reports import ReportLimits, ReportOptions
from .resilience.config import ResilienceConfig
from .security.config import SecuritySettings
from .sources.china.settings import ChinaSourceSettings
from .sources.kazakhstan.settings import KazakhstanSourceSettings

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_PATH",
    "CacheConfig",
    "CrossingSettings",
    "DiscrepancySettings",
    "GatewaySettings",
    "LinkingSettings",
    "RecognitionRuleSettings",
    "ReportSettings",
    "SecuritySettings",
    "ServerSettings",
    "load_settings",
]

CONFIG_ENV = "CUSTOMS_GATEWAY_CONFIG"
DEFAULT_CONFIG_PATH = Path("config/gateway.toml")
PACKAGED_CONFIG = "default_config.toml"


class CrossingSettings(BaseModel):
    """One pair of border posts. Which phase a crossing is in is configuration, not code."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    phase: int = Field(ge=0, le=2, description="0 none, 1 common manifest, 2 mutual recognition")
    cn_port_code: str
    cn_name: str
    cn_name_latin: str
    cn_locode: str | None = None
    cn_locode_official: bool = False
    kz_checkpoint_code: str
    kz_name: str
    kz_name_latin: str
    kz_locode: str | None = None
    kz_locode_official: bool = False


class LinkingSettings(BaseModel):
    """How two sides' records of one trip are matched where no common manifest id exists."""

    model_config = ConfigDict(frozen=True)

    # The importing side's record must be registered within this window around the exporting
    # side's declaration (Kazakh preliminary information can precede the Chinese exit by a day).
    window_before: dt.timedelta = dt.timedelta(hours=36)
    window_after: dt.timedelta = dt.timedelta(hours=36)


class DiscrepancySettings(BaseModel):
    """When the two sides' records of a trip disagree enough to say so (docs/discrepancies.md).

    Relative gaps are ``|importer − exporter| / exporter``; a gap above ``*_warning`` /
    ``mass_tolerance`` is a WARNING, above ``*_critical`` a CRITICAL.
    """

    model_config = ConfigDict(frozen=True)

    value_warning: Decimal = Field(default=Decimal("0.05"), ge=0)
    value_critical: Decimal = Field(default=Decimal("0.20"), ge=0)
    mass_tolerance: Decimal = Field(default=Decimal("0.05"), ge=0)
    mass_critical: Decimal = Field(default=Decimal("0.15"), ge=0)
    hs6_severity: Severity = Severity.WARNING
    package_severity: Severity = Severity.WARNING
    # A one-sided trip is INFO while the other side may still register it, WARNING after this.
    missing_after: dt.timedelta = dt.timedelta(hours=48)

    @model_validator(mode="after")
    def _ordered(self) -> DiscrepancySettings:
        if self.value_critical < self.value_warning or self.mass_critical < self.mass_tolerance:
            raise ValueError("a critical threshold must not be below its warning threshold")
        return self

    def thresholds(self) -> DiscrepancyThresholds:
        return DiscrepancyThresholds(
            value_warning=self.value_warning,
            value_critical=self.value_critical,
            mass_tolerance=self.mass_tolerance,
            mass_critical=self.mass_critical,
            hs6_severity=self.hs6_severity,
            package_severity=self.package_severity,
            missing_after=self.missing_after,
        )


class RecognitionRuleSettings(BaseModel):
    """Mutual recognition at crossings in ``phase``: ``recognizer`` accepts the other side's
    inspections of ``kinds`` when its recognition starts within ``within`` of their end."""

    model_config = ConfigDict(frozen=True)

    phase: int = Field(ge=0, le=2)
    recognizer: Authority
    kinds: tuple[InspectionKind, ...] = Field(min_length=1)
    within: dt.timedelta = dt.timedelta(hours=24)

    def rule(self) -> RecognitionRule:
        return RecognitionRule(self.phase, self.recognizer, frozenset(self.kinds), self.within)


_DEFAULT_RECOGNITION = (
    RecognitionRuleSettings(phase=2, recognizer=Authority.KGD, kinds=(InspectionKind.XRAY_SCAN,)),
    RecognitionRuleSettings(phase=2, recognizer=Authority.GACC, kinds=(InspectionKind.XRAY_SCAN,)),
)


def default_scan_workers(cores: int | None) -> int:
    """Two scan worker processes where there are two cores or more, else none: a cold report is
    CPU-bound, and with one core a worker only adds the cost of sending partials back."""
    return 2 if (cores or 1) >= 2 else 0


class ReportSettings(BaseModel):
    """Reports (``docs/reports.md``): limits, concurrency towards each authority, partials' cache."""

    model_config = ConfigDict(frozen=True)

    max_days: int = Field(default=366, ge=1, description="longest window of one report, in days")
    max_rows: int = Field(default=50_000, ge=1, description="most rows (groups) one report may answer")
    chunk_concurrency: int = Field(default=8, ge=1, description="(crossing, direction, day) chunks in flight")
    china_concurrency: int = Field(default=6, ge=1, description="GACC list calls in flight for reports")
    kazakhstan_concurrency: int = Field(default=4, ge=1, description="KGD list calls in flight for reports")
    settled_after_days: int = Field(default=2, ge=0, description="a day this old no longer changes")
    ttl_settled_s: float = Field(default=7 * 24 * 3600, gt=0)
    ttl_recent_s: float = Field(default=300, gt=0)
    ttl_today_s: float = Field(default=60, gt=0)
    memo_mb: int = Field(default=32, ge=0, description="in-process first level before the partials' cache")
    scan_deadline_s: float = Field(
        default=300.0, gt=0, description="budget for scanning a report's missing chunks (not the operation's)"
    )
    scan_workers: int = Field(
        default_factory=lambda: default_scan_workers(os.cpu_count()),
        ge=0,
        le=64,
        description="processes scanning chunks (0: in the server process); default 2 with 2+ cores",
    )
    cache: CacheConfig = CacheConfig(max_entries=50_000, max_bytes=128 * 1024 * 1024, namespace="cgw-reports")

    def options(self) -> ReportOptions:
        return ReportOptions(
            limits=ReportLimits(max_days=self.max_days, max_rows=self.max_rows),
            chunk_concurrency=self.chunk_concurrency,
            china_concurrency=self.china_concurrency,
            kazakhstan_concurrency=self.kazakhstan_concurrency,
            settled_after_days=self.settled_after_days,
            ttl_settled_s=self.ttl_settled_s,
            ttl_recent_s=self.ttl_recent_s,
            ttl_today_s=self.ttl_today_s,
            memo_bytes=self.memo_mb * 1024 * 1024,
            scan_deadline_s=self.scan_deadline_s,
        )


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    graphiql: bool = True
    # Bound the parsed-document and validation caches (see strawberry's ParserCache).
    document_cache_size: int = 1024
    # The time budget of one GraphQL operation: every upstream call under it gets what is left.
    operation_deadline_s: float = Field(default=15.0, gt=0)
    # CPython's gen-0 collection threshold (its default, 700, runs a collection every 700 net
    # new container objects). A cold report keeps KGD list pages (tens of thousands of XML
    # elements each) alive across awaits, so at 700 they were promoted and full collections
    # walked them over and over: a quarter of a cold report's CPU. Reference cycles are rare
    # here (refcounting frees nearly everything), so a larger threshold costs little memory.
    gc_gen0_threshold: int = Field(default=50_000, ge=700)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto `serve` believes (uvicorn's
    # forwarded_allow_ips): the client address that rate limits, the refused-credentials lockout
    # and the audit log see. Only the proxies in front of the gateway: anyone else could name any
    # address. "" believes no one.
    forwarded_allow_ips: str = "127.0.0.1"


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUSTOMS_GATEWAY_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    china: ChinaSourceSettings
    kazakhstan: KazakhstanSourceSettings
    crossings: tuple[CrossingSettings, ...]
    linking: LinkingSettings = LinkingSettings()
    discrepancies: DiscrepancySettings = DiscrepancySettings()
    recognition: tuple[RecognitionRuleSettings, ...] = _DEFAULT_RECOGNITION
    cache: CacheConfig = CacheConfig()
    server: ServerSettings = ServerSettings()
    security: SecuritySettings = SecuritySettings()
    reports: ReportSettings = ReportSettings()

    @model_validator(mode="after")
    def _unique_crossings(self) -> GatewaySettings:
        ids = [crossing.id for crossing in self.crossings]
        if len(set(ids)) != len(ids):
            raise ValueError("crossing ids must be unique")
        return self

    def recognition_policy(self) -> RecognitionPolicy:
        """The mutual-recognition rules of every crossing phase."""
        return RecognitionPolicy(rule.rule() for rule in self.recognition)

    def resilience(self) -> ResilienceConfig:
        """The guards' settings: each authority's section's policy and the operation deadline."""
        return ResilienceConfig(
            operation_deadline_s=self.server.operation_deadline_s,
            per_upstream={Authority.GACC: self.china.policy(), Authority.KGD: self.kazakhstan.policy()},
        )


def _default_config_path() -> Path:
    """$CUSTOMS_GATEWAY_CONFIG, else ./config/gateway.toml, else the copy installed with the package
    (a link to config/gateway.toml in the source tree), so the demo runs from any directory."""
    if CONFIG_ENV in os.environ:
        return Path(os.environ[CONFIG_ENV])
    if DEFAULT_CONFIG_PATH.is_file():
        return DEFAULT_CONFIG_PATH
    return Path(__file__).with_name(PACKAGED_CONFIG)


def load_settings(path: Path | None = None, **overrides: Any) -> GatewaySettings:
    """Settings from keyword overrides, then the environment, then the TOML file.

    The file is ``path``, else ``$CUSTOMS_GATEWAY_CONFIG``, else ``config/gateway.toml`` when it
    exists, else the default configuration installed with the package. A missing explicit
    ``path`` is an error.
    """
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"configuration file not found: {path}")
    config_path = path or _default_config_path()

    class _Settings(GatewaySettings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_path.is_file():
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_path))
            return tuple(sources)

    return _Settings(**overrides)
