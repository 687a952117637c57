"""ISO 6346 container numbers: owner code + category + 6-digit serial + check digit.

The generator only ever issues serials whose check digit is a real digit: a weighted sum whose
remainder is 10 would give check digit 0 (the standard allows it but owners avoid such serials,
and a reader cannot tell it from a typo), so :func:`make_number` skips them.
"""

from __future__ import annotations

import random
import re

__all__ = ["OWNER_CODES", "check_digit", "is_valid", "make_number"]

#: Real-looking owner codes with category U (freight container): lessors and carriers seen in
#: Central-Asian rail/road traffic.
OWNER_CODES: tuple[str, ...] = (
    "TGHU",
    "MSKU",
    "CSNU",
    "TCNU",
    "FCIU",
    "CAIU",
    "BMOU",
    "CSQU",
    "TEMU",
    "SEGU",
    "TRHU",
    "GESU",
    "DFSU",
    "CBHU",
    "OOLU",
    "EGHU",
    "TLLU",
    "KZTU",
    "UETU",
    "XINU",
)

_LETTER_VALUES: dict[str, int] = dict(
    zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (v for v in range(10, 39) if v % 11 != 0), strict=False)
)
_NUMBER = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_PREFIX = re.compile(r"[A-Z]{4}[0-9]{6}")


def _remainder(owner_serial: str) -> int:
    if _PREFIX.fullmatch(owner_serial) is None:
        raise ValueError(f"not 4 letters and 6 digits: {owner_serial!r}")
    total = 0
    for position, ch in enumerate(owner_serial):
        value = _LETTER_VALUES[ch] if ch.isalpha() else ord(ch) - 48
        total += value << position
    return total % 11


def check_digit(owner_serial: str) -> int:
    """The check digit of ``owner_serial`` (owner code, category and serial: ``"CSQU305438"`` → 3).

    A remainder of 10 maps to 0, as the standard says.

    Raises:
        ValueError: ``owner_serial`` is not 4 upper-case letters followed by 6 digits.
    """
    return _remainder(owner_serial) % 10


def is_valid(number: str) -> bool:
    """Whether ``number`` is a strict 11-character ISO 6346 number with the right check digit."""
    if _NUMBER.fullmatch(number) is None:
        return False
    return check_digit(number[:10]) == int(number[10])


def make_number(rng: random.Random, owner: str | None = None) -> str:
    """A random valid container number; serials with remainder 10 are redrawn (never issued).

    Computes the weighted sum from a precomputed owner part and the serial's digits instead of
    going through :func:`check_digit`, because the generator calls it for every third truck.
    """
    prefix = owner if owner is not None else OWNER_CODES[int(rng.random() * len(OWNER_CODES))]
    head = _OWNER_SUMS.get(prefix)
    if head is None:
        head = sum(_LETTER_VALUES[ch] << i for i, ch in enumerate(prefix))
    while True:
        serial = int(rng.random() * 1_000_000)
        total, rest = head, serial
        for position in range(9, 3, -1):
            rest, digit = divmod(rest, 10)
            total += digit << position
        remainder = total % 11
        if remainder != 10:
            return f"{prefix}{serial:06d}{remainder}"


_OWNER_SUMS: dict[str, int] = {code: sum(_LETTER_VALUES[ch] << i for i, ch in enumerate(code)) for code in OWNER_CODES}
