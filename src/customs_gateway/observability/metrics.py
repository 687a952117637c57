"""Prometheus metrics of one gateway app, in that app's own ``CollectorRegistry``.

No global registry: a process may hold several apps (tests, benchmarks), and a metric registered
twice in the global one is an error. :class:`GatewayMetrics` owns every series; the guards report
to it (it is a :class:`~customs_gateway.resilience.CallObserver`), the cache through
:class:`CacheMetrics`, the GraphQL layer through :meth:`GatewayMetrics.graphql_operation`.

Series (prefix ``customs_gateway_``)::

    upstream_requests_total{authority,endpoint,outcome}            one per attempt, fast-fails included
    upstream_request_duration_seconds{authority,endpoint,outcome}  histogram of the same
    upstream_retries_total{authority,endpoint}                     attempts after the first
    upstream_circuit_state{authority,state}                        1 for the current state, 0 otherwise
    cache_hits_total / cache_misses_total / cache_stale_serves_total{resource}
    cache_evictions_total{resource}                                live entries dropped to stay within the bound
    cache_backend_errors_total{operation}                          get | set | delete: went on without the cache
    graphql_operations_total{operation,outcome}                    outcome: ok | error
    graphql_operation_duration_seconds{operation}
    graphql_errors_total{operation,code}                           one per error, by extensions.code

Label values that come from outside (a client picks its operation name) are sanitised and their
number is capped (the excess becomes ``other``): an unbounded label is a memory leak in every
Prometheus that scrapes us.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response

from ..domain import Authority
from ..resilience import CircuitState, Outcome

__all__ = ["OTHER", "CacheMetrics", "GatewayMetrics", "LabelLimiter", "metrics_endpoint", "operation_label"]

_PREFIX = "customs_gateway"
_UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
_OPERATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OTHER = "other"


class LabelLimiter:
    """Keeps a label's distinct values under ``limit``; new values past it read as ``other``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit:
            return OTHER
        self._seen.add(value)
        return value


class CacheMetrics:
    """What the cache reports: ``metrics.cache.hit("manifest")``, ``miss(resource, n)``, ``stale(…)``,
    ``evicted(resource, n)``, ``backend_error(operation)`` (the whole
    :class:`~customs_gateway.cache.CacheObserver` protocol, so the cache reports here directly).

    ``resource`` is the cached entity kind (``manifest``, ``inspection``, ``rate``, ``list``), never
    a key. ``n`` lets a multi-get report its hits and misses in one call each.
    """

    def __init__(self, registry: CollectorRegistry, resource_limit: int) -> None:
        labels = ("resource",)
        self._hits = Counter(f"{_PREFIX}_cache_hits", "Lookups answered from the cache", labels, registry=registry)
        self._misses = Counter(f"{_PREFIX}_cache_misses", "Lookups that went upstream", labels, registry=registry)
        self._stale = Counter(
            f"{_PREFIX}_cache_stale_serves",
            "Expired entries served because the upstream failed or was slow (stale-if-error/-while-revalidate)",
            labels,
            registry=registry,
        )
        self._evictions = Counter(
            f"{_PREFIX}_cache_evictions",
            "Live entries dropped to keep the in-memory cache within its bound",
            labels,
            registry=registry,
        )
        self._backend_errors = Counter(
            f"{_PREFIX}_cache_backend_errors",
            "Cache backend operations that failed (the lookup went on without the cache)",
            ("operation",),
            registry=registry,
        )
        self._resource = LabelLimiter(resource_limit)
        self._operation = LabelLimiter(8)

    def hit(self, resource: str, n: int = 1) -> None:
        self._hits.labels(self._resource(resource)).inc(n)

    def miss(self, resource: str, n: int = 1) -> None:
        self._misses.labels(self._resource(resource)).inc(n)

    def stale(self, resource: str, n: int = 1) -> None:
        self._stale.labels(self._resource(resource)).inc(n)

    def evicted(self, resource: str, n: int = 1) -> None:
        self._evictions.labels(self._resource(resource)).inc(n)

    def backend_error(self, operation: str) -> None:
        self._backend_errors.labels(self._operation(operation)).inc()


class GatewayMetrics:
    """Every series of one app. Create one per app; pass ``registry`` only to share one on purpose."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        operation_limit: int = 200,
        endpoint_limit: int = 200,
        resource_limit: int = 50,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        reg = self.registry
        upstream = ("authority", "endpoint", "outcome")
        self._requests = Counter(
            f"{_PREFIX}_upstream_requests", "Attempts at an upstream call, by outcome", upstream, registry=reg
        )
        self._latency = Histogram(
            f"{_PREFIX}_upstream_request_duration_seconds",
            "Duration of one attempt at an upstream call (queueing for a slot included)",
            upstream,
            buckets=_UPSTREAM_BUCKETS,
            registry=reg,
        )
        self._retries = Counter(
            f"{_PREFIX}_upstream_retries", "Attempts after the first", ("authority", "endpoint"), registry=reg
        )
        self._circuit = Gauge(
            f"{_PREFIX}_upstream_circuit_state",
            "1 for the circuit's current state",
            ("authority", "state"),
            registry=reg,
        )
        self._operations = Counter(
            f"{_PREFIX}_graphql_operations", "GraphQL operations", ("operation", "outcome"), registry=reg
        )
        self._operation_latency = Histogram(
            f"{_PREFIX}_graphql_operation_duration_seconds",
            "Duration of one GraphQL operation",
            ("operation",),
            buckets=_OPERATION_BUCKETS,
            registry=reg,
        )
        self._errors = Counter(
            f"{_PREFIX}_graphql_errors", "Errors in GraphQL responses, by code", ("operation", "code"), registry=reg
        )
        self.cache = CacheMetrics(reg, resource_limit)
        self._operation = LabelLimiter(operation_limit)
        self._endpoint = LabelLimiter(endpoint_limit)
        self._code = LabelLimiter(50)

    def upstream_attempt(
        self, authority: Authority, endpoint: str, outcome: Outcome, duration_s: float, attempt: int
    ) -> None:
        endpoint = self._endpoint(endpoint)
        self._requests.labels(authority.value, endpoint, outcome.value).inc()
        self._latency.labels(authority.value, endpoint, outcome.value).observe(duration_s)
        if attempt > 1:
            self._retries.labels(authority.value, endpoint).inc()

    def circuit_state(self, authority: Authority, state: CircuitState) -> None:
        for candidate in CircuitState:
            self._circuit.labels(authority.value, candidate.value).set(1 if candidate is state else 0)

    def graphql_operation(self, operation: str | None, duration_s: float, error_codes: Iterable[str] = ()) -> None:
        """One finished operation; ``error_codes`` are its errors' ``extensions.code`` values."""
        name = self._operation(operation_label(operation))
        codes = list(error_codes)
        self._operations.labels(name, "error" if codes else "ok").inc()
        self._operation_latency.labels(name).observe(duration_s)
        for code in codes:
            self._errors.labels(name, self._code(code)).inc()


def operation_label(operation: str | None) -> str:
    """A GraphQL operation name as a label value: ``anonymous``, the name, or ``invalid``."""
    if not operation:
        return "anonymous"
    return operation if _NAME.fullmatch(operation) else "invalid"


def metrics_endpoint(metrics: GatewayMetrics) -> Callable[[Request], Awaitable[Response]]:
    """``Route("/metrics", metrics_endpoint(metrics))``: text exposition, OpenMetrics on request."""

    async def endpoint(request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(metrics.registry), headers={"content-type": content_type})

    return endpoint
