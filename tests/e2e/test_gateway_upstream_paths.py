"""Ids shaped like dot segments or slashes, looked up by the gateway's own sources (built by its
lifespan, over the transport the app uses) on the real simulators: each reaches only the route of
its own kind, never a path above it. The simulators' request counters are the witness.

Through GraphQL no such id gets this far (tests/e2e/test_gateway_hostile.py: ids are checked
against the authorities' formats and travel in JSON bodies and query strings); the sources'
single-record lookups are where an id becomes a path segment. The clients encode every segment
(``encode_path``, ``resource_path``: ``..`` as ``%2E%2E``); the transport must send that as it is:
httpx-aiohttp re-quoted the URL through yarl, which decoded ``%2E`` to ``.`` and resolved dot
segments away: ``/api/v1/preliminary-information/%2E%2E`` went out as ``/api/v1/``, and a GACC
path with an encoded dot went out other than signed (refused: E4003).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.e2e.conftest import Upstreams, World, gateway_settings

from customs_gateway.app import GatewayState, create_app

KGD_RECORD = "kz GET /api/v1/preliminary-information/{number}"
KGD_TOKEN = "kz POST /auth/token"
GACC_MANIFEST = "cn GET /gacc/api/v1/road-manifests/{batch_no}"


@pytest.fixture(scope="module")
async def gateway(world: World) -> AsyncIterator[GatewayState]:
    """The sources exactly as the app's lifespan builds them (no scan workers: none are used)."""
    settings = gateway_settings(world.china.server.url, world.kazakhstan.server.url, reports={"scan_workers": 0})
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        yield state["gateway"]


# One path segment for the simulators' router too (no "/" once decoded): the record route or nothing.
@pytest.mark.parametrize("pi_number", ["..", ".", "%2E%2E", "%2e.", "..%2F..", "..\\.."])
async def test_a_kgd_id_of_dots_reaches_only_the_record_route(
    gateway: GatewayState, upstreams: Upstreams, pi_number: str
) -> None:
    upstreams.reset()
    assert await gateway.kazakhstan.record(pi_number) is None
    assert upstreams.endpoints() - {KGD_TOKEN} == {KGD_RECORD}


# A "/" in the id: encoded, so the router sees a path below the record route that no route matches.
@pytest.mark.parametrize("pi_number", ["/", "../..", "../../checkpoints", "../auth/token", "./.."])
async def test_a_kgd_id_with_slashes_reaches_no_other_route(
    gateway: GatewayState, upstreams: Upstreams, pi_number: str
) -> None:
    upstreams.reset()
    assert await gateway.kazakhstan.record(pi_number) is None
    assert upstreams.endpoints() - {KGD_TOKEN} <= {KGD_RECORD, "kz GET (unrouted)"}


@pytest.mark.parametrize("batch_no", ["%2E%2E", "..%2F..", "%2e."])
async def test_a_gacc_id_of_encoded_dots_reaches_only_the_manifest_route(
    gateway: GatewayState, upstreams: Upstreams, batch_no: str
) -> None:
    upstreams.reset()
    assert await gateway.china.manifest(batch_no) is None
    assert upstreams.endpoints() == {GACC_MANIFEST}


@pytest.mark.parametrize("batch_no", ["..", ".", "/", "../ports"])
async def test_a_gacc_id_that_is_no_segment_is_not_sent(
    gateway: GatewayState, upstreams: Upstreams, batch_no: str
) -> None:
    upstreams.reset()
    assert await gateway.china.manifest(batch_no) is None
    assert upstreams.endpoints() == set()
