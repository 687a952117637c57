"""Who is asking: authentication, roles and field rules, operation limits, rate limits, audit.

:class:`Principal` is the one value the rest of the gateway sees of a client: the authentication
middleware puts it on the request (``request.state.principal``) before anything else runs, and
operation limits, rate limits, field rules, caches keyed by audience and the audit log all read it
from there (or from the GraphQL context).
"""

from .config import ApiKeySettings, JwtSettings, RoleSettings, SecuritySettings
from .principal import ANONYMOUS, Principal, principal_of
from .roles import CUSTOMS_ROLES, Role

__all__ = [
    "ANONYMOUS",
    "CUSTOMS_ROLES",
    "ApiKeySettings",
    "JwtSettings",
    "Principal",
    "Role",
    "RoleSettings",
    "SecuritySettings",
    "principal_of",
]
