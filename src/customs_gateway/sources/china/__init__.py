"""The China (GACC) source: signed JSON over HTTP, mapped into the unified domain model.

Wiring (in the app's lifespan)::

    settings = ChinaSourceSettings(base_url=..., app_id=..., app_secret=...)
    http = build_http_client(settings)            # close it on shutdown
    source = ChinaSourceImpl(settings, ChinaClient(settings, http))
"""

from __future__ import annotations

from .client import ChinaClient, NotFoundCode
from .settings import ChinaSourceSettings, build_http_client
from .source import ChinaSourceImpl

__all__ = ["ChinaClient", "ChinaSourceImpl", "ChinaSourceSettings", "NotFoundCode", "build_http_client"]
