"""Registration plates: every spelling either authority or a user writes, down to one join key.

The same Chinese truck is ``新F·12345`` at GACC, ``XINF12345`` (or just ``F12345``) at KGD and
``新Ｆ１２３４５`` when someone pastes it from a full-width form; a Kazakh truck is ``123ABC02``,
``123 ABC 02`` or typed with Cyrillic look-alike letters. :func:`parse_plate` turns each of them
into a :class:`~customs_gateway.domain.PlateId` whose ``canonical`` is equal for all spellings of
one plate, so the linker can join the two authorities' records on it.

Recognised formats (after NFKC, upper-casing, Cyrillic look-alikes → Latin and dropping every
character that is not a letter or digit):

- China: province + prefecture letter + a 5-character serial (``新F12345``, pinyin ``XINF12345``);
  trailers: prefecture letter + 4 characters + ``挂`` (pinyin ``GUA``). A serial has at most two
  letters (the traffic-police rule for ordinary plates), which is also what keeps ``GUA`` from
  being mistaken for the end of an ordinary serial. Without province (``F12345``, as KGD sometimes
  stores it) the plate is Chinese with ``province_known=False`` and its canonical form is the
  province-less ``F12345``: we do not invent a province in the join key, the linker matches it
  against ``XINF12345`` by suffix (:func:`same_vehicle`).
- Kazakhstan (since 2012): ``123ABC02`` (3 digits, 3 letters, region), ``123AB02`` (legal
  entities' 2-letter series), trailers ``1234AB02``.
- Anything else: ``Country.OTHER``, canonical = the normalised letters and digits, region ``None``.
  New-energy Chinese plates (6-character serials) and special series (使, 领, 警, 学) land here.

Province keys. The canonical form writes the province in pinyin, as KGD does (``XIN``). Five
syllables are shared by two provinces (津/晋 JIN, 冀/吉 JI, 甘/赣 GAN, 豫/渝 YU, 桂/贵 GUI). The
province the Kazakh side is known to write keeps the bare syllable (甘 GAN, 豫 YU, 冀 JI; 津 and 桂
by GB/T 2260 order); the other one is written with its ISO 3166-2:CN subdivision code (晋 SX,
吉 JL, 赣 JX, 渝 CQ, 贵 GZ), which no pinyin key spells. :data:`PROVINCES` is therefore a bijection,
and because a canonical Chinese plate's body has a fixed length (6, or 8 for a trailer ending in
``GUA``) its province key is determined by its length: canonical strings parse back unambiguously.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from .domain import Authority, Country, PlateId
from .errors import InvalidInput
from .slots import slot_setter

__all__ = [
    "MAX_USER_PLATE_LENGTH",
    "PROVINCES",
    "PROVINCE_BY_KEY",
    "TRAILER_KEY",
    "TRAILER_MARK",
    "normalize_plate_text",
    "parse_plate",
    "parse_user_plate",
    "plate_search_keys",
    "same_vehicle",
]

#: Province character → canonical Latin key (see the module docstring for the collision rule).
PROVINCES: Mapping[str, str] = MappingProxyType(
    {
        "京": "JING",  # Beijing
        "津": "JIN",  # Tianjin
        "冀": "JI",  # Hebei
        "晋": "SX",  # Shanxi (JIN is Tianjin's)
        "蒙": "MENG",  # Inner Mongolia
        "辽": "LIAO",  # Liaoning
        "吉": "JL",  # Jilin (JI is Hebei's)
        "黑": "HEI",  # Heilongjiang
        "沪": "HU",  # Shanghai
        "苏": "SU",  # Jiangsu
        "浙": "ZHE",  # Zhejiang
        "皖": "WAN",  # Anhui
        "闽": "MIN",  # Fujian
        "赣": "JX",  # Jiangxi (GAN is Gansu's)
        "鲁": "LU",  # Shandong
        "豫": "YU",  # Henan
        "鄂": "E",  # Hubei
        "湘": "XIANG",  # Hunan
        "粤": "YUE",  # Guangdong
        "桂": "GUI",  # Guangxi
        "琼": "QIONG",  # Hainan
        "渝": "CQ",  # Chongqing (YU is Henan's)
        "川": "CHUAN",  # Sichuan
        "贵": "GZ",  # Guizhou (GUI is Guangxi's)
        "云": "YUN",  # Yunnan
        "藏": "ZANG",  # Tibet
        "陕": "SHAAN",  # Shaanxi (the customary double A keeps it apart from Shanxi)
        "甘": "GAN",  # Gansu
        "青": "QING",  # Qinghai
        "宁": "NING",  # Ningxia
        "新": "XIN",  # Xinjiang
    }
)

#: Canonical Latin key → province character: the inverse of :data:`PROVINCES`.
PROVINCE_BY_KEY: Mapping[str, str] = MappingProxyType({key: char for char, key in PROVINCES.items()})

# Enum members as constants: compiled, a Final name is a C constant, ``Country.CN`` a lookup on the
# class (~0.9 K instructions) at every use.
_COUNTRY_CN: Final = Country.CN
_COUNTRY_KZ: Final = Country.KZ
_COUNTRY_OTHER: Final = Country.OTHER

TRAILER_MARK: Final = "挂"  # how China marks a trailer plate
TRAILER_KEY: Final = "GUA"  # the same mark in pinyin, as KGD writes it

#: Longer user input is not a plate; checked before any normalisation work is done.
MAX_USER_PLATE_LENGTH = 32

# Cyrillic capitals that look like Latin ones: a Kazakh plate typed on a Russian keyboard.
_CYRILLIC_LOOKALIKES: Final = str.maketrans("АВЕКМНОРСТХУІ", "ABEKMHOPCTXYI")

# Serial of an ordinary plate: 5 characters, at most two letters; trailer serial: 4 characters.
_SERIAL = r"(?=(?:[A-Z]*[0-9]){3})[A-Z0-9]{5}"
_TRAILER_SERIAL = r"(?=(?:[A-Z]*[0-9]){2})[A-Z0-9]{4}"
_CN_BODY: Final = re.compile(
    rf"(?P<pref>[A-Z])(?:(?P<serial>{_SERIAL})|(?P<tserial>{_TRAILER_SERIAL})(?:{TRAILER_KEY}|{TRAILER_MARK}))"
)
_KZ: Final = re.compile(
    r"(?:(?P<num>[0-9]{3})(?P<series>[A-Z]{2,3})|(?P<tnum>[0-9]{4})(?P<tseries>[A-Z]{2}))(?P<region>[0-9]{2})"
)


def normalize_plate_text(text: str) -> str:
    """The letters and digits of ``text``, NFKC-folded, upper case, Cyrillic look-alikes in Latin.

    NFKC turns full-width ``Ｆ１２`` into ``F12``; dropping everything else removes ``·``, spaces and
    hyphens however they were typed. Chinese characters survive (they are letters to Unicode).
    """
    return _fold(text, latin=True)


@lru_cache(maxsize=65536)  # pure, and the result is immutable: a truck's plate recurs in every record of it
def parse_plate(text: str) -> PlateId:
    """Understand a plate as an authority wrote it. Never raises: upstream text is what it is.

    Text that matches no known format gives ``Country.OTHER`` with the normalised letters and
    digits as ``canonical`` (so two spellings of the same foreign plate still join).
    """
    return _common_plate(text) or _parse_generally(text)


def parse_user_plate(text: str) -> PlateId:
    """Like :func:`parse_plate`, for a plate typed by a client: refuse what cannot be a plate.

    Foreign plates (Kyrgyz, Russian, … trucks cross too) are accepted when they look like a plate:
    4–12 Latin letters and digits with at least one of each.

    Raises:
        InvalidInput: empty, longer than :data:`MAX_USER_PLATE_LENGTH`, or unrecognisable.
    """
    if len(text) > MAX_USER_PLATE_LENGTH:
        raise InvalidInput(f"plate is too long ({len(text)} characters, at most {MAX_USER_PLATE_LENGTH})")
    if not text.strip():
        raise InvalidInput("plate is empty")
    plate = parse_plate(text)
    if plate.country is _COUNTRY_OTHER and not _looks_like_foreign_plate(plate.canonical):
        raise InvalidInput(
            f"not a recognisable plate: {text.strip()!r} (expected e.g. 新F12345, XINF12345 or 123ABC02)"
        )
    return plate


def plate_search_keys(plate: PlateId) -> dict[str, list[str]]:
    """The spellings to query each authority with, keyed by authority (``"GACC"``, ``"KGD"``).

    GACC stores Chinese plates natively (``新F12345``); KGD stores them in pinyin, sometimes
    without the province, so it is asked for both ``XINF12345`` and ``F12345``. A province-less
    plate cannot be looked up exactly at GACC: we send the Xinjiang guess (``新F12345``), because
    the trucks at these border posts are overwhelmingly registered in Xinjiang; a truck from
    another province is then found only through KGD. Kazakh and other plates are asked for in
    their canonical form on both sides.
    """
    gacc, kgd = Authority.GACC.value, Authority.KGD.value
    if plate.country is not _COUNTRY_CN:
        return {gacc: [plate.canonical], kgd: [plate.canonical]}
    if plate.province_known:
        suffix = plate.canonical[len(PROVINCES[plate.native[0]]) :]
        return {gacc: [plate.native], kgd: [plate.canonical, suffix]}
    guess = "新"
    return {gacc: [guess + plate.native], kgd: [PROVINCES[guess] + plate.canonical, plate.canonical]}


def same_vehicle(a: PlateId, b: PlateId) -> bool:
    """Whether two plates name the same vehicle as far as their spellings can tell.

    Equal canonical forms, or one Chinese plate without province whose canonical form is the
    other's after its province key (``F12345`` and ``XINF12345``). Two province-less plates are
    the same only when equal: that is the best the data allows.
    """
    if a.canonical == b.canonical:
        return True
    return _province_suffix_match(a, b) or _province_suffix_match(b, a)


def _province_suffix_match(short: PlateId, full: PlateId) -> bool:
    if short.country is not _COUNTRY_CN or full.country is not _COUNTRY_CN:
        return False
    if short.province_known or not full.province_known:
        return False
    key = full.canonical[: len(full.canonical) - len(short.canonical)]
    return full.canonical.endswith(short.canonical) and key in PROVINCE_BY_KEY


# Compiled, these are C constants (an imported name is a module-dictionary lookup at each use).
_new_object: Final = object.__new__
_PlateId: Final = PlateId
_SET_CANONICAL: Final = slot_setter(PlateId, "canonical")
_SET_NATIVE: Final = slot_setter(PlateId, "native")
_SET_LATIN: Final = slot_setter(PlateId, "latin")
_SET_COUNTRY: Final = slot_setter(PlateId, "country")
_SET_REGION: Final = slot_setter(PlateId, "region")
_SET_TRAILER: Final = slot_setter(PlateId, "trailer")
_SET_PROVINCE_KNOWN: Final = slot_setter(PlateId, "province_known")


def _plate_id(
    *,
    canonical: str,
    native: str,
    latin: str,
    country: Country,
    region: str | None,
    trailer: bool,
    province_known: bool,
) -> PlateId:
    """``PlateId(...)`` with the same fields, without running its generated ``__init__``.

    ``PlateId`` is a frozen dataclass of :mod:`domain` (not compiled): its ``__init__`` is
    interpreted and sets each field through ``object.__setattr__``, ~2 us a plate, a third of a
    cold ``parse_plate`` (a cold report parses tens of thousands of distinct plates). Setting the
    same slots through their descriptors, where that ``__init__``'s ``object.__setattr__`` ends up,
    is what it does (it has no defaults, factories or ``__post_init__``: ``tests/unit/test_plates.py``
    checks the field list and compares the two ways on every plate form)."""
    plate: PlateId = _new_object(_PlateId)
    _SET_CANONICAL(plate, canonical)
    _SET_NATIVE(plate, native)
    _SET_LATIN(plate, latin)
    _SET_COUNTRY(plate, country)
    _SET_REGION(plate, region)
    _SET_TRAILER(plate, trailer)
    _SET_PROVINCE_KNOWN(plate, province_known)
    return plate


# The province tables as plain dictionaries: compiled, a lookup in one is a C call, in a mapping
# proxy a generic one.
_PROVINCE_KEYS: Final[dict[str, str]] = dict(PROVINCES)
_PROVINCE_CHARS: Final[dict[str, str]] = dict(PROVINCE_BY_KEY)
_CAPITALS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _common_plate(text: str) -> PlateId | None:
    """The forms almost every record carries, read off ``text`` directly; None for any other.

    A Chinese ordinary plate with an all-digit serial (``新F12345``, ``XINF12345``, ``F12345``)
    and a Kazakh ``123ABC02``. Such text is already folded (:func:`_stable`: ASCII capitals and
    digits after at most a province character), so :func:`normalize_plate_text` would return it as
    it is, and the general parse would match it with the body of 6 it tries first (a Chinese
    plate) or with the 3-letter series (a Kazakh one): the same fields as here, without the fold
    check, the regular expression and its groups (tests compare both ways on the simulators'
    spellings and on random text around these forms). About three records in four carry one.
    """
    serial = text[-5:]
    if serial.isdigit() and serial.isascii() and len(text) >= 6:
        prefecture = text[-6]
        if prefecture not in _CAPITALS:
            return None
        head = text[:-6]
        rest = text[-6:]
        if head == "":
            return _plate_id(
                canonical=rest,
                native=rest,
                latin=rest,
                country=_COUNTRY_CN,
                region=None,
                trailer=False,
                province_known=False,
            )
        key = _PROVINCE_KEYS.get(head)
        if key is not None:
            province, latin = head, key + rest
        else:
            found = _PROVINCE_CHARS.get(head)
            if found is None:
                return None
            province, latin = found, text
        return _plate_id(
            canonical=latin,
            native=province + rest,
            latin=latin,
            country=_COUNTRY_CN,
            region=province + prefecture,
            trailer=False,
            province_known=True,
        )
    if len(text) != 8 or not text.isascii():
        return None
    number, series, region = text[:3], text[3:6], text[6:]
    if not (number.isdigit() and series.isalpha() and series.isupper() and region.isdigit()):
        return None
    return _plate_id(
        canonical=text,
        native=text,
        latin=text,
        country=_COUNTRY_KZ,
        region=region,
        trailer=False,
        province_known=True,
    )


def _parse_generally(text: str) -> PlateId:
    """:func:`parse_plate` of any text: normalized, then matched against each known format."""
    norm = normalize_plate_text(text)
    # A Kazakh plate starts with a digit, a Chinese one never does (province or prefecture
    # letter first): only one of the two can match, so try only that one.
    found = _parse_kazakh(norm) if norm[:1].isdigit() else _parse_chinese(norm)
    return found or _other(text, norm)


def _parse_chinese(norm: str) -> PlateId | None:
    # The body (prefecture letter + serial [+ trailer mark]) has a fixed length, so the province
    # is whatever precedes it: a province character, a pinyin key, or nothing.
    for body_length in (6, 8):
        if len(norm) < body_length:
            continue
        head, body = norm[: len(norm) - body_length], norm[len(norm) - body_length :]
        match = _CN_BODY.fullmatch(body)
        if match is None:
            continue
        if head in PROVINCES:
            province: str | None = head
        elif head in PROVINCE_BY_KEY:
            province = PROVINCE_BY_KEY[head]
        elif head == "":
            province = None
        else:
            continue
        return _chinese_plate(province, match)
    return None


def _chinese_plate(province: str | None, match: re.Match[str]) -> PlateId:
    prefecture = match["pref"]
    trailer = match["tserial"] is not None
    serial = match["tserial"] if trailer else match["serial"]
    rest_native = prefecture + serial + (TRAILER_MARK if trailer else "")
    rest_latin = prefecture + serial + (TRAILER_KEY if trailer else "")
    if province is None:
        return _plate_id(
            canonical=rest_latin,
            native=rest_native,
            latin=rest_latin,
            country=_COUNTRY_CN,
            region=None,
            trailer=trailer,
            province_known=False,
        )
    latin = PROVINCES[province] + rest_latin
    return _plate_id(
        canonical=latin,
        native=province + rest_native,
        latin=latin,
        country=_COUNTRY_CN,
        region=province + prefecture,
        trailer=trailer,
        province_known=True,
    )


def _parse_kazakh(norm: str) -> PlateId | None:
    match = _KZ.fullmatch(norm)
    if match is None:
        return None
    return _plate_id(
        canonical=norm,
        native=norm,
        latin=norm,
        country=_COUNTRY_KZ,
        region=match["region"],
        trailer=match["tnum"] is not None,
        province_known=True,
    )


def _other(text: str, norm: str) -> PlateId:
    # native keeps the letters as written (a Cyrillic Russian plate stays Cyrillic there);
    # canonical uses the Latin look-alikes so both spellings still join.
    native = _fold(text, latin=False)
    return _plate_id(
        canonical=norm,
        native=native,
        latin=norm,
        country=_COUNTRY_OTHER,
        region=None,
        trailer=False,
        province_known=False,
    )


def _stable(text: str) -> bool:
    """Whether ``_fold`` returns ``text`` as it is: ASCII upper-case letters and digits, after
    at most a province character and before at most the trailer mark (CJK unified ideographs,
    which NFKC, upper-casing and the look-alike table leave alone). How both authorities write
    almost every plate, and cheaper to see than to fold."""
    rest = text[1:] if text[:1] in PROVINCES else text
    if rest.endswith(TRAILER_MARK):
        rest = rest[:-1]
    return rest.isascii() and rest.isalnum() and rest.upper() == rest


def _fold(text: str, *, latin: bool) -> str:
    return text if _stable(text) else _fold_slowly(text, latin=latin)


def _fold_slowly(text: str, *, latin: bool) -> str:
    # Repeated until stable: dropping a separator can bring together characters that NFKC then
    # composes (Hangul jamo, for one), and the canonical form must be a fixed point so that
    # parsing a canonical string gives it back.
    current = text
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", current).upper())
        if latin:
            folded = folded.translate(_CYRILLIC_LOOKALIKES)
        folded = "".join(ch for ch in folded if ch.isalnum())
        if folded == current:
            break
        current = folded
    return current


def _looks_like_foreign_plate(canonical: str) -> bool:
    return (
        4 <= len(canonical) <= 12
        and canonical.isascii()
        and any(ch.isdigit() for ch in canonical)
        and any(ch.isalpha() for ch in canonical)
    )
