"""The report scan pool's own behaviour, with a stand-in worker process speaking its protocol.

The real worker (``customs_gateway.scan_worker``) is exercised end to end by the generated-dataset
gateway of tests/e2e (its reports are checked against the ground truth, an upstream outage
included); here a small worker answers from a script, so the pool's parts can be checked one by
one: results, gateway errors crossing the process boundary as themselves, a dying worker,
cancellation and stopping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pickle
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

import pytest

from customs_gateway.config import load_settings
from customs_gateway.crossings import CrossingPoint, CrossingRegistry
from customs_gateway.domain import Authority, Direction
from customs_gateway.errors import (
    GatewayError,
    InvalidInput,
    UpstreamContract,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from customs_gateway.reports.partials import ChunkPartial, Flow, Part
from customs_gateway.reports.pool import ScanPool, ScanWorkerGone, error_payload, rebuild_error
from customs_gateway.resilience import DeadlineExceeded
from customs_gateway.security.audit import track_authorities

DAY = dt.date(2025, 3, 1)
RATES: dict[dt.date, dict[str, Any]] = {DAY: {}}


def scripted_worker(conn: Connection, config: bytes) -> None:
    """Answers by crossing id: ``FAIL`` an upstream outage, ``DIE`` exits at once, ``SLOW`` waits
    for a cancel; any other crossing a partial of ``config`` trucks (the worker's own label)."""
    trucks = int(config)
    rates_seen: set[int] = set()
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        kind = message[0]
        if kind == "stop":
            return
        if kind == "rates":
            rates_seen.add(message[1])
        elif kind == "scan":
            _, request_id, crossing, direction, day, rates_key, _budget, _upstream_id = message
            if crossing == "DIE":
                os._exit(3)
            if crossing == "FAIL":
                failure = UpstreamUnavailable(Authority.KGD, "HTTP 503", endpoint="/api/v1/x", retry_after_s=2.5)
                conn.send(("failed", request_id, error_payload(failure)))
            elif crossing != "SLOW":
                assert rates_key in rates_seen, "a scan names a rate table sent before it"
                partial = ChunkPartial()
                partial.china.total = Flow(Decimal("12.34"), Decimal("5.000"), trucks)
                partial.kazakhstan.open = len(direction) + int(day[-2:])
                conn.send(("done", request_id, partial.parts(), ["GACC", "KGD"]))


def crossing(crossing_id: str) -> CrossingPoint:
    settings = load_settings(china={"app_secret": "x"}, kazakhstan={"client_secret": "y"})
    point = CrossingRegistry.from_settings(settings.crossings).all[0]
    return CrossingPoint(
        id=crossing_id, name=point.name, phase=point.phase, china=point.china, kazakhstan=point.kazakhstan
    )


def trucks(parts: dict[Part, bytes]) -> int:
    return ChunkPartial.from_parts(parts).china.total.trucks


async def test_a_worker_scans_a_chunk_into_its_partial_and_names_the_authorities_it_called() -> None:
    pool = ScanPool(2, scripted_worker, b"7")
    pool.start()
    try:
        with track_authorities() as called:
            partial = ChunkPartial.from_parts(await pool.scan(crossing("KHORGOS"), Direction.CN_TO_KZ, DAY, RATES))
        assert partial.china.total == Flow(Decimal("12.34"), Decimal("5.000"), 7)
        assert partial.kazakhstan.open == len("CN_TO_KZ") + 1
        assert called == {"GACC", "KGD"}
        # Many chunks at once, spread over both workers, each answered with its own partial.
        days = [DAY + dt.timedelta(days=i) for i in range(12)]
        answers = await asyncio.gather(*(pool.scan(crossing("X"), Direction.KZ_TO_CN, d, RATES) for d in days))
        partials = [ChunkPartial.from_parts(answer) for answer in answers]
        assert [p.kazakhstan.open for p in partials] == [len("KZ_TO_CN") + d.day for d in days]
    finally:
        await pool.close()


async def test_a_gateway_error_in_a_worker_is_raised_as_itself() -> None:
    pool = ScanPool(1, scripted_worker, b"1")
    try:
        with pytest.raises(UpstreamUnavailable) as raised:
            await pool.scan(crossing("FAIL"), Direction.CN_TO_KZ, DAY, RATES)
        error = raised.value
        assert (error.code, error.authority, error.endpoint, error.retry_after_s) == (
            "UPSTREAM_UNAVAILABLE",
            Authority.KGD,
            "/api/v1/x",
            2.5,
        )
        assert str(error) == "KGD: HTTP 503"
        # The worker is still there for the next chunk.
        assert trucks(await pool.scan(crossing("OK"), Direction.CN_TO_KZ, DAY, RATES)) == 1
    finally:
        await pool.close()


async def test_a_dying_worker_fails_its_chunk_and_is_started_again_for_the_next() -> None:
    pool = ScanPool(1, scripted_worker, b"3")
    try:
        with pytest.raises(ScanWorkerGone):
            await pool.scan(crossing("DIE"), Direction.CN_TO_KZ, DAY, RATES)
        assert ScanWorkerGone("x").code == "INTERNAL_SERVER_ERROR"
        assert trucks(await pool.scan(crossing("OK"), Direction.CN_TO_KZ, DAY, RATES)) == 3
    finally:
        await pool.close()


async def test_a_cancelled_scan_leaves_the_worker_serving_and_close_stops_every_worker() -> None:
    pool = ScanPool(2, scripted_worker, b"1")
    pool.start()
    processes = [worker.process for worker in pool._workers if worker is not None]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pool.scan(crossing("SLOW"), Direction.CN_TO_KZ, DAY, RATES), 0.2)
    assert trucks(await pool.scan(crossing("OK"), Direction.CN_TO_KZ, DAY, RATES)) == 1
    await pool.close()
    assert [process.is_alive() for process in processes] == [False, False]
    assert [process.exitcode for process in processes] == [0, 0]
    with pytest.raises(ScanWorkerGone):
        await pool.scan(crossing("OK"), Direction.CN_TO_KZ, DAY, RATES)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable(Authority.GACC, "E9999 internal error", endpoint="GET /gacc", retry_after_s=None),
        UpstreamTimeout(Authority.KGD, "no answer in time (ReadTimeout)", endpoint="/api/v1/preliminary-information"),
        UpstreamContract(Authority.KGD, "malformed XML: not well-formed (invalid token): line 1, column 2"),
        DeadlineExceeded(Authority.GACC, endpoint="GET /gacc/api/v1/road-manifests"),
        InvalidInput("limit must be between 1 and 500"),
    ],
)
def test_gateway_errors_cross_the_process_boundary_with_class_code_and_attributes(error: GatewayError) -> None:
    rebuilt = rebuild_error(pickle.loads(pickle.dumps(error_payload(error))))  # noqa: S301 - made just above
    assert type(rebuilt) is type(error)
    assert isinstance(rebuilt, GatewayError)
    assert (rebuilt.code, str(rebuilt), rebuilt.message) == (error.code, str(error), error.message)
    assert vars(rebuilt) == vars(error)
    if isinstance(error, UpstreamError):
        assert isinstance(rebuilt, UpstreamError)
        assert (rebuilt.authority, rebuilt.endpoint) == (error.authority, error.endpoint)


def test_any_other_failure_in_a_worker_is_a_plain_error_not_a_gateway_code() -> None:
    rebuilt = rebuild_error(error_payload(KeyError("2025-03-01")))
    assert not isinstance(rebuilt, GatewayError)
    assert "KeyError" in str(rebuilt)
    # A payload naming a class outside the gateway is never imported and instantiated.
    assert not isinstance(rebuild_error(("os", "system", ("true",), {})), GatewayError)
