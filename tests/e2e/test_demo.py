"""`customs-gateway demo`, the README's first command, as its own process: it starts both simulated
authorities (a small dataset here, the full 90-day volume by default) and the gateway, prints the
URLs, anonymous access and a key per role, answers the example query it prints, serves GraphiQL,
and takes the simulators down with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.integration.redis_server import free_port

from customs_gateway.cli import EXAMPLE_QUERY


def _up(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False


def test_demo_runs_both_simulators_and_the_gateway_and_answers_its_example_query(tmp_path: Path) -> None:
    gateway, china, kazakhstan = free_port(), free_port(), free_port()
    command = [
        sys.executable, "-m", "customs_gateway.cli", "demo",
        "--port", str(gateway), "--china-port", str(china), "--kazakhstan-port", str(kazakhstan),
        "--trucks-per-day", "8", "--latency-ms", "0", "--jitter-ms", "0",
    ]  # fmt: skip
    env = {**os.environ, "CUSTOMS_SIM_CACHE": str(tmp_path / "datasets")}
    output = tmp_path / "demo.out"
    with output.open("wb") as out:
        demo = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{gateway}"
    try:
        deadline = time.monotonic() + 240
        while not _up(url + "/healthz"):
            assert demo.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        ide = httpx.get(url + "/graphql", headers={"Accept": "text/html"}, timeout=10)
        answer = httpx.post(url + "/graphql", json={"query": EXAMPLE_QUERY}, timeout=60)
        personal = httpx.post(
            url + "/graphql",
            json={"query": "{ manifests(first: 1) { edges { node { driver { name } } } } }"},
            timeout=60,
        )
        sims_up = _up(f"http://127.0.0.1:{china}/openapi.json") and _up(f"http://127.0.0.1:{kazakhstan}/schema/kgd.xsd")
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        demo.wait(30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    printed = output.read_text()
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    edges = body["data"]["manifests"]["edges"]
    assert edges and all(edge["node"]["id"] for edge in edges)
    # anonymous requests get the read-only demo role: no drivers' personal data
    assert personal.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert sims_up
    assert f"http://127.0.0.1:{gateway}/graphql" in printed and "X-API-Key" in printed
    deadline = time.monotonic() + 15
    while _up(f"http://127.0.0.1:{china}/openapi.json") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _up(f"http://127.0.0.1:{china}/openapi.json"), "the simulators outlived the demo"
