"""The Kazakhstan source against the REAL Kazakhstan simulator on loopback.

The simulator serves a database built from the hand-made trips (every status, both offsets,
every control form) plus 130 generated imports, enough for several batch calls and pages.
Nothing is mocked: real sockets, real OAuth tokens, real XML. The simulator's clock is shared
with the test so a token can be expired on demand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kazakhstan_fixtures import RATES, fake_rate, hand_made_trips

from customs_gateway.domain import (
    Authority,
    Direction,
    InspectionKind,
    InspectionOutcome,
    RecordStatus,
    RiskChannel,
)
from customs_gateway.errors import InvalidInput, UpstreamContract, UpstreamRejected, UpstreamUnavailable
from customs_gateway.sources.base import RecordQuery
from customs_gateway.sources.kazakhstan import (
    KazakhstanClient,
    KazakhstanSourceImpl,
    KazakhstanSourceSettings,
    TokenProvider,
    create_http_client,
)
from customs_sim.kazakhstan import KazakhstanSimSettings, KazakhstanStoreWriter, create_kazakhstan_app
from customs_sim.model import EventKind, Trip, TripEvent
from customs_sim.serving import ServerThread, serve_in_thread

CLIENT_ID = "gateway"
SECRET = "integration-secret"
GENERATED = 130
KZ5 = dt.timezone(dt.timedelta(hours=5))


class Clock:
    """The simulator's clock: real time plus whatever a test skips ahead."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped


def generated_trips(template: Trip) -> list[Trip]:
    """Imports at Khorgos on 2024-03-03, one every 7 minutes, each arrived and released."""
    trips = []
    start = dt.datetime(2024, 3, 2, 19, 0, tzinfo=dt.UTC)  # 2024-03-03 00:00 +05:00
    for n in range(1, GENERATED + 1):
        submitted = start + dt.timedelta(minutes=7 * n)
        trips.append(
            dataclasses.replace(
                template,
                trip_id=f"T-GEN-{n:04d}",
                day=dt.date(2024, 3, 3),
                kz_pi_number=f"55201011-030324-{1000 + n:07d}",
                cn_batch_no=f"9403202403030001{n:03d}",
                common_id=f"CKM-KHORGOS-20240303-{n:05d}",
                events=(
                    TripEvent(EventKind.KZ_PI_SUBMITTED, submitted, "55201011"),
                    TripEvent(EventKind.KZ_ARRIVED, submitted + dt.timedelta(hours=1), "55201011"),
                    TripEvent(EventKind.KZ_RELEASED, submitted + dt.timedelta(hours=2), "55201011"),
                ),
            )
        )
    return trips


@pytest.fixture(scope="module")
def trips() -> list[Trip]:
    hand_made = hand_made_trips()
    return hand_made + generated_trips(hand_made[0])


@pytest.fixture(scope="module")
def known_numbers(trips: list[Trip]) -> list[str]:
    return [t.kz_pi_number for t in trips if t.kz_pi_number is not None]


@pytest.fixture(scope="module")
def sim_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def simulator(
    tmp_path_factory: pytest.TempPathFactory, trips: list[Trip], sim_clock: Clock
) -> Iterator[ServerThread]:
    db = tmp_path_factory.mktemp("kgd") / "kgd.sqlite"
    with KazakhstanStoreWriter(db, fake_rate) as writer:
        for trip in trips:
            writer.add(trip)
        writer.add_rates(
            (day, currency, value) for day, rates in RATES.items() for currency, value in rates.items()
        )
    settings = KazakhstanSimSettings(
        db_path=Path(db), client_id=CLIENT_ID, client_secret=SECRET, token_lifetime_s=900, clock=sim_clock
    )
    with serve_in_thread(create_kazakhstan_app(settings)) as server:
        yield server


class Wired:
    """One gateway-side source with counters of what it sent upstream."""

    def __init__(self, base_url: str, secret: str = SECRET, clock: Any = None) -> None:
        self.settings = KazakhstanSourceSettings(base_url=base_url, client_id=CLIENT_ID, client_secret=secret)
        self.http = create_http_client(self.settings)
        self.requests: list[httpx.Request] = []

        async def count(request: httpx.Request) -> None:
            self.requests.append(request)

        self.http.event_hooks["request"].append(count)
        self.tokens = (
            TokenProvider(self.settings, self.http)
            if clock is None
            else TokenProvider(self.settings, self.http, clock=clock)
        )
        self.source = KazakhstanSourceImpl(
            self.settings, KazakhstanClient(self.settings, self.http, self.tokens)
        )

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


@pytest.fixture
async def wired(simulator: ServerThread) -> AsyncIterator[Wired]:
    w = Wired(simulator.url)
    yield w
    await w.http.aclose()


async def test_a_batch_of_fifty_equals_fifty_single_gets(wired: Wired, known_numbers: list[str]) -> None:
    numbers = known_numbers[:50]
    batch = await wired.source.records(numbers)
    singles = {n: await wired.source.record(n) for n in numbers}
    assert batch == singles
    assert all(record is not None for record in batch.values())
    assert len(wired.calls("/api/v1/preliminary-information/batch")) == 1


async def test_many_keys_are_deduplicated_and_split_into_batches_of_fifty(
    wired: Wired, known_numbers: list[str]
) -> None:
    asked = [*known_numbers, *known_numbers[:20], "55201011-010101-9999999"]
    found = await wired.source.records(asked)
    assert set(found) == set(asked)
    assert found["55201011-010101-9999999"] is None
    assert all(found[n] is not None and found[n].pi_number == n for n in known_numbers)  # type: ignore[union-attr]
    calls = wired.calls("/api/v1/preliminary-information/batch")
    sent = [n for call in calls for n in call.url.params.get_list("number")]
    assert all(len(call.url.params.get_list("number")) <= 50 for call in calls)
    assert sorted(sent) == sorted(set(asked))  # each key sent exactly once
    assert len(calls) == -(-len(set(asked)) // 50)


async def test_unknown_keys_are_answers_not_errors(wired: Wired) -> None:
    unknown = "55201011-010101-0000000"
    assert await wired.source.record(unknown) is None
    assert await wired.source.record("../checkpoints") is None
    assert await wired.source.record("batch") is None
    assert await wired.source.records([unknown]) == {unknown: None}
    assert await wired.source.arrivals([unknown]) == {unknown: None}
    assert await wired.source.controls([unknown]) == {unknown: []}


async def test_hand_made_records_keep_their_meaning(wired: Wired) -> None:
    first = await wired.source.record("55201011-280224-0000001")
    assert first is not None
    assert first.direction is Direction.CN_TO_KZ
    assert first.status is RecordStatus.RELEASED
    assert first.registered_at.utcoffset() == dt.timedelta(hours=6)  # before the 2024-03-01 switch
    assert first.registered_at == dt.datetime(2024, 2, 28, 3, 15, 7, tzinfo=dt.UTC)
    assert first.invoice_currency == "CNY"
    assert first.vehicle.plate.canonical == "XINF12345"
    assert first.trailer is not None
    assert first.trailer.written == "XINF1234GUA"
    assert [g.hs6 for g in first.goods] == ["851713", "847130"]
    assert first.goods[1].description == "Ноутбуки <портативные> & планшеты"
    assert first.consignee.name == "ТОО «Алматы Импорт» & Ко"
    assert sum(g.value_kzt or 0 for g in first.goods) == first.total_value_kzt
    export = await wired.source.record("55101041-020324-0000003")
    assert export is not None
    assert export.direction is Direction.KZ_TO_CN
    assert export.status is RecordStatus.EXITED
    assert export.risk_channel is RiskChannel.RED
    assert export.vehicle.written == "123 ABC 19"
    assert export.vehicle.plate.canonical == "123ABC19"
    assert export.exited_at is not None
    assert export.exited_at.utcoffset() == dt.timedelta(hours=5)


async def test_controls_are_grouped_by_record(wired: Wired) -> None:
    controls = await wired.source.controls(
        ["55201011-280224-0000002", "55201011-280224-0000001", "55101041-020324-0000003"]
    )
    assert controls["55201011-280224-0000001"] == []  # known, never controlled
    second = sorted(controls["55201011-280224-0000002"], key=lambda c: c.started_at)
    assert [c.kind for c in second] == [InspectionKind.DOCUMENT_CHECK, InspectionKind.XRAY_SCAN]
    assert second[0].outcome is InspectionOutcome.VIOLATION
    xray = second[1]
    assert xray.recognized_inspection_id == "CI9403202402290000002"
    assert xray.recognized_authority is Authority.GACC
    assert xray.risk_channel is RiskChannel.YELLOW
    assert xray.started_at.utcoffset() == dt.timedelta(hours=5)  # 18:20Z on 02-29 is after the switch
    assert {c.kind for c in controls["55101041-020324-0000003"]} == {
        InspectionKind.EXAMINATION,
        InspectionKind.WEIGHING,
    }


async def test_arrivals_by_pi_number(wired: Wired, known_numbers: list[str]) -> None:
    arrivals = await wired.source.arrivals(known_numbers)
    first = arrivals["55201011-280224-0000001"]
    assert first is not None
    assert first.pi_number == "55201011-280224-0000001"
    assert first.arrived_at == dt.datetime(2024, 2, 28, 5, 2, tzinfo=dt.UTC)
    assert arrivals["55101041-020324-0000003"] is None  # an export has no arrival in Kazakhstan
    assert arrivals["55201021-010324-0000004"] is None  # registered, not arrived yet
    assert sum(a is not None for a in arrivals.values()) == 2 + GENERATED
    calls = wired.calls("/api/v1/arrival-notifications")
    assert all(len(call.url.params.get_list("piNumber")) <= 50 for call in calls)


async def test_arrivals_by_common_manifest_id(wired: Wired, known_numbers: list[str]) -> None:
    """The same notifications as by PI number, found by the trip's common id (phase >= 1)."""
    records = await wired.source.records(known_numbers)
    by_pi = await wired.source.arrivals(known_numbers)
    common = {r.common_manifest_id: r.pi_number for r in records.values() if r and r.common_manifest_id}
    found = await wired.source.arrivals_by_common_ids([*common, "CKM-NOBODY-20240303-99999"])
    assert found["CKM-NOBODY-20240303-99999"] is None
    assert {c: found[c] for c in common} == {c: by_pi[pi] for c, pi in common.items()}
    assert any(notice is not None and notice.common_manifest_id for notice in found.values())
    calls = wired.calls("/api/v1/arrival-notifications")
    assert all(len(call.url.params.get_list("commonManifestId")) <= 50 for call in calls)


async def test_paging_yields_every_record_exactly_once(wired: Wired, known_numbers: list[str]) -> None:
    seen = [record.pi_number async for record in wired.source.iter_records(RecordQuery(), page_size=7)]
    assert sorted(seen) == sorted(known_numbers)
    assert len(seen) == len(set(seen))
    times = [r.registered_at async for r in wired.source.iter_records(RecordQuery(), page_size=500)]
    assert times == sorted(times)  # registration order, as instants across both offsets
    page = await wired.source.record_page(RecordQuery(), offset=10, limit=5)
    assert page.total == len(known_numbers)
    assert [r.pi_number for r in page.items] == seen[10:15]


async def test_queries_filter_upstream(wired: Wired) -> None:
    exports = [r async for r in wired.source.iter_records(RecordQuery(direction=Direction.KZ_TO_CN))]
    assert {r.pi_number for r in exports} == {"55101041-020324-0000003", "55201011-030324-0000005"}
    by_plate = await wired.source.record_page(RecordQuery(plates=("123 ABC 19",)), 0, 100)
    assert by_plate.total == 2
    by_plates = await wired.source.record_page(RecordQuery(plates=("123 ABC 19", "123ABC19", "999ZZZ99")), 0, 100)
    assert by_plates.total == 2
    with pytest.raises(InvalidInput):
        await wired.source.record_page(RecordQuery(plates=tuple(f"{n:03d}ABC19" for n in range(51))), 0, 100)
    window = RecordQuery(
        post_code="55201011",
        start=dt.datetime(2024, 3, 3, 0, 0, tzinfo=KZ5),
        end=dt.datetime(2024, 3, 3, 1, 0, tzinfo=KZ5),
    )
    hour = [r async for r in wired.source.iter_records(window)]
    # 00:00 (inclusive) … 01:00 (exclusive): generated imports at 7, 14, … 56 minutes.
    assert [r.registered_at.minute for r in hour] == [7, 14, 21, 28, 35, 42, 49, 56]
    cm = await wired.source.record_page(RecordQuery(common_manifest_id="CKM-KHORGOS-20240303-00001"), 0, 10)
    assert [r.pi_number for r in cm.items] == ["55201011-030324-0001001"]
    with pytest.raises(InvalidInput):
        await wired.source.record_page(RecordQuery(start=dt.datetime(2024, 3, 3)), 0, 10)
    with pytest.raises(InvalidInput):
        await wired.source.record_page(RecordQuery(), 0, 501)


async def test_iter_controls_yields_every_control_once(wired: Wired) -> None:
    controls = [c async for c in wired.source.iter_controls(None, None, None, page_size=2)]
    assert len(controls) == 4
    assert len({c.id for c in controls}) == 4
    dulata = [c async for c in wired.source.iter_controls("55101041", None, None)]
    assert {c.record_id for c in dulata} == {"55101041-020324-0000003"}


async def test_reference_data(wired: Wired) -> None:
    checkpoints = await wired.source.checkpoints()
    assert {c.locode for c in checkpoints} == {"KZNZH", "KZDSK", "KZBKT", "KZKLZ", "KZMKP"}
    assert all(c.authority is Authority.KGD and not c.locode_official for c in checkpoints)
    rates = await wired.source.exchange_rates(dt.date(2024, 2, 28))
    assert rates["USD"].kzt_per_unit == RATES[dt.date(2024, 2, 28)]["USD"]
    assert rates["CNY"].date == dt.date(2024, 2, 28)


async def test_a_wrong_secret_is_rejected(simulator: ServerThread) -> None:
    w = Wired(simulator.url, secret="wrong")
    try:
        with pytest.raises(UpstreamRejected, match="invalid_client") as caught:
            await w.source.record("55201011-280224-0000001")
        assert "wrong" not in caught.value.message
    finally:
        await w.http.aclose()


async def test_an_expired_token_is_refreshed_transparently(simulator: ServerThread, sim_clock: Clock) -> None:
    frozen_gateway_clock = lambda: 0.0  # noqa: E731 - the gateway believes its token is still fresh
    w = Wired(simulator.url, clock=frozen_gateway_clock)
    try:
        assert await w.source.record("55201011-280224-0000001") is not None
        sim_clock.skipped += 1000  # past the simulator's 900 s lifetime
        assert await w.source.record("55201011-280224-0000001") is not None
        assert len(w.calls("/auth/token")) == 2
        statuses = [r.url.path for r in w.requests]
        assert statuses.count("/api/v1/preliminary-information/55201011-280224-0000001") == 3  # one retried
    finally:
        await w.http.aclose()


async def test_a_token_is_renewed_before_it_expires(simulator: ServerThread, sim_clock: Clock) -> None:
    class GatewayClock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    gateway_clock = GatewayClock()
    w = Wired(simulator.url, clock=gateway_clock)
    try:
        await w.source.checkpoints()
        gateway_clock.now += 900 - 30  # inside the 60 s margin: renew before the upstream refuses
        sim_clock.skipped += 900 - 30
        await w.source.checkpoints()
        assert len(w.calls("/auth/token")) == 2
        assert len(w.calls("/api/v1/checkpoints")) == 2  # no 401 round trip
    finally:
        await w.http.aclose()


async def test_a_closed_port_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    w = Wired(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(UpstreamUnavailable):
            await w.source.checkpoints()
    finally:
        await w.http.aclose()


async def test_records_by_common_id(wired: Wired, trips: list[Trip]) -> None:
    commons = [t.common_id for t in trips if t.common_id and t.kz_pi_number][:60]
    found = await wired.source.records_by_common_ids([*commons, "CKM-KHORGOS-20991231-00001"])
    assert found["CKM-KHORGOS-20991231-00001"] is None
    by_common = {t.common_id: t.kz_pi_number for t in trips}
    for common in commons:
        record = found[common]
        assert record is not None and record.pi_number == by_common[common]
    calls = wired.calls("/api/v1/preliminary-information/batch")
    assert len(calls) == 2 and all(len(c.url.params.get_list("commonManifestId")) <= 50 for c in calls)


async def test_exchange_rates_for_a_range_of_days_in_one_call(wired: Wired) -> None:
    days = sorted(RATES)
    by_day = await wired.source.exchange_rates_range(days[0], days[-1])
    assert sorted(by_day) == days
    for day in days:
        assert by_day[day]["USD"].kzt_per_unit == RATES[day]["USD"] and by_day[day]["USD"].date == day
    assert len(wired.calls("/api/v1/exchange-rates")) == 1
    with pytest.raises(InvalidInput):
        await wired.source.exchange_rates_range(days[1], days[0])


def _mock_source(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[KazakhstanSourceImpl, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 900})
        sent.append(request)
        return handler(request)

    settings = KazakhstanSourceSettings(base_url="http://kgd.test", client_id=CLIENT_ID, client_secret=SECRET)
    http = create_http_client(settings, transport=httpx.MockTransport(api))
    return KazakhstanSourceImpl(settings, KazakhstanClient(settings, http, TokenProvider(settings, http))), sent


def _control_xml(number: str, common: str, start: str) -> str:
    return (
        f"<ControlResult><ControlNumber>{number}</ControlNumber><PINumber>55201011-280224-0000001</PINumber>"
        f"<CommonManifestId>{common}</CommonManifestId><RiskCorridor>ЖЕЛТЫЙ</RiskCorridor>"
        f"<ControlForm>ИДК</ControlForm><StartDateTime>{start}</StartDateTime>"
        "<Result>НАРУШЕНИЙ НЕ ВЫЯВЛЕНО</Result><CustomsOfficeCode>55201011</CustomsOfficeCode></ControlResult>"
    )


async def test_controls_by_common_id_group_by_that_id() -> None:
    ns = "urn:kz:kgd:astana1:sim:v1"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/control-results/batch"
        assert request.url.params.get_list("commonManifestId") == ["CKM-A", "CKM-B"]
        body = (
            f'<ControlResultList xmlns="{ns}">'
            + _control_xml("K2", "CKM-A", "2024-02-28T11:00:00+06:00")
            + _control_xml("K1", "CKM-A", "2024-02-28T10:00:00+06:00")
            + "<NotFound><CommonManifestId>CKM-B</CommonManifestId></NotFound></ControlResultList>"
        )
        return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/xml"})

    source, sent = _mock_source(handler)
    found = await source.controls_by_common_ids(["CKM-A", "CKM-B", "CKM-A"])
    assert {key: [c.id for c in controls] for key, controls in found.items()} == {"CKM-A": ["K1", "K2"], "CKM-B": []}
    assert len(sent) == 1

    def stray(request: httpx.Request) -> httpx.Response:
        body = f'<ControlResultList xmlns="{ns}">' + _control_xml("K9", "CKM-Z", "2024-02-28T10:00:00+06:00")
        return httpx.Response(200, content=(body + "</ControlResultList>").encode())

    with pytest.raises(UpstreamContract):
        await _mock_source(stray)[0].controls_by_common_ids(["CKM-A"])
