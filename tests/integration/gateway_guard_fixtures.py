"""A real gateway on loopback with chosen security settings, for requests that never need an upstream
(refusals, crossing points, introspection): its authorities' URLs point at a closed port, so a
request that did reach one would fail loudly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from customs_gateway.app import create_app
from customs_gateway.config import GatewaySettings, load_settings
from customs_sim.serving import serve_in_thread

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gateway.toml"
NOWHERE = "http://127.0.0.1:9"  # discard port: nothing listens


def guard_settings(**security: Any) -> GatewaySettings:
    return load_settings(
        CONFIG,
        china={"base_url": NOWHERE, "app_secret": "guard-cn-secret"},
        kazakhstan={"base_url": NOWHERE, "client_secret": "guard-kz-secret"},
        security={"anonymous_role": "demo", **security},
    )


@contextlib.contextmanager
def guarded_gateway(**security: Any) -> Iterator[httpx.Client]:
    """A client of a gateway served with ``security`` overrides (merged over config/gateway.toml)."""
    with (
        serve_in_thread(create_app(guard_settings(**security))) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        yield client
