"""The simulators' admin middleware: counters by route template, faults, token."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from customs_sim.admin import AdminMiddleware, AdminState, Faults
from customs_sim.admin_client import AdminClient
from customs_sim.serving import serve_in_thread

TOKEN = "admin-secret"


async def _item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["item_id"], "payload": "x" * 200})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, AdminState]]:
    routes = [Route("/items/{item_id}", _item)]
    state = AdminState(token=TOKEN)
    app = AdminMiddleware(Starlette(routes=routes), state, routes)
    with serve_in_thread(app) as running:
        yield running.url, state


@pytest.fixture
def admin(server: tuple[str, AdminState]) -> Iterator[AdminClient]:
    url, _ = server
    with AdminClient(url, TOKEN) as client:
        client.clear_faults()
        client.reset()
        yield client
        client.clear_faults()


def test_counts_requests_by_route_template(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server
    for item_id in ("a", "b", "c"):
        assert httpx.get(f"{url}/items/{item_id}").status_code == 200
    httpx.get(f"{url}/nowhere")
    assert admin.counters() == {"GET /items/{item_id}": 3, "GET (unrouted)": 1}
    admin.reset()
    assert admin.total() == 0


def test_admin_requires_token(server: tuple[str, AdminState]) -> None:
    url, _ = server
    assert httpx.get(f"{url}/__admin/counters").status_code == 401
    assert httpx.get(f"{url}/__admin/counters", headers={"X-Admin-Token": "guess"}).status_code == 401


def test_outage_and_recovery(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server
    admin.set_faults(outage=True)
    assert httpx.get(f"{url}/items/a").status_code == 503
    admin.clear_faults()
    assert httpx.get(f"{url}/items/a").status_code == 200


def test_rate_limit_sends_retry_after(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server
    admin.set_faults(rate_limit_rate=1.0, retry_after_s=7)
    response = httpx.get(f"{url}/items/a")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


def test_error_rate_is_reproducible(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server

    def run() -> list[int]:
        admin.set_faults(error_rate=0.5, error_status=502, seed=42)
        return [httpx.get(f"{url}/items/a").status_code for _ in range(20)]

    first = run()
    assert set(first) == {200, 502}
    assert run() == first


def test_malformed_body_is_truncated_and_garbled(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server
    admin.set_faults(malformed_rate=1.0)
    response = httpx.get(f"{url}/items/a")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert b"garbled" in response.content


def test_latency_is_added(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server
    admin.set_faults(latency_ms=120)
    started = time.perf_counter()
    httpx.get(f"{url}/items/a")
    assert time.perf_counter() - started >= 0.12


def test_path_prefix_limits_faults(server: tuple[str, AdminState], admin: AdminClient) -> None:
    url, _ = server
    admin.set_faults(outage=True, path_prefix="/other")
    assert httpx.get(f"{url}/items/a").status_code == 200


def test_bad_fault_config_is_refused(server: tuple[str, AdminState]) -> None:
    url, _ = server
    headers = {"X-Admin-Token": TOKEN}
    assert httpx.put(f"{url}/__admin/faults", json={"error_rate": 2}, headers=headers).status_code == 400
    assert httpx.put(f"{url}/__admin/faults", json={"explode": True}, headers=headers).status_code == 400
    assert httpx.put(f"{url}/__admin/faults", content=b"{not json", headers=headers).status_code == 400


def test_faults_validate_ranges() -> None:
    with pytest.raises(ValueError):
        Faults(latency_ms=-1)
    with pytest.raises(ValueError):
        Faults(error_status=200)
