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
from typing import Any

import httpx

from customs_sim.admin import AdminState, Faults

__all__ = ["BOTH_SIDES", "injected", "wait_recovered"]

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
