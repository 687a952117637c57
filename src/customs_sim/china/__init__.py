"""The simulated Chinese customs (GACC-style) road-manifest API; see ``docs/wire-china.md``.

Build a database with :class:`ChinaStoreWriter`, serve it with :func:`create_china_app`; sign
requests to it with :func:`sign_headers`.

The names are imported on first use (PEP 562): a dataset build imports the store and its renderer
only, not the app and its web stack (Starlette, pydantic: ~0.2 s in each of the build's process and
its fork server, before the first worker starts).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from customs_sim.china.app import API_PREFIX, DEFAULT_APP_ID, ChinaSimSettings, create_china_app
    from customs_sim.china.signing import sign_headers
    from customs_sim.china.store import ChinaStore, ChinaStoreWriter

__all__ = [
    "API_PREFIX",
    "DEFAULT_APP_ID",
    "ChinaSimSettings",
    "ChinaStore",
    "ChinaStoreWriter",
    "create_china_app",
    "sign_headers",
]

_HOMES = {
    "API_PREFIX": "app",
    "DEFAULT_APP_ID": "app",
    "ChinaSimSettings": "app",
    "create_china_app": "app",
    "sign_headers": "signing",
    "ChinaStore": "store",
    "ChinaStoreWriter": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
