"""Both simulated authorities and the gateway, each a real server on loopback.

Two worlds. ``data`` serves a generated dataset (:mod:`customs_sim.dataset`: 5 days at 300
trucks a day, realistic flaws) and tests check the gateway against its :class:`GroundTruth`;
``world`` serves a few hand-made trips for cases that need one specific trip. Each simulator
serves its own view of the trips, and tests compare with the trips themselves, never with the
gateway's own output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.china_fixtures import many_trips, sample_trips
from tests.security_fixtures import CUSTOMS_HEADERS, security_settings

from customs_gateway.app import create_app
from customs_gateway.config import load_settings
from customs_sim.admin import AdminState
from customs_sim.admin_client import AdminClient
from customs_sim.china import ChinaStoreWriter
from customs_sim.china.app import ChinaSimSettings
from customs_sim.dataset import DatasetFiles, GroundTruth, build_dataset
from customs_sim.generator import DatasetParams
from customs_sim.kazakhstan import KazakhstanStoreWriter
from customs_sim.kazakhstan.settings import KazakhstanSimSettings
from customs_sim.model import Trip
from customs_sim.reference import CROSSINGS_BY_ID
from customs_sim.servers import SimOptions, china_sim, kazakhstan_sim
from customs_sim.serving import ServerThread, serve_in_thread

CN_APP_ID, CN_SECRET = "customs-gateway", "e2e-cn-secret"
KZ_CLIENT_ID, KZ_SECRET = "customs-gateway", "e2e-kz-secret"
ADMIN_TOKEN = "e2e-admin"
CONFIG = Path(__file__).resolve().parents[2] / "config" / "gateway.toml"

WINDOW_FROM = "2025-02-28T00:00:00+00:00"
WINDOW_TO = "2025-03-04T00:00:00+00:00"


@dataclass
class Sim:
    server: ServerThread
    admin: AdminState

    def counters(self) -> dict[str, int]:
        return dict(self.admin.requests)

    def reset(self) -> None:
        self.admin.reset_counters()


@dataclass
class World:
    trips: list[Trip]
    china: Sim
    kazakhstan: Sim
    gateway_url: str

    def trip(self, trip_id: str) -> Trip:
        return next(t for t in self.trips if t.trip_id == trip_id)


# KZT per unit: NBK-like rates, one set for every day the trips touch.
RATES = {"USD": Decimal("500.00"), "CNY": Decimal("70.00"), "EUR": Decimal("540.00"), "RUB": Decimal("5.50")}
RATE_DAYS = [dt.date(2025, 2, 25) + dt.timedelta(days=i) for i in range(12)]


def nbk_rate(day: dt.date, currency: str) -> Decimal:
    return RATES[currency]


def _wire_pi_number(trip: Trip) -> Trip:
    """The hand-made trips use a placeholder PI number; give them the wire format's."""
    if trip.kz_pi_number is None:
        return trip
    office = CROSSINGS_BY_ID[trip.crossing].kz.code
    seq = int(trip.trip_id.rsplit("-", 1)[1])
    return dataclasses.replace(trip, kz_pi_number=f"{office}-{trip.day:%d%m%y}-{seq:07d}")


def ground_truth() -> list[Trip]:
    return [_wire_pi_number(t) for t in (*sample_trips(), *many_trips(60))]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    trips = ground_truth()
    root = tmp_path_factory.mktemp("e2e")
    with ChinaStoreWriter(root / "cn.sqlite") as cn_writer:
        for trip in trips:
            cn_writer.add(trip)
    with KazakhstanStoreWriter(root / "kz.sqlite", rate_of=nbk_rate) as kz_writer:
        for trip in trips:
            kz_writer.add(trip)
        kz_writer.add_rates((day, cur, value) for day in RATE_DAYS for cur, value in RATES.items())
    options = SimOptions(admin_token=ADMIN_TOKEN)
    cn = china_sim(ChinaSimSettings(root / "cn.sqlite", app_secret=CN_SECRET, app_id=CN_APP_ID), options)
    kz = kazakhstan_sim(KazakhstanSimSettings(root / "kz.sqlite", KZ_CLIENT_ID, KZ_SECRET), options)
    with serve_in_thread(cn.app) as cn_server, serve_in_thread(kz.app) as kz_server:
        settings = gateway_settings(cn_server.url, kz_server.url)
        with serve_in_thread(create_app(settings)) as gw_server:
            yield World(trips, Sim(cn_server, cn.admin), Sim(kz_server, kz.admin), gw_server.url)


# Resilience of the gateways under test: circuits and backoffs at test speed (a circuit opens after
# 3 failures and probes after 50 ms; backoffs of milliseconds), but timeouts and the operation
# deadline generous: these tests are not about time, and the test machine may be loaded (a timeout
# there would retry and break the request counts). tests/e2e/test_faults.py has tight timings.
FAST_RESILIENCE: dict[str, Any] = {
    "total_timeout_s": 20.0,
    "retry": {"attempts": 3, "wait_initial_s": 0.005, "wait_max_s": 0.02, "wait_jitter_s": 0.005},
    "breaker": {"failure_threshold": 3, "failure_rate": None, "open_s": 0.05, "max_open_s": 0.2},
}


def gateway_settings(
    china_url: str,
    kazakhstan_url: str,
    *,
    server: dict[str, Any] | None = None,
    security: dict[str, Any] | None = None,
    cache: dict[str, Any] | None = None,
    reports: dict[str, Any] | None = None,
    **china_overrides: Any,
) -> Any:
    """Settings of a test gateway; it accepts the test credentials of ``tests.security_fixtures``
    (clients send ``CUSTOMS_HEADERS`` unless a test is about another role). The cache is off
    unless ``cache`` is given: most e2e tests count upstream requests per query, which a warm
    cache would answer with none (tests/e2e/test_gateway_cache.py turns it on)."""
    return load_settings(
        CONFIG,
        china={
            "base_url": china_url,
            "app_id": CN_APP_ID,
            "app_secret": CN_SECRET,
            **FAST_RESILIENCE,
            **china_overrides,
        },
        kazakhstan={
            "base_url": kazakhstan_url,
            "client_id": KZ_CLIENT_ID,
            "client_secret": KZ_SECRET,
            **FAST_RESILIENCE,
        },
        server={"operation_deadline_s": 60.0, **(server or {})},
        # Rate limits have their own tests (tests/integration/test_gateway_rate_limit.py).
        security=security if security is not None else security_settings(rate_limit={"enabled": False}),
        cache=cache if cache is not None else {"enabled": False},
        reports=reports or {},
    )


@pytest.fixture(scope="session")
def client(world: World) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.gateway_url, timeout=30, headers=CUSTOMS_HEADERS) as http:
        yield http


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


DATASET = DatasetParams(seed=7, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 5), trucks_per_day=300)
DATA_FROM = "2025-02-28T00:00:00+00:00"
DATA_TO = "2025-03-07T00:00:00+00:00"


@dataclass
class DataWorld:
    """The generated dataset served by both simulators, and the gateway over them."""

    files: DatasetFiles
    truth: GroundTruth
    china: Sim
    kazakhstan: Sim
    gateway_url: str


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataWorld]:
    files = build_dataset(DATASET, tmp_path_factory.mktemp("dataset"), truth=True)  # one pass: the truth too
    options = SimOptions(admin_token=ADMIN_TOKEN)
    cn = china_sim(ChinaSimSettings(files.china_db, app_secret=CN_SECRET, app_id=CN_APP_ID), options)
    kz = kazakhstan_sim(KazakhstanSimSettings(files.kazakhstan_db, KZ_CLIENT_ID, KZ_SECRET), options)
    with contextlib.ExitStack() as stack:
        truth = stack.enter_context(GroundTruth(files))
        cn_server = stack.enter_context(serve_in_thread(cn.app))
        kz_server = stack.enter_context(serve_in_thread(kz.app))
        # Reports here are scanned by worker processes (docs/reports.md), as a server with 2+ cores does.
        settings = gateway_settings(cn_server.url, kz_server.url, reports={"scan_workers": 2})
        gw_server = stack.enter_context(serve_in_thread(create_app(settings)))
        yield DataWorld(files, truth, Sim(cn_server, cn.admin), Sim(kz_server, kz.admin), gw_server.url)


@pytest.fixture(scope="session")
def data_client(data: DataWorld) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=data.gateway_url, timeout=60, headers=CUSTOMS_HEADERS) as http:
        yield http


class Upstreams:
    """Both simulators' own request counters, read over their admin HTTP endpoints: the witness
    that a refused or hostile request reached no authority (or only the ones it should)."""

    def __init__(self, china: AdminClient, kazakhstan: AdminClient) -> None:
        self.china, self.kazakhstan = china, kazakhstan

    def reset(self) -> None:
        self.china.reset()
        self.kazakhstan.reset()

    def endpoints(self) -> set[str]:
        return {f"cn {e}" for e in self.china.counters()} | {f"kz {e}" for e in self.kazakhstan.counters()}

    def totals(self) -> tuple[int, int]:
        return self.china.total(), self.kazakhstan.total()


@pytest.fixture(scope="module")
def upstreams(world: World) -> Iterator[Upstreams]:
    with (
        AdminClient(world.china.server.url, ADMIN_TOKEN) as cn,
        AdminClient(world.kazakhstan.server.url, ADMIN_TOKEN) as kz,
    ):
        yield Upstreams(cn, kz)
