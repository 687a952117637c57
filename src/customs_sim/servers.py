"""Assemble each simulated authority as a served ASGI app: its API wrapped in the admin surface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .admin import AdminMiddleware, AdminState, Faults
from .china.app import ChinaSimSettings, create_china_app
from .kazakhstan.app import create_kazakhstan_app
from .kazakhstan.settings import KazakhstanSimSettings

__all__ = [
    "DEFAULT_ADMIN_TOKEN",
    "DEFAULT_CHINA_APP_ID",
    "DEFAULT_CHINA_SECRET",
    "DEFAULT_KAZAKHSTAN_CLIENT_ID",
    "DEFAULT_KAZAKHSTAN_SECRET",
    "SimApp",
    "SimOptions",
    "china_sim",
    "kazakhstan_sim",
]

# Demo and test credentials only; a real deployment never runs the simulators.
DEFAULT_CHINA_APP_ID = "customs-gateway"
DEFAULT_CHINA_SECRET = "cn-demo-secret"  # noqa: S105
DEFAULT_KAZAKHSTAN_CLIENT_ID = "customs-gateway"
DEFAULT_KAZAKHSTAN_SECRET = "kz-demo-secret"  # noqa: S105
DEFAULT_ADMIN_TOKEN = "sim-admin"  # noqa: S105


@dataclass(frozen=True, slots=True)
class SimOptions:
    """How a simulator behaves on the network: default latency and the admin token."""

    admin_token: str = field(default=DEFAULT_ADMIN_TOKEN, repr=False)
    latency_ms: float = 0.0
    jitter_ms: float = 0.0

    def default_faults(self) -> Faults:
        return Faults(latency_ms=self.latency_ms, jitter_ms=self.jitter_ms)


@dataclass(frozen=True, slots=True)
class SimApp:
    app: Any  # the ASGI callable to serve
    admin: AdminState  # in-process access to the counters and faults


def china_sim(settings: ChinaSimSettings, options: SimOptions | None = None) -> SimApp:
    options = options or SimOptions()
    api = create_china_app(settings)
    state = AdminState(token=options.admin_token, default_faults=options.default_faults())
    return SimApp(AdminMiddleware(api, state, api.routes), state)


def kazakhstan_sim(settings: KazakhstanSimSettings, options: SimOptions | None = None) -> SimApp:
    options = options or SimOptions()
    api = create_kazakhstan_app(settings)
    state = AdminState(token=options.admin_token, default_faults=options.default_faults())
    return SimApp(AdminMiddleware(api, state, api.routes), state)
