"""The goods that cross, one :class:`Product` per HS-6 of ``shared/domain.md``'s reference list.

Each product knows how both sides code and describe it (China's 10-digit code plus the 3
inspection-quarantine digits some declarations carry, the EAEU ТН ВЭД code: same HS-6, different
national digits), how it travels (UN/ECE Rec. 21 package kind, kg per package) and what it is worth
(USD per kg), so the generator can load a truck realistically without per-trip lookups.
``misclassified_as`` is the subheading a Kazakh declarant plausibly picks instead (HS_MISMATCH).
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate
from typing import Final, NamedTuple

from customs_sim.model import Direction

__all__ = ["CATALOG", "PRODUCTS_BY_DIRECTION", "PRODUCTS_BY_HS6", "GoodsLine", "Load", "Product", "draw_goods"]


class Load:
    """How a product fills a truck: decides how many lines a trip has and what travels with it."""

    VEHICLE: Final = "vehicle"  # units driven or carried on a car transporter / low-loader; 1-3 lines
    BULK: Final = "bulk"  # the whole truck is one commodity; one line
    GENERAL: Final = "general"  # mixed consolidated cargo; 1-8 lines


@dataclass(frozen=True, slots=True)
class Product:
    hs6: str
    cn_code: str  # 10 digits
    cn_ciq: str  # the 3 inspection-quarantine digits China appends on 13-digit declarations
    kz_code: str  # 10 digits, same HS-6
    description_zh: str
    description_ru: str
    description_en: str
    package_kind: str  # UN/ECE Rec. 21
    kg_per_package: tuple[float, float]  # net kg per package, uniform range
    usd_per_kg: tuple[float, float]
    tare: tuple[float, float]  # gross/net - 1 (packaging), uniform range
    load: str
    weight: int  # relative frequency within its direction
    misclassified_as: tuple[str, str]  # (HS-6, EAEU code) a declarant plausibly uses instead


CATALOG: tuple[Product, ...] = (
    # China -> Kazakhstan
    Product(
        "870380",
        "8703800090",
        "101",
        "8703800002",
        "纯电动乘用车",
        "Автомобили легковые с электродвигателем",
        "battery-electric passenger cars",
        "VN",
        (1700.0, 2200.0),
        (15.0, 25.0),
        (0.005, 0.02),
        Load.VEHICLE,
        9,
        ("870340", "8703401000"),
    ),
    Product(
        "870323",
        "8703234110",
        "101",
        "8703239013",
        "汽油小轿车(1.5-3升)",
        "Автомобили легковые с двигателем объемом 1500-3000 см3",
        "petrol passenger cars 1.5-3 l",
        "VN",
        (1450.0, 1800.0),
        (15.0, 22.0),
        (0.005, 0.02),
        Load.VEHICLE,
        6,
        ("870324", "8703249013"),
    ),
    Product(
        "870421",
        "8704210000",
        "101",
        "8704219100",
        "柴油货车(总重≤5吨)",
        "Автомобили грузовые дизельные полной массой не более 5 т",
        "diesel goods vehicles up to 5 t",
        "VN",
        (2200.0, 3400.0),
        (6.0, 10.0),
        (0.005, 0.02),
        Load.VEHICLE,
        3,
        ("870431", "8704319100"),
    ),
    Product(
        "842952",
        "8429521200",
        "999",
        "8429521000",
        "履带式挖掘机",
        "Экскаваторы одноковшовые полноповоротные",
        "excavators with 360-degree superstructure",
        "VN",
        (13000.0, 21000.0),
        (5.0, 9.0),
        (0.002, 0.01),
        Load.VEHICLE,
        3,
        ("842959", "8429590000"),
    ),
    Product(
        "851713",
        "8517130000",
        "999",
        "8517130009",
        "智能手机",
        "Смартфоны",
        "smartphones",
        "CT",
        (8.0, 18.0),
        (100.0, 600.0),
        (0.08, 0.15),
        Load.GENERAL,
        6,
        ("851762", "8517620009"),
    ),
    Product(
        "847130",
        "8471309000",
        "999",
        "8471300000",
        "笔记本电脑",
        "Машины вычислительные портативные (ноутбуки)",
        "laptop computers",
        "CT",
        (10.0, 22.0),
        (40.0, 120.0),
        (0.08, 0.15),
        Load.GENERAL,
        5,
        ("847141", "8471410000"),
    ),
    Product(
        "841810",
        "8418102000",
        "999",
        "8418108001",
        "冷藏冷冻组合机",
        "Холодильники-морозильники комбинированные",
        "combined refrigerator-freezers",
        "CT",
        (45.0, 90.0),
        (5.0, 9.0),
        (0.06, 0.12),
        Load.GENERAL,
        6,
        ("841821", "8418210000"),
    ),
    Product(
        "401110",
        "4011100000",
        "999",
        "4011100003",
        "小客车用新充气橡胶轮胎",
        "Шины пневматические резиновые новые для легковых автомобилей",
        "new pneumatic car tyres",
        "PK",
        (8.0, 14.0),
        (3.0, 5.0),
        (0.01, 0.03),
        Load.GENERAL,
        8,
        ("401120", "4011200009"),
    ),
    Product(
        "392690",
        "3926909090",
        "999",
        "3926909709",
        "其他塑料制品",
        "Изделия прочие из пластмасс",
        "other articles of plastics",
        "CT",
        (5.0, 20.0),
        (3.0, 8.0),
        (0.05, 0.12),
        Load.GENERAL,
        10,
        ("392490", "3924900009"),
    ),
    Product(
        "640299",
        "6402999000",
        "999",
        "6402999800",
        "橡胶或塑料制外底及鞋面的鞋",
        "Обувь с подошвой и верхом из резины или пластмассы",
        "footwear of rubber or plastics",
        "CT",
        (8.0, 15.0),
        (6.0, 14.0),
        (0.08, 0.15),
        Load.GENERAL,
        9,
        ("640419", "6404191000"),
    ),
    Product(
        "611020",
        "6110200090",
        "999",
        "6110209900",
        "棉制针织套头衫",
        "Свитеры, пуловеры трикотажные из хлопка",
        "cotton knitted jerseys and pullovers",
        "CT",
        (10.0, 20.0),
        (10.0, 25.0),
        (0.05, 0.10),
        Load.GENERAL,
        8,
        ("611030", "6110309900"),
    ),
    Product(
        "940320",
        "9403200000",
        "999",
        "9403208009",
        "其他金属家具",
        "Мебель металлическая прочая",
        "other metal furniture",
        "CT",
        (15.0, 45.0),
        (3.0, 6.0),
        (0.08, 0.15),
        Load.GENERAL,
        7,
        ("940360", "9403609009"),
    ),
    Product(
        "730890",
        "7308900000",
        "999",
        "7308909809",
        "钢铁结构体及其部件",
        "Металлоконструкции из черных металлов прочие",
        "structures and parts of iron or steel",
        "PK",
        (500.0, 2000.0),
        (1.2, 2.5),
        (0.003, 0.01),
        Load.GENERAL,
        5,
        ("730840", "7308400000"),
    ),
    Product(
        "854143",
        "8541430000",
        "999",
        "8541430009",
        "光伏组件",
        "Модули фотоэлектрические",
        "photovoltaic modules",
        "PL",
        (600.0, 800.0),
        (2.0, 4.0),
        (0.04, 0.08),
        Load.GENERAL,
        6,
        ("854142", "8541420000"),
    ),
    # Kazakhstan -> China
    Product(
        "740311",
        "7403111100",
        "999",
        "7403110000",
        "精炼铜阴极",
        "Катоды и секции катодов из рафинированной меди",
        "refined copper cathodes",
        "PK",
        (2400.0, 2600.0),
        (9.0, 10.0),
        (0.002, 0.005),
        Load.GENERAL,
        8,
        ("740319", "7403190000"),
    ),
    Product(
        "260300",
        "2603000010",
        "999",
        "2603000000",
        "铜矿砂及其精矿",
        "Руды и концентраты медные",
        "copper ores and concentrates",
        "VY",
        (20000.0, 25000.0),
        (1.5, 3.0),
        (0.001, 0.004),
        Load.BULK,
        5,
        ("262030", "2620300000"),
    ),
    Product(
        "720241",
        "7202410000",
        "999",
        "7202411000",
        "高碳铬铁",
        "Феррохром с содержанием углерода более 4 мас.%",
        "ferro-chromium, more than 4% carbon",
        "BG",
        (1000.0, 1500.0),
        (1.1, 1.6),
        (0.002, 0.005),
        Load.GENERAL,
        6,
        ("720249", "7202490000"),
    ),
    Product(
        "100199",
        "1001990090",
        "999",
        "1001990000",
        "其他小麦",
        "Пшеница прочая",
        "wheat",
        "VR",
        (20000.0, 25000.0),
        (0.2, 0.25),
        (0.001, 0.004),
        Load.BULK,
        6,
        ("100191", "1001910000"),
    ),
    Product(
        "120600",
        "1206009000",
        "999",
        "1206009900",
        "葵花籽",
        "Семена подсолнечника",
        "sunflower seeds",
        "VR",
        (20000.0, 24000.0),
        (0.35, 0.5),
        (0.001, 0.004),
        Load.BULK,
        5,
        ("120799", "1207999709"),
    ),
    Product(
        "120400",
        "1204000090",
        "999",
        "1204009000",
        "亚麻子",
        "Семена льна",
        "linseed",
        "BG",
        (45.0, 50.0),
        (0.45, 0.65),
        (0.004, 0.01),
        Load.GENERAL,
        4,
        ("120799", "1207999709"),
    ),
)

_KZ_TO_CN = frozenset({"740311", "260300", "720241", "100199", "120600", "120400"})

PRODUCTS_BY_HS6: dict[str, Product] = {p.hs6: p for p in CATALOG}
PRODUCTS_BY_DIRECTION: dict[Direction, tuple[Product, ...]] = {
    Direction.CN_TO_KZ: tuple(p for p in CATALOG if p.hs6 not in _KZ_TO_CN),
    Direction.KZ_TO_CN: tuple(p for p in CATALOG if p.hs6 in _KZ_TO_CN),
}


class GoodsLine(NamedTuple):
    """One drawn goods line in integer units (grams, US cents): exact and cheap to scale (a named
    tuple: several are drawn per trip, and a frozen dataclass costs twice as much to create)."""

    product: Product
    packages: int
    net_g: int
    gross_g: int
    usd_cents: int


_GENERAL_LINES = (1, 2, 3, 4, 5, 6, 7, 8)
_GENERAL_LINE_CUM = (30, 55, 73, 83, 90, 95, 98, 100)  # skewed toward 1-3 lines
_VEHICLE_EXTRA_CUM = (70, 92, 100)  # 0, 1 or 2 more vehicle lines
_MAX_CARGO_KG = 24_500.0
_SINGLE = frozenset({"842952"})  # one machine fills a low-loader


@dataclass(frozen=True, slots=True)
class _Menu:
    """Per-direction lookup tables, built once so a draw is a bisect and a few slices."""

    products: tuple[Product, ...]
    cum_weights: tuple[float, ...]
    companions: tuple[tuple[Product, ...], ...]  # per lead product: what may share its truck
    mixed: bool  # consolidated general cargo (China's exports) or raw materials (Kazakhstan's)


def _menu(products: tuple[Product, ...]) -> _Menu:
    companions = tuple(
        tuple(p for p in products if p.load == lead.load and p is not lead and p.hs6 not in _SINGLE)
        for lead in products
    )
    return _Menu(products, tuple(accumulate(float(p.weight) for p in products)), companions, mixed=len(products) >= 10)


_MENUS: dict[Direction, _Menu] = {d: _menu(p) for d, p in PRODUCTS_BY_DIRECTION.items()}


def draw_goods(rng: random.Random, direction: Direction) -> list[GoodsLine]:
    """Load one truck: pick a leading product, the lines that travel with it, then fill the
    truck (12–24.5 t of cargo) line by line; a line that no longer fits is dropped."""
    menu = _MENUS[direction]
    rand = rng.random
    index = bisect(menu.cum_weights, rand() * menu.cum_weights[-1])
    lead = menu.products[index]
    if lead.load == Load.BULK or lead.hs6 in _SINGLE:
        chosen = [lead]
    else:
        if lead.load == Load.VEHICLE:
            extra = bisect(_VEHICLE_EXTRA_CUM, rand() * 100)
        elif menu.mixed:
            extra = _GENERAL_LINES[bisect(_GENERAL_LINE_CUM, rand() * 100)] - 1
        else:
            extra = 0 if rand() < 0.85 else 1
        same = menu.companions[index]
        chosen = [lead, *rng.sample(same, min(extra, len(same)))] if extra else [lead]
    remaining = 12_000.0 + rand() * (_MAX_CARGO_KG - 12_000.0)
    lines: list[GoodsLine] = []
    count = len(chosen)
    for i, product in enumerate(chosen):
        left = count - i
        budget = remaining if left == 1 else remaining / left * (0.6 + 0.8 * rand())
        lo, hi = product.kg_per_package
        per_package = lo + (hi - lo) * rand()
        lo, hi = product.tare
        tare = 1.0 + lo + (hi - lo) * rand()
        # The budget is gross mass: packaging counts against the truck's payload too.
        single = product.load == Load.BULK or product.hs6 in _SINGLE
        packages = 1 if single else max(1, int(budget / (per_package * tare)))
        net = packages * per_package
        gross = net * tare
        lo, hi = product.usd_per_kg
        price = lo + (hi - lo) * rand()
        if lines and gross > remaining:
            continue
        remaining -= gross
        net_g = round(net * 1000)
        gross_g = max(net_g + 1, round(gross * 1000))
        lines.append(GoodsLine(product, packages, net_g, gross_g, round(net * price * 100)))
    return lines
