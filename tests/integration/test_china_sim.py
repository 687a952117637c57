"""The China simulator over real HTTP on loopback: every endpoint, auth failure and bad parameter.

Expected values are computed here from the ground-truth trips independently of the renderer, and
every answer is checked against the simulator's own OpenAPI document.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from china_fixtures import (
    APP_ID,
    APP_SECRET,
    SignedClient,
    assert_error,
    bj,
    check_schema,
    expected_manifest,
    many_trips,
    observed_manifest,
    sample_trips,
    when,
)

from customs_sim.china import ChinaSimSettings, ChinaStore, ChinaStoreWriter, create_china_app
from customs_sim.model import Direction, EventKind, Side, Trip
from customs_sim.reference import CROSSINGS_BY_ID
from customs_sim.serving import serve_in_thread

API = "/gacc/api/v1"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def trips() -> list[Trip]:
    return [*sample_trips(), *many_trips(300)]


@pytest.fixture(scope="module")
def china_db(tmp_path_factory: pytest.TempPathFactory, trips: list[Trip]) -> Path:
    path = tmp_path_factory.mktemp("china") / "china.db"
    with ChinaStoreWriter(path) as writer:
        for trip in trips:
            writer.add(trip)
    return path


@pytest.fixture(scope="module")
def base_url(china_db: Path) -> Iterator[str]:
    app = create_china_app(ChinaSimSettings(db_path=china_db, app_secret=APP_SECRET, app_id=APP_ID))
    with serve_in_thread(app) as server:
        yield server.url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[SignedClient]:
    c = SignedClient(base_url)
    yield c
    c.close()


@pytest.fixture(scope="module")
def openapi(base_url: str) -> dict[str, Any]:
    response = httpx.get(base_url + "/openapi.json")  # unsigned on purpose
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="module")
def known(trips: list[Trip]) -> list[Trip]:
    """The trips China has a manifest of."""
    return [t for t in trips if Side.CN in t.seen_by and t.cn_batch_no and t.event(EventKind.CN_DECLARED)]


# ---------------------------------------------------------------- resources


def test_ports_lists_every_crossing(client: SignedClient, openapi: dict[str, Any]) -> None:
    envelope = client.get(f"{API}/ports")
    check_schema(openapi, f"{API}/ports", "get", envelope)
    ports = {p["portCode"]: p for p in envelope["data"]["list"]}
    assert set(ports) == {c.cn.code for c in CROSSINGS_BY_ID.values()}
    assert ports["9403"]["portName"] == "霍尔果斯"
    assert ports["9403"]["openTime"] == "0930"


def test_every_manifest_agrees_with_the_ground_truth(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    sample = known[:7] + known[7::23]
    for trip in sample:
        envelope = client.get(f"{API}/road-manifests/{trip.cn_batch_no}")
        check_schema(openapi, f"{API}/road-manifests/{{batchNo}}", "get", envelope)
        assert observed_manifest(envelope["data"]) == expected_manifest(trip)


def test_sample_trips_cover_every_status_and_variant(client: SignedClient, known: list[Trip]) -> None:
    docs = [client.get(f"{API}/road-manifests/{t.cn_batch_no}")["data"] for t in known[:5]]
    assert [(d["ieFlag"], d["status"], d["statusName"]) for d in docs] == [
        ("E", "30", "已出境"), ("E", "10", "已申报"), ("I", "40", "已放行"), ("I", "20", "已进境"),
        ("I", "10", "已申报"),
    ]
    assert docs[0]["vehicle"]["plateNo"] == "新F·10001"
    assert docs[1]["vehicle"]["plateNo"] == "新Ｆ１０００２"
    assert docs[2]["driver"] == {"name": "SERIK AKHMETOV", "nameEn": "SERIK AKHMETOV",
                                 "passportNo": "N09876543", "nationality": "KAZ"}
    assert docs[2]["trailer"] is None and docs[2]["currCode"] == "502"
    assert docs[2]["goods"][1]["codeTs"] == "8517130000123"
    assert docs[0]["goods"][0]["grossWt"] == "3650.500" and docs[0]["goods"][0]["declTotal"] == "300000.00"
    assert docs[0]["declTime"] == "20250301100000"  # 02:00 UTC is 10:00 in Beijing


@pytest.mark.parametrize("trip_no", [6, 7], ids=["seen-by-kazakhstan-only", "not-declared-yet"])
def test_trips_china_has_no_record_of_are_not_found(client: SignedClient, trips: list[Trip], trip_no: int
                                                    ) -> None:
    trip = next(t for t in trips if t.trip_id.endswith(f"-{trip_no:04d}"))
    batch_no = trip.cn_batch_no or f"9403I{trip.day:%Y%m%d}{trip_no:05d}"
    assert_error(client.get(f"{API}/road-manifests/{batch_no}"), "E2003")


def test_unknown_manifest_and_inspection(client: SignedClient, openapi: dict[str, Any]) -> None:
    envelope = client.get(f"{API}/road-manifests/9403E2099010100001")
    assert_error(envelope, "E2003")
    check_schema(openapi, f"{API}/road-manifests/{{batchNo}}", "get", envelope)
    assert_error(client.get(f"{API}/inspections/CI0000"), "E2004")


def test_batch_get_answers_known_and_unknown_keys(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    keys = [t.cn_batch_no or "" for t in known[:48]] + ["9403E2099010100001", known[0].cn_batch_no or ""]
    envelope = client.post(f"{API}/road-manifests/batch-query", {"batchNos": keys})
    check_schema(openapi, f"{API}/road-manifests/batch-query", "post", envelope)
    assert sorted(d["batchNo"] for d in envelope["data"]["list"]) == sorted(keys[:48])
    assert envelope["data"]["notFound"] == ["9403E2099010100001"]
    by_no = {t.cn_batch_no: t for t in known}
    for doc in envelope["data"]["list"]:
        assert observed_manifest(doc) == expected_manifest(by_no[doc["batchNo"]])


@pytest.mark.parametrize("resource", ["road-manifests", "inspections"])
@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        (b'{"batchNos": []}', "E1002", None),
        (b'{"batchNos": [' + b",".join([b'"k"'] * 51) + b"]}", "E1002", None),
        (b'{"batchNos": "9403E2025030100001"}', "E1001", "batchNos"),
        (b'{"batchNos": [1, 2]}', "E1001", "batchNos"),
        (b'{"keys": ["a"]}', "E1001", "batchNos"),  # reported as "batchNos|commonManifestNos"
        (b'["9403E2025030100001"]', "E1001", "body"),
        (b'{"batchNos": [', "E1001", "body"),
        (b"", "E1001", "body"),
    ],
    ids=["empty", "51-keys", "string", "numbers", "no-batchNos", "array", "truncated", "no-body"],
)
def test_batch_queries_reject_bad_bodies(
    client: SignedClient,
    openapi: dict[str, Any],
    resource: str,
    body: bytes,
    code: str,
    parameter: str | None,
) -> None:
    envelope = client.request("POST", f"{API}/{resource}/batch-query", body=body)
    if parameter == "batchNos" and b"batchNos" not in body:
        parameter = "batchNos|commonManifestNos"
    assert_error(envelope, code, parameter)
    check_schema(openapi, f"{API}/{resource}/batch-query", "post", envelope)


def test_batch_get_by_common_manifest_number(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    joint = [t for t in known if t.common_id][:3]
    keys = [t.common_id or "" for t in joint] + ["CKM-NOWHERE-20250301-00001"]
    envelope = client.post(f"{API}/road-manifests/batch-query", {"commonManifestNos": keys})
    check_schema(openapi, f"{API}/road-manifests/batch-query", "post", envelope)
    assert sorted(d["batchNo"] for d in envelope["data"]["list"]) == sorted(t.cn_batch_no or "" for t in joint)
    assert envelope["data"]["notFound"] == ["CKM-NOWHERE-20250301-00001"]
    phase0 = next(t for t in known if t.common_id is None)  # no common number: not findable by one
    assert phase0.cn_batch_no not in {d["batchNo"] for d in envelope["data"]["list"]}


@pytest.mark.parametrize(
    ("resource", "payload", "parameter"),
    [
        ("road-manifests", {"batchNos": ["a"], "commonManifestNos": ["b"]}, "batchNos|commonManifestNos"),
        ("road-manifests", {"commonManifestNos": "CKM-1"}, "commonManifestNos"),
        ("inspections", {"batchNos": ["a"], "commonManifestNos": ["b"]}, "batchNos|commonManifestNos"),
        ("inspections", {"commonManifestNos": [""]}, "commonManifestNos"),
    ],
    ids=["both-keys", "not-a-list", "inspections-both-keys", "inspections-empty-key"],
)
def test_batch_query_takes_exactly_one_kind_of_key(
    client: SignedClient, resource: str, payload: dict[str, Any], parameter: str
) -> None:
    assert_error(client.post(f"{API}/{resource}/batch-query", payload), "E1001", parameter)


@pytest.mark.parametrize("resource", ["road-manifests", "inspections"])
@pytest.mark.parametrize("count", [0, 51])
def test_batch_by_common_number_takes_1_to_50_keys(
    client: SignedClient, openapi: dict[str, Any], resource: str, count: int
) -> None:
    keys = [f"CKM-X-{i}" for i in range(count)]
    envelope = client.post(f"{API}/{resource}/batch-query", {"commonManifestNos": keys})
    assert_error(envelope, "E1002")
    check_schema(openapi, f"{API}/{resource}/batch-query", "post", envelope)


def test_inspection_batch_of_fifty_common_numbers(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    joint = [t for t in known if t.common_id][:50]
    assert len(joint) == 50
    keys = [t.common_id or "" for t in joint]
    envelope = client.post(f"{API}/inspections/batch-query", {"commonManifestNos": keys})
    check_schema(openapi, f"{API}/inspections/batch-query", "post", envelope)
    expected = sorted((bj(i.started_at), i.id) for t in joint for i in t.inspections if i.side is Side.CN)
    assert expected
    assert [(r["startTime"], r["inspectionNo"]) for r in envelope["data"]["list"]] == expected
    assert {r["commonManifestNo"] for r in envelope["data"]["list"]} <= set(keys)
    assert envelope["data"]["notFound"] == []


def test_every_inspection_carries_its_common_number_or_null_at_phase_0(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    by_batch = {t.cn_batch_no: t for t in known}
    phase: dict[bool, int] = {True: 0, False: 0}
    page_num = 1
    while True:
        envelope = client.get(f"{API}/inspections", pageNum=page_num, pageSize=100)
        check_schema(openapi, f"{API}/inspections", "get", envelope)
        for record in envelope["data"]["list"]:
            trip = by_batch[record["batchNo"]]
            assert record["commonManifestNo"] == trip.common_id
            assert (trip.common_id is None) == (CROSSINGS_BY_ID[trip.crossing].phase == 0)
            phase[trip.common_id is None] += 1
            single = client.get(f"{API}/inspections/{record['inspectionNo']}")
            assert single["data"]["commonManifestNo"] == trip.common_id
        if page_num * 100 >= envelope["data"]["total"]:
            break
        page_num += 1
    assert phase[True] and phase[False]  # both phase-0 (null) and phase >= 1 records were seen


def test_a_phase_0_manifest_is_not_found_by_any_common_number(
    client: SignedClient, known: list[Trip]
) -> None:
    phase0 = next(t for t in known if t.common_id is None and any(i.side is Side.CN for i in t.inspections))
    by_batch = client.post(f"{API}/inspections/batch-query", {"batchNos": [phase0.cn_batch_no]})["data"]
    assert by_batch["list"] and {r["commonManifestNo"] for r in by_batch["list"]} == {None}
    assert client.post(f"{API}/inspections/batch-query", {"commonManifestNos": ["null"]})["data"] == {
        "list": [], "notFound": ["null"],
    }


def test_inspections_are_chinas_only(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    with_inspections = known[0]  # a Chinese H986 scan and a Kazakh X-ray
    ours = [i for i in with_inspections.inspections if i.side is Side.CN]
    envelope = client.get(f"{API}/inspections", batchNo=with_inspections.cn_batch_no or "")
    check_schema(openapi, f"{API}/inspections", "get", envelope)
    assert [r["inspectionNo"] for r in envelope["data"]["list"]] == [i.id for i in ours]
    record = client.get(f"{API}/inspections/{ours[0].id}")
    check_schema(openapi, f"{API}/inspections/{{inspectionNo}}", "get", record)
    assert record["data"] == {
        "inspectionNo": ours[0].id, "batchNo": with_inspections.cn_batch_no,
        "commonManifestNo": with_inspections.common_id, "inspType": "1",
        "inspTypeName": "H986机检", "startTime": bj(ours[0].started_at), "endTime": bj(ours[0].finished_at),
        "result": "1", "resultName": "正常", "customsCode": ours[0].office, "remark": ours[0].note,
    }
    kazakh = next(i for i in with_inspections.inspections if i.side is Side.KZ)
    assert_error(client.get(f"{API}/inspections/{kazakh.id}"), "E2004")


def test_inspection_batch_query(client: SignedClient, openapi: dict[str, Any], known: list[Trip]) -> None:
    three_kinds, no_inspection = known[2], known[1]
    keys = [three_kinds.cn_batch_no, no_inspection.cn_batch_no, "9999E2099010100001"]
    envelope = client.post(f"{API}/inspections/batch-query", {"batchNos": keys})
    check_schema(openapi, f"{API}/inspections/batch-query", "post", envelope)
    data = envelope["data"]
    assert data["notFound"] == ["9999E2099010100001"]  # a known batch without inspections is found
    assert [(r["inspType"], r["result"]) for r in data["list"]] == [("1", "2"), ("2", "2"), ("3", "1")]
    assert {r["batchNo"] for r in data["list"]} == {three_kinds.cn_batch_no}
    assert {r["commonManifestNo"] for r in data["list"]} == {None}  # Alashankou is a phase-0 crossing


def test_inspection_batch_by_common_manifest_number(
    client: SignedClient, openapi: dict[str, Any], known: list[Trip]
) -> None:
    inspected = [t for t in known if t.common_id and any(i.side is Side.CN for i in t.inspections)][:3]
    uninspected = next(t for t in known if t.common_id and not t.inspections)
    keys = [t.common_id or "" for t in [*inspected, uninspected]] + ["CKM-NOWHERE-20250301-00001"]
    envelope = client.post(f"{API}/inspections/batch-query", {"commonManifestNos": keys})
    check_schema(openapi, f"{API}/inspections/batch-query", "post", envelope)
    expected = sorted((bj(i.started_at), i.id, t.cn_batch_no, t.common_id)
                      for t in inspected for i in t.inspections if i.side is Side.CN)
    got = [(r["startTime"], r["inspectionNo"], r["batchNo"], r["commonManifestNo"])
           for r in envelope["data"]["list"]]
    assert got == expected
    assert envelope["data"]["notFound"] == ["CKM-NOWHERE-20250301-00001"]


# ---------------------------------------------------------------- list filters and paging


def walk(client: SignedClient, path: str, page_size: int, **filters: str) -> tuple[int, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    page_num, total = 1, None
    while True:
        data = client.get(path, pageNum=page_num, pageSize=page_size, **filters)["data"]
        total = data["total"] if total is None else total
        assert data["total"] == total and data["pageNum"] == page_num and data["pageSize"] == page_size
        if not data["list"]:
            return total, records
        assert len(data["list"]) <= page_size
        records.extend(data["list"])
        page_num += 1


@pytest.mark.parametrize(
    "filters",
    [{}, {"portCode": "9403"}, {"portCode": "9402", "ieFlag": "I"}, {"ieFlag": "E"},
     {"startTime": "20250302083000", "endTime": "20250302120000"}],
    ids=["all", "port", "port-and-direction", "direction", "window"],
)
def test_paging_returns_every_manifest_once_in_order(
    client: SignedClient, known: list[Trip], filters: dict[str, str]
) -> None:
    def wanted(t: Trip) -> bool:
        decl = bj(when(t, EventKind.CN_DECLARED)) or ""
        port = CROSSINGS_BY_ID[t.crossing].cn.code
        flag = "E" if t.direction is Direction.CN_TO_KZ else "I"
        return (
            filters.get("portCode", port) == port
            and filters.get("ieFlag", flag) == flag
            and filters.get("startTime", "") <= decl < filters.get("endTime", "99999999999999")
        )

    expected = sorted((bj(when(t, EventKind.CN_DECLARED)), t.cn_batch_no) for t in known if wanted(t))
    total, records = walk(client, f"{API}/road-manifests", 7, **filters)
    assert total == len(expected) > 0
    assert [(r["declTime"], r["batchNo"]) for r in records] == expected


def test_paging_returns_every_inspection_once_in_order(client: SignedClient, known: list[Trip]) -> None:
    expected = sorted((bj(i.started_at), i.id) for t in known for i in t.inspections if i.side is Side.CN)
    total, records = walk(client, f"{API}/inspections", 9)
    assert total == len(expected)
    assert [(r["startTime"], r["inspectionNo"]) for r in records] == expected
    total_9403, _ = walk(client, f"{API}/inspections", 100, portCode="9403")
    assert 0 < total_9403 < total


def test_time_window_is_start_inclusive_end_exclusive(client: SignedClient, known: list[Trip]) -> None:
    decl = bj(when(known[0], EventKind.CN_DECLARED))
    assert decl is not None
    same_second = sorted(t.cn_batch_no or "" for t in known if bj(when(t, EventKind.CN_DECLARED)) == decl)
    at_start = client.get(f"{API}/road-manifests", startTime=decl, endTime="20250301100001")["data"]
    assert [r["batchNo"] for r in at_start["list"]] == same_second
    assert known[0].cn_batch_no in same_second
    assert client.get(f"{API}/road-manifests", startTime="20250301000000", endTime=decl)["data"]["total"] == 0


@pytest.mark.parametrize("plate", ["新F10001", "新F·10001", "新Ｆ１０００１", "新F 100 01", "新f10001"])
def test_plate_filter_ignores_how_the_plate_is_written(client: SignedClient, plate: str) -> None:
    data = client.get(f"{API}/road-manifests", plateNo=plate)["data"]
    assert [r["batchNo"] for r in data["list"]] == ["9403E2025030100001"]


def test_plate_filter_finds_full_width_and_kazakh_plates(client: SignedClient) -> None:
    assert client.get(f"{API}/road-manifests", plateNo="新F10002")["data"]["total"] == 1
    kazakh = client.get(f"{API}/road-manifests", plateNo="103ABC19")["data"]["list"]
    assert [r["vehicle"]["plateNo"] for r in kazakh] == ["103 ABC 19"]


def test_repeated_plates_find_records_of_any_of_them(client: SignedClient) -> None:
    envelope = client.request(
        "GET", f"{API}/road-manifests",
        [("plateNo", "新F·10001"), ("plateNo", "103 ABC 19"), ("plateNo", "新F10001"), ("plateNo", "X0")],
    )
    # declTime order: the export was declared at 10:00, the import at 10:37
    assert [r["batchNo"] for r in envelope["data"]["list"]] == ["9403E2025030100001", "9402I2025030100003"]
    assert envelope["data"]["total"] == 2


def test_more_than_50_plates_is_too_many(client: SignedClient) -> None:
    plates = [("plateNo", f"新F{10000 + i}") for i in range(51)]
    assert_error(client.request("GET", f"{API}/road-manifests", plates), "E1002")
    assert client.request("GET", f"{API}/road-manifests", plates[:50])["code"] == "0000"


def test_common_manifest_filter(client: SignedClient, known: list[Trip]) -> None:
    trip = next(t for t in known if t.common_id)
    data = client.get(f"{API}/road-manifests", commonManifestNo=trip.common_id or "")["data"]
    assert [r["batchNo"] for r in data["list"]] == [trip.cn_batch_no]


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("road-manifests", "pageNum", "0"),
        ("road-manifests", "pageNum", "abc"),
        ("road-manifests", "pageNum", "-1"),
        ("road-manifests", "pageSize", "101"),
        ("road-manifests", "pageSize", "0"),
        ("road-manifests", "portCode", "94031"),
        ("road-manifests", "ieFlag", "X"),
        ("road-manifests", "startTime", "2025030110"),
        ("road-manifests", "endTime", "20251340000000"),
        ("road-manifests", "plateNo", "··"),
        ("road-manifests", "commonManifestNo", ""),
        ("inspections", "portCode", "HRS"),
        ("inspections", "startTime", "2025-03-01T00:00:00"),
        ("inspections", "pageSize", "1000"),
        ("inspections", "batchNo", ""),
    ],
)
def test_bad_parameters_are_named(
    client: SignedClient, openapi: dict[str, Any], path: str, name: str, value: str
) -> None:
    envelope = client.get(f"{API}/{path}", **{name: value})
    assert_error(envelope, "E1001", name)
    check_schema(openapi, f"{API}/{path}", "get", envelope)


def test_repeated_parameter_is_rejected(client: SignedClient) -> None:
    envelope = client.request("GET", f"{API}/road-manifests", [("portCode", "9403"), ("portCode", "9402")])
    assert_error(envelope, "E1001", "portCode")


# ---------------------------------------------------------------- signing


def test_signed_chinese_query_and_encoded_path_are_accepted(client: SignedClient) -> None:
    envelope = client.request("GET", f"{API}/road-manifests", [("plateNo", "新F·10001"), ("pageSize", "5")])
    assert envelope["data"]["total"] == 1
    # The signature covers the path as sent: "%39" is a percent-encoded "9".
    encoded = f"{API}/road-manifests/%39403E2025030100001"
    assert client.request("GET", encoded)["data"]["batchNo"] == "9403E2025030100001"
    decoded_signature = client.signed("GET", f"{API}/road-manifests/9403E2025030100001")
    assert_error(client.request("GET", encoded, headers=decoded_signature), "E4003")


@pytest.mark.parametrize("header", ["appId", "timestamp", "nonce", "sign"])
def test_missing_auth_header(client: SignedClient, header: str) -> None:
    headers = client.signed("GET", f"{API}/ports")
    del headers[header]
    assert_error(client.request("GET", f"{API}/ports", headers=headers), "E4001")


def test_unknown_app_id(client: SignedClient) -> None:
    headers = client.signed("GET", f"{API}/ports", appId="someone-else")
    assert_error(client.request("GET", f"{API}/ports", headers=headers), "E4002")


def test_wrong_secret(base_url: str) -> None:
    intruder = SignedClient(base_url, secret="guessed")
    try:
        assert_error(intruder.get(f"{API}/ports"), "E4003")
    finally:
        intruder.close()


def test_tampered_signature(client: SignedClient) -> None:
    headers = client.signed("GET", f"{API}/ports")
    headers["sign"] = headers["sign"][:-1] + ("0" if headers["sign"][-1] != "0" else "1")
    assert_error(client.request("GET", f"{API}/ports", headers=headers), "E4003")


def test_tampered_query(client: SignedClient) -> None:
    path = f"{API}/road-manifests"
    headers = client.signed("GET", path, [("pageSize", "1")])
    assert_error(client.request("GET", path, [("pageSize", "2")], headers=headers), "E4003")


def test_tampered_body(client: SignedClient) -> None:
    path = f"{API}/road-manifests/batch-query"
    headers = client.signed("POST", path, body=b'{"batchNos": ["9403E2025030100001"]}')
    envelope = client.request("POST", path, body=b'{"batchNos": ["9403E2025030100003"]}', headers=headers)
    assert_error(envelope, "E4003")


def test_method_is_signed(client: SignedClient) -> None:
    headers = client.signed("POST", f"{API}/ports")
    assert_error(client.request("GET", f"{API}/ports", headers=headers), "E4003")


@pytest.mark.parametrize(
    ("offset_s", "code"), [(-301, "E4004"), (301, "E4004"), (-290, "0000"), (290, "0000")]
)
def test_timestamp_window(client: SignedClient, offset_s: int, code: str) -> None:
    headers = client.signed("GET", f"{API}/ports", now_ms=int((time.time() + offset_s) * 1000))
    assert client.request("GET", f"{API}/ports", headers=headers)["code"] == code


@pytest.mark.parametrize(("nonce", "timestamp"), [("short", None), ("has-dash-0123456789", None),
                                                  (None, "not-a-number")])
def test_malformed_nonce_or_timestamp(client: SignedClient, nonce: str | None, timestamp: str | None) -> None:
    headers = client.signed("GET", f"{API}/ports", nonce=nonce)
    if timestamp is not None:
        headers["timestamp"] = timestamp
    assert_error(client.request("GET", f"{API}/ports", headers=headers), "E1001",
                 "nonce" if nonce else "timestamp")


def test_replayed_nonce(client: SignedClient) -> None:
    headers = client.signed("GET", f"{API}/ports")
    assert client.request("GET", f"{API}/ports", headers=headers)["code"] == "0000"
    assert_error(client.request("GET", f"{API}/ports", headers=headers), "E4005")
    # Same nonce, fresh timestamp and valid signature: still a replay.
    again = client.signed("GET", f"{API}/ports", nonce=headers["nonce"])
    assert_error(client.request("GET", f"{API}/ports", headers=again), "E4005")


def test_rejected_request_does_not_burn_the_nonce(client: SignedClient) -> None:
    good = client.signed("GET", f"{API}/ports")
    forged = {**good, "sign": "0" * 64}
    assert_error(client.request("GET", f"{API}/ports", headers=forged), "E4003")
    assert client.request("GET", f"{API}/ports", headers=good)["code"] == "0000"


# ---------------------------------------------------------------- unknown endpoints, internal errors


@pytest.mark.parametrize(("method", "path"), [("GET", f"{API}/nothing-here"), ("DELETE", f"{API}/ports"),
                                              ("POST", f"{API}/road-manifests/9403E2025030100001"),
                                              ("GET", f"{API}/ports/"), ("GET", "/somewhere/else")])
def test_unknown_path_or_method(client: SignedClient, method: str, path: str) -> None:
    assert_error(client.request(method, path), "E4040")


def test_unsigned_call_under_the_api_is_authenticated_before_routing(client: SignedClient) -> None:
    assert_error(client.request("GET", f"{API}/nothing-here", headers={}), "E4001")


def test_internal_errors_are_masked(
    client: SignedClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: ChinaStore, batch_no: str) -> bytes:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ChinaStore, "manifest", broken)
    with caplog.at_level(logging.ERROR, logger="customs_sim.china"):
        response = client.http.get(f"{API}/road-manifests/X",
                                   headers=client.signed("GET", f"{API}/road-manifests/X"))
    assert response.status_code == 200
    assert response.json()["code"] == "E9999"
    assert "disk on fire" not in response.text and "Traceback" not in response.text
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)


# ---------------------------------------------------------------- the OpenAPI document


def test_openapi_describes_exactly_the_served_paths(openapi: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(openapi["components"]["schemas"]["Manifest"])
    assert openapi["openapi"].startswith("3.1")
    assert set(openapi["paths"]) == {
        "/openapi.json", f"{API}/ports", f"{API}/road-manifests", f"{API}/road-manifests/{{batchNo}}",
        f"{API}/road-manifests/batch-query", f"{API}/inspections", f"{API}/inspections/{{inspectionNo}}",
        f"{API}/inspections/batch-query",
    }
    assert set(openapi["components"]["securitySchemes"]) == {"appId", "timestamp", "nonce", "sign"}
    parameters = openapi["paths"][f"{API}/road-manifests"]["get"]["parameters"]
    listed = {p["$ref"].rsplit("/", 1)[1] for p in parameters}
    assert listed == {"portCode", "ieFlag", "startTime", "endTime", "plateNo", "commonManifestNo", "pageNum",
                      "pageSize"}


def test_schema_check_can_fail(client: SignedClient, openapi: dict[str, Any]) -> None:
    envelope = client.get(f"{API}/road-manifests/9403E2025030100001")
    envelope["data"]["totalGrossWt"] = "3770.75"  # two decimals instead of three
    with pytest.raises(jsonschema.ValidationError):
        check_schema(openapi, f"{API}/road-manifests/{{batchNo}}", "get", envelope)
