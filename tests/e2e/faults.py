"""Fault injection for end-to-end tests: break a simulator, then wait until the gateway recovered.

A fault leaves that authority's circuit open for a moment after it ends (the e2e gateways probe
after 50 ms, see ``conftest.FAST_RESILIENCE``); the next test must not meet that. So ending a
fault waits until a query that needs both authorities answers without an error: each retry of it
is the probe that closes a circuit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from tests.e2e.conftest import CN_APP_ID, CN_SECRET, CONFIG, KZ_CLIENT_ID, KZ_SECRET
from tests.security_fixtures import CUSTOMS_HEADERS, security_settings

from customs_gateway.app import create_app
from customs_gateway.config import load_settings
from customs_sim.admin import AdminState, Faults
from customs_sim.serving import serve_in_thread

__all__ = [
    "BOTH_SIDES",
    "FAULT_DEADLINE_S",
    "FAULT_RESILIENCE",
    "Gateway",
    "injected",
    "serve_gateway",
    "wait_recovered",
]

BOTH_SIDES = "query($id: ID!) { manifest(id: $id) { china { batchNo } kazakhstan { piNumber } } }"


def wait_recovered(client: httpx.Client, batch_no: str, timeout_s: float = 10.0) -> float:
    """Seconds until a two-sided lookup of ``batch_no`` answers cleanly (AssertionError after ``timeout_s``)."""
    started = time.monotonic()
    body: dict[str, Any] = {}
    while time.monotonic() - started < timeout_s:
        body = client.post("/graphql", json={"query": BOTH_SIDES, "variables": {"id": batch_no}}).json()
        manifest = (body.get("data") or {}).get("manifest")
        if "errors" not in body and manifest and manifest["china"] and manifest["kazakhstan"]:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the gateway did not recover within {timeout_s} s: {body}")


@contextmanager
def injected(admin: AdminState, client: httpx.Client, batch_no: str, **faults: Any) -> Iterator[Faults]:
    """Run the block with ``faults`` on one simulator; afterwards clear them and wait for recovery."""
    applied = Faults(**faults)
    admin.set_faults(applied)
    try:
        yield applied
    finally:
        admin.set_faults(Faults())
        wait_recovered(client, batch_no)


# -- a gateway tuned for fault runs ----------------------------------------------------------------

#: Per-authority resilience of the fault suite's gateway: a 0.4 s exchange timeout, three quick
#: attempts, Retry-After honoured up to 0.5 s, a circuit that opens after 3 failures and probes
#: after 0.1 s. The operation deadline ([server]) is 1.2 s: a hang costs at most that.
FAULT_RESILIENCE: dict[str, Any] = {
    "total_timeout_s": 0.4,
    "retry": {
        "attempts": 3,
        "wait_initial_s": 0.005,
        "wait_max_s": 0.02,
        "wait_jitter_s": 0.005,
        "max_retry_after_s": 0.5,
    },
    "breaker": {"failure_threshold": 3, "failure_rate": None, "open_s": 0.1, "max_open_s": 0.4},
}
FAULT_DEADLINE_S = 1.2


@dataclass
class Gateway:
    url: str
    http: httpx.Client

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def readyz(self) -> tuple[int, dict[str, Any]]:
        response = self.http.get("/readyz")
        return response.status_code, response.json()

    def metrics(self) -> str:
        response = self.http.get("/metrics")
        assert response.status_code == 200
        return response.text


@contextmanager
def serve_gateway(
    china_url: str, kazakhstan_url: str, *, kazakhstan: dict[str, Any] | None = None, **server: Any
) -> Iterator[Gateway]:
    """A gateway of its own over the given simulators, with :data:`FAULT_RESILIENCE` (and
    ``kazakhstan`` overriding some of it for that authority)."""
    settings = load_settings(
        CONFIG,
        china={"base_url": china_url, "app_id": CN_APP_ID, "app_secret": CN_SECRET, **FAULT_RESILIENCE},
        kazakhstan={
            "base_url": kazakhstan_url,
            "client_id": KZ_CLIENT_ID,
            "client_secret": KZ_SECRET,
            **FAULT_RESILIENCE,
            **(kazakhstan or {}),
        },
        server={"operation_deadline_s": FAULT_DEADLINE_S, **server},
        security=security_settings(),
    )
    with (
        serve_in_thread(create_app(settings)) as server_thread,
        httpx.Client(base_url=server_thread.url, timeout=30, headers=CUSTOMS_HEADERS) as http,
    ):
        yield Gateway(server_thread.url, http)
