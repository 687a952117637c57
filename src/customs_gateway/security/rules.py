"""The field rules: which roles may see which fields. THE one place they are declared.

The schema layer attaches :data:`FIELD_RULES` to its fields (``schema/access.py``): each ruled
field's description ends with the rule's "Visible to: …" sentence, and the field checks the rule
before its resolver runs. A denied field resolves to null with a ``FORBIDDEN`` error at its path;
the rest of the answer comes back. Keys are ``GraphQLType.graphqlField``.

Carrier scoping (a ``carrier`` client sees only trips of its own carrier id) is not a field
rule but applies to whole trips, wherever one is looked up or listed (``schema/access.py``);
the declared-value rule holds the same condition again at the field, as a second line.

Notes on the data: drivers' personal data (name, passport number, nationality) is on both
authorities' manifest records. Internal notes are on *inspection* records only (GACC
``remark``, KGD ``InspectorNote``): neither authority's manifest / preliminary-information wire
format carries a note (docs/wire-*.md), so there is no record-level note field to rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..domain import Authority
from .principal import Principal
from .roles import CUSTOMS_ROLES, Role

__all__ = [
    "AUTHORITY_ROLE",
    "DECLARED_VALUE",
    "FIELD_RULES",
    "INTERNAL_NOTE",
    "PERSONAL_DATA",
    "FieldRule",
    "Subject",
]

#: The customs role of each authority: the one that may see that authority's internal notes.
AUTHORITY_ROLE: Mapping[Authority, Role] = {Authority.GACC: Role.CHINA_CUSTOMS, Authority.KGD: Role.KAZAKHSTAN_CUSTOMS}


@dataclass(frozen=True, slots=True)
class Subject:
    """What a conditional rule looks at: whose record a value is (``authority``) and which carrier
    moved the trip it belongs to (``carriers``: the carrier ids the records give)."""

    authority: Authority | None = None
    carriers: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FieldRule:
    """``roles`` see the field always; with ``own_carrier`` a carrier sees it on its own trips;
    with ``own_authority`` an authority's customs role sees it on that authority's records."""

    name: str
    roles: frozenset[Role]
    own_carrier: bool = False
    own_authority: bool = False

    def allows(self, principal: Principal, subject: Subject | None = None) -> bool:
        try:
            role = Role(principal.role)
        except ValueError:
            return False  # anonymous without a configured role, or a name we do not know
        if role in self.roles:
            return True
        if self.own_carrier and role is Role.CARRIER and subject is not None:
            return principal.carrier_id is not None and subject.carriers == {principal.carrier_id}
        if self.own_authority and subject is not None and subject.authority is not None:
            return AUTHORITY_ROLE[subject.authority] is role
        return False

    @property
    def needs_subject(self) -> bool:
        return self.own_carrier or self.own_authority

    def visible_to(self) -> str:
        """The sentence the field's description ends with."""
        parts = [role.value for role in Role if role in self.roles]
        if self.own_carrier:
            parts.append("carrier (its own trips only)")
        if self.own_authority:
            parts.append("the recording authority's own role (china_customs on GACC's, kazakhstan_customs on KGD's)")
        return f"Visible to: {', '.join(parts)}."


PERSONAL_DATA = FieldRule("drivers' personal data", roles=CUSTOMS_ROLES)
DECLARED_VALUE = FieldRule(
    "declared values",
    roles=frozenset({*CUSTOMS_ROLES, Role.PARTNER_AGENCY, Role.ANALYST, Role.DEMO}),
    own_carrier=True,
)
INTERNAL_NOTE = FieldRule("an authority's internal notes", roles=frozenset(), own_authority=True)
#: Values and valuation gaps summed over many trips: a carrier cannot be shown them, as a narrow
#: filter (one HS-6, one day) can make a sum the value of another carrier's single trip.
AGGREGATE_VALUE = FieldRule(
    "aggregated declared values and valuation gaps",
    roles=frozenset({*CUSTOMS_ROLES, Role.PARTNER_AGENCY, Role.ANALYST, Role.DEMO}),
)

#: Valuation gaps name trips and carriers; the reports service cuts a carrier's report to its own
#: trips and carrier row (ReportService.valuation_gaps(carrier_id=…)), so a carrier may see what
#: it is given, and nobody else's.
VALUATION_GAPS = FieldRule(
    "valuation gaps (a carrier's report holds only its own trips)",
    roles=frozenset({*CUSTOMS_ROLES, Role.PARTNER_AGENCY, Role.ANALYST, Role.DEMO, Role.CARRIER}),
)

#: Schema field → rule. A new field carrying personal data, a declared value, a valuation gap or
#: an internal note must be added here (a test fails on unruled fields with such names).
FIELD_RULES: Mapping[str, FieldRule] = {
    "Manifest.driver": PERSONAL_DATA,
    "ChinaManifest.driver": PERSONAL_DATA,
    "KazakhstanPreliminaryInformation.driver": PERSONAL_DATA,
    "DeclaredGoods.value": DECLARED_VALUE,
    "DeclaredGoods.valueKzt": DECLARED_VALUE,
    "Totals.value": DECLARED_VALUE,
    "Discrepancy.valueGap": DECLARED_VALUE,
    "KazakhstanPreliminaryInformation.totalValueKzt": DECLARED_VALUE,
    "Inspection.note": INTERNAL_NOTE,
    "SideFlow.valueUsd": AGGREGATE_VALUE,
    "TradeFlow.valueGapUsd": AGGREGATE_VALUE,
    "TradeFlow.kazakhstanToChinaValueRatio": AGGREGATE_VALUE,
    "Query.valuationGaps": VALUATION_GAPS,
    "ValuationTotals.gapUsd": VALUATION_GAPS,
    "Hs6ValuationGap.relativeGap": VALUATION_GAPS,
    "CarrierValuationGap.relativeGap": VALUATION_GAPS,
    "TripValuationGap.gapUsd": VALUATION_GAPS,
    "TripValuationGap.relativeGap": VALUATION_GAPS,
}
