"""The shipped classification vocabularies and the portal-label synonyms."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from catalog import enums, vocab
from catalog.errors import CatalogError

ENUM_OF = {
    "frequencies": enums.UpdateFrequency,
    "open_types": enums.OpenType,
    "share_types": enums.ShareType,
    "grades": enums.Grade,
    "org_types": enums.OrgType,
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", vocab.VOCABULARIES)
def test_every_vocabulary_loads_with_unique_codes_and_both_labels(name: str) -> None:
    terms = vocab.terms(name)
    assert terms, name
    codes = [t.code for t in terms]
    assert len(codes) == len(set(codes)), [c for c, n in Counter(codes).items() if n > 1]
    for t in terms:
        assert t.code.isascii() and t.code.strip() == t.code and t.code, t
        assert CJK.search(t.zh), t
        assert t.en.strip() and t.en.isascii(), t
        assert t.parent is None or t.parent in codes, t
    # A GB/T 4754 门类 may share its name with its only 大类 (P 教育 / P83 教育).
    zh = [
        t.zh
        for t in terms
        if name != "regions" and not (t.parent and len(vocab.children(name, t.parent)) == 1)
    ]
    assert len(zh) == len(set(zh)), f"duplicate zh labels in {name}"


def test_loaders_return_fresh_lists() -> None:
    first = vocab.domains()
    first.clear()
    assert vocab.domains(), "a caller emptying its list must not empty the cached vocabulary"


@pytest.mark.parametrize(("name", "enum"), list(ENUM_OF.items()))
def test_enum_vocabularies_label_exactly_the_enum_values(name: str, enum: type) -> None:
    assert [t.code for t in vocab.terms(name)] == [e.value for e in enum]


def test_domains_are_the_portal_theme_taxonomy() -> None:
    terms = vocab.domains()
    assert 20 <= len(terms) <= 25
    zh = {t.zh for t in terms}
    expected = "经济建设 信用服务 财税金融 交通运输 教育文化 医疗卫生 社保就业 公共安全 城建住房 资源环境 "
    expected += "农业农村 生活服务 社会救助 科技创新 商贸流通 市场监管 机构团体 气象服务 安全生产 地理空间 "
    expected += "法律服务 文化休闲 工业农业"
    assert set(expected.split()) <= zh
    assert all(re.fullmatch(r"[a-z_]+", t.code) for t in terms)
    assert vocab.label("domains", "transport") == "交通运输"
    assert vocab.label("domains", "transport", "en") == "Transport"


def test_industries_follow_gbt_4754_2017() -> None:
    terms = vocab.industries()
    sections = [t for t in terms if t.parent is None]
    assert [t.code for t in sections] == list("ABCDEFGHIJKLMNOPQRST")
    divisions = [t for t in terms if t.parent is not None]
    assert [int(t.code[1:]) for t in divisions] == list(range(1, 98))
    for t in divisions:
        assert re.fullmatch(r"[A-T]\d{2}", t.code) and t.code[0] == t.parent
    assert vocab.label("industries", "G54") == "道路运输业"
    assert vocab.label("industries", "C37") == "铁路、船舶、航空航天和其他运输设备制造业"
    assert vocab.label("industries", "S") == "公共管理、社会保障和社会组织"
    assert vocab.label("industries", "P83", "en") == "Education"
    assert [t.code for t in vocab.children("industries", "D")] == ["D44", "D45", "D46"]


def test_industries_agree_with_the_published_tree(testdata: Path) -> None:
    tree = json.loads(
        (testdata / "zh-portal-catalogs" / "industry-classification-GBT4754-2017.json").read_text("utf-8")
    )
    ours = {t.code: t.zh for t in vocab.industries()}
    for section in tree:
        assert ours[section["code"]] == section["name"]
        for division in section["children"]:
            # The upstream tree truncates 37 ("...运输设备制"); ours carries the full name.
            assert ours[section["code"] + division["code"]].startswith(division["name"])


def test_regions_are_zhejiang_with_real_codes() -> None:
    terms = vocab.regions()
    by_code = {t.code: t for t in terms}
    assert by_code["330000"].zh == "浙江省" and by_code["330000"].parent is None
    cities = vocab.children("regions", "330000")
    assert len(cities) == 11
    assert {c.zh for c in cities} >= {"杭州市", "宁波市", "温州市", "丽水市", "舟山市"}
    assert by_code["330100"].zh == "杭州市" and by_code["330102"].zh == "上城区"
    assert by_code["330102"].parent == "330100"
    for t in terms:
        assert re.fullmatch(r"33\d{4}", t.code)
        if t.parent and t.parent != "330000":
            assert t.code[:4] == t.parent[:4], t
    for city in cities:
        assert len(vocab.children("regions", city.code)) >= 3, city
    assert vocab.label("regions", "330782", "en") == "Yiwu City"


def test_regions_agree_with_official_division_codes(testdata: Path) -> None:
    areas = (testdata / "zh-open-data" / "admin-divisions" / "areas.csv").read_text("utf-8")
    official = dict(re.findall(r'^(33\d{4}),"([^"]+)"', areas, flags=re.M))
    ours = {t.code: t.zh for t in vocab.regions() if t.code[4:] != "00"}
    assert ours and all(official.get(code) == name for code, name in ours.items())


def test_label_and_term_errors() -> None:
    assert vocab.label("grades", "general_4") == "一般数据（4级）"
    assert vocab.label("open_types", "closed", lang="en") == "Not open"
    assert vocab.get_term("domains", "nope") is None
    with pytest.raises(vocab.UnknownTerm):
        vocab.label("domains", "nope")
    with pytest.raises(vocab.UnknownVocabulary):
        vocab.terms("colours")
    assert issubclass(vocab.UnknownTerm, CatalogError)


@pytest.mark.parametrize("name", vocab.VOCABULARIES)
def test_every_synonym_maps_to_an_existing_code(name: str) -> None:
    codes = {t.code for t in vocab.terms(name)}
    table = vocab.synonyms(name)
    assert {t.zh for t in vocab.terms(name)} <= set(table)
    bad = {k: v for k, v in table.items() if v not in codes}
    assert not bad


def test_synonym_file_names_only_known_vocabularies() -> None:
    raw = json.loads((Path(vocab.__file__).parent / "synonyms.json").read_text("utf-8"))
    assert set(raw) <= set(vocab.VOCABULARIES)


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("open_types", "无条件开放", "unconditional"),
        ("open_types", "普遍开放", "unconditional"),
        ("open_types", "完全开放", "unconditional"),
        ("open_types", "无条件开发", "unconditional"),
        ("open_types", "有条件开放", "conditional"),
        ("open_types", "依申请开放", "conditional"),
        ("open_types", "不予开放", "closed"),
        ("open_types", "非开放", "closed"),
        ("frequencies", "实时", "realtime"),
        ("frequencies", "每天", "daily"),
        ("frequencies", "日", "daily"),
        ("frequencies", "周", "weekly"),
        ("frequencies", "月", "monthly"),
        ("frequencies", "季度", "quarterly"),
        ("frequencies", "每半年", "yearly"),
        ("frequencies", "年", "yearly"),
        ("frequencies", "其他", "irregular"),
        ("frequencies", "每 2 日", "weekly"),
        ("frequencies", "每 3 月", "quarterly"),
        ("frequencies", "每45天", "quarterly"),
        ("frequencies", " 每年 ", "yearly"),
        ("frequencies", "Monthly", "monthly"),
        ("share_types", "不予共享", "none"),
        ("grades", "一般数据(4级)", "general_4"),
        ("grades", "核心数据", "core"),
        ("org_types", "数据交易所", "exchange_operator"),
        ("domains", "城乡建设", "housing"),
        ("domains", "金融服务", "finance"),
        ("domains", "人社服务", "employment"),
        ("domains", "气象 水文 测绘 地震", "weather"),
        ("domains", "transport", "transport"),
        ("industries", "交通运输、仓储和邮政业", "G"),
        ("industries", "信息传揄、软件和信息技术服务业", "I"),
        ("industries", "54", "G54"),
        ("industries", "道路运输业", "G54"),
        ("industries", "教育", "P"),
        ("regions", "杭州", "330100"),
        ("regions", "杭州市", "330100"),
        ("regions", "景宁", "331127"),
        ("regions", "330102", "330102"),
    ],
)
def test_lookup_maps_portal_spellings(name: str, text: str, code: str) -> None:
    assert vocab.lookup(name, text) == code


def test_lookup_answers_none_for_empty_or_unknown() -> None:
    assert vocab.lookup("domains", "暂无") is None
    assert vocab.lookup("domains", "") is None
    assert vocab.lookup("domains", None) is None
    assert vocab.lookup("domains", "长三角高价值清单") is None
    assert vocab.lookup("industries", "99") is None
    assert vocab.lookup("frequencies", "每 null null") is None


def test_lookup_all_splits_multi_valued_fields() -> None:
    assert vocab.lookup_all("domains", "城乡建设,城乡建设,城乡建设") == ["housing"]
    assert vocab.lookup_all("domains", "信息产业,教育文化") == ["science", "education"]
    assert vocab.lookup_all("domains", "文化、体育，旅游、服务业") == ["culture_leisure"]
    assert vocab.lookup_all("domains", ["公共安全", "暂无"]) == ["public_safety"]
    assert vocab.lookup_all("domains", None) == []


def _portal_values(testdata: Path, fields: tuple[str, ...]) -> Counter[str]:
    values: Counter[str] = Counter()
    for path in sorted((testdata / "zh-portal-catalogs" / "catalogs").glob("*.json")):
        for row in json.loads(path.read_text("utf-8")):
            for field in fields:
                value = row.get(field)
                for v in value if isinstance(value, list) else [value]:
                    if v is not None and str(v).strip() not in {"", "暂无", "None"}:
                        values[str(v)] += 1
    return values


@pytest.mark.parametrize(
    ("name", "fields", "share"),
    [
        ("open_types", ("开放方式", "开放属性", "开放条件", "开放类型", "开放状态"), 1.0),
        ("frequencies", ("更新频率", "更新周期"), 0.999),
        (
            "domains",
            ("所属领域", "主题分类", "数据领域", "重点领域", "领域名称", "主题领域", "所属主题"),
            0.99,
        ),
        ("industries", ("所属行业", "行业分类"), 1.0),
    ],
)
def test_crawled_portal_labels_are_covered(
    testdata: Path, name: str, fields: tuple[str, ...], share: float
) -> None:
    values = _portal_values(testdata, fields)
    assert values, fields
    mapped = sum(n for v, n in values.items() if vocab.lookup_all(name, v))
    missing = [v for v, _ in values.most_common() if not vocab.lookup_all(name, v)]
    assert mapped / values.total() >= share, missing[:20]
