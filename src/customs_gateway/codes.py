"""Goods and container codes that must join across the two authorities.

China declares 10-digit tariff codes (13 with the inspection-quarantine suffix), Kazakhstan
10-digit EAEU ТН ВЭД codes; they agree only on the first six digits, the international HS, so
HS-6 is the only safe join key. Container numbers are ISO 6346 and carry their own check digit,
which lets the gateway tell a typo from a different container.
"""

from __future__ import annotations

import re

__all__ = [
    "TARIFF_CODE_LENGTHS",
    "container_check_digit",
    "hs6",
    "hs_chapter",
    "is_valid_container",
]

#: HS-6 itself, 8-digit national codes, 10-digit CN / EAEU codes, CN 10 + 3 inspection digits.
TARIFF_CODE_LENGTHS = frozenset({6, 8, 10, 13})

_DIGITS = re.compile(r"[0-9]+")
_CONTAINER = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
# ISO 6346 letter values: A = 10 onward, skipping multiples of 11 (11, 22, 33).
_LETTER_VALUES = {
    letter: value
    for letter, value in zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (v for v in range(10, 39) if v % 11 != 0),
        strict=False,
    )
}


def hs6(code: str) -> str:
    """The HS-6 subheading of a 6/8/10/13-digit tariff code (``"8703800090"`` → ``"870380"``).

    Raises:
        ValueError: not 6, 8, 10 or 13 ASCII digits, or chapter ``00``.
    """
    return _tariff_code(code)[:6]


def hs_chapter(code: str) -> str:
    """The HS chapter (first two digits) of a 6/8/10/13-digit tariff code.

    Raises:
        ValueError: as :func:`hs6`.
    """
    return _tariff_code(code)[:2]


def is_valid_container(number: str) -> bool:
    """Whether ``number`` is an ISO 6346 container number whose check digit is right.

    Strict form only: 3-letter owner code, category ``U``/``J``/``Z``, 6-digit serial, check digit,
    upper case, no spaces (``CSQU3054383``); normalising a typed number is the caller's business.
    A remainder of 10 gives check digit 0, as the standard says.
    """
    if _CONTAINER.fullmatch(number) is None:
        return False
    return container_check_digit(number[:10]) == int(number[10])


def container_check_digit(prefix: str) -> int:
    """The ISO 6346 check digit of the first 10 characters (owner, category, serial).

    Raises:
        ValueError: ``prefix`` is not 4 upper-case letters and 6 digits.
    """
    if re.fullmatch(r"[A-Z]{4}[0-9]{6}", prefix) is None:
        raise ValueError(f"not an ISO 6346 owner code, category and serial: {prefix!r}")
    total = sum(
        (_LETTER_VALUES[ch] if ch.isalpha() else int(ch)) << position for position, ch in enumerate(prefix)
    )
    return total % 11 % 10


def _tariff_code(code: str) -> str:
    if _DIGITS.fullmatch(code) is None or len(code) not in TARIFF_CODE_LENGTHS:
        raise ValueError(f"not a 6, 8, 10 or 13 digit tariff code: {code!r}")
    if code.startswith("00"):
        raise ValueError(f"tariff code {code!r} has no HS chapter 00")
    return code
