"""Regenerate the demo ledger: catalog/demo/catalog.json and catalog/demo/files/*.csv.

示例数据: every organization, person, identifier and number here is synthetic; the geography (浙江省
and its division codes) is real. Deterministic: each dataset draws from its own seeded random
generator, so editing one dataset leaves the files of the others unchanged.
Run: `python -m catalog.demo.generate` (rewrites the files in place).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog import vocab

SEED = 20240601
DEMO_DIR = Path(__file__).resolve().parent
MARK = "（示例数据：内容为演示用途生成的虚构数据，地理区划真实，不代表任何真实情况。）"

Rows = list[list[Any]]
Table = tuple[list[str], Rows]

# --------------------------------------------------------------------------------------------
# Identifiers with real check characters


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "186", "187",
    "188", "189", "191", "198", "199",
)  # fmt: skip


def org_code(rng: random.Random) -> str:
    """A GB 11714 组织机构代码 (8 characters and its check character)."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(rng: random.Random, kind: str, region: str) -> str:
    """A 统一社会信用代码 with a valid GB 32100-2015 check character; kind "11" 机关, "91" 企业."""
    body = kind + region + org_code(rng)
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def resident_id(rng: random.Random, region: str, *, born_from: int = 1955, born_to: int = 2002) -> str:
    """A checksum-valid 18-digit 居民身份证号 for a person born in the given years."""
    start = dt.date(born_from, 1, 1).toordinal()
    born = dt.date.fromordinal(rng.randint(start, dt.date(born_to, 12, 28).toordinal()))
    body = f"{region}{born:%Y%m%d}{rng.randint(1, 999):03d}"
    total = sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def mobile(rng: random.Random) -> str:
    """A mainland mobile number with a real carrier prefix."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


# --------------------------------------------------------------------------------------------
# Names, places, dates

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏方邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严戴莫孔汤楼应"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红鹏建国志文斌宇浩凯晨欣怡涵轩雨佳琪思远博海燕婷俊晓"
)
_ROADS = (
    "解放路", "中山路", "延安路", "人民路", "文三路", "天目山路", "江南大道", "环城北路", "建设路", "学院路",
    "湖滨路", "体育场路", "新华路", "凤起路", "滨江大道", "世纪大道", "钱江路", "迎宾大道", "府前路", "东湖路",
)  # fmt: skip
_ZIHAO = (
    "恒达", "信和", "嘉瑞", "新辰", "明远", "华澜", "宏晟", "启航", "瑞丰", "之江", "钱塘", "东海", "越秀",
    "甬兴", "瓯越", "禾丰", "南湖", "金衢", "天目", "云栖", "锦程", "博达", "弘远", "晟泰", "卓越", "中盛",
)  # fmt: skip
_BUSINESS = (
    ("科技", "C39"), ("贸易", "F51"), ("食品", "C14"), ("纺织", "C17"), ("建设工程", "E48"),
    ("物流", "G59"), ("软件", "I65"), ("服饰", "C18"), ("机械", "C34"), ("化工", "C26"),
    ("餐饮管理", "H62"), ("电子", "C39"), ("新材料", "C26"), ("医药", "C27"), ("汽车零部件", "C36"),
)  # fmt: skip
CENTERS = {
    "330100": (120.155, 30.274), "330200": (121.550, 29.875), "330300": (120.699, 27.994),
    "330400": (120.755, 30.746), "330500": (120.088, 30.894), "330600": (120.580, 30.030),
    "330700": (119.647, 29.079), "330800": (118.859, 28.970), "330900": (122.207, 29.985),
    "331000": (121.421, 28.656), "331100": (119.923, 28.467),
}  # fmt: skip


def person(rng: random.Random) -> str:
    """A plausible Chinese personal name."""
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def cities() -> list[vocab.Term]:
    """The 11 prefecture-level cities of 浙江省."""
    return vocab.children("regions", "330000")


def counties(city: str | None = None) -> list[vocab.Term]:
    """County-level divisions, of one city or of the whole province."""
    if city is not None:
        return vocab.children("regions", city)
    return [t for c in cities() for t in vocab.children("regions", c.code)]


def city_of(code: str) -> vocab.Term:
    """The prefecture-level city a county-level code belongs to."""
    return vocab.require_term("regions", code[:4] + "00")


def point(rng: random.Random, code: str, spread: float = 0.12) -> tuple[str, str]:
    """Longitude and latitude (6 decimals, WGS-84-ish) near the centre of the city of `code`."""
    lon, lat = CENTERS[code[:4] + "00"]
    return f"{lon + rng.uniform(-spread, spread):.6f}", f"{lat + rng.uniform(-spread, spread) * 0.8:.6f}"


def address(rng: random.Random, code: str) -> str:
    """A street address inside a county-level division."""
    term = vocab.require_term("regions", code)
    return f"浙江省{city_of(code).zh}{term.zh}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"


def company(rng: random.Random, code: str) -> tuple[str, str]:
    """A fictional company name in the city of `code`, and its GB/T 4754 division."""
    business, industry = rng.choice(_BUSINESS)
    suffix = rng.choice(("有限公司", "有限公司", "股份有限公司"))
    return f"{city_of(code).zh[:-1]}{rng.choice(_ZIHAO)}{business}{suffix}", industry


def landline(rng: random.Random, code: str) -> str:
    """An office telephone number with the city's area code."""
    area = {
        "3301": "0571", "3302": "0574", "3303": "0577", "3304": "0573", "3305": "0572", "3306": "0575",
        "3307": "0579", "3308": "0570", "3309": "0580", "3310": "0576", "3311": "0578",
    }[code[:4]]  # fmt: skip
    return f"{area}-{rng.randint(8000_0000, 8899_9999)}"


def day(rng: random.Random, start: str = "2023-01-01", end: str = "2024-12-31") -> dt.date:
    """A random date in [start, end]."""
    a, b = dt.date.fromisoformat(start).toordinal(), dt.date.fromisoformat(end).toordinal()
    return dt.date.fromordinal(rng.randint(a, b))


def days(start: str, n: int, step: int = 1) -> list[dt.date]:
    """n dates from start, step days apart."""
    first = dt.date.fromisoformat(start)
    return [first + dt.timedelta(days=i * step) for i in range(n)]


def months(start: str, n: int) -> list[str]:
    """n months as YYYY-MM from start (YYYY-MM)."""
    year, month = (int(x) for x in start.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


# --------------------------------------------------------------------------------------------
# Organizations and users


def _org(
    name: str, title: str, title_en: str, org_type: str, region: str, parent: str | None, about: str
) -> dict[str, Any]:
    rng = random.Random(f"{SEED}:org:{name}")
    kind = "11" if org_type == "agency" else "91"
    code_region = region if org_type == "agency" else rng.choice(counties(region)).code
    return {
        "name": name,
        "title": title,
        "title_en": title_en,
        "org_type": org_type,
        "credit_code": credit_code(rng, kind, code_region),
        "region_code": region,
        "parent": parent,
        "description": about + MARK,
    }


ORGANIZATIONS: list[dict[str, Any]] = [
    _org("zj-dsj", "浙江省大数据发展管理局", "Zhejiang Provincial Big Data Development Administration",
         "agency", "330000", None, "省级公共数据主管部门，统筹公共数据资源目录（一本账）编制、共享与开放审核。"),
    _org("zj-jtt", "浙江省交通运输厅", "Zhejiang Provincial Department of Transport", "agency", "330000", None,
         "负责全省公路、水路交通运输行业管理，提供公交、港航、高速公路运行等数据。"),
    _org("zj-wjw", "浙江省卫生健康委员会", "Zhejiang Provincial Health Commission", "agency", "330000", None,
         "负责全省医疗卫生与健康管理，提供医疗机构、卫生统计等数据。"),
    _org("zj-scjg", "浙江省市场监督管理局", "Zhejiang Provincial Administration for Market Regulation",
         "agency", "330000", None, "负责市场主体登记、食品安全抽检与市场秩序监管。"),
    _org("zj-sthjt", "浙江省生态环境厅", "Zhejiang Provincial Department of Ecology and Environment",
         "agency", "330000", None, "负责生态环境监测与污染防治，发布空气、水环境质量数据。"),
    _org("zj-jyt", "浙江省教育厅", "Zhejiang Provincial Department of Education", "agency", "330000", None,
         "负责全省教育事业管理，提供学校名录、招生计划等数据。"),
    _org("zj-rst", "浙江省人力资源和社会保障厅",
         "Zhejiang Provincial Department of Human Resources and Social Security", "agency", "330000", None,
         "负责就业促进、社会保险与工资政策，提供岗位信息与社保数据。"),
    _org("zj-fgw", "浙江省发展和改革委员会", "Zhejiang Provincial Development and Reform Commission",
         "agency", "330000", None, "负责社会信用体系建设，归集发布行政处罚与信用信息。"),
    _org("zj-zrzyt", "浙江省自然资源厅", "Zhejiang Provincial Department of Natural Resources", "agency",
         "330000", None, "负责国土空间、测绘地理信息与地名管理。"),
    _org("zj-qxj", "浙江省气象局", "Zhejiang Provincial Meteorological Bureau", "agency", "330000", None,
         "负责气象观测、预报预警与气象服务。"),
    _org("zj-mzt", "浙江省民政厅", "Zhejiang Provincial Department of Civil Affairs", "agency", "330000", None,
         "负责社会救助、养老服务与区划地名工作。"),
    _org("zj-yjglt", "浙江省应急管理厅", "Zhejiang Provincial Department of Emergency Management", "agency",
         "330000", None, "负责安全生产综合监管与危险化学品安全监管。"),
    _org("zj-jst", "浙江省住房和城乡建设厅", "Zhejiang Provincial Department of Housing and Urban-Rural Development",
         "agency", "330000", None, "负责建筑市场、房地产市场与城乡建设管理。"),
    _org("zj-nynct", "浙江省农业农村厅", "Zhejiang Provincial Department of Agriculture and Rural Affairs",
         "agency", "330000", None, "负责农业农村经济发展与农产品市场信息监测。"),
    _org("zj-kjt", "浙江省科学技术厅", "Zhejiang Provincial Department of Science and Technology", "agency",
         "330000", None, "负责科技创新政策与高新技术企业认定管理。"),
    _org("zj-wgly", "浙江省文化广电和旅游厅",
         "Zhejiang Provincial Department of Culture, Radio, Television and Tourism", "agency", "330000", None,
         "负责文化和旅游行业管理与A级旅游景区评定。"),
    _org("hz-sjzyj", "杭州市数据资源管理局", "Hangzhou Municipal Data Resources Administration", "agency",
         "330100", "zj-dsj", "杭州市公共数据主管部门，接受省大数据发展管理局业务指导。"),
    _org("nb-jtj", "宁波市交通运输局", "Ningbo Municipal Bureau of Transport", "agency", "330200", "zj-jtt",
         "负责宁波市城市公交与港口运输管理，接受省交通运输厅业务指导。"),
    _org("wz-scjg", "温州市市场监督管理局", "Wenzhou Municipal Administration for Market Regulation", "agency",
         "330300", "zj-scjg", "负责温州市市场监管与消费维权，接受省市场监督管理局业务指导。"),
    _org("yunqi-mobility", "杭州云栖智行科技有限公司", "Hangzhou Yunqi Smart Mobility Technology Co., Ltd.",
         "enterprise", "330100", None, "城市智慧出行与充电设施运营企业。"),
    _org("ganglian-logistics", "宁波港联物流数据服务有限公司", "Ningbo Ganglian Logistics Data Services Co., Ltd.",
         "enterprise", "330200", None, "港航物流数据加工与供应链服务企业。"),
    _org("shulian-broker", "浙江数链数据经纪有限公司", "Zhejiang Shulian Data Brokerage Co., Ltd.", "broker",
         "330100", None, "数据经纪人：撮合数据供需，代理数据产品挂牌与交易。"),
    _org("xinheng-assess", "浙江信衡数据合规评估有限公司", "Zhejiang Xinheng Data Compliance Assessment Co., Ltd.",
         "service_provider", "330100", None, "第三方专业服务机构：数据合规评估、质量评价与资产评估。"),
    _org("zj-dex", "浙江大数据交易中心有限公司", "Zhejiang Big Data Exchange Center Co., Ltd.",
         "exchange_operator", "330400", None, "数据交易机构：数据产品登记、挂牌、交易撮合与结算。"),
]  # fmt: skip


def _user(
    name: str,
    fullname: str,
    memberships: list[tuple[str, str, bool]],
    *,
    roles: tuple[str, ...] = (),
    sysadmin: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "fullname": fullname,
        "email": f"{name}@example.org",
        "password": "demo-password-1",
        "sysadmin": sysadmin,
        "platform_roles": list(roles),
        "memberships": [
            {"organization": org, "role": role, "security_officer": officer}
            for org, role, officer in memberships
        ],
    }


USERS: list[dict[str, Any]] = [
    _user("wang-jianguo", "王建国", [("zj-jtt", "admin", True)]),
    _user("li-na", "李娜", [("zj-jtt", "editor", False), ("nb-jtj", "member", False)]),
    _user("chen-jing", "陈静", [("zj-dsj", "admin", True), ("hz-sjzyj", "editor", False)]),
    _user("zhang-wei", "张伟", [("yunqi-mobility", "admin", False)]),
    _user("liu-yang", "刘洋", [("shulian-broker", "admin", False)]),
    _user("zhou-ting", "周婷", [("xinheng-assess", "editor", False)]),
    _user("zhao-min", "赵敏", [("zj-dsj", "member", False)], roles=("regulator",)),
    _user("sun-lei", "孙磊", [("zj-dex", "admin", False)], roles=("operator",)),
    _user("sysadmin", "系统管理员", [], sysadmin=True),
]


# --------------------------------------------------------------------------------------------
# Tables. Each builder draws only from the generator it is handed.


def bus_routes(rng: random.Random) -> Table:
    rows = []
    stations = ["宁波火车站", "东门口", "天一广场", "鼓楼", "宁波大学", "高新区", "东部新城", "鄞州区政府",
                "南部商务区", "北仑客运站", "镇海招宝山", "江北万达", "老外滩", "月湖公园", "宁波博物馆"]  # fmt: skip
    for i, no in enumerate((1, 2, 5, 9, 14, 18, 20, 26, 31, 33, 35, 51, 108, 160, 201, 230, 336, 356, 365, 500,
                            501, 502, 505, 510, 516, 519, 520, 527, 541, 611)):  # fmt: skip
        a, b = rng.sample(stations, 2)
        rows.append([f"{no:04d}", f"{no}路", a, b, f"0{rng.choice((5, 6))}:{rng.choice(('00', '15', '30', '45'))}",
                     f"{rng.choice((18, 20, 21, 22))}:{rng.choice(('00', '30'))}", rng.choice((1, 2, 2, 2, 3)),
                     f"{rng.uniform(6, 38):.1f}", rng.choice(("宁波公交示例第一运营公司", "宁波公交示例第二运营公司")),
                     "是" if i % 3 else "否"])  # fmt: skip
    return ["线路编号", "线路名称", "起点站", "终点站", "首班时间", "末班时间", "票价(元)", "线路长度(公里)", "运营单位",
            "是否空调车"], rows  # fmt: skip


def bus_stops(rng: random.Random) -> Table:
    rows = []
    routes = bus_routes(random.Random(f"{SEED}:nb-bus-routes:routes"))[1]
    for route in routes:
        lon, lat = float(point(rng, "330203", 0.08)[0]), float(point(rng, "330203", 0.08)[1])
        for seq in range(1, rng.randint(7, 10) + 1):
            lon += rng.uniform(-0.012, 0.012)
            lat += rng.uniform(-0.01, 0.01)
            name = rng.choice(_ROADS).replace("路", "").replace("大道", "") + rng.choice(
                ("路口", "站", "小区", "公园", "新村", "医院", "学校", "菜场")
            )
            rows.append([route[0], seq, f"NB{rng.randint(1, 99999):06d}", name, f"{lon:.6f}", f"{lat:.6f}"])
    return ["线路编号", "站序", "站点编号", "站点名称", "经度", "纬度"], rows


def highway_flow(rng: random.Random) -> Table:
    stations = [
        ("杭州北", "G25长深高速"),
        ("杭州南", "G60沪昆高速"),
        ("宁波东", "G1501宁波绕城高速"),
        ("绍兴", "G92杭州湾环线高速"),
        ("义乌", "G60沪昆高速"),
        ("温州南", "G15沈海高速"),
        ("嘉兴", "G60沪昆高速"),
        ("湖州", "G50沪渝高速"),
        ("台州", "G15沈海高速"),
        ("衢州", "G60沪昆高速"),
    ]
    rows = []
    for i, (name, road) in enumerate(stations):
        base = rng.randint(9000, 42000)
        for d in days("2024-05-01", 20):
            holiday = d <= dt.date(2024, 5, 5)
            flow = int(base * (1.45 if holiday else 1.0) * rng.uniform(0.85, 1.15))
            rows.append([d.isoformat(), f"ZJ{i + 1:04d}", name, road, flow, int(flow * rng.uniform(0.9, 1.1)),
                         f"{rng.uniform(8, 35):.1f}"])  # fmt: skip
    return [
        "日期",
        "收费站编号",
        "收费站名称",
        "所属高速",
        "入口车流量(辆)",
        "出口车流量(辆)",
        "货车占比(%)",
    ], rows


def port_throughput(rng: random.Random) -> Table:
    rows = []
    for area, cargo, teu in (("北仑港区", 900, 120), ("穿山港区", 650, 95), ("镇海港区", 700, 8), ("大榭港区", 480, 40),
                             ("梅山港区", 420, 70)):  # fmt: skip
        for m in months("2023-01", 24):
            season = 0.82 if m.endswith("-02") else 1.0
            rows.append([m, area, f"{cargo * season * rng.uniform(0.9, 1.12):.1f}",
                         f"{teu * season * rng.uniform(0.9, 1.15):.2f}", f"{rng.uniform(-6, 12):.1f}"])  # fmt: skip
    return ["统计月份", "港区", "货物吞吐量(万吨)", "集装箱吞吐量(万标准箱)", "同比增长(%)"], rows


def ride_hailing_drivers(rng: random.Random) -> Table:
    rows = []
    for i in range(80):
        county = rng.choice(counties())
        pid = resident_id(rng, county.code, born_from=1965, born_to=1998)
        city = city_of(county.code)
        issued = day(rng, "2019-01-01", "2024-06-30")
        rows.append([f"浙网约驾字{city.code[:4]}{issued.year}{i + 1:05d}", person(rng),
                     "男" if int(pid[16]) % 2 else "女", pid, mobile(rng), rng.choice(("C1", "C1", "C2", "A1", "B1")),
                     f"{city.zh}交通运输局", issued.isoformat(), (issued + dt.timedelta(days=6 * 365)).isoformat(),
                     city.code])  # fmt: skip
    return ["证件编号", "姓名", "性别", "身份证号", "手机号", "准驾车型", "发证机关", "发证日期", "有效期至",
            "所属地区代码"], rows  # fmt: skip


def critical_infrastructure(rng: random.Random) -> Table:
    rows = []
    kinds = (("特大桥", "BR"), ("隧道", "TN"), ("枢纽互通", "IC"), ("集装箱码头", "PT"))
    for i in range(40):
        kind, abbr = rng.choice(kinds)
        county = rng.choice(counties())
        lon, lat = point(rng, county.code, 0.2)
        rows.append([f"ZJ-{abbr}-{i + 1:04d}", kind, f"{county.zh[:-1]}示例{kind}{i + 1:02d}", county.code, lon, lat,
                     f"2024-06-0{rng.randint(1, 9)} {rng.randint(0, 23):02d}:{rng.choice(('00', '30'))}:00",
                     rng.choice(("1类", "1类", "2类", "2类", "3类")),
                     rng.choice(("正常通行", "正常通行", "正常通行", "限速通行", "交通管制"))])  # fmt: skip
    return ["设施编号", "设施类型", "设施名称", "所在地区代码", "经度", "纬度", "监测时间", "技术状况等级",
            "通行状态"], rows  # fmt: skip


def hospitals(rng: random.Random) -> Table:
    rows = []
    kinds = (
        ("人民医院", "综合医院", ("三级甲等", "三级乙等", "二级甲等"), (500, 2200)),
        ("中医院", "中医医院", ("三级甲等", "二级甲等"), (200, 1000)),
        ("妇幼保健院", "妇幼保健院", ("三级甲等", "二级甲等"), (150, 600)),
        ("社区卫生服务中心", "社区卫生服务中心", ("未评级",), (0, 60)),
        ("第一医院", "综合医院", ("二级乙等", "二级甲等"), (200, 700)),
    )
    for county in counties():
        for suffix, kind, levels, (lo, hi) in rng.sample(kinds, rng.choice((1, 1, 2))):
            lon, lat = point(rng, county.code)
            name = (f"{county.zh}{rng.choice(_ROADS)[:2]}街道{suffix}" if kind == "社区卫生服务中心"
                    else f"{city_of(county.code).zh[:-1]}市{county.zh}{suffix}")  # fmt: skip
            rows.append([org_code(rng), name, kind, rng.choice(levels), county.code, address(rng, county.code),
                         rng.randint(lo, hi), landline(rng, county.code), lon, lat])  # fmt: skip
    return ["机构代码", "机构名称", "机构类别", "医院等级", "行政区划代码", "地址", "核定床位数", "联系电话", "经度",
            "纬度"], rows  # fmt: skip


def vaccination_clinics(rng: random.Random) -> Table:
    rows = []
    for county in counties("330100"):
        for kind in rng.sample(
            ("儿童预防接种门诊", "成人预防接种门诊", "狂犬病暴露预防处置门诊", "产科接种室"), 3
        ):
            rows.append([f"{county.zh}{rng.choice(_ROADS)[:2]}社区卫生服务中心{kind}", kind, county.code,
                         address(rng, county.code), rng.choice(("周一至周五 08:00-11:30 13:30-16:30",
                                                                 "周一至周六 08:00-16:30", "每日 00:00-24:00")),
                         landline(rng, county.code)])  # fmt: skip
    return ["门诊名称", "门诊类型", "行政区划代码", "地址", "服务时间", "咨询电话"], rows


def patient_visits(rng: random.Random) -> Table:
    diagnoses = (
        ("J06.9", "急性上呼吸道感染"),
        ("I10", "特发性（原发性）高血压"),
        ("E11.9", "2型糖尿病"),
        ("K29.7", "胃炎"),
        ("M54.5", "腰痛"),
        ("J20.9", "急性支气管炎"),
        ("N39.0", "泌尿道感染"),
    )
    rows = []
    for i in range(60):
        county = rng.choice(counties())
        d = day(rng, "2024-01-01", "2024-06-30")
        code, name = rng.choice(diagnoses)
        rows.append([f"MZ{d:%Y%m%d}{i + 1:06d}", person(rng), resident_id(rng, county.code, born_from=1940),
                     mobile(rng), d.isoformat(), f"{city_of(county.code).zh[:-1]}市{county.zh}人民医院",
                     rng.choice(("内科", "外科", "全科", "呼吸内科", "内分泌科")), code, name,
                     f"{rng.uniform(25, 900):.2f}"])  # fmt: skip
    return ["就诊流水号", "患者姓名", "身份证号", "手机号", "就诊日期", "就诊机构", "科室", "诊断编码", "诊断名称",
            "费用合计(元)"], rows  # fmt: skip


def health_stats(rng: random.Random) -> Table:
    rows = []
    for city in cities():
        base = rng.randint(1500, 6500)
        beds = base * rng.randint(9, 14)
        for year in range(2019, 2024):
            grow = 1 + 0.03 * (year - 2019)
            rows.append([year, city.zh, city.code, int(base * grow), int(beds * grow), int(beds * grow * 0.42),
                         int(beds * grow * 0.5)])  # fmt: skip
    return ["年份", "地区", "行政区划代码", "医疗卫生机构数(个)", "实有床位数(张)", "执业(助理)医师数(人)",
            "注册护士数(人)"], rows  # fmt: skip


def enterprise_registrations(rng: random.Random) -> Table:
    rows = []
    for _ in range(200):
        county = rng.choice(counties())
        name, _industry = company(rng, county.code)
        if name.endswith("股份有限公司"):
            kind = rng.choice(("股份有限公司(非上市、自然人投资或控股)", "股份有限公司(非上市)"))
        else:
            kind = rng.choice(
                ("有限责任公司(自然人投资或控股)", "有限责任公司(自然人独资)", "有限责任公司(国有控股)")
            )
        rows.append([credit_code(rng, "91", county.code), name, kind, person(rng),
                     rng.choice((10, 50, 100, 200, 500, 1000, 3000)), day(rng, "2005-01-01", "2024-06-30").isoformat(),
                     f"{city_of(county.code).zh}{county.zh}市场监督管理局", rng.choice(("存续", "存续", "存续", "在业", "注销")),
                     address(rng, county.code)])  # fmt: skip
    return ["统一社会信用代码", "企业名称", "企业类型", "法定代表人", "注册资本(万元)", "成立日期", "登记机关",
            "登记状态", "住所"], rows  # fmt: skip


def food_sampling(rng: random.Random) -> Table:
    foods = (
        ("纯牛奶", "乳制品", "250mL/盒"),
        ("大米", "粮食加工品", "5kg/袋"),
        ("酱油", "调味品", "500mL/瓶"),
        ("饼干", "饼干", "200g/袋"),
        ("鸡蛋", "食用农产品", "散装"),
        ("青菜", "食用农产品", "散装"),
        ("黄酒", "酒类", "500mL/瓶"),
        ("豆腐", "豆制品", "散装"),
        ("面包", "糕点", "120g/袋"),
    )
    bad = ("菌落总数", "大肠菌群", "过氧化值(以脂肪计)", "毒死蜱", "苯甲酸及其钠盐(以苯甲酸计)")
    rows = []
    for i in range(150):
        county = rng.choice(counties())
        food, category, spec = rng.choice(foods)
        ok = rng.random() > 0.06
        maker = "/" if category == "食用农产品" else company(rng, rng.choice(counties()).code)[0]
        rows.append([f"DC24{county.code}{i + 1:06d}", food, category, spec, maker,
                     f"{county.zh}{rng.choice(_ZIHAO)}超市", county.code, day(rng, "2024-01-01", "2024-06-30").isoformat(),
                     "合格" if ok else "不合格", "" if ok else rng.choice(bad)])  # fmt: skip
    return ["抽检编号", "食品名称", "食品分类", "规格型号", "标称生产企业", "被抽样单位", "被抽样单位所在地",
            "抽样日期", "检验结论", "不合格项目"], rows  # fmt: skip


def consumer_complaints(rng: random.Random) -> Table:
    rows = []
    for i in range(100):
        county = rng.choice(counties("330300"))
        d = day(rng, "2024-01-01", "2024-06-30")
        rows.append([f"WZ{d:%Y%m%d}{i + 1:04d}", d.isoformat(), person(rng), mobile(rng), company(rng, county.code)[0],
                     rng.choice(("商品质量", "售后服务", "虚假宣传", "预付卡消费", "合同纠纷", "价格争议")),
                     county.code, rng.choice(("已办结", "已办结", "处理中", "已转办")), rng.choice((0, 0, 120, 300, 1500, 6800))])  # fmt: skip
    return ["登记编号", "登记日期", "投诉人", "联系电话", "被投诉单位", "投诉类别", "所在地区代码", "处理状态",
            "挽回经济损失(元)"], rows  # fmt: skip


# HJ 633-2012 breakpoints (IAQI, concentration) for the hourly pollutants used here.
_IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
_BREAKS = {
    "PM2.5": (0, 35, 75, 115, 150, 250, 350, 500),
    "PM10": (0, 50, 150, 250, 350, 420, 500, 600),
    "O3": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "NO2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
}


def _iaqi(pollutant: str, value: float) -> int:
    bp = _BREAKS[pollutant]
    for i in range(1, len(bp)):
        if value <= bp[i]:
            lo, hi = bp[i - 1], bp[i]
            return round(_IAQI[i - 1] + (_IAQI[i] - _IAQI[i - 1]) * (value - lo) / (hi - lo))
    return 500


def _aqi_level(aqi: int) -> str:
    for limit, level in ((50, "优"), (100, "良"), (150, "轻度污染"), (200, "中度污染"), (300, "重度污染")):
        if aqi <= limit:
            return level
    return "严重污染"


def air_stations(rng: random.Random) -> Table:
    rows = []
    n = 1
    for city in cities():
        for county in rng.sample(counties(city.code), 2):
            lon, lat = point(rng, county.code, 0.06)
            rows.append([f"{1200 + n:04d}A", f"{county.zh}监测站", city.zh, county.code, lon, lat, "国控"])
            n += 1
    return ["站点编码", "站点名称", "城市", "行政区划代码", "经度", "纬度", "站点类型"], rows


def air_quality(rng: random.Random) -> Table:
    stations = air_stations(random.Random(f"{SEED}:zj-air-quality:stations"))[1]
    rows = []
    for hour in range(8, 20):
        for code, name, city, *_ in stations:
            pm25 = max(3.0, rng.gauss(32, 14))
            pm10 = pm25 * rng.uniform(1.3, 1.9)
            o3 = max(10.0, rng.gauss(60 + hour * 6, 25))
            no2 = max(4.0, rng.gauss(28, 10))
            iaqi = {"PM2.5": _iaqi("PM2.5", pm25), "PM10": _iaqi("PM10", pm10), "O3": _iaqi("O3", o3),
                    "NO2": _iaqi("NO2", no2)}  # fmt: skip
            aqi = max(iaqi.values())
            primary = max(iaqi, key=lambda k: iaqi[k]) if aqi > 50 else "—"
            rows.append([f"2024-06-01 {hour:02d}:00:00", city, name, code, aqi, round(pm25), round(pm10), round(o3),
                         round(no2), rng.randint(3, 9), f"{rng.uniform(0.3, 0.9):.1f}", primary, _aqi_level(aqi)])  # fmt: skip
    return ["监测时间", "城市", "站点名称", "站点编码", "AQI", "PM2.5(μg/m³)", "PM10(μg/m³)", "O3(μg/m³)",
            "NO2(μg/m³)", "SO2(μg/m³)", "CO(mg/m³)", "首要污染物", "空气质量级别"], rows  # fmt: skip


def water_quality(rng: random.Random) -> Table:
    sections = (
        ("闸口", "钱塘江"),
        ("桐庐", "富春江"),
        ("上浦闸", "曹娥江"),
        ("梅岙", "瓯江"),
        ("三江口", "椒江"),
        ("姚江大闸", "甬江"),
        ("杭长桥", "东苕溪"),
        ("王江泾", "京杭运河"),
        ("街口", "新安江"),
        ("开化", "常山港"),
    )
    classes = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ")
    rows = []
    for name, river in sections:
        base = rng.uniform(0.1, 0.8)
        for d in days("2024-01-01", 26, 7):
            nh3 = max(0.02, rng.gauss(base, 0.15))
            tp = max(0.01, nh3 * rng.uniform(0.12, 0.3))
            do = max(3.0, rng.gauss(8, 1.2))
            grade = max(sum(nh3 > x for x in (0.15, 0.5, 1.0, 1.5)), sum(tp > x for x in (0.02, 0.1, 0.2, 0.3)),
                        sum(do < x for x in (7.5, 6, 5, 3)))  # fmt: skip
            rows.append([f"{river}{name}", river, d.isoformat(), classes[grade], f"{rng.uniform(6.8, 8.2):.2f}",
                         f"{do:.2f}", f"{rng.uniform(1.2, 4.5):.2f}", f"{nh3:.3f}", f"{tp:.3f}"])  # fmt: skip
    return ["断面名称", "所在流域", "监测日期", "水质类别", "pH(无量纲)", "溶解氧(mg/L)", "高锰酸盐指数(mg/L)",
            "氨氮(mg/L)", "总磷(mg/L)"], rows  # fmt: skip


def key_polluters(rng: random.Random) -> Table:
    pollutants = {"水环境": "化学需氧量、氨氮、总磷", "大气环境": "二氧化硫、氮氧化物、颗粒物",
                  "土壤污染重点监管": "重金属、挥发性有机物"}  # fmt: skip
    rows = []
    for _ in range(80):
        county = rng.choice(counties())
        name, industry = company(rng, county.code)
        code = credit_code(rng, "91", county.code)
        kind = rng.choice(tuple(pollutants))
        rows.append([name, code, county.code, f"{industry}{vocab.label('industries', industry)}", f"{code}001P",
                     kind, pollutants[kind]])  # fmt: skip
    return ["单位名称", "统一社会信用代码", "行政区划代码", "行业类别", "排污许可证编号", "重点排污类别",
            "主要污染物"], rows  # fmt: skip


def schools(rng: random.Random) -> Table:
    kinds = (
        ("小学", 300, 2500),
        ("初级中学", 400, 2000),
        ("九年一贯制学校", 600, 2600),
        ("高级中学", 900, 3200),
        ("完全中学", 800, 2800),
    )
    rows = []
    for i in range(150):
        county = rng.choice(counties())
        kind, lo, hi = rng.choice(kinds)
        students = rng.randint(lo, hi)
        place = rng.choice(_ROADS)[:2]
        name = f"{city_of(county.code).zh[:-1]}市{county.zh}{place}{'实验' if i % 4 == 0 else ''}{kind.replace('初级', '')}"
        rows.append([f"21{county.code[:4]}{i + 1:04d}", name, kind, rng.choice(("地方教育部门", "地方教育部门", "民办")),
                     county.code, address(rng, county.code), students, students // rng.randint(12, 16)])  # fmt: skip
    return ["学校标识码", "学校名称", "办学类型", "举办者类型", "行政区划代码", "地址", "在校生数(人)",
            "专任教师数(人)"], rows  # fmt: skip


def student_status(rng: random.Random) -> Table:
    rows = []
    for _ in range(50):
        county = rng.choice(counties())
        pid = resident_id(rng, county.code, born_from=2008, born_to=2017)
        born = dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
        grade = min(12, max(1, 2024 - born.year - 6))
        rows.append([f"G{pid}", person(rng), "男" if int(pid[16]) % 2 else "女", pid, born.isoformat(),
                     f"{county.zh}{rng.choice(_ROADS)[:2]}{'小学' if grade <= 6 else '中学'}", f"{grade}年级",
                     f"{rng.randint(1, 12)}班", person(rng), mobile(rng)])  # fmt: skip
    return ["全国学籍号", "姓名", "性别", "身份证号", "出生日期", "学校名称", "年级", "班级", "监护人姓名",
            "监护人手机号"], rows  # fmt: skip


def admission_plan(rng: random.Random) -> Table:
    colleges = ("浙江大学", "浙江工业大学", "浙江师范大学", "宁波大学", "杭州电子科技大学", "浙江理工大学",
                "浙江工商大学", "温州医科大学", "浙江财经大学", "中国计量大学")  # fmt: skip
    majors = (
        ("计算机科学与技术", 4, 6380),
        ("临床医学", 5, 6380),
        ("汉语言文学", 4, 5300),
        ("会计学", 4, 5300),
        ("机械工程", 4, 6380),
        ("数据科学与大数据技术", 4, 6380),
        ("法学", 4, 5300),
        ("英语", 4, 5300),
        ("土木工程", 4, 6380),
        ("护理学", 4, 6380),
        ("电子信息工程", 4, 6380),
        ("金融学", 4, 5300),
    )
    rows = []
    for c, college in enumerate(colleges):
        for major, years, fee in rng.sample(majors, 6):
            for year in (2023, 2024):
                rows.append(
                    [year, f"{c * 37 + 1:04d}", college, major, "不限", rng.randint(20, 260), years, fee]
                )
    return [
        "年份",
        "院校代码",
        "院校名称",
        "专业名称",
        "选考科目要求",
        "计划数(人)",
        "学制(年)",
        "学费(元/年)",
    ], rows


def job_postings(rng: random.Random) -> Table:
    jobs = (
        ("Java开发工程师", "本科", 12000, 25000),
        ("会计", "大专", 5000, 8000),
        ("数控车床操作工", "不限", 6000, 9500),
        ("电商运营", "大专", 6000, 12000),
        ("仓库管理员", "高中", 4500, 6500),
        ("护士", "大专", 6000, 10000),
        ("销售代表", "不限", 5000, 15000),
        ("数据分析师", "本科", 10000, 20000),
        ("外贸业务员", "本科", 6000, 13000),
        ("餐厅服务员", "不限", 4200, 5800),
        ("电工", "中专", 6500, 9000),
        ("幼儿教师", "大专", 4800, 7500),
    )
    rows = []
    for i in range(200):
        county = rng.choice(counties())
        title, edu, lo, hi = rng.choice(jobs)
        d = day(rng, "2024-05-01", "2024-06-30")
        rows.append([f"ZJGW{d:%Y%m}{i + 1:05d}", title, company(rng, county.code)[0], county.code, edu,
                     rng.choice(("不限", "1-3年", "3-5年", "应届毕业生")), lo, hi, rng.randint(1, 20), d.isoformat(),
                     (d + dt.timedelta(days=60)).isoformat()])  # fmt: skip
    return ["岗位编号", "岗位名称", "招聘单位", "工作地点代码", "学历要求", "工作经验", "月薪下限(元)", "月薪上限(元)",
            "招聘人数", "发布日期", "有效期至"], rows  # fmt: skip


def social_insurance(rng: random.Random) -> Table:
    kinds = ("企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险")
    rows = []
    for _ in range(60):
        county = rng.choice(counties())
        base = rng.choice((4462, 5200, 6800, 9000, 12000, 22311))
        rows.append([f"{county.code}{rng.randint(0, 9_999_999_999):010d}", person(rng),
                     resident_id(rng, county.code, born_from=1965, born_to=2002), company(rng, county.code)[0],
                     rng.choice(kinds), base, rng.choice(months("2024-01", 6)), county.code])  # fmt: skip
    return [
        "个人编号",
        "姓名",
        "身份证号",
        "参保单位",
        "险种",
        "缴费基数(元)",
        "缴费月份",
        "参保地代码",
    ], rows


def minimum_wage(rng: random.Random) -> Table:
    tiers = {"一类": (2490, 24.0), "二类": (2260, 22.0), "三类": (2010, 20.0)}
    rows = []
    for county in counties():
        tier = (
            "一类"
            if county.code[4] == "0" and county.code[:4] in ("3301", "3302")
            else rng.choice(("二类", "三类", "一类"))
        )
        monthly, hourly = tiers[tier]
        rows.append(
            [city_of(county.code).zh, county.zh, county.code, tier, monthly, f"{hourly:.1f}", "2023-12-01"]
        )
    return ["设区市", "县(市、区)", "行政区划代码", "档次", "月最低工资标准(元)", "非全日制小时最低工资标准(元)",
            "执行日期"], rows  # fmt: skip


_CITY_ABBR = {
    "3301": "杭", "3302": "甬", "3303": "温", "3304": "嘉", "3305": "湖", "3306": "绍", "3307": "金", "3308": "衢",
    "3309": "舟", "3310": "台", "3311": "丽",
}  # fmt: skip


def admin_penalties(rng: random.Random) -> Table:
    acts = (
        (
            "销售不符合食品安全标准的食品",
            "《中华人民共和国食品安全法》第一百二十四条",
            "市监",
            "市场监督管理局",
        ),
        ("未按规定公示年度报告", "《企业信息公示暂行条例》第十七条", "市监", "市场监督管理局"),
        ("发布虚假广告", "《中华人民共和国广告法》第五十五条", "市监", "市场监督管理局"),
        ("未取得排污许可证排放污染物", "《排污许可管理条例》第三十三条", "环", "生态环境局"),
        ("车辆超限运输", "《公路安全保护条例》第六十四条", "交", "交通运输局"),
    )
    rows = []
    for i in range(150):
        county = rng.choice(counties())
        act, basis, short, authority = rng.choice(acts)
        d = day(rng, "2023-01-01", "2024-06-30")
        kind = rng.choice(("罚款", "警告", "罚款;没收违法所得"))
        rows.append([company(rng, county.code)[0], credit_code(rng, "91", county.code), person(rng),
                     f"{_CITY_ABBR[county.code[:4]]}{short}罚决字〔{d.year}〕{i + 1}号", act, basis, kind,
                     "" if kind == "警告" else f"{rng.choice((0.5, 1, 2, 3.5, 5, 10, 20)):.2f}", d.isoformat(),
                     f"{city_of(county.code).zh}{authority}", (d + dt.timedelta(days=3 * 365)).isoformat()])  # fmt: skip
    return ["行政相对人名称", "统一社会信用代码", "法定代表人", "处罚决定书文号", "违法行为类型", "处罚依据", "处罚类别",
            "罚款金额(万元)", "处罚决定日期", "处罚机关", "公示截止期"], rows  # fmt: skip


def dishonest_subjects(rng: random.Random) -> Table:
    rows = []
    for i in range(80):
        county = rng.choice(counties())
        natural = rng.random() < 0.6
        d = day(rng, "2022-01-01", "2024-06-30")
        rows.append([person(rng) if natural else company(rng, county.code)[0], "自然人" if natural else "法人",
                     resident_id(rng, county.code) if natural else credit_code(rng, "91", county.code),
                     d.isoformat(), rng.choice(("有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度",
                                                "以虚假诉讼等方法规避执行")),
                     f"{city_of(county.code).zh}中级人民法院" if i % 5 == 0 else f"{county.zh}人民法院",
                     f"({d.year})浙{county.code[2:6]}执{rng.randint(1, 9999)}号"])  # fmt: skip
    return ["失信主体名称", "主体类型", "证件号码", "列入日期", "列入原因", "认定机关", "执行案号"], rows


def place_names(rng: random.Random) -> Table:
    kinds = (
        ("路", "道路"),
        ("桥", "桥梁"),
        ("小区", "居民点"),
        ("村", "自然村"),
        ("公园", "公园"),
        ("广场", "广场"),
    )
    rows = []
    for i in range(200):
        county = rng.choice(counties())
        suffix, kind = rng.choice(kinds)
        lon, lat = point(rng, county.code, 0.2)
        rows.append([f"{county.code}{i + 1:06d}", f"{rng.choice(_ZIHAO)}{suffix}", kind, county.zh, county.code, lon,
                     lat, day(rng, "1995-01-01", "2024-06-30").isoformat()])  # fmt: skip
    return ["地名代码", "标准名称", "地名类别", "所在政区", "行政区划代码", "经度", "纬度", "批准时间"], rows


def _dms(value: float) -> str:
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    return f"{degrees}°{minutes:02d}′{(minutes_f - minutes) * 60:06.3f}″"


def control_points(rng: random.Random) -> Table:
    rows = []
    for i in range(60):
        county = rng.choice(counties())
        lon, lat = (float(x) for x in point(rng, county.code, 0.25))
        height = rng.uniform(3, 900)
        rows.append([f"ZJ{rng.choice('BC')}{i + 1:05d}", rng.choice(("B级GNSS点", "C级GNSS点", "二等水准点")),
                     f"{county.zh[:-1]}{i + 1:02d}", county.code, _dms(lon), _dms(lat), f"{height + 10.2:.4f}",
                     f"{height:.4f}", "CGCS2000", rng.choice(("完好", "完好", "完好", "损坏")), rng.choice((2019, 2021, 2023))])  # fmt: skip
    return ["点号", "等级", "点名", "所在地区代码", "大地经度", "大地纬度", "大地高(m)", "正常高(m)", "坐标系统",
            "标石状况", "测量年份"], rows  # fmt: skip


WEATHER_STATIONS = (
    ("58457", "杭州", "330100"), ("58562", "鄞州", "330200"), ("58659", "温州", "330300"),
    ("58452", "嘉兴", "330400"), ("58450", "湖州", "330500"), ("58453", "绍兴", "330600"),
    ("58549", "金华", "330700"), ("58633", "衢州", "330800"), ("58477", "定海", "330900"),
    ("58665", "洪家", "331000"), ("58646", "丽水", "331100"),
)  # fmt: skip


def weather_hourly(rng: random.Random) -> Table:
    rows = []
    for d in days("2024-06-20", 2):
        for hour in range(24):
            temp = 25.5 + 3.5 * (1 - abs(hour - 14) / 12) + rng.uniform(-0.6, 0.6)
            rain = f"{rng.expovariate(1 / 3):.1f}" if 3 <= hour <= 11 else "0.0"
            rows.append([f"{d.isoformat()} {hour:02d}:00", "58457", "杭州", f"{temp:.1f}", rain,
                         rng.randint(82, 99), rng.choice(("E", "NE", "SE", "S")), f"{rng.uniform(0.8, 3.6):.1f}",
                         f"{rng.uniform(1001, 1006):.1f}"])  # fmt: skip
    return ["观测时间", "区站号", "站名", "气温(℃)", "小时降水量(mm)", "相对湿度(%)", "风向", "风速(m/s)",
            "本站气压(hPa)"], rows  # fmt: skip


def weather_daily(rng: random.Random) -> Table:
    rows = []
    for code, name, city in WEATHER_STATIONS:
        warm = 0.0 if city in ("330300", "331000") else -0.8
        for d in days("2024-06-01", 25):
            rain = rng.random() < 0.45  # 梅雨
            hi = rng.gauss(30.5 + warm, 2.2) - (2.5 if rain else 0)
            lo = hi - rng.uniform(5, 9)
            rows.append([d.isoformat(), code, name, vocab.label("regions", city), f"{hi:.1f}", f"{lo:.1f}",
                         f"{(hi + lo) / 2:.1f}", f"{rng.expovariate(1 / 18):.1f}" if rain else "0.0",
                         f"{rng.uniform(1, 4.5):.1f}", rng.randint(70, 98) if rain else rng.randint(55, 80),
                         rng.choice(("小雨", "中雨", "大雨", "雷阵雨")) if rain else rng.choice(("晴", "多云", "阴"))])  # fmt: skip
    return ["观测日期", "区站号", "站名", "城市", "最高气温(℃)", "最低气温(℃)", "平均气温(℃)", "降水量(mm)",
            "平均风速(m/s)", "相对湿度(%)", "天气现象"], rows  # fmt: skip


def typhoon_warnings(rng: random.Random) -> Table:
    storms = (
        ("2023", "杜苏芮", "2023-07-26"),
        ("2023", "卡努", "2023-08-01"),
        ("2023", "海葵", "2023-09-02"),
        ("2024", "格美", "2024-07-24"),
        ("2024", "贝碧嘉", "2024-09-14"),
        ("2024", "普拉桑", "2024-09-18"),
    )
    colours = ("蓝色", "黄色", "橙色", "红色")
    rows = []
    for year, storm, start in storms:
        t = dt.datetime.fromisoformat(start + " 10:00")
        for level in range(rng.randint(2, 4)):
            area = "、".join(c.zh for c in rng.sample(cities(), rng.randint(2, 5)))
            rows.append([t.strftime("%Y-%m-%d %H:%M"), f"台风{colours[level]}预警信号", storm, year, "浙江省气象台",
                         area, "升级" if level else "发布"])  # fmt: skip
            t += dt.timedelta(hours=rng.choice((6, 12, 18)))
        rows.append(
            [t.strftime("%Y-%m-%d %H:%M"), "解除台风预警信号", storm, year, "浙江省气象台", "全省", "解除"]
        )
    return ["发布时间", "预警信号", "台风名称", "年份", "发布单位", "影响区域", "操作"], rows


def elderly_care(rng: random.Random) -> Table:
    rows = []
    for _ in range(120):
        county = rng.choice(counties())
        beds = rng.randint(30, 600)
        rows.append([f"{county.zh}{rng.choice(_ZIHAO)}{rng.choice(('颐养院', '养老院', '康养中心', '敬老院'))}",
                     rng.choice(("公办", "民办", "公建民营")), county.code, address(rng, county.code), beds,
                     int(beds * rng.uniform(0.4, 0.8)), rng.choice(("自理、介助、介护", "介助、介护", "自理")),
                     landline(rng, county.code), rng.choice(("一级", "二级", "三级", "四级", "五级", "未评定"))])  # fmt: skip
    return ["机构名称", "机构性质", "行政区划代码", "地址", "床位数(张)", "护理型床位数(张)", "收住对象", "联系电话",
            "等级评定"], rows  # fmt: skip


def subsistence_roll(rng: random.Random) -> Table:
    rows = []
    for _ in range(100):
        county = rng.choice(counties())
        household = rng.randint(1, 5)
        covered = rng.randint(1, household)
        rows.append([person(rng), resident_id(rng, county.code, born_from=1940, born_to=1995), mobile(rng), household,
                     covered, covered * rng.choice((1094, 1140, 1200, 1290)) // rng.choice((1, 2)), county.code,
                     f"{rng.choice(_ROADS)[:2]}街道", day(rng, "2021-01-01", "2024-06-30").isoformat()])  # fmt: skip
    return ["户主姓名", "身份证号", "联系电话", "家庭人口(人)", "保障人数(人)", "月保障金额(元)", "行政区划代码",
            "乡镇(街道)", "审批日期"], rows  # fmt: skip


def subsistence_summary(rng: random.Random) -> Table:
    rows = []
    for city in cities():
        for m in months("2024-01", 6):
            households = rng.randint(9000, 42000)
            rows.append([m, city.zh, city.code, households, int(households * rng.uniform(1.3, 1.6)),
                         f"{households * rng.uniform(0.09, 0.13):.1f}"])  # fmt: skip
    return ["统计月份", "地区", "行政区划代码", "保障户数(户)", "保障人数(人)", "支出金额(万元)"], rows


def hazardous_chemicals(rng: random.Random) -> Table:
    chemicals = (
        "液氯",
        "甲醇",
        "液化石油气",
        "硫酸",
        "盐酸",
        "液氨",
        "汽油",
        "二甲苯",
        "乙酸乙酯",
        "过氧化氢",
    )
    rows = []
    for i in range(80):
        county = rng.choice(counties())
        name, _ = company(rng, county.code)
        rows.append([name.replace("有限公司", "化工有限公司") if "化工" not in name else name,
                     credit_code(rng, "91", county.code), county.code,
                     f"(浙){rng.choice(('WH', 'AJ'))}安许证字〔{rng.choice((2022, 2023, 2024))}〕-{county.code[2:4]}-{i + 1:04d}",
                     rng.choice(("生产", "经营(带储存)", "经营(不带储存)", "使用")),
                     "、".join(rng.sample(chemicals, rng.randint(1, 3))), rng.choice(("一级", "二级", "三级", "四级", "无")),
                     day(rng, "2025-01-01", "2027-12-31").isoformat()])  # fmt: skip
    return ["企业名称", "统一社会信用代码", "行政区划代码", "许可证编号", "经营方式", "主要危险化学品", "重大危险源等级",
            "许可证有效期至"], rows  # fmt: skip


def safety_inspections(rng: random.Random) -> Table:
    rows = []
    for _ in range(200):
        county = rng.choice(counties())
        found = rng.randint(0, 12)
        rows.append([day(rng, "2024-01-01", "2024-06-30").isoformat(), f"{county.zh}应急管理局",
                     company(rng, county.code)[0], rng.choice(("危险化学品", "建筑施工", "工贸", "消防", "交通运输", "烟花爆竹")),
                     found, found - rng.randint(0, min(found, 2)), rng.choice((0, 0, 0, 0.5, 1, 2, 3)), county.code])  # fmt: skip
    return ["检查日期", "检查单位", "被检查单位", "行业领域", "发现隐患数(项)", "已整改数(项)", "罚款金额(万元)",
            "行政区划代码"], rows  # fmt: skip


def presale_permits(rng: random.Random) -> Table:
    rows = []
    for i in range(80):
        county = rng.choice(counties("330100"))
        area = rng.uniform(8000, 90000)
        rows.append([f"杭售许字(2024)第{i + 1:06d}号", f"{rng.choice(_ZIHAO)}{rng.choice(('府', '花园', '云庐', '公馆', '里'))}",
                     company(rng, county.code)[0].replace("有限公司", "房地产开发有限公司"), address(rng, county.code),
                     county.code, f"{area:.2f}", int(area / rng.uniform(95, 140)),
                     day(rng, "2024-01-01", "2024-06-30").isoformat()])  # fmt: skip
    return [
        "预售证号",
        "项目名称",
        "开发企业",
        "坐落位置",
        "行政区划代码",
        "预售面积(㎡)",
        "预售套数(套)",
        "发证日期",
    ], rows


def permit_number(region: str, issued: dt.date, seq: int) -> str:
    """施工许可证编号 (region, date, sequence); one that would pass as a 身份证号 is skipped."""
    while True:
        number = f"{region}{issued:%Y%m%d}{seq % 100:02d}01"
        total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
        if _ID_CHECK[total % 11] != number[17]:
            return number
        seq += 1


def construction_permits(rng: random.Random) -> Table:
    rows = []
    for i in range(150):
        county = rng.choice(counties())
        d = day(rng, "2024-01-01", "2024-06-30")
        rows.append([permit_number(county.code, d, i), f"{county.zh}{rng.choice(_ZIHAO)}{rng.choice(('安置房', '学校', '产业园', '综合体', '医院'))}项目",
                     company(rng, county.code)[0], company(rng, county.code)[0].replace("有限公司", "建设有限公司"),
                     address(rng, county.code), f"{rng.uniform(800, 120000):.2f}", f"{rng.uniform(3000, 200000):.2f}",
                     d.isoformat(), f"{county.zh}住房和城乡建设局"])  # fmt: skip
    return ["施工许可证编号", "工程名称", "建设单位", "施工单位", "工程地址", "合同价格(万元)", "建筑面积(㎡)",
            "发证日期", "发证机关"], rows  # fmt: skip


def produce_prices(rng: random.Random) -> Table:
    markets = ("杭州农副产品物流中心", "宁波蔬菜副食品批发市场", "温州菜篮子农副产品批发市场", "嘉兴水果市场")
    items = (
        ("大白菜", "一级", 2.2),
        ("青菜", "一级", 3.0),
        ("番茄", "一级", 5.6),
        ("黄瓜", "一级", 4.4),
        ("土豆", "统货", 3.2),
        ("白条猪肉", "统货", 22.0),
        ("鸡蛋", "统货", 9.8),
        ("草鱼", "活鱼", 15.0),
        ("带鱼", "冻品", 28.0),
        ("苹果", "富士一级", 9.0),
    )
    rows = []
    for market in markets:
        for item, spec, price in items:
            for d in days("2024-06-01", 7):
                avg = price * rng.uniform(0.9, 1.1)
                rows.append(
                    [d.isoformat(), market, item, spec, f"{avg * 0.9:.2f}", f"{avg * 1.12:.2f}", f"{avg:.2f}"]
                )
    return ["日期", "市场名称", "品种", "规格", "最低价(元/公斤)", "最高价(元/公斤)", "平均价(元/公斤)"], rows


def hightech_enterprises(rng: random.Random) -> Table:
    fields = ("电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务", "新能源与节能", "资源与环境",
              "先进制造与自动化")  # fmt: skip
    rows = []
    for i in range(200):
        county = rng.choice(counties())
        year = rng.choice((2022, 2023))
        rows.append([i + 1, company(rng, county.code)[0], credit_code(rng, "91", county.code),
                     f"GR{year}33{rng.randint(0, 9_999_999):07d}"[:15], county.code, rng.choice(fields), year])  # fmt: skip
    return ["序号", "企业名称", "统一社会信用代码", "证书编号", "行政区划代码", "技术领域", "认定年份"], rows


def scenic_spots(rng: random.Random) -> Table:
    famous = (
        ("杭州西湖风景名胜区", "330106"),
        ("千岛湖风景名胜区", "330127"),
        ("乌镇古镇旅游区", "330483"),
        ("普陀山风景名胜区", "330903"),
        ("雁荡山风景名胜区", "330382"),
        ("溪口—滕头旅游景区", "330213"),
        ("南浔古镇景区", "330503"),
        ("横店影视城景区", "330783"),
        ("西溪湿地旅游区", "330106"),
        ("天台山景区", "331023"),
        ("神仙居景区", "331024"),
        ("江郎山·廿八都景区", "330881"),
        ("仙都景区", "331122"),
        ("鲁迅故里·沈园景区", "330602"),
    )
    rows = []
    for name, code in famous:
        lon, lat = point(rng, code, 0.1)
        rows.append([name, "5A", code, address(rng, code), lon, lat, "08:00-17:30", landline(rng, code)])
    for _ in range(86):
        county = rng.choice(counties())
        lon, lat = point(rng, county.code, 0.2)
        rows.append([f"{county.zh[:-1]}{rng.choice(_ZIHAO)}{rng.choice(('古村', '湿地公园', '森林公园', '文化园', '茶园', '峡谷'))}景区",
                     rng.choice(("4A", "3A", "3A")), county.code, address(rng, county.code), lon, lat,
                     rng.choice(("08:00-17:00", "08:30-17:30", "全天开放")), landline(rng, county.code)])  # fmt: skip
    return ["景区名称", "等级", "行政区划代码", "地址", "经度", "纬度", "开放时间", "咨询电话"], rows


def economic_indicators(rng: random.Random) -> Table:
    indicators = (
        ("地区生产总值", "亿元", 4600),
        ("规模以上工业增加值", "亿元", 1050),
        ("社会消费品零售总额", "亿元", 1800),
        ("固定资产投资", "亿元", 1700),
        ("一般公共预算收入", "亿元", 650),
        ("城镇居民人均可支配收入", "元", 19500),
        ("农村居民人均可支配收入", "元", 11800),
    )
    rows = []
    for name, unit, quarter in indicators:
        for year in (2023, 2024):
            for q in range(1, 5):
                value = quarter * q * (1.06 if year == 2024 else 1) * rng.uniform(0.97, 1.03)
                rows.append(
                    [
                        name,
                        f"{year}年1-{q * 3}月",
                        f"{year}Q{q}",
                        f"{value:.2f}",
                        unit,
                        f"{rng.uniform(2, 9):.1f}",
                    ]
                )
    return ["指标名称", "统计期", "统计期代码", "累计值", "单位", "同比增长(%)"], rows


def catalog_stats(rng: random.Random) -> Table:
    rows = []
    agencies = [o for o in ORGANIZATIONS if o["org_type"] == "agency"]
    for m in months("2024-01", 6):
        for org in agencies:
            catalogued = rng.randint(40, 900)
            rows.append([m, org["title"], org["credit_code"], catalogued, int(catalogued * rng.uniform(0.7, 0.98)),
                         int(catalogued * rng.uniform(0.1, 0.4)), rng.randint(0, 250_000), catalogued * rng.randint(8, 25)])  # fmt: skip
    return ["统计月份", "部门名称", "部门统一社会信用代码", "编目数据资源数(个)", "已挂接资源数(个)", "开放数据集数(个)",
            "共享调用次数(次)", "数据项总数(个)"], rows  # fmt: skip


def charging_stations(rng: random.Random) -> Table:
    rows = []
    for i in range(60):
        county = rng.choice(counties("330100"))
        lon, lat = point(rng, county.code, 0.1)
        rows.append([f"HZ-CS-{i + 1:05d}", f"{county.zh}{rng.choice(_ROADS)[:2]}{rng.choice(('公共充电站', '超充站', 'P+R停车场充电站'))}",
                     "杭州云栖智行科技有限公司", county.code, address(rng, county.code), lon, lat, rng.randint(2, 24),
                     rng.randint(0, 20), "0.8-1.6元/千瓦时"])  # fmt: skip
    return ["充电站编号", "充电站名称", "运营商", "行政区划代码", "地址", "经度", "纬度", "快充桩数(个)", "慢充桩数(个)",
            "收费标准"], rows  # fmt: skip


def charging_status(rng: random.Random) -> Table:
    stations = charging_stations(random.Random(f"{SEED}:hz-ev-charging:stations"))[1]
    rows = []
    for minute in (0, 15, 30):
        for s in stations:
            rows.append([s[0], f"2024-06-01 10:{minute:02d}:00", rng.randint(0, s[7]), rng.randint(0, s[8]),
                         rng.choice(("正常", "正常", "正常", "部分故障"))])  # fmt: skip
    return ["充电站编号", "更新时间", "空闲快充桩数(个)", "空闲慢充桩数(个)", "运行状态"], rows


# --------------------------------------------------------------------------------------------
# Datasets

_OFFICE = {
    "zj-dsj": "数据资源处", "zj-jtt": "科技信息处", "zj-wjw": "规划信息处", "zj-scjg": "信息中心",
    "zj-sthjt": "生态环境监测处", "zj-jyt": "发展规划处", "zj-rst": "信息中心", "zj-fgw": "信用建设处",
    "zj-zrzyt": "测绘地理信息处", "zj-qxj": "观测与网络处", "zj-mzt": "社会救助处", "zj-yjglt": "科技和信息化处",
    "zj-jst": "信息中心", "zj-nynct": "市场与信息化处", "zj-kjt": "高新技术处", "zj-wgly": "资源开发处",
    "hz-sjzyj": "数据资源处", "nb-jtj": "科技信息处", "wz-scjg": "消费者权益保护处", "yunqi-mobility": "数据运营部",
}  # fmt: skip
_LICENSE = {"unconditional": "cc-by-4.0", "conditional": "other-at", "closed": "other-closed"}

# (file key, resource name, description, builder, encoding)
FileSpec = tuple[str, str, str, Callable[[random.Random], Table], str]


def _ds(
    name: str,
    title: str,
    title_en: str,
    org: str,
    domain: str,
    industry: str,
    tags: list[str],
    open_share_grade: tuple[str, str, str],
    frequency: str,
    spatial: str,
    notes: str,
    source_system: str,
    files: list[FileSpec],
    *,
    temporal: tuple[str, str] = ("2023-01-01", "2024-12-31"),
) -> dict[str, Any]:
    open_type, share_type, grade = open_share_grade
    return {
        "name": name,
        "title": title,
        "title_en": title_en,
        "notes": notes + MARK,
        "organization": org,
        "domain": domain,
        "industry": industry,
        "tags": tags,
        "open_type": open_type,
        "share_type": share_type,
        "grade": grade,
        "update_frequency": frequency,
        "spatial": spatial,
        "temporal_start": temporal[0],
        "temporal_end": temporal[1],
        "license_id": _LICENSE[open_type],
        "contact_name": _OFFICE[org],
        "contact_email": f"{org}@example.org",
        "source_system": source_system,
        "_files": files,
    }


OPEN1 = ("unconditional", "unconditional", "general_1")
OPEN2 = ("unconditional", "unconditional", "general_2")
COND3 = ("conditional", "conditional", "general_3")
CLOSED4 = ("closed", "conditional", "general_4")
IMPORTANT = ("closed", "conditional", "important")
CORE = ("closed", "none", "core")

DATASETS: list[dict[str, Any]] = [
    _ds("nb-bus-routes", "宁波市公交线路及站点信息", "Ningbo bus routes and stops", "nb-jtj", "transport", "G54",
        ["公交", "线路", "站点", "出行"], OPEN1, "monthly", "330200",
        "宁波市城市公交线路基本信息及各线路途经站点的站序与经纬度。可用于出行导航、公交线网分析等场景。",
        "宁波市公共交通运营监管系统",
        [("routes", "公交线路", "线路编号、起终点、首末班时间与票价。", bus_routes, "utf-8"),
         ("stops", "公交站点", "各线路途经站点的站序、名称及经纬度(WGS-84)。", bus_stops, "utf-8")]),
    _ds("zj-highway-traffic", "浙江省高速公路收费站日交通量", "Daily traffic at Zhejiang expressway toll stations",
        "zj-jtt", "transport", "G54", ["高速公路", "交通量", "收费站"], OPEN2, "daily", "330000",
        "全省主要高速公路收费站逐日出入口车流量及货车占比，含五一假期高峰。", "浙江省综合交通运行监测系统",
        [("daily", "收费站日交通量", "2024年5月逐日出入口车流量。", highway_flow, "utf-8")],
        temporal=("2024-05-01", "2024-05-20")),
    _ds("nb-port-throughput", "宁波舟山港宁波港区货物吞吐量", "Ningbo port areas: monthly cargo throughput",
        "nb-jtj", "transport", "G55", ["港口", "吞吐量", "集装箱", "航运"], OPEN1, "monthly", "330200",
        "宁波各港区逐月货物吞吐量与集装箱吞吐量统计。", "宁波港口统计直报系统",
        [("monthly", "港区月度吞吐量", "本文件采用 GBK 编码(旧系统导出)，用于演示编码自动识别。", port_throughput, "gbk")]),
    _ds("zj-ride-hailing-drivers", "浙江省网络预约出租汽车驾驶员证核发信息",
        "Licences issued to ride-hailing drivers in Zhejiang", "zj-jtt", "transport", "G54",
        ["网约车", "驾驶员", "从业资格"], COND3, "monthly", "330000",
        "全省网约车驾驶员证核发记录，含驾驶员身份证号与手机号等个人信息，须申请并脱敏后使用。",
        "浙江省道路运输管理信息系统",
        [("licences", "驾驶员证核发记录", "含身份证号、手机号列(敏感)。", ride_hailing_drivers, "utf-8")]),
    _ds("zj-transport-critical-infra", "浙江省交通关键基础设施运行监测数据",
        "Operational monitoring of Zhejiang's critical transport infrastructure", "zj-jtt", "transport", "G54",
        ["关键基础设施", "桥梁", "隧道", "监测"], CORE, "realtime", "330000",
        "特大桥梁、隧道、枢纽互通及集装箱码头的实时运行与技术状况监测数据，属核心数据，不予开放、不予共享。",
        "浙江省交通基础设施安全监测平台",
        [("monitoring", "设施监测快照", "设施位置与技术状况等级。", critical_infrastructure, "utf-8")],
        temporal=("2024-06-01", "2024-06-09")),
    _ds("zj-hospitals", "浙江省医疗机构名录", "Directory of medical institutions in Zhejiang", "zj-wjw", "health",
        "Q84", ["医院", "医疗机构", "床位"], OPEN1, "quarterly", "330000",
        "全省县级以上医院、妇幼保健院及社区卫生服务中心的名称、类别、等级、床位与联系方式。",
        "浙江省卫生健康统计直报系统",
        [("directory", "医疗机构名录", "机构名称、等级、地址与经纬度。", hospitals, "utf-8-sig")]),
    _ds("hz-vaccination-clinics", "杭州市预防接种门诊信息", "Vaccination clinics in Hangzhou", "zj-wjw", "health",
        "Q84", ["疫苗", "预防接种", "门诊"], OPEN1, "irregular", "330100",
        "杭州市各区县预防接种门诊的类型、地址、服务时间与咨询电话。", "浙江省免疫规划信息系统",
        [("clinics", "接种门诊", "各区县接种门诊清单。", vaccination_clinics, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-patient-visits", "浙江省居民门诊就诊记录", "Outpatient visit records of Zhejiang residents", "zj-wjw",
        "health", "Q84", ["就诊", "电子健康档案", "门诊"], CLOSED4, "daily", "330000",
        "全民健康信息平台归集的门诊就诊记录，含患者身份信息与诊断，属敏感个人信息，不予开放。",
        "浙江省全民健康信息平台",
        [("visits", "门诊就诊记录", "含姓名、身份证号、手机号与诊断(敏感)。", patient_visits, "utf-8")],
        temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-health-statistics", "浙江省卫生资源统计", "Health resources statistics of Zhejiang", "zj-wjw", "health",
        "Q84", ["卫生统计", "床位", "医师", "护士"], OPEN1, "yearly", "330000",
        "各设区市医疗卫生机构数、床位数、执业(助理)医师与注册护士人数年度统计。", "浙江省卫生健康统计直报系统",
        [("yearly", "分市卫生资源", "2019—2023年分市统计。", health_stats, "utf-8")], temporal=("2019-01-01", "2023-12-31")),
    _ds("zj-enterprise-registrations", "浙江省企业登记信息", "Business registrations in Zhejiang", "zj-scjg",
        "market_regulation", "S92", ["企业登记", "市场主体", "统一社会信用代码"], OPEN2, "daily", "330000",
        "市场主体登记的企业名称、类型、法定代表人、注册资本、成立日期与登记状态。", "浙江省市场主体登记系统",
        [("registrations", "企业登记信息", "含统一社会信用代码(校验位有效)。", enterprise_registrations, "utf-8")]),
    _ds("zj-food-sampling", "浙江省食品安全监督抽检结果", "Food safety sampling results in Zhejiang", "zj-scjg",
        "market_regulation", "S92", ["食品安全", "抽检", "不合格"], OPEN1, "monthly", "330000",
        "食品安全监督抽检的食品名称、生产企业、被抽样单位、检验结论与不合格项目。", "浙江省食品安全抽检监测系统",
        [("results", "抽检结果", "2024年上半年抽检结果。", food_sampling, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("wz-consumer-complaints", "温州市消费投诉登记信息", "Consumer complaints registered in Wenzhou", "wz-scjg",
        "market_regulation", "S92", ["消费维权", "投诉", "12315"], COND3, "weekly", "330300",
        "温州市受理的消费投诉登记、分类与处理结果，含投诉人姓名与手机号，须申请并脱敏后使用。",
        "全国12315平台(温州)",
        [("complaints", "投诉登记", "含投诉人手机号(敏感)。", consumer_complaints, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-air-quality", "浙江省城市空气质量实时监测", "Real-time urban air quality in Zhejiang", "zj-sthjt",
        "environment", "N77", ["空气质量", "AQI", "PM2.5", "环境监测", "大气"], OPEN1, "realtime", "330000",
        "全省国控空气质量监测站点的逐小时AQI与六项污染物浓度，按HJ 633-2012计算空气质量指数。",
        "浙江省生态环境监测数据平台",
        [("hourly", "逐小时监测数据", "2024年6月1日08—19时各站点数据。", air_quality, "utf-8"),
         ("stations", "监测站点", "站点编码、位置与类型。", air_stations, "utf-8")], temporal=("2024-06-01", "2024-06-01")),
    _ds("zj-surface-water", "浙江省地表水水质自动监测周报", "Weekly surface water quality in Zhejiang", "zj-sthjt",
        "environment", "N77", ["水质", "地表水", "断面", "河流"], OPEN1, "weekly", "330000",
        "主要河流国控断面的水质类别及pH、溶解氧、高锰酸盐指数、氨氮、总磷监测值。", "浙江省水质自动监测系统",
        [("weekly", "断面水质周报", "按GB 3838-2002评价水质类别。", water_quality, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-key-polluters", "浙江省重点排污单位名录", "Key pollutant-discharging entities in Zhejiang", "zj-sthjt",
        "environment", "N77", ["排污许可", "重点排污单位", "污染源"], OPEN2, "yearly", "330000",
        "纳入重点排污单位名录的企业、行业类别、排污许可证编号及主要污染物。", "全国排污许可证管理信息平台(浙江)",
        [("list", "重点排污单位", "行业类别按GB/T 4754-2017。", key_polluters, "utf-8")], temporal=("2024-01-01", "2024-12-31")),
    _ds("zj-schools", "浙江省中小学校名录", "Primary and secondary schools in Zhejiang", "zj-jyt", "education",
        "P83", ["学校", "中小学", "教育"], OPEN1, "yearly", "330000",
        "全省中小学校名称、办学类型、举办者、地址及在校生与专任教师人数。", "浙江省教育事业统计系统",
        [("schools", "学校名录", "学校标识码为字符串，保留前导零。", schools, "utf-8")]),
    _ds("zj-student-status", "浙江省中小学生学籍信息", "Student status records in Zhejiang", "zj-jyt", "education",
        "P83", ["学籍", "学生", "未成年人"], CLOSED4, "daily", "330000",
        "中小学生学籍信息，含未成年人身份证号及监护人联系方式，属敏感个人信息，不予开放。", "全国中小学生学籍信息管理系统(浙江)",
        [("students", "学籍信息", "含身份证号、监护人手机号(敏感)。", student_status, "utf-8")]),
    _ds("zj-admission-plan", "浙江省普通高校招生计划", "University admission quotas in Zhejiang", "zj-jyt",
        "education", "P83", ["高考", "招生计划", "高校"], OPEN1, "yearly", "330000",
        "在浙普通高校分专业招生计划数、学制与学费。", "浙江省教育考试院招生计划系统",
        [("plan", "分专业招生计划", "2023—2024年。", admission_plan, "utf-8")], temporal=("2023-01-01", "2024-12-31")),
    _ds("zj-job-postings", "浙江省人力资源市场岗位信息", "Job vacancies on Zhejiang's public job market", "zj-rst",
        "employment", "L72", ["就业", "招聘", "岗位", "薪资"], OPEN1, "weekly", "330000",
        "公共就业服务平台发布的招聘岗位、学历与经验要求、薪资区间及招聘人数。", "浙江省公共就业服务平台",
        [("postings", "招聘岗位", "2024年5—6月发布的岗位。", job_postings, "utf-8")], temporal=("2024-05-01", "2024-06-30")),
    _ds("zj-social-insurance", "浙江省社会保险参保缴费记录", "Social insurance contribution records in Zhejiang",
        "zj-rst", "employment", "S94", ["社保", "参保", "缴费"], IMPORTANT, "monthly", "330000",
        "全省参保人员逐月缴费明细，规模化汇聚后属重要数据，不予开放，政务共享须经审批。", "浙江省社会保险信息系统",
        [("contributions", "缴费明细", "含身份证号(敏感)。", social_insurance, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-minimum-wage", "浙江省最低工资标准", "Minimum wage standards in Zhejiang", "zj-rst", "employment", "S94",
        ["最低工资", "工资标准", "劳动保障"], OPEN1, "irregular", "330000",
        "各县(市、区)适用的最低工资档次、月最低工资标准与非全日制小时最低工资标准。", "浙江省人力社保政策库",
        [("standards", "最低工资标准", "按县(市、区)列示。", minimum_wage, "utf-8")]),
    _ds("zj-admin-penalties", "浙江省行政处罚信用信息", "Administrative penalties (credit information) in Zhejiang",
        "zj-fgw", "credit", "S92", ["信用", "行政处罚", "双公示"], OPEN2, "daily", "330000",
        "“双公示”行政处罚信息：相对人、决定书文号、违法行为、处罚依据、类别与金额。", "信用浙江信息平台",
        [("penalties", "行政处罚", "处罚决定书文号含〔〕等全角符号。", admin_penalties, "utf-8")]),
    _ds("zj-dishonest-subjects", "浙江省失信被执行人名单", "Dishonest judgment debtors in Zhejiang", "zj-fgw",
        "credit", "S92", ["失信", "被执行人", "联合惩戒"], COND3, "weekly", "330000",
        "纳入失信被执行人名单的自然人与法人，含自然人身份证号，须申请并脱敏后使用。", "信用浙江信息平台",
        [("list", "失信名单", "证件号码列混合身份证号与统一社会信用代码(敏感)。", dishonest_subjects, "utf-8")]),
    _ds("zj-place-names", "浙江省标准地名信息", "Standard place names in Zhejiang", "zj-zrzyt", "geospatial", "N79",
        ["地名", "地名地址", "地理信息"], OPEN1, "quarterly", "330000",
        "经批准的道路、桥梁、居民点、自然村等标准地名及其位置。", "浙江省地名信息库",
        [("names", "标准地名", "地名代码为字符串。", place_names, "utf-8")]),
    _ds("zj-control-points", "浙江省测绘基准控制点成果", "Geodetic control points of Zhejiang", "zj-zrzyt",
        "geospatial", "M74", ["测绘", "控制点", "CGCS2000"], IMPORTANT, "yearly", "330000",
        "GNSS控制点与水准点的坐标、高程成果，属重要数据，不予开放。", "浙江省测绘成果管理系统",
        [("points", "控制点成果", "经纬度为度分秒格式。", control_points, "utf-8")]),
    _ds("zj-weather-daily", "浙江省主要城市逐日气象观测", "Daily weather observations in Zhejiang cities", "zj-qxj",
        "weather", "M74", ["气象", "气温", "降水", "天气"], OPEN1, "daily", "330000",
        "11个设区市国家基本气象站的逐日最高/最低气温、降水量、风速与相对湿度，时段为2024年梅雨期。",
        "浙江省气象综合业务平台",
        [("daily", "逐日观测", "2024年6月逐日观测。", weather_daily, "utf-8"),
         ("hourly", "杭州站逐时观测", "2024年6月20—21日入梅暴雨过程逐时数据。", weather_hourly, "utf-8")], temporal=("2024-06-01", "2024-06-25")),
    _ds("zj-typhoon-warnings", "浙江省台风预警信号发布记录", "Typhoon warning signals issued in Zhejiang", "zj-qxj",
        "weather", "M74", ["台风", "预警", "防汛"], OPEN1, "irregular", "330000",
        "台风蓝色、黄色、橙色、红色预警信号的发布、升级与解除记录。", "浙江省突发事件预警信息发布系统",
        [("warnings", "预警信号记录", "2023—2024年。", typhoon_warnings, "utf-8")]),
    _ds("zj-elderly-care", "浙江省养老服务机构名录", "Elderly care institutions in Zhejiang", "zj-mzt",
        "social_assistance", "Q85", ["养老", "养老机构", "床位"], OPEN1, "quarterly", "330000",
        "全省养老机构的性质、地址、床位数、护理型床位数与等级评定。", "浙江省养老服务信息系统",
        [("institutions", "养老机构", "机构名录。", elderly_care, "utf-8")]),
    _ds("zj-subsistence-allowance", "浙江省最低生活保障对象信息", "Recipients of minimum living allowance in Zhejiang",
        "zj-mzt", "social_assistance", "S94", ["低保", "社会救助", "民生"], COND3, "monthly", "330000",
        "低保对象名册(含户主身份证号与联系电话，须申请并脱敏后使用)及分市汇总。", "浙江省大救助信息系统",
        [("roll", "低保对象名册", "含身份证号、联系电话(敏感)。", subsistence_roll, "utf-8"),
         ("summary", "分市汇总", "逐月保障户数、人数与支出。", subsistence_summary, "utf-8")],
        temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-hazardous-chemicals", "浙江省危险化学品企业安全许可信息", "Hazardous chemicals permits in Zhejiang",
        "zj-yjglt", "work_safety", "C26", ["危险化学品", "安全许可", "重大危险源"], COND3, "yearly", "330000",
        "危险化学品生产、经营、使用企业的安全许可与重大危险源等级，涉及公共安全，有条件开放。", "浙江省危险化学品风险防控平台",
        [("permits", "安全许可", "许可证编号含全角括号。", hazardous_chemicals, "utf-8")]),
    _ds("zj-safety-inspections", "浙江省安全生产执法检查情况", "Work safety inspections in Zhejiang", "zj-yjglt",
        "work_safety", "S92", ["安全生产", "执法检查", "隐患"], OPEN2, "monthly", "330000",
        "各级应急管理部门安全生产执法检查的行业领域、发现隐患、整改与罚款情况。", "浙江省应急管理综合应用",
        [("inspections", "执法检查", "2024年上半年。", safety_inspections, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("hz-presale-permits", "杭州市商品房预售许可信息", "Pre-sale permits for housing in Hangzhou", "zj-jst",
        "housing", "K70", ["房地产", "预售许可", "商品房"], OPEN1, "weekly", "330100",
        "杭州市商品房预售许可证号、项目、开发企业、预售面积与套数。", "浙江省房地产市场监测系统",
        [("permits", "预售许可", "2024年上半年发证。", presale_permits, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-construction-permits", "浙江省建筑工程施工许可信息", "Construction permits in Zhejiang", "zj-jst",
        "housing", "E47", ["施工许可", "建筑工程", "工程建设"], OPEN2, "monthly", "330000",
        "建筑工程施工许可证编号、工程名称、建设与施工单位、合同价格与建筑面积。", "浙江省建筑市场监管公共服务平台",
        [("permits", "施工许可", "施工许可证编号为字符串。", construction_permits, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("zj-produce-prices", "浙江省农产品批发市场价格", "Wholesale prices of farm produce in Zhejiang", "zj-nynct",
        "agriculture", "F51", ["农产品", "价格", "批发市场", "菜篮子"], OPEN1, "daily", "330000",
        "主要农产品批发市场蔬菜、肉禽蛋、水产与水果的逐日最低、最高与平均批发价。", "浙江省农产品市场信息监测系统",
        [("daily", "逐日批发价", "2024年6月第一周。", produce_prices, "utf-8")], temporal=("2024-06-01", "2024-06-07")),
    _ds("zj-hightech-enterprises", "浙江省高新技术企业名单", "High-tech enterprises recognised in Zhejiang",
        "zj-kjt", "science", "M75", ["高新技术企业", "科技创新", "认定"], OPEN1, "yearly", "330000",
        "经认定的高新技术企业名称、统一社会信用代码、证书编号与技术领域。", "浙江省科技管理信息系统",
        [("list", "高新技术企业", "2022—2023年认定。", hightech_enterprises, "utf-8")], temporal=("2022-01-01", "2023-12-31")),
    _ds("zj-scenic-spots", "浙江省A级旅游景区名录", "A-grade tourist attractions in Zhejiang", "zj-wgly",
        "culture_leisure", "R90", ["旅游", "景区", "文旅"], OPEN1, "irregular", "330000",
        "全省A级旅游景区的名称、等级、地址、位置、开放时间与咨询电话。", "浙江省文化和旅游资源库",
        [("spots", "A级景区", "景区名录。", scenic_spots, "utf-8")]),
    _ds("hz-economic-indicators", "杭州市主要经济指标", "Key economic indicators of Hangzhou", "hz-sjzyj", "economy",
        "S92", ["统计", "GDP", "经济运行"], OPEN1, "quarterly", "330100",
        "杭州市地区生产总值、工业增加值、社零总额、固定资产投资、财政收入与居民收入的季度累计值。",
        "杭州市统计数据共享库",
        [("quarterly", "季度经济指标", "2023—2024年季度累计。", economic_indicators, "utf-8")]),
    _ds("zj-catalog-statistics", "浙江省公共数据目录编制情况", "Public data catalog compilation statistics",
        "zj-dsj", "institutions", "S92", ["公共数据", "数据目录", "一本账"], OPEN1, "monthly", "330000",
        "各部门公共数据资源目录编目、挂接、开放与共享调用情况的月度统计。", "浙江省一体化智能化公共数据平台",
        [("monthly", "目录编制统计", "按部门逐月统计。", catalog_stats, "utf-8")], temporal=("2024-01-01", "2024-06-30")),
    _ds("hz-ev-charging", "杭州市公共充电桩实时状态", "Real-time status of public EV chargers in Hangzhou",
        "yunqi-mobility", "life_services", "I64", ["充电桩", "新能源汽车", "出行"], OPEN2, "realtime", "330100",
        "企业运营的公共充电站位置、桩数、收费标准及空闲桩数的实时快照，由企业按授权运营要求提供。",
        "云栖智行充电运营平台",
        [("stations", "充电站", "充电站位置与桩数。", charging_stations, "utf-8"),
         ("status", "实时状态", "每15分钟一次的空闲桩数快照。", charging_status, "utf-8")],
        temporal=("2024-06-01", "2024-06-01")),
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Writing


def render_csv(table: Table) -> str:
    """The table as CSV text (CRLF line ends, as spreadsheet exports have them)."""
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def build() -> tuple[dict[str, Any], dict[str, bytes]]:
    """The demo spec and the bytes of every file it names (keys relative to the demo folder)."""
    files: dict[str, bytes] = {}
    datasets = []
    for entry in DATASETS:
        ds = {k: v for k, v in entry.items() if k != "_files"}
        resources = []
        for key, name, description, builder, encoding in entry["_files"]:
            path = f"files/{ds['name']}-{key}.csv"
            rng = random.Random(f"{SEED}:{ds['name']}:{key}")
            files[path] = render_csv(builder(rng)).encode(encoding)
            resource = {"name": name, "description": description, "file": path, "format": "CSV"}
            if encoding != "utf-8":
                resource["encoding"] = encoding
            resources.append(resource)
        ds["resources"] = resources
        datasets.append(ds)
    spec = {"organizations": ORGANIZATIONS, "users": USERS, "datasets": datasets}
    return spec, files


def render_spec(spec: dict[str, Any]) -> str:
    """catalog.json text: one organization, user or dataset per block, UTF-8, stable key order."""
    return json.dumps(spec, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    """Rewrite catalog.json and files/*.csv; remove CSV files that no dataset names any more."""
    spec, files = build()
    folder = DEMO_DIR / "files"
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.csv"):
        if f"files/{stale.name}" not in files:
            stale.unlink()
    for path, data in files.items():
        (DEMO_DIR / path).write_bytes(data)
    (DEMO_DIR / "catalog.json").write_text(render_spec(spec), encoding="utf-8")
    total = sum(len(b) for b in files.values())
    print(f"{len(spec['datasets'])} datasets, {len(files)} files, {total / 1024:.0f} KiB of CSV")


if __name__ == "__main__":
    main()
