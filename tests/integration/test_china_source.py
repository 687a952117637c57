"""The China source over real HTTP: against the China simulator, and against broken upstreams.

The simulator part talks to ``customs_sim.china`` on a loopback socket with real signing; the fault
part uses ``httpx.MockTransport`` (and a tiny Starlette app) for answers a healthy simulator never
gives. The signature is checked with the simulator's own, independent implementation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from customs_gateway.domain import Direction, InspectionKind
from customs_gateway.errors import (
    InvalidInput,
    UpstreamContract,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from customs_gateway.plates import parse_plate
from customs_gateway.sources.base import ChinaSource, RecordQuery
from customs_gateway.sources.china import (
    ChinaClient,
    ChinaSourceImpl,
    ChinaSourceSettings,
    build_http_client,
)
from customs_sim.china import ChinaSimSettings, ChinaStoreWriter, create_china_app
from customs_sim.china.signing import canonical_query as sim_canonical_query
from customs_sim.china.signing import sign_headers
from customs_sim.model import Company, EventKind, GoodsItem, InspectionResult, Side, Trip, TripEvent, Vehicle
from customs_sim.model import Direction as ModelDirection
from customs_sim.model import Driver as ModelDriver
from customs_sim.model import Inspection as ModelInspection
from customs_sim.model import InspectionKind as ModelInspectionKind
from customs_sim.reference import CROSSINGS
from customs_sim.serving import serve_in_thread

APP_ID = "customs-gateway"
SECRET = "s3cret-for-tests-only"
NOW_S = 1_764_300_000.0
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def settings(base_url: str = "http://gacc.test", **changes: Any) -> ChinaSourceSettings:
    return ChinaSourceSettings(base_url=base_url, app_id=APP_ID, app_secret=SECRET, **changes)


def envelope(data: object = None, code: str = "0000", message: str = "成功") -> httpx.Response:
    return httpx.Response(200, json={"code": code, "message": message, "data": data, "requestId": "r1"})


def manifest_wire(batch_no: str, decl_time: str = "20251128093015") -> dict[str, Any]:
    party = {"code": "91650000MA7XXXXX2L", "name": "新疆贸易有限公司", "country": "CN"}
    return {
        "batchNo": batch_no, "commonManifestNo": None, "portCode": "9403", "portName": "霍尔果斯",
        "ieFlag": "E", "status": "10", "statusName": "已申报", "declTime": decl_time, "ieTime": None,
        "releaseTime": None, "vehicle": {"plateNo": "新F12345", "country": "CN"}, "trailer": None,
        "driver": {"name": "王伟", "nameEn": "WANG WEI", "passportNo": "E1", "nationality": "CHN"},
        "carrier": party, "consignor": party, "consignee": {**party, "country": "KZ"},
        "containers": [], "seals": [], "currCode": "142", "totalPackNo": 1,
        "totalGrossWt": "1.000", "totalAmount": "1.00",
        "goods": [{"gNo": 1, "codeTs": "8703800090", "gName": "纯电动乘用车", "packNo": 1, "packType": "VN",
                   "grossWt": "1.000", "netWt": "1.000", "declTotal": "1.00", "currCode": "142"}],
    }  # fmt: skip


def inspection_wire(number: str, batch_no: str, start: str = "20251128100500") -> dict[str, Any]:
    return {
        "inspectionNo": number, "batchNo": batch_no, "inspType": "1", "inspTypeName": "H986机检",
        "startTime": start, "endTime": None, "result": "1", "resultName": "正常", "customsCode": "9403",
        "remark": None,
    }  # fmt: skip


class Mock:
    """A MockTransport-backed source that records every request it was sent."""

    def __init__(self, handler: Handler, **changes: Any) -> None:
        self.requests: list[httpx.Request] = []

        async def recording(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return await handler(request)

        self.settings = settings(**changes)
        self.http = build_http_client(self.settings, transport=httpx.MockTransport(recording))
        self.client = ChinaClient(self.settings, self.http, clock=lambda: NOW_S)
        self.source = ChinaSourceImpl(self.settings, self.client)


def answering(response: httpx.Response | Callable[[], httpx.Response]) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        return response() if callable(response) else response

    return handler


def raising(error: Exception) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


# --- signing and addressing ---------------------------------------------------------------------


def test_the_secret_never_shows_in_a_repr() -> None:
    assert SECRET not in repr(settings()) and SECRET not in str(settings())


def test_the_source_implements_the_protocol() -> None:
    source: ChinaSource = Mock(answering(envelope())).source
    assert isinstance(source, ChinaSourceImpl)


async def test_a_get_is_signed_as_the_simulator_verifies_it() -> None:
    mock = Mock(answering(envelope({"list": [], "total": 0, "pageNum": 1, "pageSize": 100})))
    query = RecordQuery(
        post_code="9403",
        direction=Direction.KZ_TO_CN,
        start=dt.datetime(2025, 11, 28, 1, 0, tzinfo=dt.UTC),
        plates=("新F·12345 挂+&=", "XINF12345"),
    )

    await mock.source.manifest_page(query, 1, 100)

    (request,) = mock.requests
    pairs = [(name, value) for name, value in request.url.params.multi_items()]
    expected = sign_headers(
        APP_ID, SECRET, "GET", request.url.raw_path.partition(b"?")[0].decode(), pairs,
        now_ms=int(NOW_S * 1000), nonce=request.headers["nonce"],
    )  # fmt: skip
    assert {name: request.headers[name] for name in expected} == expected
    assert sorted(pairs) == sorted([
        ("portCode", "9403"), ("ieFlag", "I"), ("startTime", "20251128090000"), ("plateNo", "新F·12345 挂+&="),
        ("plateNo", "XINF12345"), ("pageNum", "1"), ("pageSize", "100"),
    ])  # fmt: skip
    # The query goes on the wire in the canonical order and encoding, so both sides agree.
    assert request.url.query.decode() == sim_canonical_query(pairs)
    assert "%20" in request.url.query.decode() and "+" not in request.url.query.decode()


async def test_a_post_signs_the_body_hash() -> None:
    mock = Mock(answering(envelope({"list": [], "notFound": ["X1"]})))

    assert await mock.source.manifests(["X1"]) == {"X1": None}

    (request,) = mock.requests
    assert orjson.loads(request.content) == {"batchNos": ["X1"]}
    expected = sign_headers(
        APP_ID, SECRET, "POST", "/gacc/api/v1/road-manifests/batch-query", (), request.content,
        now_ms=int(NOW_S * 1000), nonce=request.headers["nonce"],
    )  # fmt: skip
    assert request.headers["sign"] == expected["sign"]


async def test_every_request_has_a_fresh_nonce() -> None:
    mock = Mock(answering(lambda: envelope(None, code="E2003")))
    await asyncio.gather(*(mock.source.manifest(f"B{i}") for i in range(20)))
    assert len({request.headers["nonce"] for request in mock.requests}) == 20


@pytest.mark.parametrize(
    ("segment", "raw_path"),
    [
        ("../ports", b"/gacc/api/v1/road-manifests/%2E%2E%2Fports"),
        ("..", b"/gacc/api/v1/road-manifests/%2E%2E"),
        ("a?b#c", b"/gacc/api/v1/road-manifests/a%3Fb%23c"),
        ("新F 1", b"/gacc/api/v1/road-manifests/%E6%96%B0F%201"),
    ],
)
async def test_a_path_segment_is_encoded_so_it_stays_one_segment(segment: str, raw_path: bytes) -> None:
    mock = Mock(answering(envelope({})))
    await mock.client.get(("road-manifests", segment))
    assert mock.requests[0].url.raw_path == raw_path


@pytest.mark.parametrize("batch_no", ["", "..", ".", "../ports", "a/b", "a\\b", "x" * 65, "a\nb"])
async def test_an_id_that_cannot_be_addressed_is_unknown_without_a_call(batch_no: str) -> None:
    mock = Mock(answering(envelope(None, code="E2003")))
    assert await mock.source.manifest(batch_no) is None
    assert mock.requests == []


async def test_an_id_with_reserved_characters_is_sent_encoded() -> None:
    mock = Mock(answering(envelope(None, code="E2003")))
    assert await mock.source.manifest("a?b#c") is None
    assert mock.requests[0].url.raw_path == b"/gacc/api/v1/road-manifests/a%3Fb%23c"


async def test_a_base_url_prefix_is_part_of_the_signed_path() -> None:
    mock = Mock(answering(envelope({"list": []})), base_url="http://gacc.test/proxy/")
    assert await mock.source.checkpoints() == []
    request = mock.requests[0]
    assert request.url.raw_path == b"/proxy/gacc/api/v1/ports"
    expected = sign_headers(APP_ID, SECRET, "GET", "/proxy/gacc/api/v1/ports", (),
                            now_ms=int(NOW_S * 1000), nonce=request.headers["nonce"])  # fmt: skip
    assert request.headers["sign"] == expected["sign"]


async def test_an_empty_key_is_never_sent_in_a_batch() -> None:
    mock = Mock(answering(envelope(None, code="E2003")))
    assert await mock.source.manifests(["", ""]) == {"": None}
    assert await mock.source.inspections([""]) == {}
    assert mock.requests == []


# --- translation of every failure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (httpx.RemoteProtocolError("peer closed"), UpstreamUnavailable),
        (httpx.ReadError("reset"), UpstreamUnavailable),
        (httpx.ConnectTimeout("slow"), UpstreamTimeout),
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.PoolTimeout("busy"), UpstreamTimeout),
    ],
)
async def test_transport_errors(error: Exception, expected: type[Exception]) -> None:
    mock = Mock(raising(error))
    with pytest.raises(expected) as caught:
        await mock.source.manifest("9403E2025112800123")
    assert caught.value.__cause__ is error
    assert type(caught.value) is expected


async def test_the_total_deadline_bounds_a_slow_answer() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return envelope()

    mock = Mock(slow, total_timeout_s=0.05)
    with pytest.raises(UpstreamTimeout):
        await mock.source.checkpoints()


@pytest.mark.parametrize(
    ("retry_after", "expected_s"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        (email.utils.formatdate(NOW_S + 30, usegmt=True), 30.0),
        ("soon", None),
        (None, None),
    ],
)
async def test_429_is_unavailable_with_retry_after(retry_after: str | None, expected_s: float | None) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    mock = Mock(answering(httpx.Response(429, headers=headers, text="slow down")))
    with pytest.raises(UpstreamUnavailable) as caught:
        await mock.source.manifest("B1")
    assert caught.value.retry_after_s == expected_s


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, UpstreamUnavailable), (502, UpstreamUnavailable), (503, UpstreamUnavailable),
     (400, UpstreamRejected), (401, UpstreamRejected), (404, UpstreamRejected), (302, UpstreamRejected)],
)  # fmt: skip
async def test_non_200_statuses(status: int, expected: type[Exception]) -> None:
    mock = Mock(answering(httpx.Response(status, text="<html>oops</html>")))
    with pytest.raises(expected, match=f"HTTP {status}"):
        await mock.source.checkpoints()


@pytest.mark.parametrize(
    "body",
    [b"<html>gateway</html>", b"", b"[1, 2]", b'"0000"', b'{"message": "no code"}', b'{"code": 0}',
     b'{"code": "0000", "data": {"list": "nope"}}', b'{"code": "0000", "data": null}',
     b'{"code": "0000", "data": {"list": [], "total": -1}}', b'{"code": "E4040", "data": null}',
     b'{"code": "E7777", "data": null}', b'\xff\xfe{'],
)  # fmt: skip
async def test_a_body_breaking_the_contract(body: bytes) -> None:
    mock = Mock(answering(httpx.Response(200, content=body)))
    with pytest.raises(UpstreamContract):
        await mock.source.manifest_page(RecordQuery(), 1, 10)


async def test_a_body_over_the_size_limit_is_not_read_to_the_end() -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            sent.append(1)
            yield b" " * 1024

    mock = Mock(answering(lambda: httpx.Response(200, content=endless())), max_body_bytes=64 * 1024)
    with pytest.raises(UpstreamContract, match="larger than"):
        await mock.source.checkpoints()
    assert len(sent) < 100


async def test_a_body_that_does_not_match_its_content_encoding() -> None:
    def broken() -> httpx.Response:
        # A stream, because httpx decodes a bytes body as soon as the Response is built.
        return httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"})

    mock = Mock(answering(broken))
    with pytest.raises(UpstreamContract, match="cannot be decoded"):
        await mock.source.checkpoints()


async def test_a_declared_length_over_the_limit_is_refused_up_front() -> None:
    big = b'{"code": "0000", "data": {"list": []}, "pad": "' + b"x" * 5000 + b'"}'
    mock = Mock(answering(httpx.Response(200, content=big)), max_body_bytes=1024)
    with pytest.raises(UpstreamContract, match="larger than 1024"):
        await mock.source.checkpoints()


@pytest.mark.parametrize("code", ["E1001", "E1002", "E4001", "E4002", "E4003", "E4004", "E4005"])
async def test_refusals_name_the_code_and_never_the_secret(code: str) -> None:
    def answer() -> httpx.Response:
        return envelope(None, code=code, message=f"参数错误: sign secret={SECRET}")

    mock = Mock(answering(answer))
    with pytest.raises(UpstreamRejected) as caught:
        await mock.source.manifest("B1")
    message = str(caught.value)
    assert code in message
    assert SECRET not in message and SECRET[:8] not in message
    assert mock.requests[0].headers["sign"] not in message


async def test_a_signature_echoed_back_is_redacted() -> None:
    async def echo(request: httpx.Request) -> httpx.Response:
        return envelope(None, code="E4003", message=f"expected sign {request.headers['sign']}")

    mock = Mock(echo)
    with pytest.raises(UpstreamRejected) as caught:
        await mock.source.checkpoints()
    assert mock.requests[0].headers["sign"] not in str(caught.value)


async def test_e9999_is_unavailable() -> None:
    mock = Mock(answering(envelope(None, code="E9999", message="系统繁忙,请稍后重试")))
    with pytest.raises(UpstreamUnavailable, match="E9999"):
        await mock.source.manifests(["B1"])


async def test_not_found_codes_become_none() -> None:
    mock = Mock(answering(envelope(None, code="E2003", message="舱单不存在")))
    assert await mock.source.manifest("9403E2025112800999") is None


async def test_a_wrong_record_for_the_asked_id_is_a_contract_error() -> None:
    mock = Mock(answering(envelope(manifest_wire("9403E2025112800002"))))
    with pytest.raises(UpstreamContract, match="9403E2025112800001"):
        await mock.source.manifest("9403E2025112800001")


# --- batching ------------------------------------------------------------------------------------


def batch_answering(known: set[str], delay_s: float = 0.0) -> tuple[Handler, dict[str, int]]:
    stats = {"in_flight": 0, "max_in_flight": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        stats["in_flight"] += 1
        stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
        try:
            await asyncio.sleep(delay_s)
            keys = orjson.loads(request.content)["batchNos"]
            if not 1 <= len(keys) <= 50:
                return envelope(None, code="E1002")
            return envelope({
                "list": [manifest_wire(key) for key in reversed(keys) if key in known],
                "notFound": [key for key in keys if key not in known],
            })  # fmt: skip
        finally:
            stats["in_flight"] -= 1

    return handler, stats


async def test_a_big_batch_is_split_deduplicated_and_concurrent() -> None:
    keys = [f"9403E20251128{n:05d}" for n in range(120)]
    known = set(keys[::2])
    handler, stats = batch_answering(known, delay_s=0.02)
    mock = Mock(handler)

    result = await mock.source.manifests([*keys, *keys[:30]])

    assert list(result) == keys
    assert {key for key, record in result.items() if record is not None} == known
    assert all(record.batch_no == key for key, record in result.items() if record is not None)
    sent = [orjson.loads(request.content)["batchNos"] for request in mock.requests]
    assert sorted(len(chunk) for chunk in sent) == [20, 50, 50]
    assert sorted(key for chunk in sent for key in chunk) == sorted(keys)
    assert stats["max_in_flight"] == 3


async def test_a_smaller_batch_limit_is_honoured() -> None:
    handler, _ = batch_answering(set())
    mock = Mock(handler, batch_limit=7)
    await mock.source.manifests([str(n) for n in range(15)])
    assert sorted(len(orjson.loads(request.content)["batchNos"]) for request in mock.requests) == [1, 7, 7]


async def test_a_failing_chunk_fails_the_batch_and_cancels_the_others() -> None:
    cancelled: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        keys = orjson.loads(request.content)["batchNos"]
        if keys[0] == "0":
            raise httpx.ConnectError("refused")
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(keys[0])
            raise
        return envelope({"list": [], "notFound": keys})

    mock = Mock(handler)
    with pytest.raises(UpstreamUnavailable):
        await mock.source.manifests([str(n) for n in range(150)])
    assert sorted(cancelled) == ["100", "50"]


@pytest.mark.parametrize(
    "data",
    [
        {"list": [], "notFound": ["A"]},  # B neither found nor notFound
        {"list": [manifest_wire("C")], "notFound": ["A", "B"]},  # a record nobody asked for
        {"list": [], "notFound": ["A", "B", "C"]},
        {"list": [], "notFound": "A"},
    ],
)
async def test_a_batch_answer_must_account_for_exactly_the_asked_keys(data: dict[str, Any]) -> None:
    mock = Mock(answering(envelope(data)))
    with pytest.raises(UpstreamContract):
        await mock.source.manifests(["A", "B"])


async def test_inspections_group_by_batch_and_omit_unknown_batches() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.raw_path == b"/gacc/api/v1/inspections/batch-query"
        return envelope({
            "list": [
                inspection_wire("CI2", "B1", "20251128110000"),
                inspection_wire("CI1", "B1", "20251128100000"),
                inspection_wire("CI3", "B3"),
            ],
            "notFound": ["B4"],
        })  # fmt: skip

    result = await Mock(handler).source.inspections(["B1", "B2", "B3", "B4", "B1"])

    assert {key: [i.id for i in found] for key, found in result.items()} == {
        "B1": ["CI1", "CI2"], "B2": [], "B3": ["CI3"],
    }  # fmt: skip


async def test_an_inspection_of_a_batch_not_asked_is_a_contract_error() -> None:
    mock = Mock(answering(envelope({"list": [inspection_wire("CI1", "B9")], "notFound": []})))
    with pytest.raises(UpstreamContract, match="B9"):
        await mock.source.inspections(["B1"])


async def test_manifests_by_common_number_are_keyed_by_that_number() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.raw_path == b"/gacc/api/v1/road-manifests/batch-query"
        keys = orjson.loads(request.content)["commonManifestNos"]
        assert keys == ["CKM-A", "CKM-B"]
        return envelope({"list": [{**manifest_wire("B1"), "commonManifestNo": "CKM-A"}], "notFound": ["CKM-B"]})

    result = await Mock(handler).source.manifests_by_common_ids(["CKM-A", "CKM-B", "CKM-A"])

    assert set(result) == {"CKM-A", "CKM-B"}
    found = result["CKM-A"]
    assert found is not None and found.batch_no == "B1" and result["CKM-B"] is None


@pytest.mark.parametrize(
    "data",
    [
        {"list": [manifest_wire("B1")], "notFound": []},  # a manifest without the number asked for
        {"list": [{**manifest_wire("B1"), "commonManifestNo": "CKM-Z"}], "notFound": ["CKM-A"]},
        {"list": [], "notFound": []},  # CKM-A neither found nor notFound
    ],
)
async def test_a_common_number_answer_must_account_for_the_asked_numbers(data: dict[str, Any]) -> None:
    with pytest.raises(UpstreamContract):
        await Mock(answering(envelope(data))).source.manifests_by_common_ids(["CKM-A"])


async def test_inspections_by_common_number_carry_it_and_group_by_it() -> None:
    def wire(number: str, common: str, start: str) -> dict[str, Any]:
        return {**inspection_wire(number, "B1", start), "commonManifestNo": common}

    async def handler(request: httpx.Request) -> httpx.Response:
        assert orjson.loads(request.content) == {"commonManifestNos": ["CKM-A", "CKM-B", "CKM-C"]}
        return envelope({
            "list": [wire("CI2", "CKM-A", "20251128110000"), wire("CI1", "CKM-A", "20251128100000")],
            "notFound": ["CKM-C"],
        })  # fmt: skip

    result = await Mock(handler).source.inspections_by_common_ids(["CKM-A", "CKM-B", "CKM-C"])

    assert {key: [i.id for i in found] for key, found in result.items()} == {
        "CKM-A": ["CI1", "CI2"], "CKM-B": [], "CKM-C": [],
    }  # fmt: skip
    assert all(i.common_manifest_id == "CKM-A" for i in result["CKM-A"])
    stray = envelope({"list": [wire("CI9", "CKM-Z", "20251128100000")], "notFound": []})
    with pytest.raises(UpstreamContract, match="CKM-Z"):
        await Mock(answering(stray)).source.inspections_by_common_ids(["CKM-A"])


async def test_more_than_fifty_plates_is_invalid_input_without_a_call() -> None:
    mock = Mock(answering(envelope({"list": [], "total": 0})))
    with pytest.raises(InvalidInput):
        await mock.source.manifest_page(RecordQuery(plates=tuple(f"新F{n:05d}" for n in range(51))), 1, 10)
    assert mock.requests == []


# --- paging --------------------------------------------------------------------------------------


def paging(records: list[dict[str, Any]], total: int | None = None, repeat_last: bool = False) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["pageNum"]), int(request.url.params["pageSize"])
        chunk = records[(page - 1) * size : page * size]
        if repeat_last and not chunk:
            chunk = records[-size:]  # a broken upstream that never runs out of full pages
        data = {"list": chunk, "total": len(records) if total is None else total, "pageNum": page}
        return envelope(data | {"pageSize": size})

    return handler


RECORDS = [manifest_wire(f"9403E20251128{n:05d}") for n in range(25)]


@pytest.mark.parametrize("size", [1, 5, 7, 25, 100])
async def test_iteration_yields_every_record_once_in_order(size: int) -> None:
    mock = Mock(paging(RECORDS))
    seen = [record.batch_no async for record in mock.source.iter_manifests(RecordQuery(), page_size=size)]
    assert seen == [record["batchNo"] for record in RECORDS]
    assert len(mock.requests) == -(-25 // size)


async def test_iteration_stops_after_the_announced_pages_even_if_upstream_goes_on() -> None:
    mock = Mock(paging(RECORDS, total=10, repeat_last=True))
    seen = [record.batch_no async for record in mock.source.iter_manifests(RecordQuery(), page_size=5)]
    assert len(seen) == 10 and len(mock.requests) == 2


async def test_iteration_stops_on_a_short_page_and_skips_repeats() -> None:
    shifted = [*RECORDS[:5], *RECORDS[3:8]]  # data moved under the pagination: 3 and 4 come twice
    mock = Mock(paging(shifted, total=1000))
    seen = [record.batch_no async for record in mock.source.iter_manifests(RecordQuery(), page_size=5)]
    assert seen == [record["batchNo"] for record in RECORDS[:8]]
    assert len(mock.requests) == 3


async def test_inspection_iteration_sends_the_window_in_beijing_time() -> None:
    records = [inspection_wire(f"CI{n}", "B1") for n in range(3)]
    mock = Mock(paging(records))
    start = dt.datetime(2025, 11, 28, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    found = [i.id async for i in mock.source.iter_inspections("9403", start, start + dt.timedelta(days=1))]
    assert found == ["CI0", "CI1", "CI2"]
    params = mock.requests[0].url.params
    assert (params["portCode"], params["startTime"], params["endTime"]) == (
        "9403", "20251128130000", "20251129130000",
    )  # fmt: skip
    assert mock.requests[0].url.raw_path.startswith(b"/gacc/api/v1/inspections?")


@pytest.mark.parametrize(("page", "size"), [(0, 10), (1, 0), (1, 101)])
async def test_page_arguments_are_checked_before_calling(page: int, size: int) -> None:
    mock = Mock(paging(RECORDS))
    with pytest.raises(InvalidInput):
        await mock.source.manifest_page(RecordQuery(), page, size)
    assert mock.requests == []


async def test_a_naive_datetime_is_invalid_input() -> None:
    mock = Mock(paging(RECORDS))
    with pytest.raises(InvalidInput):
        await mock.source.manifest_page(RecordQuery(start=dt.datetime(2025, 11, 28)), 1, 10)


# --- real sockets --------------------------------------------------------------------------------


async def test_a_closed_port_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = settings(f"http://127.0.0.1:{port}")
    async with build_http_client(config) as http:
        source = ChinaSourceImpl(config, ChinaClient(config, http))
        with pytest.raises(UpstreamUnavailable) as caught:
            await source.checkpoints()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def garbage_app() -> Starlette:
    async def not_json(request: Request) -> Response:
        return PlainTextResponse("<html>Service Temporarily Unavailable</html>")

    return Starlette(routes=[Route("/{path:path}", not_json, methods=["GET", "POST"])])


async def test_a_server_answering_garbage_breaks_the_contract() -> None:
    with serve_in_thread(garbage_app()) as server:
        config = settings(server.url)
        async with build_http_client(config) as http:
            source = ChinaSourceImpl(config, ChinaClient(config, http))
            with pytest.raises(UpstreamContract, match="not JSON"):
                await source.manifests(["9403E2025112800001"])


# --- against the real China simulator ------------------------------------------------------------

DAY = dt.date(2025, 11, 28)
T0 = dt.datetime(2025, 11, 28, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
CN_WRITINGS = ("新F{n}", "新F·{n}", "新Ｆ{n}")  # as Chinese customs writes one plate, variously


def _company(side: Side, n: int) -> Company:
    if side is Side.CN:
        return Company(f"91654004MA7X{n:05d}K", side, f"霍尔果斯运输{n}有限公司", f"Horgos Transport {n}")
    return Company(f"1203400{n:05d}", side, f"ТОО Транзит {n}", f"TOO Tranzit {n}")


def _trip(n: int, *, seen_by_china: bool = True) -> Trip:
    """One ground-truth trip at Khorgos; ``n`` varies direction, status, plates and inspections."""
    export = n % 3 != 0
    chinese_truck = n % 4 != 0
    serial = f"{10000 + n:05d}"
    truck = (
        Vehicle(f"新F{serial}", Side.CN, "新F", "陕汽", f"LZGJL4M4{n:09d}")
        if chinese_truck
        else Vehicle(f"{n % 900 + 100:03d}ABC19", Side.KZ, "19", "Volvo", f"YV2RT40A{n:09d}")
    )
    written = CN_WRITINGS[n % 3].format(n=serial) if chinese_truck else f"{truck.plate[:3]} ABC 19"
    declared = T0 + dt.timedelta(minutes=7 * n)
    events = [TripEvent(EventKind.CN_DECLARED, declared, "9403")]
    stages = (EventKind.CN_EXITED,) if export else (EventKind.CN_ARRIVED, EventKind.CN_RELEASED)
    for step, kind in enumerate(stages[: n // 3 % (len(stages) + 1)], start=1):
        events.append(TripEvent(kind, declared + dt.timedelta(hours=step), "9403"))
    inspections = tuple(
        ModelInspection(
            id=f"CI94032025112800{n:03d}{k}",
            side=Side.CN,
            kind=(ModelInspectionKind.H986_SCAN, ModelInspectionKind.MANUAL, ModelInspectionKind.OPENING)[k],
            started_at=declared + dt.timedelta(minutes=20 + 10 * k),
            finished_at=declared + dt.timedelta(minutes=25 + 10 * k),
            result=InspectionResult.ABNORMAL if k == 2 else InspectionResult.NORMAL,
            office="9403",
            note="图像正常",
        )
        for k in range(n % 4 if n % 5 else 0)
    )
    item = GoodsItem(
        seq=1, hs6="870380", cn_code="8703800090", kz_code="8703800002", description_zh="纯电动乘用车",
        description_ru="Электромобили", description_en="Electric cars", packages=2, package_kind="VN",
        net_kg=Decimal("3400.000"), cn_gross_kg=Decimal(f"{3650 + n}.250"), kz_gross_kg=Decimal("3650.000"),
        cn_value=Decimal(f"{300000 + n}.50"), kz_value=Decimal("41000.00"),
    )  # fmt: skip
    driver_side = Side.CN if chinese_truck else Side.KZ
    return Trip(
        trip_id=f"T20251128-KHORGOS-{n:04d}",
        crossing="KHORGOS",
        direction=ModelDirection.CN_TO_KZ if export else ModelDirection.KZ_TO_CN,
        day=DAY,
        truck=truck,
        trailer=None,
        cn_truck_plate_written=written,
        kz_truck_plate_written=None,
        cn_trailer_plate_written=None,
        kz_trailer_plate_written=None,
        driver=ModelDriver(f"E{n:08d}", driver_side, "王伟", "WANG WEI", dt.date(1980, 1, 1)),
        carrier=_company(driver_side, n),
        shipper=_company(Side.CN if export else Side.KZ, n),
        consignee=_company(Side.KZ if export else Side.CN, n),
        items=(item,),
        containers=(),
        seals=(f"CN9403{n:07d}",),
        invoice_currency="USD",
        cn_currency="CNY" if n % 2 else "USD",
        seen_by=frozenset({Side.CN, Side.KZ} if seen_by_china else {Side.KZ}),
        cn_batch_no=f"9403{'E' if export else 'I'}20251128{n:05d}",
        kz_pi_number=None,
        common_id=f"CKM-KHORGOS-20251128-{n:05d}",
        kz_corridor=None,
        events=tuple(events),
        inspections=inspections,
        in_transit=False,
    )


TRIPS = [_trip(n) for n in range(1, 131)]
UNSEEN = _trip(131, seen_by_china=False)  # Kazakhstan saw it, China never did
BATCH_NOS = [trip.cn_batch_no for trip in TRIPS if trip.cn_batch_no]


@dataclass(frozen=True)
class Simulator:
    url: str

    def source(self, http: httpx.AsyncClient, secret: str = SECRET, skew_s: float = 0.0) -> ChinaSourceImpl:
        config = ChinaSourceSettings(base_url=self.url, app_id=APP_ID, app_secret=secret)
        return ChinaSourceImpl(config, ChinaClient(config, http, clock=lambda: time.time() + skew_s))


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    db_path = tmp_path_factory.mktemp("china") / "china.sqlite"
    with ChinaStoreWriter(db_path) as writer:
        for trip in [*TRIPS, UNSEEN]:
            writer.add(trip)
    with serve_in_thread(create_china_app(ChinaSimSettings(db_path=db_path, app_secret=SECRET))) as server:
        yield Simulator(server.url)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client(settings()) as client:
        yield client


async def test_sim_ports_are_the_five_chinese_posts(simulator: Simulator, http: httpx.AsyncClient) -> None:
    ports = await simulator.source(http).checkpoints()
    assert [port.code for port in ports] == [crossing.cn.code for crossing in CROSSINGS]
    horgos = ports[0]
    assert (horgos.name, horgos.locode, horgos.locode_official) == ("霍尔果斯", "CNHRS", True)
    assert (horgos.opens, horgos.closes) == (dt.time(9, 30), dt.time(18, 0))


async def test_sim_batch_get_of_50_equals_individual_gets(
    simulator: Simulator, http: httpx.AsyncClient
) -> None:
    source = simulator.source(http)
    keys = BATCH_NOS[:50]

    batch = await source.manifests(keys)
    single = {key: await source.manifest(key) for key in keys}

    assert batch == single
    assert all(record is not None for record in batch.values())


async def test_sim_records_match_the_ground_truth(simulator: Simulator, http: httpx.AsyncClient) -> None:
    records = await simulator.source(http).manifests(BATCH_NOS)
    for trip in TRIPS:
        record = records[str(trip.cn_batch_no)]
        assert record is not None
        export = trip.direction is ModelDirection.CN_TO_KZ
        assert record.direction is (Direction.CN_TO_KZ if export else Direction.KZ_TO_CN)
        assert record.declared_at == trip.events[0].at
        assert record.vehicle.written == trip.cn_truck_plate_written
        assert record.vehicle.plate.canonical == parse_plate(trip.truck.plate).canonical
        assert record.total_gross_kg == trip.items[0].cn_gross_kg
        assert record.total_value == record.goods[0].value
        assert record.total_value.amount == trip.items[0].cn_value
        assert record.currency == trip.cn_currency
        crossed = trip.event(EventKind.CN_EXITED if export else EventKind.CN_ARRIVED)
        assert record.border_crossed_at == (crossed.at if crossed else None)
    statuses = {(record.direction, record.status) for record in records.values() if record}
    assert len(statuses) == 5  # every status of both directions occurs


async def test_sim_unknown_ids_are_none(simulator: Simulator, http: httpx.AsyncClient) -> None:
    source = simulator.source(http)
    unknown = [str(UNSEEN.cn_batch_no), "9403E2099010100001", "no such batch", "新F·12345"]

    result = await source.manifests([*unknown, BATCH_NOS[0]])

    assert result == {**dict.fromkeys(unknown), BATCH_NOS[0]: result[BATCH_NOS[0]]}
    assert result[BATCH_NOS[0]] is not None
    for key in unknown:
        assert await source.manifest(key) is None


async def test_sim_inspections_by_batch(simulator: Simulator, http: httpx.AsyncClient) -> None:
    unknown = str(UNSEEN.cn_batch_no)
    result = await simulator.source(http).inspections([*BATCH_NOS, unknown])

    assert unknown not in result
    assert set(result) == set(BATCH_NOS)
    for trip in TRIPS:
        found = result[str(trip.cn_batch_no)]
        assert [i.id for i in found] == [i.id for i in trip.inspections]
        assert [i.started_at for i in found] == [i.started_at for i in trip.inspections]
        assert all(i.record_id == trip.cn_batch_no for i in found)
    assert any(found == [] for found in result.values())
    kinds = {i.kind for found in result.values() for i in found}
    assert kinds == {InspectionKind.XRAY_SCAN, InspectionKind.MANUAL_INSPECTION, InspectionKind.OPENING}


async def test_sim_by_common_number(simulator: Simulator, http: httpx.AsyncClient) -> None:
    source = simulator.source(http)
    commons = [str(trip.common_id) for trip in TRIPS[:60]]
    manifests = await source.manifests_by_common_ids([*commons, "CKM-KHORGOS-20991231-00001"])
    inspections = await source.inspections_by_common_ids(commons)

    assert manifests["CKM-KHORGOS-20991231-00001"] is None
    for trip in TRIPS[:60]:
        record = manifests[str(trip.common_id)]
        assert record is not None and record.batch_no == trip.cn_batch_no
        assert [i.id for i in inspections[str(trip.common_id)]] == [i.id for i in trip.inspections]
        assert all(i.common_manifest_id == trip.common_id for i in inspections[str(trip.common_id)])


@pytest.mark.parametrize("size", [1, 7, 50, 100])
async def test_sim_iteration_yields_every_record_once(
    simulator: Simulator, http: httpx.AsyncClient, size: int
) -> None:
    records = [record async for record in simulator.source(http).iter_manifests(RecordQuery(), size)]
    assert [record.batch_no for record in records] == BATCH_NOS  # declaration order, each once


async def test_sim_filters_reach_the_simulator(simulator: Simulator, http: httpx.AsyncClient) -> None:
    source = simulator.source(http)
    start, end = T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=8)
    query = RecordQuery(post_code="9403", direction=Direction.KZ_TO_CN, start=start, end=end)
    expected = [
        trip.cn_batch_no
        for trip in TRIPS
        if trip.direction is ModelDirection.KZ_TO_CN and start <= trip.events[0].at < end
    ]

    found = [record.batch_no async for record in source.iter_manifests(query, 10)]
    page = await source.manifest_page(query, 2, 5)

    assert found == expected and len(expected) > 10
    assert page.total == len(expected)
    assert [record.batch_no for record in page.items] == expected[5:10]
    plate = TRIPS[0].cn_truck_plate_written
    assert plate is not None and "·" in plate
    by_plate = await source.manifest_page(RecordQuery(plates=(plate,)), 1, 100)
    assert [record.batch_no for record in by_plate.items] == [TRIPS[0].cn_batch_no]
    other = TRIPS[1].cn_truck_plate_written
    assert other is not None
    by_plates = await source.manifest_page(RecordQuery(plates=(plate, other, "新Z99999")), 1, 100)
    assert {record.batch_no for record in by_plates.items} == {TRIPS[0].cn_batch_no, TRIPS[1].cn_batch_no}
    by_common = await source.manifest_page(RecordQuery(common_manifest_id=TRIPS[5].common_id), 1, 100)
    assert [record.batch_no for record in by_common.items] == [TRIPS[5].cn_batch_no]


async def test_sim_inspection_iteration(simulator: Simulator, http: httpx.AsyncClient) -> None:
    expected = sorted((i.started_at, i.id) for trip in TRIPS for i in trip.inspections)
    found = [i async for i in simulator.source(http).iter_inspections("9403", None, None, 7)]
    assert [(i.started_at, i.id) for i in found] == expected


async def test_sim_wrong_secret_is_rejected(simulator: Simulator, http: httpx.AsyncClient) -> None:
    with pytest.raises(UpstreamRejected, match="E4003") as caught:
        await simulator.source(http, secret="not-the-secret").manifest(BATCH_NOS[0])
    assert "not-the-secret" not in str(caught.value)


async def test_sim_a_skewed_clock_is_rejected(simulator: Simulator, http: httpx.AsyncClient) -> None:
    with pytest.raises(UpstreamRejected, match="E4004"):
        await simulator.source(http, skew_s=-600).checkpoints()


async def test_sim_many_concurrent_calls_share_one_client(
    simulator: Simulator, http: httpx.AsyncClient
) -> None:
    source = simulator.source(http)
    results = await asyncio.gather(*(source.manifest(key) for key in BATCH_NOS[:40]))
    assert [record.batch_no for record in results if record] == BATCH_NOS[:40]
