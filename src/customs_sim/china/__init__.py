"""The simulated Chinese customs (GACC-style) road-manifest API; see ``docs/wire-china.md``.

Build a database with :class:`ChinaStoreWriter`, serve it with :func:`create_china_app`; sign
requests to it with :func:`sign_headers`.
"""

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
