"""The ASGI app: ``create_app(settings)`` serves the GraphQL schema at ``/graphql``.

No work happens at import time. The lifespan opens one long-lived ``httpx.AsyncClient`` per
upstream (over aiohttp, with the timeouts and pool limits from settings), builds both sources
and keeps them in lifespan state; every GraphQL request gets a fresh context (fresh DataLoaders)
over them. Clients passed in by the caller (tests, benchmarks) are used as they are and left
open: whoever creates a client closes it.

Operations (docs/operations.md): one :class:`GatewayMetrics` registry per app (``/metrics``; the
guards and the cache report to it), one :class:`UpstreamGuard` per authority built in the
lifespan and injected into that source's clients (``/readyz`` reports them), a request id on
every request, log line and upstream call, and each GraphQL operation run under
``[server] operation_deadline_s`` (docs/resilience.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypedDict

import httpx
import stamina.instrumentation
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from .cache import CacheBackend, EntityCache, create_cache
from .config import GatewaySettings
from .crossings import CrossingRegistry
from .discrepancies import DiscrepancyThresholds
from .heap import freeze_startup_heap
from .linking import LinkWindow
from .observability import (
    GatewayMetrics,
    RequestIdMiddleware,
    healthz_endpoint,
    metrics_endpoint,
    readyz_endpoint,
)
from .observability import write_inline as write_logs_inline
from .recognition import RecognitionPolicy
from .report_routes import report_routes
from .reports import ReportService
from .reports.pool import ScanPool
from .resilience import CircuitState, UpstreamGuard
from .scan_worker import run_worker, worker_config
from .schema import GatewayContext, build_context, build_schema
from .schema.observe import operation_observer
from .security import principal_of
from .security.audit import AuditLog, UpstreamRecorder
from .security.authn import Authenticator
from .security.http_guards import (
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    cors_middleware,
    ide_content_security_policy,
)
from .security.middleware import AuthenticationMiddleware
from .security.persisted import PersistedOperations
from .security.rate_limit import ClientRateLimiter, RateLimitMiddleware
from .sources.base import ChinaSource, KazakhstanSource
from .sources.cached import (
    CachedChinaSource,
    CachedKazakhstanSource,
    StaleReport,
    bind_stale_report,
    current_stale_report,
)
from .sources.china import ChinaClient, ChinaSourceImpl, build_http_client
from .sources.china.client import china_guard
from .sources.kazakhstan import KazakhstanClient, KazakhstanSourceImpl, TokenProvider, create_http_client
from .sources.kazakhstan.client import kazakhstan_guard
from .sources.transport import AiohttpBodyTransport
from .view import GuardedGraphQL

__all__ = ["GatewayState", "create_app"]

logger = logging.getLogger("customs_gateway.app")


@dataclass(frozen=True, slots=True)
class GatewayState:
    """What every request shares: the two sources and the reference data."""

    china: ChinaSource
    kazakhstan: KazakhstanSource
    crossings: CrossingRegistry
    window: LinkWindow
    reports: ReportService
    recognition: RecognitionPolicy
    thresholds: DiscrepancyThresholds


class _LifespanState(TypedDict):
    gateway: GatewayState
    guards: tuple[UpstreamGuard, ...]


class _GraphQL(GuardedGraphQL):
    """The hardened GraphQL view (view.py) with our per-request context."""

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> GatewayContext:
        state: GatewayState = request.state.gateway
        # The cached sources add the stale answers they serve to this request's report (a
        # context variable: they are shared by every request); process_result reads it.
        bind_stale_report(StaleReport())
        return build_context(
            china=state.china,
            kazakhstan=state.kazakhstan,
            crossings=state.crossings,
            window=state.window,
            reports=state.reports,
            recognition=state.recognition,
            thresholds=state.thresholds,
            request=request,
            response=response,
            principal=principal_of(request),
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The standard response, plus ``extensions.stale`` when cached answers past their TTL
        were served (upstream failing or slow): one entry per (authority, resource), max age."""
        response = await super().process_result(request, result)
        report = current_stale_report()
        if report:
            response["extensions"] = {**(response.get("extensions") or {}), "stale": report.as_extension()}
        return response


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class _Serving:
    """Whether this process can serve: set once the lifespan has started, cleared as it ends."""

    up: bool = False


def _guards_of(request: Request) -> tuple[UpstreamGuard, ...]:
    guards: tuple[UpstreamGuard, ...] = getattr(request.state, "guards", ())
    return guards


def create_app(
    settings: GatewaySettings,
    *,
    china_http: httpx.AsyncClient | None = None,
    kazakhstan_http: httpx.AsyncClient | None = None,
    cache_backend: CacheBackend | None = None,
    metrics: GatewayMetrics | None = None,
) -> Starlette:
    """The gateway as an ASGI app. ``china_http`` / ``kazakhstan_http`` replace the clients the
    lifespan would open (the caller keeps ownership of them); ``cache_backend`` replaces the one
    ``settings.cache`` names (tests, benchmarks: the app closes it at shutdown)."""
    metrics = metrics if metrics is not None else GatewayMetrics()
    crossings = CrossingRegistry.from_settings(settings.crossings)
    window = LinkWindow(before=settings.linking.window_before, after=settings.linking.window_after)
    recognition = settings.recognition_policy()
    thresholds = settings.discrepancies.thresholds()
    audit = AuditLog()
    serving = _Serving()
    resilience = settings.resilience()
    limiter = ClientRateLimiter(settings.security) if settings.security.rate_limit.enabled else None
    schema = build_schema(
        document_cache_size=settings.server.document_cache_size,
        audit=audit,
        security=settings.security,
        observer=operation_observer(metrics, resilience.operation_deadline_s),
    )
    graphql = _GraphQL(
        schema,
        graphql_ide="graphiql" if settings.server.graphiql else None,
        limits=settings.security.limits,
        persisted=PersistedOperations.from_settings(settings.security.persisted),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[_LifespanState]:
        async with contextlib.AsyncExitStack() as stack:
            if limiter is not None:
                stack.push_async_callback(limiter.close)
            cn_http = china_http
            if cn_http is None:
                cn_http = build_http_client(
                    settings.china,
                    transport=AiohttpBodyTransport.for_upstream(settings.china),
                )
                await stack.enter_async_context(cn_http)
            kz_http = kazakhstan_http
            if kz_http is None:
                kz_http = create_http_client(
                    settings.kazakhstan,
                    transport=AiohttpBodyTransport.for_upstream(settings.kazakhstan),
                )
                await stack.enter_async_context(kz_http)
            # Every request to an authority is noted on the current operation's audit line.
            UpstreamRecorder("GACC").install(cn_http)
            UpstreamRecorder("KGD").install(kz_http)
            # Report partials get their own bounded cache (aggregates only: no audience in the key).
            report_cache = create_cache(settings.reports.cache)
            # The guards report every attempt (metrics + one log line): stamina's own default
            # hooks would log each retry a second time and count it in the global registry.
            stamina.instrumentation.set_on_retry_hooks(())
            cn_guard = china_guard(settings.china, resilience, metrics)
            kz_guard = kazakhstan_guard(settings.kazakhstan, resilience, metrics)
            for guard in (cn_guard, kz_guard):
                metrics.circuit_state(guard.authority, CircuitState.CLOSED)
            china: ChinaSource = ChinaSourceImpl(settings.china, ChinaClient(settings.china, cn_http, guard=cn_guard))
            tokens = TokenProvider(settings.kazakhstan, kz_http, guard=kz_guard)
            kazakhstan: KazakhstanSource = KazakhstanSourceImpl(
                settings.kazakhstan, KazakhstanClient(settings.kazakhstan, kz_http, tokens, guard=kz_guard)
            )
            # Reports read whole days through their own cache of partials: not through this one,
            # where a day's list would be one huge entry evicting the records dashboards reuse.
            china_upstream, kazakhstan_upstream = china, kazakhstan
            cache: EntityCache | None = None
            if settings.cache.enabled:
                cache = create_cache(settings.cache, observer=metrics.cache, backend=cache_backend)
                stack.push_async_callback(cache.close)
                china = CachedChinaSource(china, cache, settings.cache)
                kazakhstan = CachedKazakhstanSource(kazakhstan, cache, settings.cache)
            logger.info(
                "gateway ready: %d crossing points, cache %s",
                len(crossings.all),
                settings.cache.backend if cache is not None else "off",
            )
            pool: ScanPool | None = None
            if settings.reports.scan_workers and china_http is None and kazakhstan_http is None:
                # Worker processes build their own clients: injected ones (tests) cannot follow.
                pool = ScanPool(settings.reports.scan_workers, run_worker, worker_config(settings).dumps())
                pool.start()
                stack.push_async_callback(pool.close)
            freeze_startup_heap(settings.server.gc_gen0_threshold)
            serving.up = True
            try:
                reports = ReportService(
                    china_upstream,
                    kazakhstan_upstream,
                    crossings,
                    window,
                    settings.reports.options(),
                    report_cache,
                    _utc_now,
                    pool=pool,
                )
                yield {
                    "gateway": GatewayState(china, kazakhstan, crossings, window, reports, recognition, thresholds),
                    "guards": (cn_guard, kz_guard),
                }
            finally:
                serving.up = False
                gc.unfreeze()
                await report_cache.close()
        # The process may end by a signal right after (uvicorn re-raises SIGTERM): no exit hook
        # would write what the log thread still holds, nor the lines that follow.
        write_logs_inline()
        logger.info("gateway stopped: upstream connections and caches closed")

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz_endpoint(), methods=["GET"]),
        Route("/readyz", readyz_endpoint(_guards_of, serving=lambda: serving.up), methods=["GET"]),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        *report_routes(),
    ]
    security = settings.security
    ide_csp = ide_content_security_policy(graphql.graphql_ide_html, security.headers.frame_ancestors)
    middleware = [
        # Outermost: every later log line of the request, an authentication failure's included,
        # carries its id.
        Middleware(RequestIdMiddleware),
        # Every response, refusals and 401s included, carries the security headers; CORS answers
        # preflights before credentials are asked for; bodies are bounded before anything reads them.
        Middleware(SecurityHeadersMiddleware, settings=security.headers, ide_csp=ide_csp),
        *cors_middleware(security.cors),
        Middleware(
            BodyLimitMiddleware,
            max_body_bytes=security.limits.max_body_bytes,
            # a GET carries the document, variables and extensions percent-encoded
            max_query_string=3 * security.limits.max_query_bytes + 4096,
        ),
        # Nothing behind it (rate and operation limits, GraphQL) runs without a Principal on
        # request.state.principal: middleware that needs the Principal goes after it.
        Middleware(
            AuthenticationMiddleware,
            authenticator=Authenticator(security),
            audit=audit,
            public_paths=security.public_paths,
            api_key_header=security.api_key_header,
            failures=limiter,
        ),
        # After authentication: counts per Principal.
        *([Middleware(RateLimitMiddleware, limiter=limiter)] if limiter is not None else []),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
