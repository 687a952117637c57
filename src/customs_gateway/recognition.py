"""Mutual recognition of inspection results (joint supervision phase 2). Pure: no I/O.

One authority may accept the other's inspection instead of repeating it: KGD records a control
that names the GACC inspection it recognized (``recognized_inspection_id``). Which recognitions
count is policy, set per crossing phase in configuration (``[[recognition]]``): which side
recognizes, which kinds of the other side's inspection, and within what time of it. A recorded
recognition outside the policy (a crossing not in that phase, a kind not agreed, too late) is
shown as recorded but does not count as recognized.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .domain import Authority, Inspection, InspectionKind

__all__ = [
    "DEFAULT_RULES",
    "RecognitionPolicy",
    "RecognitionRule",
    "recognition_of",
    "recognized_ids",
    "repeated_inspection_avoided",
]


@dataclass(frozen=True, slots=True)
class RecognitionRule:
    """At crossings in ``phase``, ``recognizer`` accepts the other side's inspections of
    ``kinds`` when its recognition starts within ``within`` of that inspection's end."""

    phase: int
    recognizer: Authority
    kinds: frozenset[InspectionKind]
    within: dt.timedelta


#: The pilot at Khorgos: each side accepts the other's X-ray scan within a day.
DEFAULT_RULES: tuple[RecognitionRule, ...] = (
    RecognitionRule(2, Authority.KGD, frozenset({InspectionKind.XRAY_SCAN}), dt.timedelta(hours=24)),
    RecognitionRule(2, Authority.GACC, frozenset({InspectionKind.XRAY_SCAN}), dt.timedelta(hours=24)),
)


class RecognitionPolicy:
    """The configured rules, by crossing phase and recognizing authority."""

    def __init__(self, rules: Iterable[RecognitionRule] = DEFAULT_RULES) -> None:
        by_key: dict[tuple[int, Authority], list[RecognitionRule]] = {}
        for rule in rules:
            by_key.setdefault((rule.phase, rule.recognizer), []).append(rule)
        self._rules: Mapping[tuple[int, Authority], tuple[RecognitionRule, ...]] = MappingProxyType(
            {key: tuple(value) for key, value in by_key.items()}
        )

    def allows(self, phase: int, recognition: Inspection, recognized: Inspection) -> bool:
        """Whether ``recognition`` (by one side) validly accepts ``recognized`` (by the other)."""
        if recognition.authority is recognized.authority:
            return False
        done = recognized.finished_at or recognized.started_at
        for rule in self._rules.get((phase, recognition.authority), ()):
            if recognized.kind in rule.kinds and dt.timedelta(0) <= recognition.started_at - done <= rule.within:
                return True
        return False


def recognition_of(
    inspection: Inspection, others: Sequence[Inspection], phase: int, policy: RecognitionPolicy
) -> Inspection | None:
    """The other side's inspection that recognized ``inspection`` under the policy, if any."""
    for other in others:
        if other.recognized_inspection_id == inspection.id and policy.allows(phase, other, inspection):
            return other
    return None


def recognized_ids(
    own: Iterable[Inspection],
    others: Iterable[Inspection],
    phase: int | Callable[[Inspection], int],
    policy: RecognitionPolicy,
) -> set[str]:
    """Ids of ``own`` inspections the other side recognized under the policy.

    ``phase``: the crossing's phase, or a function giving it for one of ``own`` (a listing over
    several crossings). Indexed by recognized id, so a day's listing is linear.
    """
    by_target: dict[str, list[Inspection]] = {}
    for other in others:
        if other.recognized_inspection_id:
            by_target.setdefault(other.recognized_inspection_id, []).append(other)
    found: set[str] = set()
    for inspection in own:
        candidates = by_target.get(inspection.id)
        if not candidates:
            continue
        at = phase(inspection) if callable(phase) else phase
        if recognition_of(inspection, candidates, at, policy) is not None:
            found.add(inspection.id)
    return found


def repeated_inspection_avoided(
    china: Sequence[Inspection], kazakhstan: Sequence[Inspection], phase: int, policy: RecognitionPolicy
) -> bool:
    """Whether either side accepted the other's inspection instead of repeating it."""
    return bool(recognized_ids(china, kazakhstan, phase, policy) or recognized_ids(kazakhstan, china, phase, policy))
