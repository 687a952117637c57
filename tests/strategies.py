"""Hypothesis strategies for the gateway's domain values, in one place for every test suite.

Strategies build the *expected* value from its parts (province, prefecture, serial, …) without
calling the code under test, so a property compares the parser against an independent oracle.
The province table itself is the specification and is imported from ``customs_gateway.plates``
(its own test checks that it is a bijection and holds the keys KGD is known to write).

Import as ``from tests.strategies import …`` (the test command is ``python -m pytest`` from the
repository root, which puts the root on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

from hypothesis import strategies as st

from customs_gateway.domain import (
    ArrivalNotice,
    ChinaManifestRecord,
    Country,
    ExchangeRate,
    GoodsLine,
    Inspection,
    KazakhstanPIRecord,
    Money,
    PlateId,
)
from customs_gateway.plates import PROVINCES, TRAILER_KEY, TRAILER_MARK

__all__ = [
    "CHINESE_SERIAL_LETTERS",
    "CYRILLIC_LOOKALIKES",
    "XINJIANG_PREFECTURES",
    "amount_strings",
    "amounts",
    "arrival_notices",
    "aware_datetimes",
    "china_records",
    "chinese_plates",
    "container_numbers",
    "exchange_rates",
    "fixed_offsets",
    "full_width",
    "inspections",
    "kazakh_plates",
    "kazakhstan_records",
    "plates",
    "province_less",
    "tariff_codes",
    "written_variants",
]

#: Serial letters on Chinese plates: I and O are never issued (they read as 1 and 0).
CHINESE_SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
#: The prefectures of the Xinjiang border posts: Bortala, Ili, Tacheng, Altay.
XINJIANG_PREFECTURES = ("新E", "新F", "新G", "新H")
#: Latin capital → the Cyrillic capital that looks the same (how a Kazakh plate gets mistyped).
CYRILLIC_LOOKALIKES = {
    "A": "А",
    "B": "В",
    "E": "Е",
    "K": "К",
    "M": "М",
    "H": "Н",
    "O": "О",
    "P": "Р",
    "C": "С",
    "T": "Т",
    "X": "Х",
    "Y": "У",
}

_SEPARATORS = ("", "", " ", "·", "-", "・", "\u3000", "  ")


def full_width(text: str) -> str:
    """ASCII letters and digits in their full-width forms (``F12`` → ``Ｆ１２``), the rest unchanged."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


@st.composite
def _serial(draw: st.DrawFn, length: int) -> str:
    """A plate serial with at most two letters, as the traffic police issue them."""
    digits = list(draw(st.text(string.digits, min_size=length, max_size=length)))
    letters = draw(
        st.lists(
            st.tuples(st.integers(0, length - 1), st.sampled_from(CHINESE_SERIAL_LETTERS)),
            max_size=2,
            unique_by=lambda pair: pair[0],
        )
    )
    for position, letter in letters:
        digits[position] = letter
    return "".join(digits)


@st.composite
def chinese_plates(draw: st.DrawFn, *, trailer: bool | None = None, xinjiang: bool = False) -> PlateId:
    """A Chinese plate (any province, or only the Xinjiang border prefectures), as the oracle sees it."""
    if xinjiang:
        region = draw(st.sampled_from(XINJIANG_PREFECTURES))
        province, prefecture = region[0], region[1]
    else:
        province = draw(st.sampled_from(sorted(PROVINCES)))
        prefecture = draw(st.sampled_from(string.ascii_uppercase))
    is_trailer = draw(st.booleans()) if trailer is None else trailer
    serial = draw(_serial(4 if is_trailer else 5))
    native = province + prefecture + serial + (TRAILER_MARK if is_trailer else "")
    latin = PROVINCES[province] + prefecture + serial + (TRAILER_KEY if is_trailer else "")
    return PlateId(
        canonical=latin,
        native=native,
        latin=latin,
        country=Country.CN,
        region=province + prefecture,
        trailer=is_trailer,
        province_known=True,
    )


@st.composite
def kazakh_plates(draw: st.DrawFn, *, trailer: bool | None = None) -> PlateId:
    """A Kazakh plate since 2012: ``123ABC02``, ``123AB02`` (legal entities), trailer ``1234AB02``."""
    is_trailer = draw(st.booleans()) if trailer is None else trailer
    digits = 4 if is_trailer else 3
    letters = 2 if is_trailer else draw(st.sampled_from((2, 3)))
    number = draw(st.text(string.digits, min_size=digits, max_size=digits))
    series = draw(st.text(string.ascii_uppercase, min_size=letters, max_size=letters))
    region = draw(st.integers(1, 20).map(lambda r: f"{r:02d}"))
    plate = number + series + region
    return PlateId(
        canonical=plate,
        native=plate,
        latin=plate,
        country=Country.KZ,
        region=region,
        trailer=is_trailer,
        province_known=True,
    )


def plates() -> st.SearchStrategy[PlateId]:
    """Any Chinese or Kazakh plate."""
    return st.one_of(chinese_plates(), kazakh_plates())


def province_less(plate: PlateId) -> str:
    """A Chinese plate as KGD sometimes stores it, without its province (``XINF12345`` → ``F12345``)."""
    return plate.canonical[len(PROVINCES[plate.native[0]]) :]


@st.composite
def written_variants(draw: st.DrawFn, plate: PlateId) -> str:
    """One way an authority or a user writes ``plate``: separators, case, full width, script."""
    if plate.country is Country.CN:
        province = plate.native[0]
        head = draw(st.sampled_from((province, PROVINCES[province])))
        prefecture = plate.native[1]
        serial = plate.native[2:].removesuffix(TRAILER_MARK)
        mark = draw(st.sampled_from((TRAILER_MARK, TRAILER_KEY))) if plate.trailer else ""
        parts = [head, prefecture, serial + mark]
    elif plate.country is Country.KZ:
        digits = 4 if plate.trailer else 3
        number, rest = plate.canonical[:digits], plate.canonical[digits:]
        parts = [number, rest[:-2], rest[-2:]]
        if draw(st.booleans()):
            parts[1] = "".join(CYRILLIC_LOOKALIKES.get(ch, ch) for ch in parts[1])
    else:
        raise ValueError(f"no written variants for {plate.country} plates")
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(_SEPARATORS)) + part
    if draw(st.booleans()):
        text = text.lower()
    if draw(st.booleans()):
        text = full_width(text)
    if draw(st.booleans()):
        text = f" {text}\t"
    return text


def fixed_offsets() -> st.SearchStrategy[dt.timezone]:
    """Every UTC offset in use, in quarter hours from −12:00 to +14:00."""
    return st.integers(-12 * 4, 14 * 4).map(lambda q: dt.timezone(dt.timedelta(minutes=15 * q)))


def aware_datetimes(
    min_value: dt.datetime = dt.datetime(2000, 1, 1),
    max_value: dt.datetime = dt.datetime(2035, 12, 31, 23, 59, 59),
) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes (wall time between the naive bounds) in any fixed offset, with microseconds."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=fixed_offsets())


def amounts(places: int = 2, max_digits: int = 18) -> st.SearchStrategy[Decimal]:
    """Non-negative ``Decimal`` amounts with exactly ``places`` decimals and at most ``max_digits`` digits."""
    return st.integers(0, 10**max_digits - 1).map(lambda n: Decimal(n).scaleb(-places))


@st.composite
def amount_strings(draw: st.DrawFn, places: int = 2) -> str:
    """A decimal string as the wire writes it, with 0 to ``places`` decimals (``"12345.6"``)."""
    integer = draw(st.integers(0, 10**12))
    decimals = draw(st.integers(0, places))
    if decimals == 0:
        return str(integer)
    return f"{integer}.{draw(st.text(string.digits, min_size=decimals, max_size=decimals))}"


@st.composite
def exchange_rates(
    draw: st.DrawFn, currencies: tuple[str, ...] = ("USD", "CNY", "EUR", "RUB")
) -> dict[str, ExchangeRate]:
    """NBK rates for one day: tenge per unit, 2 decimals, from kopeck-sized to several hundred."""
    date = draw(st.dates(dt.date(2000, 1, 1), dt.date(2035, 12, 31)))
    return {
        currency: ExchangeRate(
            currency=currency,
            kzt_per_unit=draw(st.integers(1, 200_000).map(lambda n: Decimal(n).scaleb(-2))),
            date=date,
            source="NBK",
        )
        for currency in currencies
    }


@st.composite
def tariff_codes(draw: st.DrawFn, lengths: tuple[int, ...] = (6, 8, 10, 13)) -> str:
    """A tariff code of one of ``lengths`` digits in HS chapters 01–97."""
    chapter = draw(st.integers(1, 97))
    length = draw(st.sampled_from(lengths))
    return f"{chapter:02d}" + draw(st.text(string.digits, min_size=length - 2, max_size=length - 2))


# ISO 6346 equivalent values, written out as the standard tabulates them (A=10, skipping 11, 22, 33).
_ISO6346_VALUES = dict(
    A=10, B=12, C=13, D=14, E=15, F=16, G=17, H=18, I=19, J=20, K=21, L=23, M=24,
    N=25, O=26, P=27, Q=28, R=29, S=30, T=31, U=32, V=34, W=35, X=36, Y=37, Z=38,
)  # fmt: skip


@st.composite
def container_numbers(draw: st.DrawFn) -> str:
    """A valid ISO 6346 container number, check digit computed by this module's own oracle."""
    owner = draw(st.text(string.ascii_uppercase, min_size=3, max_size=3))
    category = draw(st.sampled_from("UJZ"))
    serial = draw(st.text(string.digits, min_size=6, max_size=6))
    prefix = owner + category + serial
    weighted = 0
    for position, ch in enumerate(prefix):
        value = _ISO6346_VALUES[ch] if ch in _ISO6346_VALUES else int(ch)
        weighted += value * (1 << position)
    remainder = weighted % 11
    return prefix + ("0" if remainder == 10 else str(remainder))


# -- whole domain records (the cache codec's round trips) ---------------------------------------

_counts = st.integers(0, 10_000)
_maybe_time = st.none() | aware_datetimes()


def _goods() -> st.SearchStrategy[tuple[GoodsLine, ...]]:
    line = st.builds(
        GoodsLine,
        line_no=_counts,
        tariff_code=tariff_codes(),
        packages=_counts,
        gross_kg=amounts(3),
        net_kg=st.none() | amounts(3),
        value=st.builds(Money, amount=amounts(), currency=st.sampled_from(["CNY", "USD"])),
        value_kzt=st.none() | amounts(),
    )
    return st.lists(line, max_size=3).map(tuple)


def china_records() -> st.SearchStrategy[ChinaManifestRecord]:
    """Records with every field drawn (text anywhere in Unicode, times in any offset)."""
    return st.builds(
        ChinaManifestRecord,
        declared_at=aware_datetimes(),
        border_crossed_at=_maybe_time,
        released_at=_maybe_time,
        total_packages=_counts,
        total_gross_kg=amounts(3),
        total_value=st.builds(Money, amount=amounts()),
        goods=_goods(),
        containers=st.lists(container_numbers(), max_size=2).map(tuple),
    )


def kazakhstan_records() -> st.SearchStrategy[KazakhstanPIRecord]:
    return st.builds(
        KazakhstanPIRecord,
        registered_at=aware_datetimes(),
        released_at=_maybe_time,
        exited_at=_maybe_time,
        exchange_rate=exchange_rates().map(lambda rates: rates["USD"]),
        total_packages=_counts,
        total_gross_kg=amounts(3),
        total_value=st.builds(Money, amount=amounts()),
        total_value_kzt=amounts(),
        goods=_goods(),
    )


def inspections() -> st.SearchStrategy[Inspection]:
    return st.builds(Inspection, started_at=aware_datetimes(), finished_at=_maybe_time)


def arrival_notices() -> st.SearchStrategy[ArrivalNotice]:
    return st.builds(ArrivalNotice, arrived_at=aware_datetimes())
