"""The authenticated client of one request, as every layer after authentication sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ANONYMOUS", "Principal", "principal_of"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A client the gateway has identified (or the anonymous one).

    ``client_id``: a stable, non-secret name of the credential (an API key's configured name, a
    JWT's ``sub``), used for rate limits and the audit log; ``role``: one of the roles in the
    configuration (``china_customs``, ``kazakhstan_customs``, ``partner_agency``, ``carrier``,
    ``analyst``, or the demo's read-only role); ``carrier_id``: for the ``carrier`` role, the
    carrier whose trips this client may see, else ``None``; ``method``: how it was identified
    (``api_key``, ``jwt`` or ``anonymous``).
    """

    client_id: str
    role: str
    carrier_id: str | None = None
    method: str = "anonymous"

    @property
    def audience_key(self) -> str:
        """What a cached value that depends on who asks must be keyed by: role and carrier."""
        return f"{self.role}:{self.carrier_id}" if self.carrier_id is not None else self.role


#: The principal of a request nobody authenticated (only served where anonymous access is on).
ANONYMOUS = Principal(client_id="anonymous", role="anonymous")


def principal_of(request: Any) -> Principal:
    """The principal the authentication middleware put on ``request`` (Starlette request or
    WebSocket); :data:`ANONYMOUS` when there is none (no authentication configured)."""
    state = getattr(request, "state", None)
    principal = getattr(state, "principal", None) if state is not None else None
    return principal if isinstance(principal, Principal) else ANONYMOUS
