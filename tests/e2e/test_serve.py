"""`customs-gateway serve --config …`, the production entry point, as its own process: it reads the
documented configuration with credentials from the environment, answers from both simulated
authorities, believes X-Forwarded-For only from the configured proxies, writes JSON log lines
without secrets, and stops cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.conftest import CN_APP_ID, CN_SECRET, CONFIG, KZ_CLIENT_ID, KZ_SECRET, World
from tests.integration.redis_server import free_port
from tests.security_fixtures import CUSTOMS_KEY

from customs_gateway.security.apikeys import hash_key

TRIP = "T20250301-KHORGOS-0001"
QUERY = """query One($id: ID!) {
  manifest(id: $id) { china { batchNo } kazakhstan { piNumber } vehicle { plate { native } } }
}"""


@contextlib.contextmanager
def _serve(world: World, log_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    environment = {
        **os.environ,
        "CUSTOMS_GATEWAY_CHINA__BASE_URL": world.china.server.url,
        "CUSTOMS_GATEWAY_CHINA__APP_ID": CN_APP_ID,
        "CUSTOMS_GATEWAY_CHINA__APP_SECRET": CN_SECRET,
        "CUSTOMS_GATEWAY_KAZAKHSTAN__BASE_URL": world.kazakhstan.server.url,
        "CUSTOMS_GATEWAY_KAZAKHSTAN__CLIENT_ID": KZ_CLIENT_ID,
        "CUSTOMS_GATEWAY_KAZAKHSTAN__CLIENT_SECRET": KZ_SECRET,
        "CUSTOMS_GATEWAY_SECURITY__API_KEYS": json.dumps(
            [{"client_id": "serve-test", "role": "china_customs", "key_hash": hash_key(CUSTOMS_KEY)}]
        ),
        **env,
    }
    command = [sys.executable, "-m", "customs_gateway.cli", "serve", "--config", str(CONFIG), "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the gateway did not come up in 60 s"
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_answers_from_both_authorities_logs_json_and_stops_on_sigterm(world: World, tmp_path: Path) -> None:
    trip = world.trip(TRIP)
    log_path = tmp_path / "gateway.log"
    with _serve(world, log_path) as (url, process):
        ready = httpx.get(url + "/readyz", timeout=10)
        answer = httpx.post(
            url + "/graphql",
            json={"query": QUERY, "variables": {"id": trip.cn_batch_no}},
            headers={"X-API-Key": CUSTOMS_KEY},
            timeout=30,
        )
        refused = httpx.post(url + "/graphql", json={"query": QUERY, "variables": {"id": "x"}}, timeout=10)
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit status -15)
        assert process.wait(15) in (0, -signal.SIGTERM)
    assert ready.status_code == 200
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    manifest = body["data"]["manifest"]
    assert manifest["china"]["batchNo"] == trip.cn_batch_no
    assert manifest["kazakhstan"]["piNumber"] == trip.kz_pi_number
    assert manifest["vehicle"]["plate"]["native"] == trip.truck.plate
    assert refused.status_code == 401  # the documented configuration: no anonymous access
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(line.get("message") == "graphql operation" and line.get("outcome") == "ok" for line in lines), text
    assert any(line.get("message") == "upstream call" for line in lines), text
    assert any(line.get("message", "").startswith("gateway stopped") for line in lines), text
    for secret in (CN_SECRET, KZ_SECRET, CUSTOMS_KEY):
        assert secret not in text


@pytest.mark.parametrize(("trusted", "locked_out"), [("127.0.0.1", "203.0.113.7"), ("", "127.0.0.1")])
def test_refused_credentials_are_counted_by_the_address_the_trusted_proxy_names(
    world: World, tmp_path: Path, trusted: str, locked_out: str
) -> None:
    """Behind a trusted proxy the lockout falls on the client the proxy names, not on the proxy
    (and so not on every other client behind it); with no proxy trusted, the header is ignored."""
    env = {
        "CUSTOMS_GATEWAY_SERVER__FORWARDED_ALLOW_IPS": trusted,
        "CUSTOMS_GATEWAY_SECURITY__RATE_LIMIT__FAILED_AUTH_PER_MINUTE": "2",
    }
    with _serve(world, tmp_path / "gateway.log", **env) as (url, _):

        def ask(key: str, client: str) -> int:
            headers = {"X-API-Key": key, "X-Forwarded-For": client}
            return httpx.post(
                url + "/graphql", json={"query": "{ crossingPoints { id } }"}, headers=headers
            ).status_code

        guesses = [ask("guess-" + "z" * 40, "203.0.113.7") for _ in range(2)]
        guesser_again = ask(CUSTOMS_KEY, "203.0.113.7")
        neighbour = ask(CUSTOMS_KEY, "203.0.113.8")
    assert guesses == [401, 401]
    assert guesser_again == 429
    # trusted proxy: only the guesser is locked out; no proxy trusted: everyone on 127.0.0.1 is
    assert neighbour == (200 if locked_out == "203.0.113.7" else 429)
