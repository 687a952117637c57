"""Who is asking: authentication, roles and field rules, operation limits, rate limits, audit.

:class:`Principal` is the one value the rest of the gateway sees of a client: the authentication
middleware puts it on the request (``request.state.principal``) before anything else runs, and
operation limits, rate limits, field rules, caches keyed by audience and the audit log all read it
from there (or from the GraphQL context).
"""

from .principal import ANONYMOUS, Principal, principal_of

__all__ = ["ANONYMOUS", "Principal", "principal_of"]
