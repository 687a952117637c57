"""Operations: Prometheus metrics, JSON logs with a request id, and the health endpoints.

Nothing here runs at import time and nothing is global: each app creates its own
:class:`GatewayMetrics` (own registry), mounts the endpoint factories, and calls
:func:`configure_logging` once at startup.
"""

from .background import BackgroundHandler, write_inline
from .health import StatusSource, healthz_endpoint, readiness, readyz_endpoint
from .logging import REDACTED, JsonFormatter, RedactingFilter, configure_logging, redact, redact_text
from .metrics import CacheMetrics, GatewayMetrics, metrics_endpoint
from .operations import OperationRecord, observe_operation
from .request_id import (
    REQUEST_ID_HEADER,
    RequestIdMiddleware,
    bind_request_id,
    current_request_id,
    upstream_headers,
    upstream_request_id,
)

__all__ = [
    "REDACTED",
    "REQUEST_ID_HEADER",
    "BackgroundHandler",
    "CacheMetrics",
    "GatewayMetrics",
    "JsonFormatter",
    "OperationRecord",
    "RedactingFilter",
    "RequestIdMiddleware",
    "StatusSource",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "healthz_endpoint",
    "metrics_endpoint",
    "observe_operation",
    "readiness",
    "readyz_endpoint",
    "redact",
    "redact_text",
    "upstream_headers",
    "upstream_request_id",
    "write_inline",
]
