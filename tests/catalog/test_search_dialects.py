"""SQLite (FTS5) and PostgreSQL (GIN) give the same answers to the same searches over the same data."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.search import (
    FACETS,
    SearchDocument,
    SearchEntry,
    SearchFacet,
    SearchQuery,
    index_documents,
    install_fts,
    search,
)
from catalog.search.text import document_tokens

WORDS = [
    "交通", "公交", "地铁", "医疗", "醫療", "卫生", "數據", "数据", "人口", "统计", "統計", "企业",
    "登记", "教育", "学校", "环境", "空气", "质量", "水利", "气象", "道路", "停车", "旅游", "资料",
]  # fmt: skip
EN_WORDS = ["road", "roads", "traffic", "hospital", "school", "air", "quality", "bus", "station", "pm2.5"]
ORGS = [uuid.UUID(int=i + 1) for i in range(4)]
STATUSES = ["published"] * 6 + ["draft", "submitted", "withdrawn"]


def corpus(n: int = 400, seed: int = 7) -> list[SearchDocument]:
    """A reproducible mix of Simplified, Traditional and English documents with random facets."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        org = rng.randrange(len(ORGS))
        docs.append(
            SearchDocument(
                dataset_id=uuid.UUID(int=rng.getrandbits(122) | (1 << 125)),
                name=f"ds-{i}",
                title="".join(rng.sample(WORDS, 3)) + f" {i}",
                title_en=" ".join(rng.sample(EN_WORDS, 2)),
                notes="，".join(rng.sample(WORDS, 4)),
                tags=rng.sample(["公交", "医院", "学校", "环保", "open", "统计"], rng.randrange(0, 3)),
                formats=rng.sample(["csv", "json", "xlsx", "api"], rng.randrange(1, 3)),
                owner_org_id=ORGS[org],
                organization=f"org-{org}",
                organization_title=["交通运输局", "卫生健康委", "教育局", "统计局"][org],
                column_names=rng.sample(["station_name", "card_no", "区县", "日期", "value"], 2),
                domain=rng.choice(["交通", "卫生", "教育", None]),
                industry=rng.choice(["G", "Q", "P"]),
                grade=rng.choice(["general_1", "general_2", "general_3"]),
                open_type=rng.choice(["unconditional", "conditional", "closed"]),
                update_frequency=rng.choice(["daily", "monthly", "yearly"]),
                region=rng.choice(["440300", "440100"]),
                status=rng.choice(STATUSES),
                metadata_modified_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(5000)),
                popularity=rng.randrange(0, 20),
            )
        )
    return docs


QUERIES: list[dict[str, Any]] = [
    {},
    {"text": "交通"},
    {"text": "數據"},
    {"text": "医疗 统计"},
    {"text": "醫療卫生"},
    {"text": "roads"},
    {"text": "traffic hospital"},
    {"text": "pm2.5 空气"},
    {"text": "station_name"},
    {"text": "运输局"},
    {"text": "交通", "filters": {"domain": ["交通", "卫生"], "grade": ["general_1"]}},
    {"text": "数据", "filters": {"tags": ["公交", "医院"], "format": ["CSV"]}},
    {"filters": {"organization": ["org-1"]}, "visible_org_ids": frozenset({ORGS[1]})},
    {"text": "统计", "see_withdrawn": True},
    {"text": "学校", "see_all": True},
    {"text": '"交通" OR (医疗*) -'},
    {"text": "水利", "visible_org_ids": frozenset({ORGS[0], ORGS[2]}), "filters": {"region": ["440300"]}},
]


def fingerprint(session: Session, spec: dict[str, Any]) -> dict[str, Any]:
    """Everything about a search that must not depend on the database."""
    full = search(session, SearchQuery(**spec, limit=1000, facets=FACETS, facet_limit=1000))
    out: dict[str, Any] = {
        "total": full.total,
        "ids": sorted(str(h.dataset_id) for h in full.items),
        "facets": full.facets,
    }
    for sort in ("relevance", "title", "modified", "popularity"):
        page = search(session, SearchQuery(**spec, sort=sort, page=2, limit=7))
        out[sort] = [str(h.dataset_id) for h in page.items]
    return out


def _clear(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(SearchFacet.__table__))
        conn.execute(sa.delete(SearchEntry.__table__))


@pytest.fixture
def both(pg_engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """A SQLite file and the throwaway PostgreSQL database, search tables empty in both."""
    from portal.database import make_engine

    lite = make_engine(f"sqlite:///{tmp_path / 'search.db'}")
    SearchEntry.metadata.create_all(lite, tables=[SearchEntry.__table__, SearchFacet.__table__])
    for engine in (lite, pg_engine):
        with engine.begin() as conn:
            install_fts(conn)
    _clear(pg_engine)
    yield lite, pg_engine
    _clear(pg_engine)
    lite.dispose()


def test_same_results_on_sqlite_and_postgresql(both: tuple[Engine, Engine]) -> None:
    docs = corpus()
    prints = []
    for engine in both:
        with Session(engine) as session:
            index_documents(session, docs)
            session.commit()
            prints.append([fingerprint(session, spec) for spec in QUERIES])
    lite, pg = prints
    for spec, a, b in zip(QUERIES, lite, pg, strict=True):
        assert a == b, spec
    # The comparison means something only if the searches found things and told them apart.
    assert all(p["total"] > 0 for p in lite[:-1])
    assert len({p["total"] for p in lite}) > 8


def test_tokens_read_the_same_by_fts5_and_postgresql(both: tuple[Engine, Engine], testdata: Path) -> None:
    texts = ["Ünïcødé ÆØÅ straße ﬁne Ⅻ ½ ① x² 한국어 日本語のテキスト İstanbul 5e74d8b5 v1.2.3 a-b_c@d.org"]
    for path in sorted((testdata / "zh-portal-catalogs" / "catalogs").glob("*.json"))[:4]:
        rows = json.loads(path.read_text(encoding="utf-8"))
        rows = rows if isinstance(rows, list) else next(v for v in rows.values() if isinstance(v, list))
        texts += [" ".join(str(v) for v in row.values() if isinstance(v, str)) for row in rows[:200]]
    expected = {tok for text in texts for tok in document_tokens(text).split()}
    lite, pg = both
    with pg.connect() as conn:
        got_pg = set(
            conn.execute(
                sa.text(
                    "select distinct lexeme from unnest(cast(:ts as text[])) t, unnest(to_tsvector('simple', t))"
                ),
                {"ts": [document_tokens(t) for t in texts]},
            ).scalars()
        )
    with lite.begin() as conn:
        conn.exec_driver_sql(
            "create virtual table tmp_fts using fts5(t, tokenize='unicode61 remove_diacritics 0')"
        )
        conn.exec_driver_sql("create virtual table tmp_vocab using fts5vocab(tmp_fts, 'row')")
        conn.execute(
            sa.text("insert into tmp_fts(t) values (:t)"), [{"t": document_tokens(t)} for t in texts]
        )
        got_lite = set(conn.exec_driver_sql("select term from tmp_vocab").scalars())
    assert len(expected) > 500
    assert got_pg == expected
    assert got_lite == expected
