"""The people and companies of the simulated border: carriers with fleets, drivers, traders.

Built once per seed (:func:`build_pools`) from an RNG of their own, so the same trucks and
drivers come back trip after trip (a vehicle has a history) whatever days are generated.
Identifiers carry real check characters: the Chinese unified social credit code (GB 32100,
with its embedded GB 11714 organisation code) and the Kazakh BIN (12 digits, weighted mod 11),
so a gateway validating them meets nothing a real integration would reject.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from customs_sim.model import Company, Driver, Side, Vehicle
from customs_sim.plates import (
    CN_OTHER_PREFIXES,
    XINJIANG_PREFIXES,
    cn_plate,
    cn_trailer_plate,
    kz_plate,
    kz_trailer_plate,
)
from customs_sim.reference import CROSSINGS, Crossing

__all__ = ["Pools", "TruckEntry", "bin_check_digit", "build_pools", "uscc_check_char", "vin_check_digit"]

_CARRIERS = 150
_TRUCKS = 6000
_CN_TRUCK_SHARE = 0.55
_KZ_REGIONS = ("02", "01", "05", "16", "18", "19")

# ---------------------------------------------------------------- identifiers with check characters

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of a unified social credit code's first 17 characters."""
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def _org_code(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8))
    check = 11 - sum(int(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def _uscc(rng: random.Random, division: str) -> str:
    first17 = "91" + division + _org_code(rng)
    return first17 + uscc_check_char(first17)


def bin_check_digit(first11: str) -> int | None:
    """Kazakh BIN/IIN control digit (weights 1..11, then 3..11,1,2); None when no digit is valid."""
    digits = [int(ch) for ch in first11]
    for weights in (range(1, 12), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return check
    return None


def _bin(rng: random.Random) -> str:
    while True:
        # YYMM of registration, 4 = resident legal entity, 0 = head office, 5-digit serial.
        first11 = f"{rng.randrange(2, 24):02d}{rng.randrange(1, 13):02d}40{rng.randrange(100_000):05d}"
        check = bin_check_digit(first11)
        if check is not None:
            return f"{first11}{check}"


_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 / North-American check digit (position 9); Chinese VINs (GB 16735) use it too."""
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def _vin(rng: random.Random, wmi: str) -> str:
    body = "".join(rng.choice(_VIN_CHARS) for _ in range(5))
    tail = rng.choice("GHJKLMNPRS") + rng.choice("ABCDEFGH") + f"{rng.randrange(1_000_000):06d}"
    draft = f"{wmi}{body}0{tail}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


# ---------------------------------------------------------------- names

_CN_SURNAMES = (
    ("王", "WANG"),
    ("李", "LI"),
    ("张", "ZHANG"),
    ("刘", "LIU"),
    ("陈", "CHEN"),
    ("杨", "YANG"),
    ("赵", "ZHAO"),
    ("黄", "HUANG"),
    ("周", "ZHOU"),
    ("吴", "WU"),
    ("徐", "XU"),
    ("孙", "SUN"),
    ("马", "MA"),
    ("朱", "ZHU"),
    ("胡", "HU"),
    ("郭", "GUO"),
    ("何", "HE"),
    ("高", "GAO"),
)
_CN_GIVEN = (
    ("伟", "WEI"),
    ("强", "QIANG"),
    ("磊", "LEI"),
    ("军", "JUN"),
    ("勇", "YONG"),
    ("杰", "JIE"),
    ("涛", "TAO"),
    ("明", "MING"),
    ("超", "CHAO"),
    ("刚", "GANG"),
    ("平", "PING"),
    ("辉", "HUI"),
    ("鹏", "PENG"),
    ("华", "HUA"),
    ("飞", "FEI"),
    ("斌", "BIN"),
    ("建", "JIAN"),
    ("国", "GUO"),
    ("新", "XIN"),
    ("海", "HAI"),
    ("东", "DONG"),
    ("亮", "LIANG"),
    ("波", "BO"),
    ("文", "WEN"),
)
# Xinjiang's Uyghur and Kazakh drivers: Chinese transcription with the middle dot, pinyin passport name.
_CN_MINORITY = (
    ("艾力·买买提", "AILI MAIMAITI"),
    ("买买提·吐尔逊", "MAIMAITI TUERXUN"),
    ("阿不都·热合曼", "ABUDU REHEMAN"),
    ("努尔兰·别克", "NUERLAN BIEKE"),
    ("叶尔兰·达吾列提", "YEERLAN DAWULIETI"),
    ("吐尔洪·艾买提", "TUERHONG AIMAITI"),
    ("热合曼·阿布拉", "REHEMAN ABULA"),
    ("哈力克·木拉提", "HALIKE MULATI"),
)
_KZ_FIRST = (
    ("Нурлан", "NURLAN"),
    ("Ерлан", "YERLAN"),
    ("Асхат", "ASKHAT"),
    ("Бауыржан", "BAUYRZHAN"),
    ("Серик", "SERIK"),
    ("Даурен", "DAUREN"),
    ("Арман", "ARMAN"),
    ("Ержан", "YERZHAN"),
    ("Марат", "MARAT"),
    ("Канат", "KANAT"),
    ("Руслан", "RUSLAN"),
    ("Айдос", "AIDOS"),
    ("Олег", "OLEG"),
    ("Сергей", "SERGEY"),
    ("Андрей", "ANDREY"),
    ("Владимир", "VLADIMIR"),
)
_KZ_LAST = (
    ("Серикбаев", "SERIKBAYEV"),
    ("Ахметов", "AKHMETOV"),
    ("Жумабаев", "ZHUMABAYEV"),
    ("Касымов", "KASSYMOV"),
    ("Нурланов", "NURLANOV"),
    ("Омаров", "OMAROV"),
    ("Бекенов", "BEKENOV"),
    ("Исаев", "ISSAYEV"),
    ("Садыков", "SADYKOV"),
    ("Тулегенов", "TULEGENOV"),
    ("Иванов", "IVANOV"),
    ("Петров", "PETROV"),
    ("Ким", "KIM"),
    ("Попов", "POPOV"),
    ("Козлов", "KOZLOV"),
)

# (native, latin, administrative division code) of Chinese company seats.
_CN_SEATS = {
    "新F": (("霍尔果斯", "HORGOS", "654004"), ("伊宁", "YINING", "654002")),
    "新E": (("阿拉山口", "ALASHANKOU", "652702"), ("博乐", "BOLE", "652701")),
    "新G": (("塔城", "TACHENG", "654201"),),
    "新H": (("阿勒泰", "ALTAY", "654301"), ("吉木乃", "JEMINAY", "654326")),
    "新A": (("乌鲁木齐", "URUMQI", "650102"),),
}
_CN_INLAND = (
    ("义乌", "YIWU", "330782"),
    ("深圳", "SHENZHEN", "440300"),
    ("广州", "GUANGZHOU", "440100"),
    ("西安", "XI'AN", "610100"),
    ("郑州", "ZHENGZHOU", "410100"),
    ("重庆", "CHONGQING", "500000"),
)
_CN_WORDS = (
    ("丝路", "SILU"),
    ("天山", "TIANSHAN"),
    ("中亚", "ZHONGYA"),
    ("亚欧", "YAOU"),
    ("通达", "TONGDA"),
    ("顺捷", "SHUNJIE"),
    ("远航", "YUANHANG"),
    ("金桥", "JINQIAO"),
    ("宏远", "HONGYUAN"),
    ("鑫源", "XINYUAN"),
    ("恒通", "HENGTONG"),
    ("华运", "HUAYUN"),
    ("安达", "ANDA"),
    ("昌盛", "CHANGSHENG"),
    ("瑞丰", "RUIFENG"),
    ("嘉禾", "JIAHE"),
)
_CN_CARRIER_KINDS = (
    ("国际物流", "INTERNATIONAL LOGISTICS"),
    ("国际运输", "INTERNATIONAL TRANSPORT"),
    ("汽车运输", "MOTOR TRANSPORT"),
)
_CN_TRADER_KINDS = (
    ("进出口贸易", "IMPORT AND EXPORT TRADING"),
    ("国际贸易", "INTERNATIONAL TRADE"),
    ("商贸", "TRADING"),
    ("电子科技", "ELECTRONIC TECHNOLOGY"),
    ("汽车销售", "AUTOMOBILE SALES"),
    ("实业", "INDUSTRIAL"),
)
_KZ_WORDS = (
    ("Жол", "ZHOL"),
    ("Керуен", "KERUEN"),
    ("Сапар", "SAPAR"),
    ("Алтын", "ALTYN"),
    ("Береке", "BEREKE"),
    ("Нур", "NUR"),
    ("Шыгыс", "SHYGYS"),
    ("Жетысу", "ZHETYSU"),
    ("Алатау", "ALATAU"),
    ("Астана", "ASTANA"),
    ("Достык", "DOSTYK"),
    ("Каспий", "KASPIY"),
    ("Тенгри", "TENGRI"),
)
_KZ_CARRIER_KINDS = (("Транс", "TRANS"), ("Логистик", "LOGISTIC"), ("Транзит", "TRANZIT"), ("Карго", "CARGO"))
_KZ_TRADER_KINDS = (
    ("Трейд", "TRADE"),
    ("Импорт", "IMPORT"),
    ("Агро", "AGRO"),
    ("Металл", "METALL"),
    ("Авто", "AVTO"),
    ("Техно", "TEKHNO"),
    ("Групп", "GROUP"),
)

_CN_MAKES = (
    ("SHACMAN", "LZG"),
    ("SINOTRUK HOWO", "LZZ"),
    ("FAW JIEFANG", "LFW"),
    ("DONGFENG", "LGA"),
    ("FOTON AUMAN", "LVB"),
)
_KZ_MAKES = (
    ("MAN", "WMA"),
    ("VOLVO", "YV2"),
    ("SCANIA", "YS2"),
    ("DAF", "XLR"),
    ("MERCEDES-BENZ", "WDB"),
    ("KAMAZ", "XTC"),
    ("SHACMAN", "LZG"),
    ("SINOTRUK HOWO", "LZZ"),
)
_CN_TRAILER_MAKES = (("CIMC", "LJR"), ("TONGYA", "LA9"))
_KZ_TRAILER_MAKES = (("SCHMITZ CARGOBULL", "WSM"), ("KRONE", "WKE"), ("KOGEL", "WK0"), ("CIMC", "LJR"))


def _unique(rng: random.Random, make: object, seen: set[str]) -> str:
    """Draw from ``make(rng)`` until the value is new: ids and plates must never repeat."""
    while True:
        value = make(rng)  # type: ignore[operator]
        if value not in seen:
            seen.add(value)
            return str(value)


def _cn_company(
    rng: random.Random, seat: tuple[str, str, str], kinds: tuple[tuple[str, str], ...], seen: set[str]
) -> Company:
    word, word_latin = rng.choice(_CN_WORDS)
    kind, kind_latin = rng.choice(kinds)
    uscc = _unique(rng, lambda r: _uscc(r, seat[2]), seen)
    return Company(uscc, Side.CN, f"{seat[0]}{word}{kind}有限公司", f"{seat[1]} {word_latin} {kind_latin} CO., LTD.")


def _kz_company(rng: random.Random, kinds: tuple[tuple[str, str], ...], seen: set[str]) -> Company:
    word, word_latin = rng.choice(_KZ_WORDS)
    kind, kind_latin = rng.choice(kinds)
    return Company(_unique(rng, _bin, seen), Side.KZ, f"ТОО «{word} {kind}»", f"{word_latin} {kind_latin} LLP")


def _driver(rng: random.Random, country: Side, seen: set[str]) -> Driver:
    born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(35 * 365))
    if country is Side.CN:
        passport = _unique(rng, lambda r: f"E{r.randrange(10**8):08d}", seen)
        if rng.random() < 0.15:
            native, latin = rng.choice(_CN_MINORITY)
        else:
            (sur, sur_latin) = rng.choice(_CN_SURNAMES)
            given = rng.sample(_CN_GIVEN, rng.choice((1, 2)))
            native = sur + "".join(g for g, _ in given)
            latin = f"{sur_latin} {''.join(g for _, g in given)}"
        return Driver(passport, Side.CN, native, latin, born)
    passport = _unique(rng, lambda r: f"N{r.randrange(10**8):08d}", seen)
    first, first_latin = rng.choice(_KZ_FIRST)
    last, last_latin = rng.choice(_KZ_LAST)
    return Driver(passport, Side.KZ, f"{last} {first}", f"{last_latin} {first_latin}", born)


@dataclass(frozen=True, slots=True)
class TruckEntry:
    """One truck of the pool, with what travels with it trip after trip."""

    truck: Vehicle
    trailer: Vehicle | None
    driver: Driver  # its usual driver
    carrier: Company
    crew: tuple[Driver, ...]  # the carrier's other drivers, who take the truck now and then


@dataclass(frozen=True, slots=True)
class Pools:
    """Everything drawn once per seed; cumulative weights let a trip pick with one bisect."""

    trucks_by_crossing: dict[str, tuple[TruckEntry, ...]]  # trucks based near each crossing
    trucks: tuple[TruckEntry, ...]
    cn_exporters: tuple[Company, ...]
    kz_importers: tuple[Company, ...]
    kz_exporters: tuple[Company, ...]
    cn_importers: tuple[Company, ...]
    cn_exporter_weights: tuple[float, ...]  # cumulative, Zipf-like: a few big traders
    kz_importer_weights: tuple[float, ...]
    kz_exporter_weights: tuple[float, ...]
    cn_importer_weights: tuple[float, ...]


def _zipf(n: int, s: float = 0.9) -> tuple[float, ...]:
    return tuple(accumulate(1.0 / (i + 1) ** s for i in range(n)))


def _vehicle_pair(
    rng: random.Random, country: Side, home: Crossing, carrier_prefix: str, plates: set[str]
) -> tuple[Vehicle, Vehicle | None]:
    if country is Side.CN:
        prefix = carrier_prefix if rng.random() < 0.9 else _cn_prefix(rng, home)
        make, wmi = rng.choice(_CN_MAKES)
        truck = Vehicle(_unique(rng, lambda r: cn_plate(r, prefix), plates), Side.CN, prefix, make, _vin(rng, wmi))
        if rng.random() < 0.1:
            return truck, None
        tmake, twmi = rng.choice(_CN_TRAILER_MAKES)
        plate = _unique(rng, lambda r: cn_trailer_plate(r, prefix), plates)
        return truck, Vehicle(plate, Side.CN, prefix, tmake, _vin(rng, twmi))
    region = home.kz_plate_region if rng.random() < 0.5 else rng.choice(_KZ_REGIONS)
    make, wmi = rng.choice(_KZ_MAKES)
    truck = Vehicle(_unique(rng, lambda r: kz_plate(r, region), plates), Side.KZ, region, make, _vin(rng, wmi))
    if rng.random() < 0.1:
        return truck, None
    tmake, twmi = rng.choice(_KZ_TRAILER_MAKES)
    plate = _unique(rng, lambda r: kz_trailer_plate(r, region), plates)
    return truck, Vehicle(plate, Side.KZ, region, tmake, _vin(rng, twmi))


def _cn_prefix(rng: random.Random, home: Crossing) -> str:
    """~85% Xinjiang (mostly the crossing's own prefecture), the rest inland provinces."""
    r = rng.random()
    if r < 0.60:
        return home.cn_plate_prefix
    if r < 0.85:
        return rng.choice(XINJIANG_PREFIXES)
    return rng.choice(CN_OTHER_PREFIXES)


@lru_cache(maxsize=4)
def build_pools(seed: int) -> Pools:
    """The seed's carriers, trucks, drivers and traders (cached: a dataset build asks once per day)."""
    rng = random.Random(f"{seed}:pools")
    ids: set[str] = set()
    plates: set[str] = set()
    by_crossing: dict[str, list[TruckEntry]] = {c.id: [] for c in CROSSINGS}
    everyone: list[TruckEntry] = []
    fleet_weights = [1.0 / (i + 1) ** 0.7 for i in range(_CARRIERS)]
    scale = _TRUCKS / sum(fleet_weights)
    volumes = [c.trucks_per_day for c in CROSSINGS]
    cn_trucks = dict.fromkeys(by_crossing, 0)
    for i in range(_CARRIERS):
        home = rng.choices(CROSSINGS, weights=volumes)[0]
        fleet = max(3, round(fleet_weights[i] * scale))
        # Balanced per home crossing (fleets are Zipf-sized, a coin per carrier would drift far
        # from the 55/45 split): a carrier is Chinese while its crossing is short of Chinese trucks.
        based = len(by_crossing[home.id]) + fleet
        country = Side.CN if cn_trucks[home.id] + fleet / 2 <= _CN_TRUCK_SHARE * based else Side.KZ
        if country is Side.CN:
            cn_trucks[home.id] += fleet
        if country is Side.CN:
            prefix = _cn_prefix(rng, home)
            seat = rng.choice(_CN_SEATS.get(prefix, _CN_SEATS["新A"]))
            carrier = _cn_company(rng, seat, _CN_CARRIER_KINDS, ids)
        else:
            prefix = ""
            carrier = _kz_company(rng, _KZ_CARRIER_KINDS, ids)
        crew = tuple(_driver(rng, country, ids) for _ in range(max(2, fleet // 5)))
        for _ in range(fleet):
            truck, trailer = _vehicle_pair(rng, country, home, prefix, plates)
            entry = TruckEntry(truck, trailer, _driver(rng, country, ids), carrier, crew)
            by_crossing[home.id].append(entry)
            everyone.append(entry)
    seats = [seat for group in _CN_SEATS.values() for seat in group]
    cn_exporters = tuple(
        _cn_company(rng, rng.choice(_CN_INLAND if rng.random() < 0.4 else seats), _CN_TRADER_KINDS, ids)
        for _ in range(600)
    )
    cn_importers = tuple(
        _cn_company(rng, rng.choice(seats + list(_CN_INLAND)), _CN_TRADER_KINDS, ids) for _ in range(80)
    )
    kz_importers = tuple(_kz_company(rng, _KZ_TRADER_KINDS, ids) for _ in range(500))
    kz_exporters = tuple(_kz_company(rng, _KZ_TRADER_KINDS, ids) for _ in range(120))
    return Pools(
        trucks_by_crossing={k: tuple(v) for k, v in by_crossing.items()},
        trucks=tuple(everyone),
        cn_exporters=cn_exporters,
        kz_importers=kz_importers,
        kz_exporters=kz_exporters,
        cn_importers=cn_importers,
        cn_exporter_weights=_zipf(len(cn_exporters)),
        kz_importer_weights=_zipf(len(kz_importers)),
        kz_exporter_weights=_zipf(len(kz_exporters)),
        cn_importer_weights=_zipf(len(cn_importers)),
    )
