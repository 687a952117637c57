"""Registration plates in their real formats, and the ways each authority writes them.

Canonical forms (what :class:`~customs_sim.model.Vehicle.plate` holds):

- China: province character + prefecture letter + 5 characters of digits with at most two
  letters, never I or O (``新F12345``, ``新F1A234``); trailers: 4 digits + ``挂`` (``新F1234挂``).
- Kazakhstan (2012 format): 3 digits + 3 Latin letters + 2-digit region (``123ABC02``);
  trailers 4 digits + 2 letters + region (``1234AB02``).

The written variants are drawn per declaration (a declarant types the plate each time), which is
exactly the noise the gateway's plate normaliser has to undo.
"""

from __future__ import annotations

import random

__all__ = [
    "CN_OTHER_PREFIXES",
    "PROVINCE_PINYIN",
    "XINJIANG_PREFIXES",
    "cn_plate",
    "cn_trailer_plate",
    "full_width",
    "kz_plate",
    "kz_trailer_plate",
    "written_by_cn",
    "written_by_kz",
]

#: Province characters the Kazakh side transliterates, as KGD writes them.
PROVINCE_PINYIN: dict[str, str] = {
    "新": "XIN",
    "甘": "GAN",
    "陕": "SHAAN",
    "川": "CHUAN",
    "豫": "YU",
    "冀": "JI",
    "鲁": "LU",
}
#: Xinjiang prefectures: Urumqi, Bortala, Ili, Tacheng, Altay, Changji, Kashgar.
XINJIANG_PREFIXES: tuple[str, ...] = ("新A", "新E", "新F", "新G", "新H", "新B", "新Q")
CN_OTHER_PREFIXES: tuple[str, ...] = ("甘A", "陕A", "川A", "豫A", "冀A", "鲁A")

_SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O are never issued
_KZ_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FULL_WIDTH = {ord(ch): chr(ord(ch) + 0xFEE0) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def cn_plate(rng: random.Random, prefix: str) -> str:
    """``prefix`` (``新F``) + a 5-character serial with 0, 1 or 2 letters (mostly none)."""
    serial = [str(rng.randrange(10)) for _ in range(5)]
    letters = rng.choices((0, 1, 2), weights=(70, 22, 8))[0]
    for position in rng.sample(range(5), letters):
        serial[position] = rng.choice(_SERIAL_LETTERS)
    return prefix + "".join(serial)


def cn_trailer_plate(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.randrange(10_000):04d}挂"


def kz_plate(rng: random.Random, region: str) -> str:
    letters = "".join(rng.choice(_KZ_LETTERS) for _ in range(3))
    return f"{rng.randrange(1, 1000):03d}{letters}{region}"


def kz_trailer_plate(rng: random.Random, region: str) -> str:
    letters = "".join(rng.choice(_KZ_LETTERS) for _ in range(2))
    return f"{rng.randrange(1, 10_000):04d}{letters}{region}"


def full_width(text: str) -> str:
    """ASCII digits and capitals in full-width form (``新F12345`` → ``新Ｆ１２３４５``)."""
    return text.translate(_FULL_WIDTH)


def _spaced_kz(plate: str) -> str:
    # 123ABC02 -> "123 ABC 02"; 1234AB02 -> "1234 AB 02": digits, letters, region.
    head = 3 if plate[3].isalpha() else 4
    return f"{plate[:head]} {plate[head:-2]} {plate[-2:]}"


def written_by_cn(rng: random.Random, plate: str, chinese: bool) -> str:
    """How a Chinese declaration shows ``plate``: native, ~8% with a middle dot, ~4% full-width;
    a Kazakh plate as-is or ~10% with spaces."""
    r = rng.random()
    if chinese:
        if r < 0.08:
            return f"{plate[:2]}·{plate[2:]}"
        if r < 0.12:
            return full_width(plate)
        return plate
    return _spaced_kz(plate) if r < 0.10 else plate


def written_by_kz(rng: random.Random, plate: str, chinese: bool) -> str:
    """How KGD stores ``plate``: a Chinese one transliterated (``XINF12345``, ``XINF1234GUA``), ~10%
    without the province (``F12345``); a Kazakh one as-is or ~15% with spaces."""
    r = rng.random()
    if chinese:
        body = plate[1:].replace("挂", "GUA")
        return body if r < 0.10 else PROVINCE_PINYIN[plate[0]] + body
    return _spaced_kz(plate) if r < 0.15 else plate
