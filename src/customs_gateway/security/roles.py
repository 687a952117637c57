"""The roles a client can have. The set is fixed in code because the field rules name them; what
each role may spend (cost budget, rate) is configuration (``[security.roles.<name>]``)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CUSTOMS_ROLES", "Role"]


class Role(StrEnum):
    """Who a client is, as far as the field rules care."""

    CHINA_CUSTOMS = "china_customs"  # GACC: everything, its own internal notes
    KAZAKHSTAN_CUSTOMS = "kazakhstan_customs"  # KGD: everything, its own internal notes
    PARTNER_AGENCY = "partner_agency"  # another agency: no personal data, no internal notes
    CARRIER = "carrier"  # a transport company: only its own trips
    ANALYST = "analyst"  # reports: aggregates and non-personal fields
    DEMO = "demo"  # the demo's anonymous read-only role: like a partner agency


#: The two authorities' own roles: the only ones that see drivers' personal data.
CUSTOMS_ROLES = frozenset({Role.CHINA_CUSTOMS, Role.KAZAKHSTAN_CUSTOMS})
