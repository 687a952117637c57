"""JSON log lines: they parse, carry the request id and the call's fields, and never a secret.
Also the request id itself: middleware, upstream header, inheritance by tasks."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import stamina
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from customs_gateway.domain import Authority
from customs_gateway.errors import UpstreamUnavailable
from customs_gateway.observability import (
    GatewayMetrics,
    JsonFormatter,
    RequestIdMiddleware,
    bind_request_id,
    configure_logging,
    current_request_id,
    observe_operation,
    redact,
    redact_text,
    upstream_headers,
    write_inline,
)
from customs_gateway.resilience import ManualClock, UpstreamGuard, UpstreamPolicy, current_deadline

SECRET = "s3cr3t-do-not-leak"


class LogBuffer(io.StringIO):
    """The log output; reading it first waits for lines still being written (background mode)."""

    def getvalue(self) -> str:
        for handler in logging.getLogger().handlers:
            handler.flush()
        return super().getvalue()


@pytest.fixture(params=[False, True], ids=["inline", "background"])
def log_stream(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Every test of the lines runs with them written inline and by the background writer."""
    root = logging.getLogger()
    level = root.level
    stream = LogBuffer()
    handler = configure_logging(logging.INFO, stream, background=request.param)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_line_per_upstream_attempt_with_the_request_id(log_stream: io.StringIO) -> None:
    guard = UpstreamGuard(
        Authority.GACC, UpstreamPolicy(), total_timeout_s=5.0, default_deadline_s=5.0, clock=ManualClock()
    )
    failures = [UpstreamUnavailable(Authority.GACC, "rate limited (HTTP 429)", retry_after_s=0.0)]

    async def attempt() -> str:
        if failures:
            raise failures.pop()
        return "ok"

    with stamina.set_testing(True, attempts=3, cap=True), bind_request_id("req-12345678"):
        await guard.call("manifest.get", True, attempt)
    calls = [line for line in lines(log_stream) if line["message"] == "upstream call"]
    assert [(c["outcome"], c["attempt"]) for c in calls] == [("unavailable", 1), ("ok", 2)]
    for call in calls:
        assert call["request_id"] == "req-12345678"
        assert call["authority"] == "GACC" and call["endpoint"] == "manifest.get"
        assert call["duration_ms"] == 0.0
        assert call["logger"] == "customs_gateway.upstream"
    assert calls[0]["level"] == "warning" and calls[0]["error"] == "GACC: rate limited (HTTP 429)"
    assert calls[0]["retry_after_s"] == 0.0
    assert calls[1]["level"] == "info" and "error" not in calls[1]


def test_secrets_never_reach_the_output(log_stream: io.StringIO) -> None:
    log = logging.getLogger("customs_gateway.sources.test")
    log.info(
        "sent %s",
        {"sign": SECRET, "appId": "app-1"},
        extra={
            "headers": {"Authorization": f"Bearer {SECRET}", "X-Request-ID": "r1", "sign": SECRET},
            "client_secret": SECRET,
            "body": f"grant_type=client_credentials&client_secret={SECRET}",
        },
    )
    try:
        raise RuntimeError(f"token={SECRET}")
    except RuntimeError:
        log.exception("failed with Authorization: Bearer %s", SECRET)
    output = log_stream.getvalue()
    assert SECRET not in output
    first, second = lines(log_stream)
    assert first["headers"] == {"Authorization": "[REDACTED]", "X-Request-ID": "r1", "sign": "[REDACTED]"}
    assert first["client_secret"] == "[REDACTED]"
    assert "'appId': 'app-1'" in first["message"]
    assert "RuntimeError" in second["exc"]


def test_a_formatter_without_the_filter_masks_on_its_own() -> None:
    """The handler configure_logging installs masks once (its filter); a JsonFormatter on a
    handler without RedactingFilter must still mask everything itself."""
    record = logging.LogRecord("customs_gateway.x", logging.INFO, __file__, 1, "Bearer %s", (SECRET,), None)
    record.client_secret = SECRET
    record.body = f"client_secret={SECRET}"
    output = JsonFormatter().format(record)
    assert SECRET not in output
    line = orjson.loads(output)
    assert line["client_secret"] == "[REDACTED]" and line["message"] == "Bearer [REDACTED]"


def test_filtered_lines_are_masked_once_and_carry_no_bookkeeping(log_stream: io.StringIO) -> None:
    long_value = "x" * 300 + f" Bearer {SECRET}"  # past the memoized length: masked all the same
    logging.getLogger("customs_gateway.x").info("sent", extra={"detail": long_value, "token": SECRET})
    (line,) = lines(log_stream)
    assert SECRET not in log_stream.getvalue()
    assert line["detail"].endswith("Bearer [REDACTED]") and line["token"] == "[REDACTED]"
    assert set(line) == {"ts", "level", "logger", "message", "detail", "token"}


def test_lines_without_a_request_have_no_request_id(log_stream: io.StringIO) -> None:
    logging.getLogger("customs_gateway.app").warning("started", extra={"port": 8000})
    (line,) = lines(log_stream)
    assert "request_id" not in line
    assert line["port"] == 8000 and line["level"] == "warning"
    assert line["ts"].endswith("+00:00")


def test_configure_logging_twice_keeps_one_handler(log_stream: io.StringIO) -> None:
    again = io.StringIO()
    handler = configure_logging(logging.INFO, again)
    try:
        logging.getLogger("customs_gateway").info("once")
        assert again.getvalue().count("once") == 1
        assert log_stream.getvalue() == ""
    finally:
        logging.getLogger().removeHandler(handler)


async def test_background_lines_keep_their_order_and_the_request_id_of_their_caller() -> None:
    stream = LogBuffer()
    handler = configure_logging(logging.INFO, stream, background=True)
    try:
        log = logging.getLogger("customs_gateway.x")

        async def one_request(rid: str) -> None:
            with bind_request_id(rid):
                for n in range(3):
                    log.info("step", extra={"n": n})
                    await asyncio.sleep(0)

        await asyncio.gather(one_request("req-a"), one_request("req-b"))
        log.info("outside")
        handler.close()  # what logging.shutdown does at exit: everything queued is written
        written = [orjson.loads(line) for line in io.StringIO.getvalue(stream).splitlines()]
    finally:
        logging.getLogger().removeHandler(handler)
    assert [(w.get("request_id"), w.get("n")) for w in written] == [
        ("req-a", 0), ("req-b", 0), ("req-a", 1), ("req-b", 1), ("req-a", 2), ("req-b", 2), (None, None)
    ]  # fmt: skip
    assert "request_id" not in written[-1]


def test_write_inline_writes_what_is_queued_then_writes_in_the_callers_thread() -> None:
    """What the app does as it stops (the process may then end by a signal, without exit hooks)."""
    stream = LogBuffer()
    handler = configure_logging(logging.INFO, stream, background=True)
    try:
        log = logging.getLogger("customs_gateway.x")
        log.info("queued")
        write_inline()
        assert [line["message"] for line in map(orjson.loads, io.StringIO.getvalue(stream).splitlines())] == ["queued"]
        log.info("last")  # no flush, no thread: written before info() returns
        written = [orjson.loads(line)["message"] for line in io.StringIO.getvalue(stream).splitlines()]
        assert written == ["queued", "last"]
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


async def test_operation_observer_logs_records_metrics_and_sets_the_deadline(log_stream: io.StringIO) -> None:
    metrics = GatewayMetrics()
    clock = ManualClock()
    observed = observe_operation("Dashboard", metrics=metrics, deadline_s=3.0, clock=clock)
    with bind_request_id("op-12345678"), observed as op:
        deadline = current_deadline()
        assert deadline is not None and deadline.remaining() == 3.0
        clock.advance(0.25)
        op.add_error("UPSTREAM_TIMEOUT")
    (line,) = lines(log_stream)
    assert line["message"] == "graphql operation"
    assert (line["operation"], line["outcome"], line["error_codes"]) == ("Dashboard", "error", ["UPSTREAM_TIMEOUT"])
    assert line["duration_ms"] == 250.0 and line["request_id"] == "op-12345678"
    errors = metrics.registry.get_sample_value(
        "customs_gateway_graphql_errors_total", {"operation": "Dashboard", "code": "UPSTREAM_TIMEOUT"}
    )
    assert errors == 1
    assert current_deadline() is None


def test_an_escaping_exception_counts_as_internal_error(log_stream: io.StringIO) -> None:
    with pytest.raises(ZeroDivisionError), observe_operation(None, metrics=None, deadline_s=1.0):
        raise ZeroDivisionError
    (line,) = lines(log_stream)
    assert line["error_codes"] == ["INTERNAL_SERVER_ERROR"] and line["operation"] == "anonymous"


async def echo(request: Request) -> Response:
    return JSONResponse({"request_id": current_request_id(), "upstream": upstream_headers()["X-Request-ID"]})


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abcdef12-3456", True), (None, False), ("short", False), ("evil\nline injected-into-logs", False)],
)
async def test_middleware_binds_and_echoes_the_request_id(sent: str | None, kept: bool) -> None:
    app = RequestIdMiddleware(Starlette(routes=[Route("/", echo)]))
    headers = {"x-request-id": sent.replace("\n", " ")} if sent else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        response = await client.get("/", headers=headers)
    body = response.json()
    assert body["request_id"] == body["upstream"] == response.headers["x-request-id"]
    assert (body["request_id"] == headers.get("x-request-id")) is kept


async def test_tasks_of_a_request_send_its_id_and_work_outside_requests_gets_fresh_ones() -> None:
    async def header() -> str:
        return upstream_headers()["X-Request-ID"]

    with bind_request_id("parent-1234") as bound:
        ids = await asyncio.gather(*(asyncio.create_task(header()) for _ in range(3)))
    assert ids == [bound] * 3
    outside = {await header(), await header()}
    assert len(outside) == 2 and bound not in outside


secret_values = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~+/-", min_size=12)
templates = st.sampled_from(
    [
        "Authorization: Bearer {}",
        "sign={}&appId=x",
        "{{'sign': '{}'}}",
        '{{"access_token":"{}","expires_in":3600}}',
        "client_secret={}",
        "x-api-key: {}",
        "password = {}",
    ]
)


@given(template=templates, secret=secret_values)
def test_redaction_masks_every_known_shape(template: str, secret: str) -> None:
    assert secret not in redact_text(template.format(secret))


secret_names = st.sampled_from(["Authorization", "sign", "app_secret", "KGD-Token", "refresh_token"])


@given(st.dictionaries(secret_names, st.text()))
def test_values_under_secret_names_are_always_masked(fields: dict[str, str]) -> None:
    assert set(redact({"nested": [fields]})["nested"][0].values()) <= {"[REDACTED]"}
