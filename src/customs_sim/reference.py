"""Reference data of the five paired road crossings, as both simulated authorities know them.

Codes marked ``official=False`` are the simulators' own: no public UN/LOCODE or customs code was
found for them. Daily volumes follow ``shared/domain.md`` (Khorgos ~770 vehicles/day in 2025,
Nur Zholy 700–1,200, Dostyk 150–200, the small posts tens to a few hundred) and add up to
~1,420 trucks a day, i.e. over 500,000 a year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "CN_UTC_OFFSET",
    "CROSSINGS",
    "CROSSINGS_BY_ID",
    "KZ_OFFSET_SWITCH",
    "Crossing",
    "Post",
    "cn_tz",
    "kz_tz",
]

CN_UTC_OFFSET = dt.timedelta(hours=8)
# Kazakhstan moved its eastern regions (all these posts) from UTC+6 to UTC+5 on 2024-03-01 00:00 local.
KZ_OFFSET_SWITCH = dt.datetime(2024, 2, 29, 18, 0, tzinfo=dt.UTC)  # 2024-03-01 00:00 at UTC+6


def cn_tz() -> dt.timezone:
    return dt.timezone(CN_UTC_OFFSET, "CST")


def kz_tz(at: dt.datetime) -> dt.timezone:
    """The Kazakh border posts' UTC offset at the instant ``at`` (aware)."""
    if at >= KZ_OFFSET_SWITCH:
        return dt.timezone(dt.timedelta(hours=5))
    return dt.timezone(dt.timedelta(hours=6))


@dataclass(frozen=True, slots=True)
class Post:
    code: str  # CN: 4-digit customs code; KZ: 8-digit customs office code
    locode: str  # UN/LOCODE, or the simulators' own code when official is False
    official: bool  # whether locode is an official UN/LOCODE
    name_native: str
    name_latin: str
    opens: dt.time  # local time
    closes: dt.time  # local time; opens == closes means 24 h


@dataclass(frozen=True, slots=True)
class Crossing:
    id: str
    cn: Post
    kz: Post
    kz_plate_region: str
    cn_plate_prefix: str  # prefecture of the Chinese side: 新F Ili, 新E Bortala, 新G Tacheng, 新H Altay
    phase: int  # joint-supervision phase: 0 none, 1 common manifest, 2 mutual recognition
    trucks_per_day: int  # mean, both directions together
    share_cn_to_kz: float  # share of trucks going China -> Kazakhstan


_CN_HOURS = (dt.time(9, 30), dt.time(18, 0))  # the Chinese posts close earlier than the Kazakh ones
_KZ_HOURS = (dt.time(7, 0), dt.time(19, 0))

CROSSINGS: tuple[Crossing, ...] = (
    Crossing(
        id="KHORGOS",
        cn=Post("9403", "CNHRS", True, "霍尔果斯", "Horgos", *_CN_HOURS),
        kz=Post("55201011", "KZNZH", False, "Нұр Жолы", "Nur Zholy", dt.time(0, 0), dt.time(0, 0)),
        kz_plate_region="19",
        cn_plate_prefix="新F",
        phase=2,
        trucks_per_day=950,
        share_cn_to_kz=0.78,
    ),
    Crossing(
        id="ALASHANKOU",
        cn=Post("9402", "CNAKL", True, "阿拉山口", "Alashankou", *_CN_HOURS),
        kz=Post("55201021", "KZDSK", False, "Достық", "Dostyk", *_KZ_HOURS),
        kz_plate_region="19",
        cn_plate_prefix="新E",
        phase=0,
        trucks_per_day=200,
        share_cn_to_kz=0.70,
    ),
    Crossing(
        id="BAKHTY",
        cn=Post("9405", "CNBKT", False, "巴克图", "Baketu", *_CN_HOURS),
        kz=Post("55301031", "KZBKT", False, "Бақты", "Bakhty", *_KZ_HOURS),
        kz_plate_region="18",
        cn_plate_prefix="新G",
        phase=0,
        trucks_per_day=150,
        share_cn_to_kz=0.65,
    ),
    Crossing(
        id="DULATA",
        cn=Post("9409", "CNDLT", True, "都拉塔", "Dulata", *_CN_HOURS),
        kz=Post("55101041", "KZKLZ", False, "Қалжат", "Kalzhat", *_KZ_HOURS),
        kz_plate_region="05",
        cn_plate_prefix="新F",
        phase=1,
        trucks_per_day=65,
        share_cn_to_kz=0.60,
    ),
    Crossing(
        id="JEMINAY",
        cn=Post("9406", "CNJEM", True, "吉木乃", "Jeminay", *_CN_HOURS),
        kz=Post("55301051", "KZMKP", False, "Майқапшағай", "Maykapchagay", *_KZ_HOURS),
        kz_plate_region="16",
        cn_plate_prefix="新H",
        phase=1,
        trucks_per_day=55,
        share_cn_to_kz=0.55,
    ),
)

CROSSINGS_BY_ID: dict[str, Crossing] = {crossing.id: crossing for crossing in CROSSINGS}
