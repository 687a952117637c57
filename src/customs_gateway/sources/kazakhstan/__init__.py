"""The Kazakhstan (KGD) source: XML over HTTP with OAuth2 client credentials.

Wiring (the app factory owns the one ``httpx.AsyncClient`` for this upstream)::

    settings = KazakhstanSourceSettings(base_url=…, client_id=…, client_secret=…)
    http = create_http_client(settings)              # close it in the app's lifespan
    source = build_kazakhstan_source(settings, http)  # a KazakhstanSource

Module map: ``settings`` (typed config), ``oauth`` (tokens), ``client`` (the wire boundary:
httpx and HTTP statuses → gateway errors), ``xml`` (hardened parsing), ``payloads`` (typed
field reading), ``mapping`` (pure XML → domain), ``source`` (batching, paging).
"""

from __future__ import annotations

import httpx

from .client import KazakhstanClient, create_http_client
from .oauth import TokenProvider
from .settings import KazakhstanSourceSettings
from .source import KazakhstanSourceImpl

__all__ = [
    "KazakhstanClient",
    "KazakhstanSourceImpl",
    "KazakhstanSourceSettings",
    "TokenProvider",
    "build_kazakhstan_source",
    "create_http_client",
]


def build_kazakhstan_source(
    settings: KazakhstanSourceSettings, http: httpx.AsyncClient
) -> KazakhstanSourceImpl:
    """The source with its token provider and client, all sharing ``http``."""
    tokens = TokenProvider(settings, http)
    return KazakhstanSourceImpl(settings, KazakhstanClient(settings, http, tokens))
