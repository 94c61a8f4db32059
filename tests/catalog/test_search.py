"""Faceted full-text search: Chinese and English, facets, visibility, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from catalog.search import (
    FACETS,
    HL_END,
    HL_START,
    InvalidSearchQuery,
    SearchDocument,
    SearchQuery,
    SearchResult,
    index_document,
    index_documents,
    install_fts,
    remove_document,
    search,
)

ORG_A = uuid.uuid4()
ORG_B = uuid.uuid4()
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(session: Session) -> Iterator[Session]:
    """The test session with full-text search installed (idempotent after create_all)."""
    install_fts(session.connection())
    session.commit()
    yield session


def make_doc(**overrides: Any) -> SearchDocument:
    """A published dataset document; keywords override any field."""
    n = overrides.pop("n", 0)
    data: dict[str, Any] = {
        "dataset_id": uuid.uuid4(),
        "name": f"dataset-{uuid.uuid4().hex[:8]}",
        "title": "未命名数据集",
        "status": "published",
        "owner_org_id": ORG_A,
        "organization": "org-a",
        "organization_title": "甲单位",
        "metadata_modified_at": T0 + timedelta(days=n),
    }
    data.update(overrides)
    return SearchDocument(**data)


def find(session: Session, text: str = "", **kw: Any) -> SearchResult:
    """Search as an anonymous caller unless told otherwise."""
    kw.setdefault("limit", 100)
    return search(session, SearchQuery(text=text, **kw))


def titles(result: SearchResult) -> list[str]:
    return [hit.title for hit in result.items]


def test_two_character_chinese_queries(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="深圳市公交车辆实时位置", notes="城市交通运行监测"),
            make_doc(title="医疗机构名录", notes="全市医院与诊所"),
            make_doc(title="企业登记信息", notes="工商注册"),
        ],
    )
    db.commit()
    assert titles(find(db, "交通")) == ["深圳市公交车辆实时位置"]
    assert titles(find(db, "医疗")) == ["医疗机构名录"]
    assert titles(find(db, "公交")) == ["深圳市公交车辆实时位置"]
    # A bigram that jieba would not cut out as a word still matches.
    assert titles(find(db, "构名")) == ["医疗机构名录"]
    # Several words: every one must occur, not necessarily side by side.
    assert titles(find(db, "交通 公交")) == ["深圳市公交车辆实时位置"]
    assert titles(find(db, "公交医疗")) == []
    assert find(db, "水利").total == 0


def test_longer_chinese_words(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="医疗机构与公共卫生统计"),
            make_doc(title="深圳 城市 大数据"),
            make_doc(title="深圳市交通运输局"),
        ],
    )
    db.commit()
    # A compound of two-character words asks for each word, wherever it stands.
    assert titles(find(db, "医疗卫生")) == ["医疗机构与公共卫生统计"]
    assert titles(find(db, "醫療衛生統計")) == ["医疗机构与公共卫生统计"]
    # Other long words must occur as written.
    assert titles(find(db, "深圳市")) == ["深圳市交通运输局"]
    assert titles(find(db, "运输局")) == ["深圳市交通运输局"]
    assert sorted(titles(find(db, "深圳"))) == ["深圳 城市 大数据", "深圳市交通运输局"]


def test_traditional_and_simplified_find_each_other(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="人口统计数据", notes="按区县统计"),
            make_doc(title="醫療機構數據", notes="繁體中文的資料"),
        ],
    )
    db.commit()
    assert set(titles(find(db, "數據"))) == {"人口统计数据", "醫療機構數據"}
    assert titles(find(db, "醫療")) == ["醫療機構數據"]
    assert titles(find(db, "医疗")) == ["醫療機構數據"]
    assert titles(find(db, "资料")) == ["醫療機構數據"]
    assert titles(find(db, "統計")) == ["人口统计数据"]


def test_english_words_case_and_plurals(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="道路", title_en="Road Traffic Counts", notes="Hourly counts of vehicles"),
            make_doc(title="空气", title_en="Air Quality", notes="PM2.5 readings by station"),
        ],
    )
    db.commit()
    assert titles(find(db, "traffic")) == ["道路"]
    assert titles(find(db, "ROADS")) == ["道路"]
    assert titles(find(db, "vehicle")) == ["道路"]
    assert titles(find(db, "pm2.5")) == ["空气"]
    assert titles(find(db, "air quality")) == ["空气"]
    assert titles(find(db, "air traffic")) == []
    # Stop words do not have to appear in the document.
    assert titles(find(db, "counts of the vehicles")) == ["道路"]


def test_column_names_and_organizations_are_searchable(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(
                title="公交刷卡记录",
                column_names=["card_no", "station_name", "刷卡时间"],
                organization="sz-transport",
                organization_title="深圳市交通运输局",
                organization_title_en="Shenzhen Transport Bureau",
            ),
            make_doc(title="学校名录", column_names=["school_code"], organization_title="教育局"),
        ],
    )
    db.commit()
    assert titles(find(db, "station_name")) == ["公交刷卡记录"]
    assert titles(find(db, "刷卡时间")) == ["公交刷卡记录"]
    assert titles(find(db, "school")) == ["学校名录"]
    assert titles(find(db, "运输局")) == ["公交刷卡记录"]
    assert titles(find(db, "transport bureau")) == ["公交刷卡记录"]
    assert titles(find(db, "教育局")) == ["学校名录"]


def test_highlight_marks_matched_words(db: Session) -> None:
    index_document(
        db,
        make_doc(
            title="醫療機構名錄", notes="收录全市医疗机构的名称、地址和 Hospital beds。" + "补充说明。" * 60
        ),
    )
    db.commit()
    hit = find(db, "医疗 hospitals").items[0]
    assert f"{HL_START}醫療{HL_END}" in hit.title_highlight
    assert f"{HL_START}医疗{HL_END}" in hit.highlight
    assert f"{HL_START}Hospital{HL_END}" in hit.highlight
    assert len(hit.highlight) < 200
    assert HL_START not in find(db, "").items[0].highlight


def _facet_corpus(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="甲", domain="交通", grade="general_1", tags=["公交", "地铁"], formats=["csv"]),
            make_doc(title="乙", domain="交通", grade="general_2", tags=["公交"], formats=["CSV", "json"]),
            make_doc(title="丙", domain="卫生", grade="general_1", tags=["医院"], formats=["xlsx"]),
            make_doc(
                title="丁",
                domain="卫生",
                grade="general_2",
                tags=["医院", "公交"],
                formats=["csv"],
                organization="org-b",
                owner_org_id=ORG_B,
            ),
        ],
    )
    db.commit()


def test_facet_counts_over_the_filtered_set(db: Session) -> None:
    _facet_corpus(db)
    everything = find(db, facets=FACETS)
    assert everything.total == 4
    assert everything.facets["domain"] == [("交通", 2), ("卫生", 2)]
    assert everything.facets["tags"] == [("公交", 3), ("医院", 2), ("地铁", 1)]
    assert everything.facets["format"] == [("CSV", 3), ("JSON", 1), ("XLSX", 1)]
    assert everything.facets["organization"] == [("org-a", 3), ("org-b", 1)]
    assert everything.facets["status"] == [("published", 4)]

    only_transport = find(db, filters={"domain": ["交通"]}, facets=("tags", "grade"))
    assert only_transport.total == 2
    assert only_transport.facets == {
        "tags": [("公交", 2), ("地铁", 1)],
        "grade": [("general_1", 1), ("general_2", 1)],
    }
    limited = find(db, facets=("tags",), facet_limit=1)
    assert limited.facets["tags"] == [("公交", 3)]


def test_filters_and_across_facets_or_within(db: Session) -> None:
    _facet_corpus(db)
    assert sorted(titles(find(db, filters={"domain": ["交通", "卫生"]}))) == ["丁", "丙", "乙", "甲"]
    assert sorted(titles(find(db, filters={"domain": ["卫生"], "tags": ["公交"]}))) == ["丁"]
    assert sorted(titles(find(db, filters={"tags": ["地铁", "医院"]}))) == ["丁", "丙", "甲"]
    assert sorted(titles(find(db, filters={"format": ["JSON", "XLSX"], "grade": ["general_1"]}))) == ["丙"]
    assert find(db, filters={"domain": ["交通"], "grade": ["general_1"], "tags": ["医院"]}).total == 0
    assert sorted(titles(find(db, filters={"organization": ["org-b"]}))) == ["丁"]
    with pytest.raises(InvalidSearchQuery):
        SearchQuery(filters={"colour": ["red"]})
    with pytest.raises(InvalidSearchQuery):
        SearchQuery(facets=("colour",))


def test_sorts(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="b 交通统计", n=3, popularity=5),
            make_doc(title="a 城市道路", n=1, popularity=50, notes="交通"),
            make_doc(title="c 交通 交通运输", n=2, popularity=1),
        ],
    )
    db.commit()
    assert titles(find(db, sort="title")) == ["a 城市道路", "b 交通统计", "c 交通 交通运输"]
    assert titles(find(db, sort="title", order="desc")) == ["c 交通 交通运输", "b 交通统计", "a 城市道路"]
    assert titles(find(db, sort="modified")) == ["b 交通统计", "c 交通 交通运输", "a 城市道路"]
    assert titles(find(db, sort="modified", order="asc")) == ["a 城市道路", "c 交通 交通运输", "b 交通统计"]
    assert titles(find(db, sort="popularity")) == ["a 城市道路", "b 交通统计", "c 交通 交通运输"]
    ranked = find(db, "交通")
    # A match in the title outranks a match only in the description.
    assert ranked.items[-1].title == "a 城市道路"
    assert ranked.items[0].score >= ranked.items[1].score >= ranked.items[2].score
    # Without text, relevance falls back to newest first.
    assert titles(find(db)) == titles(find(db, sort="modified"))


def test_paging(db: Session) -> None:
    index_documents(db, [make_doc(title=f"交通数据 {i:02d}", n=i) for i in range(25)])
    db.commit()
    pages = [find(db, "交通", sort="title", page=p, limit=10) for p in (1, 2, 3)]
    assert [p.total for p in pages] == [25, 25, 25]
    assert [len(p.items) for p in pages] == [10, 10, 5]
    seen = [t for p in pages for t in titles(p)]
    assert seen == [f"交通数据 {i:02d}" for i in range(25)]
    assert titles(find(db, "交通", sort="title", offset=23, limit=10)) == ["交通数据 23", "交通数据 24"]
    empty = find(db, "交通", page=4, limit=10, facets=("status",))
    assert empty.total == 25 and empty.items == []
    assert empty.facets == {"status": [("published", 25)]}


def test_visibility_drafts_and_withdrawn(db: Session) -> None:
    index_documents(
        db,
        [
            make_doc(title="公开 交通"),
            make_doc(title="草稿 交通", status="draft"),
            make_doc(title="待审 交通", status="submitted"),
            make_doc(title="撤回 交通", status="withdrawn"),
            make_doc(title="乙草稿 交通", status="draft", owner_org_id=ORG_B, organization="org-b"),
        ],
    )
    db.commit()
    anonymous = find(db, "交通", facets=("status",))
    assert titles(anonymous) == ["公开 交通"]
    assert anonymous.facets == {"status": [("published", 1)]}
    assert find(db, facets=("status",)).total == 1
    own = set(titles(find(db, "交通", visible_org_ids=frozenset({ORG_A}))))
    assert own == {"公开 交通", "草稿 交通", "待审 交通", "撤回 交通"}
    other = set(titles(find(db, "交通", visible_org_ids=frozenset({ORG_B}))))
    assert other == {"公开 交通", "乙草稿 交通"}
    regulator = set(titles(find(db, "交通", see_withdrawn=True)))
    assert regulator == {"公开 交通", "撤回 交通"}
    assert find(db, "交通", see_all=True).total == 5
    # A filter cannot widen what the caller may see.
    assert find(db, filters={"status": ["draft", "withdrawn"]}).total == 0
    own_drafts = find(db, filters={"status": ["draft"]}, visible_org_ids=frozenset({ORG_A}))
    assert titles(own_drafts) == ["草稿 交通"]
    withdrawn = find(db, filters={"status": ["withdrawn", "draft"]}, see_withdrawn=True)
    assert titles(withdrawn) == ["撤回 交通"]


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"交通',
        "交通*",
        "*",
        "-交通",
        "交通 OR 医疗",
        "NOT AND OR",
        "(交通",
        "交通)",
        "title:交通",
        "NEAR(交通 医疗)",
        "^交通",
        "'; drop table search_entry; --",
        "a & b | !c <-> d",
        "\\",
        "　",
        "\x00交通",
        "交" * 500,
    ],
)
def test_query_syntax_characters_are_plain_text(db: Session, text: str) -> None:
    index_documents(db, [make_doc(title="交通 医疗 title near not")])
    db.commit()
    result = find(db, text, facets=("domain",))
    assert result.total in (0, 1)
    assert find(db).total == 1


def test_reindex_replaces_and_remove_deletes(db: Session) -> None:
    doc = make_doc(title="旧标题 交通", tags=["旧"])
    index_document(db, doc)
    db.commit()
    index_document(db, doc.model_copy(update={"title": "新标题 医疗", "tags": ["新"]}))
    db.commit()
    assert find(db, "交通").total == 0
    assert titles(find(db, "医疗")) == ["新标题 医疗"]
    assert find(db, facets=("tags",)).facets == {"tags": [("新", 1)]}
    remove_document(db, doc.dataset_id)
    remove_document(db, doc.dataset_id)
    db.commit()
    assert find(db, "医疗").total == 0
    assert find(db, facets=("tags",)).facets == {"tags": []}


def test_index_rolls_back_with_the_transaction(db: Session) -> None:
    index_document(db, make_doc(title="交通 已提交"))
    db.commit()
    index_document(db, make_doc(title="交通 未提交"))
    assert find(db, "交通").total == 2
    db.rollback()
    assert titles(find(db, "交通")) == ["交通 已提交"]
