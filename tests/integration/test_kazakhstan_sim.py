"""The Kazakhstan simulator over real HTTP, on hand-made trips chosen one per case.

Every XML answer is checked well-formed and valid against kgd.xsd by the client's response hook.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import xmlschema
from kazakhstan_fixtures import (
    KZ_NS,
    XmlChecker,
    assert_pi_matches,
    build_store,
    control_fields,
    expected_controls,
    fake_rate,
    hand_made_trips,
    local,
    parse,
    running_sim,
    text,
    texts,
)

from customs_sim.kazakhstan import NAMESPACE, kgd_xsd
from customs_sim.model import Side, Trip

TRIPS = {trip.trip_id: trip for trip in hand_made_trips()}
KZ_TRIPS = [t for t in TRIPS.values() if Side.KZ in t.seen_by]
PI = "/api/v1/preliminary-information"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("kz") / "kz.db", TRIPS.values())


@pytest.fixture(scope="module")
def sim(db: Path) -> Iterator[tuple[httpx.Client, XmlChecker]]:
    with running_sim(db) as running:
        yield running


@pytest.fixture
def client(sim: tuple[httpx.Client, XmlChecker]) -> httpx.Client:
    return sim[0]


def _pi_numbers(body: bytes) -> list[str | None]:
    return texts(parse(body), "PreliminaryInformation/PINumber")


def _trip(number: str) -> Trip:
    return next(t for t in KZ_TRIPS if t.kz_pi_number == number)


# ---------------------------------------------------------------- documents against the ground truth


@pytest.mark.parametrize("trip", KZ_TRIPS, ids=lambda t: t.trip_id)
def test_pi_agrees_with_ground_truth(client: httpx.Client, trip: Trip) -> None:
    answer = client.get(f"{PI}/{trip.kz_pi_number}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    root = parse(answer.content)
    assert root.tag == f"{{{NAMESPACE}}}PreliminaryInformation"
    assert_pi_matches(root, trip, fake_rate)


def test_offset_switches_from_plus_six_to_plus_five_on_1_march_2024(client: httpx.Client) -> None:
    before = parse(client.get(f"{PI}/55201011-280224-0000001").content)
    assert text(before, "RegistrationDateTime") == "2024-02-28T09:15:07+06:00"
    assert text(before, "ReleaseDateTime") == "2024-02-28T13:40:00+06:00"
    # Registered at 23:30 local on 29 February; arrived at the switch instant, i.e. 1 March 00:00 +06:00.
    across = parse(client.get(f"{PI}/55201011-280224-0000002").content)
    assert text(across, "RegistrationDateTime") == "2024-02-29T23:30:00+06:00"
    assert text(across, "ExchangeRateDate") == "2024-02-29"
    arrival = parse(client.get("/api/v1/arrival-notifications/55201011-280224-A000002").content)
    assert text(arrival, "ArrivalDateTime") == "2024-02-29T23:00:00+05:00"
    after = parse(client.get(f"{PI}/55101041-020324-0000003").content)
    assert text(after, "RegistrationDateTime") == "2024-03-02T07:00:00+05:00"
    assert text(after, "ExitDateTime") == "2024-03-02T14:30:00+05:00"


def test_free_text_is_escaped_and_round_trips(client: httpx.Client) -> None:
    raw = client.get(f"{PI}/55201011-280224-0000001").content
    assert b"HORGOS TRANSPORT CO &amp; SONS &lt;LTD&gt;" in raw
    pi = parse(raw)
    assert text(pi, "Carrier/Name") == "HORGOS TRANSPORT CO & SONS <LTD>"
    assert texts(pi, "Goods/GoodsItem/Description")[1] == "Ноутбуки <портативные> & планшеты"


def test_trip_seen_by_china_only_is_unknown(client: httpx.Client) -> None:
    listed = client.get(PI, params={"limit": 500})
    assert int(listed.headers["X-Total-Count"]) == len(KZ_TRIPS)
    assert set(_pi_numbers(listed.content)) == {t.kz_pi_number for t in KZ_TRIPS}


def test_arrival_notification_agrees_with_ground_truth(client: httpx.Client) -> None:
    answer = client.get("/api/v1/arrival-notifications/55201011-280224-A000001")
    assert answer.status_code == 200
    arrival = parse(answer.content)
    assert text(arrival, "PINumber") == "55201011-280224-0000001"
    assert text(arrival, "CommonManifestId") == "CKM-KHORGOS-20240228-00001"
    assert text(arrival, "CheckpointCode") == "55201011"
    assert text(arrival, "ArrivalDateTime") == "2024-02-28T11:02:00+06:00"
    assert text(arrival, "VehicleRegNumber") == "XINF12345"


@pytest.mark.parametrize("trip", KZ_TRIPS, ids=lambda t: t.trip_id)
def test_control_batch_agrees_with_ground_truth(client: httpx.Client, trip: Trip) -> None:
    answer = client.get("/api/v1/control-results/batch", params={"piNumber": trip.kz_pi_number})
    root = parse(answer.content)
    got = [control_fields(e) for e in root.findall(f"{KZ_NS}ControlResult")]
    assert got == expected_controls(trip)
    assert root.find(f"{KZ_NS}NotFound") is None


def test_control_get_one_and_recognized_chinese_scan(client: httpx.Client) -> None:
    answer = client.get("/api/v1/control-results/55201011-280224-K000002-2")
    assert answer.status_code == 200
    control = parse(answer.content)
    assert text(control, "ControlForm") == "ИДК"
    assert text(control, "RecognizedForeignControl/CountryCode") == "CN"
    assert text(control, "RecognizedForeignControl/ForeignControlNumber") == "CI9403202402290000002"
    assert control_fields(control) == expected_controls(_trip("55201011-280224-0000002"))[1]


def test_checkpoints_lists_the_five_kazakh_posts(client: httpx.Client) -> None:
    root = parse(client.get("/api/v1/checkpoints").content)
    assert texts(root, "Checkpoint/InternalCode") == ["KZNZH", "KZDSK", "KZBKT", "KZKLZ", "KZMKP"]
    assert texts(root, "Checkpoint/Official") == ["false"] * 5
    nur_zholy = root.find(f"{KZ_NS}Checkpoint")
    assert nur_zholy is not None
    assert text(nur_zholy, "Code") == "55201011"
    assert text(nur_zholy, "ForeignCheckpoint") == "Horgos"
    assert (text(nur_zholy, "OpenTime"), text(nur_zholy, "CloseTime")) == ("00:00", "00:00")


# ---------------------------------------------------------------- lists, filters, paging


def _registered(trip: Trip) -> str:
    event = next(e for e in trip.events if e.kind.value == "KZ_PI_SUBMITTED")
    return local(event.at)


def test_pi_list_is_ordered_by_registration_then_number(client: httpx.Client) -> None:
    expected = [t.kz_pi_number for t in sorted(KZ_TRIPS, key=lambda t: (_registered(t), t.kz_pi_number))]
    # Registration times differ in offset around the switch: order by instant, not by local text.
    assert _pi_numbers(client.get(PI).content) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"checkpoint": "55201011"}, {1, 2, 5}),
        ({"direction": "EK"}, {3, 5}),
        ({"checkpoint": "55201011", "direction": "IM"}, {1, 2}),
        # from inclusive, to exclusive, any offset; 29 Feb 23:30 +06:00 is 29 Feb 22:30 +05:00.
        ({"from": "2024-02-29T22:30:00+05:00", "to": "2024-03-02T07:00:00+05:00"}, {2, 4}),
        ({"from": "2024-02-29T17:30:00Z"}, {2, 3, 4, 5}),
        ({"to": "2024-02-29T17:30:00.5+00:00"}, {1, 2}),
        ({"plate": "123abc19"}, {3, 5}),
        ({"plate": " 123 ABC 19 "}, {3, 5}),
        ({"plate": "XINF12345"}, {1}),
        ({"plate": ["xinf12345", "123 ABC 19"]}, {1, 3, 5}),  # repeatable
        ({"commonManifestId": "CKM-DULATA-20240302-00003"}, {3}),
        ({"checkpoint": "55301051"}, set()),
        ({"checkpoint": "", "direction": ""}, {1, 2, 3, 4, 5}),  # a template's blanks mean "any"
    ],
)
def test_pi_list_filters(client: httpx.Client, params: dict[str, object], expected: set[int]) -> None:
    answer = client.get(PI, params=params)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    numbers = {int(n[-7:]) for n in _pi_numbers(answer.content) if n}
    assert numbers == expected
    assert int(answer.headers["X-Total-Count"]) == len(expected)


@pytest.mark.parametrize("limit", [1, 2, 3, 500])
def test_paging_returns_every_record_exactly_once(client: httpx.Client, limit: int) -> None:
    for path, tag, total in (
        (PI, "PreliminaryInformation/PINumber", 5),
        ("/api/v1/arrival-notifications", "ArrivalNotification/NotificationNumber", 2),
        ("/api/v1/control-results", "ControlResult/ControlNumber", 4),
    ):
        seen: list[str | None] = []
        offset = 0
        while True:
            answer = client.get(path, params={"offset": offset, "limit": limit})
            assert int(answer.headers["X-Total-Count"]) == total
            page = texts(parse(answer.content), tag)
            if not page:
                break
            assert len(page) <= limit
            seen.extend(page)
            offset += limit
        assert len(seen) == len(set(seen)) == total


def test_pi_batch_keeps_request_order_and_lists_unknown_numbers(client: httpx.Client) -> None:
    numbers = ["55101041-020324-0000003", "55201011-280224-9999999", "55201011-280224-0000001", "garbage"]
    answer = client.get(f"{PI}/batch", params={"number": numbers})
    assert answer.status_code == 200
    root = parse(answer.content)
    assert _pi_numbers(answer.content) == [numbers[0], numbers[2]]
    assert texts(root, "NotFound/PINumber") == [numbers[1], numbers[3]]
    for element in root.findall(f"{KZ_NS}PreliminaryInformation"):
        assert_pi_matches(element, _trip(text(element, "PINumber") or ""), fake_rate)


def test_pi_batch_by_common_manifest_id(client: httpx.Client) -> None:
    ids = ["CKM-DULATA-20240302-00003", "CKM-NOWHERE-1", "CKM-KHORGOS-20240228-00001"]
    answer = client.get(f"{PI}/batch", params={"commonManifestId": ids})
    assert answer.status_code == 200
    root = parse(answer.content)
    assert texts(root, "PreliminaryInformation/CommonManifestId") == [ids[0], ids[2]]
    assert texts(root, "NotFound/CommonManifestId") == [ids[1]]
    assert root.find(f"{KZ_NS}NotFound/{KZ_NS}PINumber") is None


def test_pi_batch_of_fifty(client: httpx.Client) -> None:
    numbers = [t.kz_pi_number for t in KZ_TRIPS] + [f"55201011-010124-{n:07d}" for n in range(45)]
    answer = client.get(f"{PI}/batch", params={"number": numbers})
    assert answer.status_code == 200
    assert len(_pi_numbers(answer.content)) == 5
    assert len(texts(parse(answer.content), "NotFound/PINumber")) == 45


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["55201011-280224-A000001", "55201011-280224-A000002"]),
        ({"piNumber": ["55201011-280224-0000002", "55201011-280224-0000001"]}, None),
        ({"piNumber": "55201011-280224-0000002"}, ["55201011-280224-A000002"]),
        ({"piNumber": "55101041-020324-0000003"}, []),  # exports have no arrival notification
        ({"from": "2024-02-29T23:00:00+05:00"}, ["55201011-280224-A000002"]),
        ({"checkpoint": "55201021"}, []),
        ({"commonManifestId": "CKM-KHORGOS-20240228-00002"}, ["55201011-280224-A000002"]),
        ({"commonManifestId": ["CKM-KHORGOS-20240228-00002", "CKM-KHORGOS-20240228-00001"]}, None),
        ({"commonManifestId": ["CKM-KHORGOS-20240228-00002", "CKM-KHORGOS-20240228-00002"]},
         ["55201011-280224-A000002"]),
        ({"commonManifestId": "CKM-DULATA-20240302-00003"}, []),  # an export: no arrival notification
        ({"commonManifestId": "CKM-NOWHERE-1"}, []),
        # Filters combine: a PI number and a common manifest id of two different trips match nothing.
        ({"piNumber": "55201011-280224-0000001", "commonManifestId": "CKM-KHORGOS-20240228-00002"}, []),
        ({"piNumber": "55201011-280224-0000002", "commonManifestId": "CKM-KHORGOS-20240228-00002"},
         ["55201011-280224-A000002"]),
    ],
)
def test_arrival_list_filters(client: httpx.Client, params: dict[str, object], expected: list[str] | None) -> None:
    answer = client.get("/api/v1/arrival-notifications", params=params)  # type: ignore[arg-type]
    assert answer.status_code == 200
    got = texts(parse(answer.content), "ArrivalNotification/NotificationNumber")
    assert got == (expected if expected is not None else ["55201011-280224-A000001", "55201011-280224-A000002"])


def test_control_list_window_and_checkpoint(client: httpx.Client) -> None:
    answer = client.get(
        "/api/v1/control-results", params={"checkpoint": "55101041", "from": "2024-03-02T09:00:00+05:00"}
    )
    assert texts(parse(answer.content), "ControlResult/ControlNumber") == [
        "55101041-020324-K000003-1",
        "55101041-020324-K000003-2",
    ]
    later = client.get("/api/v1/control-results", params={"from": "2024-03-02T09:00:01+05:00"})
    assert texts(parse(later.content), "ControlResult/ControlNumber") == ["55101041-020324-K000003-2"]


def test_control_batch_lists_unknown_pi_numbers_only(client: httpx.Client) -> None:
    # PI 4 is known but was never inspected: no controls, and not "not found" either.
    answer = client.get(
        "/api/v1/control-results/batch",
        params={"piNumber": ["55201021-010324-0000004", "55201011-280224-0000002", "55201011-280224-7777777"]},
    )
    root = parse(answer.content)
    assert len(root.findall(f"{KZ_NS}ControlResult")) == 2
    assert texts(root, "NotFound/PINumber") == ["55201011-280224-7777777"]


def test_control_batch_by_common_manifest_id(client: httpx.Client) -> None:
    ids = [
        "CKM-DULATA-20240302-00003",  # an export, examined then weighed after the switch
        "CKM-NOWHERE-20240228-00001",  # carried by no record
        "CKM-KHORGOS-20240228-00001",  # a record that was never inspected: known, no controls
        "CKM-KHORGOS-20240228-00002",  # an import with two controls
        "CKM-KHORGOS-20240228-00006",  # China alone saw that trip: unknown to Kazakhstan
        "CKM-DULATA-20240302-00003",  # a repeated key counts once
    ]
    answer = client.get("/api/v1/control-results/batch", params={"commonManifestId": ids})
    assert answer.status_code == 200, answer.text
    root = parse(answer.content)
    got = [control_fields(e) for e in root.findall(f"{KZ_NS}ControlResult")]
    # Every control of those records, in list order (StartDateTime, then ControlNumber).
    expected = expected_controls(_trip("55201011-280224-0000002")) + expected_controls(_trip("55101041-020324-0000003"))
    assert got == expected
    assert [c["CommonManifestId"] for c in got] == [ids[3], ids[3], ids[0], ids[0]]
    assert texts(root, "NotFound/CommonManifestId") == [ids[1], ids[4]]
    assert root.find(f"{KZ_NS}NotFound/{KZ_NS}PINumber") is None


def test_control_batch_by_common_manifest_id_all_found_has_no_not_found(client: httpx.Client) -> None:
    answer = client.get("/api/v1/control-results/batch", params={"commonManifestId": "CKM-KHORGOS-20240228-00005"})
    root = parse(answer.content)
    assert root.findall(f"{KZ_NS}ControlResult") == []  # an export in transit, not inspected yet
    assert root.find(f"{KZ_NS}NotFound") is None


def test_control_batch_by_fifty_common_manifest_ids(client: httpx.Client) -> None:
    known = ["CKM-KHORGOS-20240228-00002", "CKM-DULATA-20240302-00003"]
    ids = known + [f"CKM-NOWHERE-20240101-{n:05d}" for n in range(48)]
    answer = client.get("/api/v1/control-results/batch", params={"commonManifestId": ids})
    assert answer.status_code == 200, answer.text
    root = parse(answer.content)
    assert len(root.findall(f"{KZ_NS}ControlResult")) == 4
    assert texts(root, "NotFound/CommonManifestId") == ids[2:]


def test_common_manifest_id_is_carried_at_phase_one_and_later(client: httpx.Client) -> None:
    control = parse(client.get("/api/v1/control-results/55201011-280224-K000002-1").content)
    assert [e.tag for e in control][:3] == [f"{KZ_NS}ControlNumber", f"{KZ_NS}PINumber", f"{KZ_NS}CommonManifestId"]
    assert text(control, "CommonManifestId") == "CKM-KHORGOS-20240228-00002"
    arrival = parse(client.get("/api/v1/arrival-notifications/55201011-280224-A000002").content)
    assert [e.tag for e in arrival][:3] == [
        f"{KZ_NS}NotificationNumber",
        f"{KZ_NS}PINumber",
        f"{KZ_NS}CommonManifestId",
    ]
    listed = parse(client.get("/api/v1/control-results", params={"limit": 500}).content)
    assert texts(listed, "ControlResult/CommonManifestId") == [
        "CKM-KHORGOS-20240228-00002",
        "CKM-KHORGOS-20240228-00002",
        "CKM-DULATA-20240302-00003",
        "CKM-DULATA-20240302-00003",
    ]


# A phase-0 crossing: the import of trip 2 (two controls, an arrival) at Alashankou, where there is
# no common manifest. Served by a simulator of its own so the hand-made cases above keep their counts.
PHASE0 = dataclasses.replace(
    TRIPS["T-KZ-0002"], trip_id="T-KZ-0007", crossing="ALASHANKOU", kz_pi_number="55201021-280224-0000007",
    common_id=None,
)


@pytest.fixture(scope="module")
def phase0_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, XmlChecker]]:
    with running_sim(build_store(tmp_path_factory.mktemp("kz0") / "kz.db", [PHASE0])) as running:
        yield running


def test_common_manifest_id_is_absent_at_phase_zero(phase0_sim: tuple[httpx.Client, XmlChecker]) -> None:
    client, checker = phase0_sim
    answer = client.get("/api/v1/control-results/batch", params={"piNumber": PHASE0.kz_pi_number})
    controls = parse(answer.content).findall(f"{KZ_NS}ControlResult")
    assert [control_fields(e) for e in controls] == expected_controls(PHASE0)
    assert len(controls) == 2
    for control in controls:
        assert control.find(f"{KZ_NS}CommonManifestId") is None
    one = parse(client.get("/api/v1/control-results/55201021-280224-K000007-1").content)
    assert one.find(f"{KZ_NS}CommonManifestId") is None
    arrival = parse(client.get("/api/v1/arrival-notifications/55201021-280224-A000007").content)
    assert text(arrival, "PINumber") == PHASE0.kz_pi_number
    assert arrival.find(f"{KZ_NS}CommonManifestId") is None
    listed = parse(client.get("/api/v1/arrival-notifications").content)
    assert texts(listed, "ArrivalNotification/NotificationNumber") == ["55201021-280224-A000007"]
    assert texts(listed, "ArrivalNotification/CommonManifestId") == []
    # Nothing is findable by a common manifest id there: not even the trip's own at the other side.
    by_id = parse(
        client.get("/api/v1/control-results/batch", params={"commonManifestId": "CKM-KHORGOS-20240228-00002"}).content
    )
    assert by_id.findall(f"{KZ_NS}ControlResult") == []
    assert texts(by_id, "NotFound/CommonManifestId") == ["CKM-KHORGOS-20240228-00002"]
    assert checker.validated >= 5  # every answer above validated against kgd.xsd


# ---------------------------------------------------------------- exchange rates


def test_exchange_rates_of_one_day(client: httpx.Client) -> None:
    root = parse(client.get("/api/v1/exchange-rates", params={"date": "2024-02-29"}).content)
    assert root.tag == f"{{{NAMESPACE}}}ExchangeRates"
    assert (root.get("date"), root.get("source")) == ("2024-02-29", "НБРК")
    rates = dict(zip(texts(root, "Rate/Currency"), texts(root, "Rate/Value"), strict=True))
    assert rates == {"USD": "453.00", "CNY": "62.80", "EUR": "490.12", "RUB": "4.93"}


def test_exchange_rates_of_a_range_are_inclusive(client: httpx.Client) -> None:
    answer = client.get("/api/v1/exchange-rates", params={"from": "2024-02-26", "to": "2024-03-03"})
    root = parse(answer.content)
    days = [e.get("date") for e in root.findall(f"{KZ_NS}ExchangeRates")]
    assert days == [f"2024-02-{d}" for d in (26, 27, 28, 29)] + [f"2024-03-0{d}" for d in (1, 2, 3)]


def test_remembered_rate_fragments_answer_the_same_bytes(client: httpx.Client) -> None:
    """Rendered rates are remembered per range: a repeated or overlapping ask answers the very
    same documents (the one-day form and its fragment inside a range agree too)."""
    week = {"from": "2024-02-26", "to": "2024-03-03"}
    first, again = (client.get("/api/v1/exchange-rates", params=week).content for _ in range(2))
    assert first == again
    day = parse(client.get("/api/v1/exchange-rates", params={"date": "2024-02-29"}).content)
    in_week = [e for e in parse(first).findall(f"{KZ_NS}ExchangeRates") if e.get("date") == "2024-02-29"]
    assert len(in_week) == 1
    assert texts(in_week[0], "Rate/Value") == texts(day, "Rate/Value") == ["453.00", "62.80", "490.12", "4.93"]


def test_exchange_rates_of_a_day_without_rates_is_not_found(client: httpx.Client) -> None:
    answer = client.get("/api/v1/exchange-rates", params={"date": "2023-01-01"})
    assert answer.status_code == 404
    assert text(parse(answer.content), "Code") == "NOT_FOUND"


# ---------------------------------------------------------------- errors


def _assert_error(answer: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    root = parse(answer.content)
    assert root.tag == f"{{{NAMESPACE}}}Error"
    assert text(root, "Code") == code
    if message is not None:
        assert text(root, "Message") == message
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        (PI, {"limit": "0"}, "limit"),
        (PI, {"limit": "501"}, "limit"),
        (PI, {"limit": "ten"}, "limit"),
        (PI, {"offset": "-1"}, "offset"),
        (PI, {"direction": "IMPORT"}, "direction"),
        (PI, {"checkpoint": "KZNZH"}, "checkpoint"),
        (PI, {"checkpoint": ["55201011", "55101041"]}, "checkpoint"),
        (PI, {"from": "2024-02-28T00:00:00"}, "from"),  # no offset
        (PI, {"from": "2024-02-28"}, "from"),
        (PI, {"to": "yesterday"}, "to"),
        (PI, {"from": "2024-03-01T00:00:00+05:00", "to": "2024-02-28T00:00:00+05:00"}, "to"),
        (PI, {"plates": "XINF12345"}, "plates"),  # unknown parameters are typos, not wildcards
        (f"{PI}/batch", {}, "number"),
        (f"{PI}/batch", {"number": [f"n{i}" for i in range(51)]}, "number"),
        (f"{PI}/batch", {"number": "x", "commonManifestId": "y"}, "commonManifestId"),  # one kind per call
        (f"{PI}/batch", {"commonManifestId": [f"c{i}" for i in range(51)]}, "commonManifestId"),
        (PI, {"plate": [f"{i:03d}ABC19" for i in range(51)]}, "plate"),
        ("/api/v1/arrival-notifications", {"plate": "X"}, "plate"),
        ("/api/v1/control-results", {"direction": "IM"}, "direction"),
        ("/api/v1/control-results/batch", {}, "piNumber"),
        ("/api/v1/control-results/batch", {"piNumber": [f"n{i}" for i in range(51)]}, "piNumber"),
        ("/api/v1/control-results/batch", {"piNumber": "x", "commonManifestId": "y"}, "commonManifestId"),
        ("/api/v1/control-results/batch", {"commonManifestId": [f"c{i}" for i in range(51)]}, "commonManifestId"),
        ("/api/v1/control-results/batch", {"commonManifestId": ""}, "piNumber"),  # blank: no key at all
        ("/api/v1/control-results/batch", {"number": "x"}, "number"),
        ("/api/v1/arrival-notifications", {"commonManifestId": [f"c{i}" for i in range(51)]}, "commonManifestId"),
        ("/api/v1/arrival-notifications", {"piNumber": [f"p{i}" for i in range(51)]}, "piNumber"),
        ("/api/v1/control-results", {"commonManifestId": "x"}, "commonManifestId"),
        ("/api/v1/exchange-rates", {}, "date"),
        ("/api/v1/exchange-rates", {"date": "29.02.2024"}, "date"),
        ("/api/v1/exchange-rates", {"date": "20240229"}, "date"),
        ("/api/v1/exchange-rates", {"from": "2024-02-01"}, "to"),
        ("/api/v1/exchange-rates", {"to": "2024-02-01"}, "from"),
        ("/api/v1/exchange-rates", {"from": "2024-03-01", "to": "2024-02-01"}, "to"),
        ("/api/v1/exchange-rates", {"from": "2023-01-01", "to": "2024-01-02"}, "to"),  # 367 days
        ("/api/v1/exchange-rates", {"date": "2024-02-29", "from": "2024-02-01"}, "from"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: httpx.Client, path: str, params: dict[str, object], parameter: str
) -> None:
    answer = client.get(path, params=params)  # type: ignore[arg-type]
    _assert_error(answer, 400, "VALIDATION_ERROR", f"Некорректный параметр: {parameter}")


def test_a_year_of_rates_is_allowed(client: httpx.Client) -> None:
    answer = client.get("/api/v1/exchange-rates", params={"from": "2023-03-04", "to": "2024-03-03"})  # 366 days
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"{PI}/55201011-280224-0009999", "Предварительная информация не найдена"),
        ("/api/v1/arrival-notifications/55201011-280224-A009999", "Уведомление о прибытии не найдено"),
        ("/api/v1/control-results/55201011-280224-K000001-1", "Результат контроля не найден"),
        ("/api/v1/no-such-resource", "Ресурс не найден"),
        ("/no/such/path", "Ресурс не найден"),
        ("/api/v1/checkpoints/", "Ресурс не найден"),  # no redirect for a trailing slash
    ],
)
def test_unknown_records_and_paths_are_404(client: httpx.Client, path: str, message: str) -> None:
    _assert_error(client.get(path), 404, "NOT_FOUND", message)


@pytest.mark.parametrize(("method", "path"), [("POST", PI), ("DELETE", f"{PI}/x"), ("GET", "/auth/token")])
def test_wrong_method_is_405(client: httpx.Client, method: str, path: str) -> None:
    answer = client.request(method, path)
    _assert_error(answer, 405, "METHOD_NOT_ALLOWED")
    assert "allow" in answer.headers


def test_unexpected_failure_is_a_bare_500(db: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(db.read_bytes())
    with sqlite3.connect(broken) as conn:
        conn.execute("DROP TABLE rates")
    with running_sim(broken) as (client, _):
        answer = client.get("/api/v1/exchange-rates", params={"date": "2024-02-29"})
    _assert_error(answer, 500, "INTERNAL_ERROR", "Внутренняя ошибка сервера")
    assert "sqlite" not in answer.text.lower()


# ---------------------------------------------------------------- schema


def test_schema_is_served_without_auth_and_is_the_packaged_one(client: httpx.Client) -> None:
    answer = httpx.get(client.base_url.join("/schema/kgd.xsd"))
    assert answer.status_code == 200
    assert answer.content == kgd_xsd()
    schema = xmlschema.XMLSchema(answer.text)
    assert schema.target_namespace == NAMESPACE
    for root in ("Error", "Checkpoints", "PreliminaryInformationList", "ArrivalNotificationList"):
        assert root in schema.elements
    for root in ("ControlResultList", "ExchangeRatesList", "PreliminaryInformation", "ExchangeRates"):
        assert root in schema.elements


def test_schema_rejects_what_the_contract_forbids() -> None:
    schema = xmlschema.XMLSchema(kgd_xsd().decode())

    def rates(value: str) -> str:
        return (
            f'<ExchangeRates xmlns="{NAMESPACE}" date="2024-02-29" source="НБРК">'
            f"<Rate><Currency>USD</Currency><Quant>1</Quant><Value>{value}</Value></Rate></ExchangeRates>"
        )

    assert schema.is_valid(rates("453.00"))
    assert not schema.is_valid(rates("453.0"))  # exactly 2 decimals
    arrival = (
        f'<ArrivalNotification xmlns="{NAMESPACE}">'
        "<NotificationNumber>55201011-280224-A000001</NotificationNumber>"
        "<PINumber>55201011-280224-0000001</PINumber><CheckpointCode>55201011</CheckpointCode>"
        "<ArrivalDateTime>{}</ArrivalDateTime><VehicleRegNumber>X</VehicleRegNumber></ArrivalNotification>"
    )
    assert schema.is_valid(arrival.format("2024-02-28T11:02:00+06:00"))
    assert not schema.is_valid(arrival.format("2024-02-28T11:02:00"))  # the offset is mandatory


def test_every_answer_was_validated(sim: tuple[httpx.Client, XmlChecker]) -> None:
    # Runs last in this module: the hook above validated every XML body the tests received.
    assert sim[1].validated > 50
