"""The simulated Kazakh customs (KGD-style: ASTANA-1 / Keden) API: OAuth2 and XML over HTTP.

Build a database with :class:`KazakhstanStoreWriter`, serve it with :func:`create_kazakhstan_app`.
The wire contract is ``docs/wire-kazakhstan.md``; the schema of every document is :func:`kgd_xsd`.

The names are imported on first use (PEP 562): a dataset build imports the store and its renderer
only, not the app and its web stack (see ``customs_sim.china``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from customs_sim.kazakhstan.app import create_kazakhstan_app
    from customs_sim.kazakhstan.documents import NAMESPACE
    from customs_sim.kazakhstan.schema import kgd_xsd
    from customs_sim.kazakhstan.settings import KazakhstanSimSettings
    from customs_sim.kazakhstan.store import KazakhstanStore, KazakhstanStoreWriter

__all__ = [
    "NAMESPACE",
    "KazakhstanSimSettings",
    "KazakhstanStore",
    "KazakhstanStoreWriter",
    "create_kazakhstan_app",
    "kgd_xsd",
]

_HOMES = {
    "create_kazakhstan_app": "app",
    "NAMESPACE": "documents",
    "kgd_xsd": "schema",
    "KazakhstanSimSettings": "settings",
    "KazakhstanStore": "store",
    "KazakhstanStoreWriter": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
