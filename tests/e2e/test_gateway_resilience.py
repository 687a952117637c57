"""One authority down: the other's data still comes back; the failed paths say who and why.
(The request-count proofs run on the generated dataset: test_gateway_dataset.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.e2e.conftest import WINDOW_FROM, WINDOW_TO, World, gql
from tests.e2e.faults import injected

FULL = """
query($id: ID!) { manifest(id: $id) {
  id direction vehicle { id }
  china { batchNo } kazakhstan { piNumber }
  status goods { lineNo china { hs6 } kazakhstan { hs6 } }
} }
"""


RECOVERY_PROBE = "T20250301-KHORGOS-0001"  # a two-sided trip: its lookup needs both authorities


@pytest.fixture
def kazakhstan_down(world: World, client: httpx.Client) -> Iterator[None]:
    with injected(world.kazakhstan.admin, client, world.trip(RECOVERY_PROBE).cn_batch_no or "", outage=True):
        yield


def test_kazakhstan_down_china_survives(world: World, client: httpx.Client, kazakhstan_down: None) -> None:
    trip = world.trip("T20250301-ALASHANKOU-0003")
    body = gql(client, FULL, id=trip.cn_batch_no)
    m = body["data"]["manifest"]
    assert m["china"]["batchNo"] == trip.cn_batch_no
    assert m["kazakhstan"] is None and m["status"] is None
    assert [g["china"]["hs6"] for g in m["goods"]] == [i.hs6 for i in trip.items]
    errors = {tuple(e["path"]): e for e in body["errors"]}
    failed = errors[("manifest", "kazakhstan")]
    assert failed["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert failed["extensions"]["authority"] == "KGD"
    assert all(e["extensions"]["authority"] == "KGD" for e in body["errors"])


def test_china_down_lists_kazakhstan_records(world: World, client: httpx.Client) -> None:
    with injected(world.china.admin, client, world.trip(RECOVERY_PROBE).cn_batch_no or "", outage=True):
        body = gql(
            client,
            "query($f: ManifestFilter) { manifests(filter: $f, first: 100) "
            "{ edges { node { kazakhstan { piNumber } china { batchNo } } } complete } }",
            f={"from": WINDOW_FROM, "to": WINDOW_TO},
        )
    edges = body["data"]["manifests"]["edges"]
    assert {e["node"]["kazakhstan"]["piNumber"] for e in edges} == {
        t.kz_pi_number for t in world.trips if t.kz_pi_number
    } & {e["node"]["kazakhstan"]["piNumber"] for e in edges}
    assert edges and all(e["node"]["china"] is None for e in edges)
    codes = {(e["extensions"]["code"], e["extensions"]["authority"]) for e in body["errors"]}
    assert codes == {("UPSTREAM_UNAVAILABLE", "GACC")}
    assert body["data"]["manifests"]["complete"] is None
