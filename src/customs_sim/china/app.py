"""The simulated GACC road-manifest API (``docs/wire-china.md``) as a Starlette app.

Layers, outside in: error masking (E9999, never a stack trace) → signature check on
``/gacc/api/v1/`` → routes. Unknown paths and methods answer E4040. Handlers splice the
pre-rendered documents of :class:`~customs_sim.china.store.ChinaStore` into the envelope as
bytes; nothing on the request path parses or re-serializes a stored document.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from customs_sim.china import params
from customs_sim.china.auth import NonceStore, SignatureMiddleware, SignatureVerifier
from customs_sim.china.envelope import ApiError, error_response, ok_list_response, ok_response
from customs_sim.china.errors import MaskErrorsMiddleware
from customs_sim.china.openapi import openapi_document
from customs_sim.china.store import ChinaStore, InspectionQuery, ManifestQuery, Page

__all__ = ["API_PREFIX", "DEFAULT_APP_ID", "ChinaSimSettings", "create_china_app"]

API_PREFIX = "/gacc/api/v1"
DEFAULT_APP_ID = "customs-gateway"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChinaSimSettings:
    """Everything the simulator needs, read once; ``app_secret`` stays out of the repr."""

    db_path: Path
    app_secret: str = field(repr=False)
    app_id: str = DEFAULT_APP_ID
    clock: Callable[[], float] = time.time  # seconds since the epoch; tests pin it
    timestamp_window_s: float = 300.0
    nonce_capacity: int = 200_000
    max_body_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        if not self.app_id or not self.app_secret:
            raise ValueError("app_id and app_secret must not be empty")
        if self.timestamp_window_s <= 0 or self.nonce_capacity < 1 or self.max_body_bytes < 1:
            raise ValueError("window, nonce capacity and body limit must be positive")


class _State(TypedDict):
    store: ChinaStore


def _store(request: Request) -> ChinaStore:
    store: ChinaStore = request.state.store
    return store


def _page_response(page: Page, paging: params.Paging) -> Response:
    head = orjson.dumps({"total": page.total, "pageNum": paging.page_num, "pageSize": paging.page_size})
    return ok_list_response(head[:-1] + b',"list":', page.docs, b"}")


def _batch_response(docs: list[bytes], not_found: list[str]) -> Response:
    return ok_list_response(b'{"list":', docs, b',"notFound":' + orjson.dumps(not_found) + b"}")


async def ports(request: Request) -> Response:
    return ok_list_response(b'{"list":', _store(request).port_docs, b"}")


async def list_manifests(request: Request) -> Response:
    query_params = request.query_params
    query = ManifestQuery(
        port_code=params.port_code(query_params),
        ie_flag=params.ie_flag(query_params),
        since=params.cn_time_param(query_params, "startTime"),
        until=params.cn_time_param(query_params, "endTime"),
        plate_keys=params.plate_params(query_params),
        common_no=params.text_param(query_params, "commonManifestNo"),
    )
    paging = params.paging(query_params)
    return _page_response(_store(request).manifests(query, paging.offset, paging.page_size), paging)


async def get_manifest(request: Request) -> Response:
    doc = _store(request).manifest(request.path_params["batch_no"])
    if doc is None:
        raise ApiError("E2003")
    return ok_response(doc)


async def batch_manifests(request: Request) -> Response:
    batch = params.batch_keys(await request.body(), ("batchNos", "commonManifestNos"))
    store = _store(request)
    if batch.kind == "commonManifestNos":
        return _batch_response(*store.manifests_by_common_no(batch.keys))
    return _batch_response(*store.manifests_by_batch(batch.keys))


async def list_inspections(request: Request) -> Response:
    query_params = request.query_params
    query = InspectionQuery(
        port_code=params.port_code(query_params),
        since=params.cn_time_param(query_params, "startTime"),
        until=params.cn_time_param(query_params, "endTime"),
        batch_no=params.text_param(query_params, "batchNo"),
    )
    paging = params.paging(query_params)
    return _page_response(_store(request).inspections(query, paging.offset, paging.page_size), paging)


async def get_inspection(request: Request) -> Response:
    doc = _store(request).inspection(request.path_params["inspection_no"])
    if doc is None:
        raise ApiError("E2004")
    return ok_response(doc)


async def batch_inspections(request: Request) -> Response:
    batch = params.batch_keys(await request.body(), ("batchNos", "commonManifestNos"))
    store = _store(request)
    if batch.kind == "commonManifestNos":
        return _batch_response(*store.inspections_by_common_no(batch.keys))
    return _batch_response(*store.inspections_by_batch(batch.keys))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _unknown_endpoint(request: Request, exc: Exception) -> Response:
    return error_response(ApiError("E4040"))


def create_china_app(settings: ChinaSimSettings) -> Starlette:
    """The app; the database is opened read-only in the lifespan and closed with it."""
    openapi_body = orjson.dumps(openapi_document())

    async def openapi(request: Request) -> Response:
        return Response(openapi_body, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[_State]:
        store = ChinaStore(settings.db_path)
        try:
            yield {"store": store}
        finally:
            store.close()

    verifier = SignatureVerifier(
        {settings.app_id: settings.app_secret},
        settings.clock,
        settings.timestamp_window_s,
        NonceStore(settings.timestamp_window_s, settings.nonce_capacity),
    )
    api = API_PREFIX
    routes = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route(f"{api}/ports", ports, methods=["GET"]),
        Route(f"{api}/road-manifests", list_manifests, methods=["GET"]),
        Route(f"{api}/road-manifests/batch-query", batch_manifests, methods=["POST"]),
        Route(f"{api}/road-manifests/{{batch_no}}", get_manifest, methods=["GET"]),
        Route(f"{api}/inspections", list_inspections, methods=["GET"]),
        Route(f"{api}/inspections/batch-query", batch_inspections, methods=["POST"]),
        Route(f"{api}/inspections/{{inspection_no}}", get_inspection, methods=["GET"]),
    ]
    exception_handlers: dict[Any, Any] = {
        ApiError: _api_error,
        404: _unknown_endpoint,
        405: _unknown_endpoint,
    }
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(MaskErrorsMiddleware),
            Middleware(
                SignatureMiddleware,
                verifier=verifier,
                prefix=API_PREFIX,
                max_body_bytes=settings.max_body_bytes,
            ),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    # The contract has no redirects: "/ports/" is an unknown path (E4040), not a 307 to "/ports".
    app.router.redirect_slashes = False
    return app
