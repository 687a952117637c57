"""The simulated Kazakh customs (KGD-style: ASTANA-1 / Keden) API: OAuth2 and XML over HTTP.

Build a database with :class:`KazakhstanStoreWriter`, serve it with :func:`create_kazakhstan_app`.
The wire contract is ``docs/wire-kazakhstan.md``; the schema of every document is :func:`kgd_xsd`.
"""

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
