"""The catalog importer: every crawled portal through its shipped mapping, messy files, the search contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import Session, col, func, select

from catalog import importer, service
from catalog.models import Dataset, LedgerEntry, Organization, Resource
from catalog.search.index import SearchEntry
from portal.database import make_engine
from tests.factories import make_org

CODES = {"missing", "duplicate", "exists", "unknown_value", "unknown_provider", "invalid"}
# What each portal's crawl is known to contain that cannot be imported as is.
EXPECTED = {
    "anhui_anhui": {"domain: unknown_value": 30},
    "anhui_chizhou": {"provider: missing": 88},
    "anhui_hefei": {"title: missing": 3},
    "fujian_fuzhou": {"row: duplicate": 2280},  # 20 entries, each crawled 115 times
    "fujian_xiamen": {"update_frequency: unknown_value": 2, "domain: unknown_value": 1},
    "sichuan_deyang": {},
}


def _catalogs(testdata: Path) -> Path:
    return testdata / "zh-portal-catalogs" / "catalogs"


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def _check_report(report: importer.ImportReport) -> None:
    assert report.imported == report.rows - report.rejected
    for r in report.rejections:
        assert r.row >= 1 and r.field and r.reason_zh and r.reason_en and r.code in CODES, r
    assert [r.row for r in report.rejections] == sorted(r.row for r in report.rejections)
    for reason, n in EXPECTED.get(report.mapping, {}).items():
        assert report.reasons().get(reason) == n, (report.mapping, report.reasons())


def test_every_portal_imports_through_its_mapping(
    testdata: Path, sqlite_template: Path, tmp_path: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "import.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'import.db'}")
    names = importer.shipped_mappings()
    assert len(names) == 13
    total = 0
    with Session(engine, expire_on_commit=False) as session:
        for name in names:
            mapping = importer.load_mapping(name)
            path = _catalogs(testdata) / f"{name}.json"
            dry = importer.import_file(session, path, mapping=mapping, actor_id=None, dry_run=True)
            _check_report(dry)
            assert _count(session, Dataset) == total  # a dry run writes nothing
            real = importer.import_file(session, path, mapping=mapping, actor_id=None, commit=session.commit)
            _check_report(real)
            assert (real.imported, real.rejected) == (dry.imported, dry.rejected), name
            assert real.organizations_created == dry.organizations_created
            total += real.imported
            assert _count(session, Dataset) == total, name
        assert total > 8000
        # Imported entries are drafts awaiting a confirmed grade, with mapped classifications.
        assert session.exec(select(func.count()).where(col(Dataset.status) != "draft")).one() == 0
        assert session.exec(select(func.count()).where(col(Dataset.grade).is_not(None))).one() == 0
        assert _count(session, SearchEntry) == total
        assert session.exec(select(func.count()).where(LedgerEntry.action == "dataset.create")).one() == total
        stmt = select(Dataset).where(Dataset.title == "工商_企业基本信息", Dataset.record_count == 469585)
        sample = session.exec(stmt).one()
        assert sample.name.startswith("ahla-")
        assert sample.update_frequency == "yearly" and sample.domain and sample.industry
        assert sample.spatial == "341500"
        assert {r.format for r in service.list_resources(session, sample)} == {"XLS", "API"}
        # Importing a portal again adds nothing: every row is already in the ledger.
        again = importer.import_file(
            session,
            _catalogs(testdata) / "xinjiang_wlmq.json",
            mapping=importer.load_mapping("xinjiang_wlmq"),
            actor_id=None,
            commit=session.commit,
        )
        assert again.imported == 0 and again.reasons() == {"row: exists": again.rows}
    engine.dispose()


def test_one_portal_real_run_and_search_contract(session: Session, testdata: Path) -> None:
    mapping = importer.load_mapping("anhui_suzhou")
    report = importer.import_file(
        session,
        _catalogs(testdata) / "anhui_suzhou.json",
        mapping=mapping,
        actor_id=None,
        commit=session.commit,
    )
    assert report.rows == 524 and report.imported == 524 and report.rejected == 0
    assert _count(session, Dataset) == 524
    assert report.organizations_created == _count(session, Organization) == 18
    # The importer's batched writes are exactly what the service would write, one dataset at a time.
    for name in report.dataset_names[:25]:
        dataset = service.require_dataset(session, name)
        written = _entry(session, dataset)
        service.reindex_dataset(session, dataset)
        assert _entry(session, dataset) == written, name
    assert session.exec(select(func.count()).where(LedgerEntry.action == "resource.create")).one() == _count(
        session, Resource
    )


def _entry(session: Session, dataset: Dataset) -> dict[str, object]:
    table = SearchEntry.__table__
    row = session.execute(sa.select(table).where(table.c.dataset_id == dataset.id)).mappings().one()
    return dict(row)


def _mapping(**over: object) -> importer.Mapping:
    raw = {
        "name": "test_portal",
        "portal": "测试市公共数据开放平台",
        "name_prefix": "tp",
        "columns": {
            "名称": "title",
            "单位": "provider",
            "开放": "open_type",
            "频率": "update_frequency",
            "领域": "domain",
            "数据量": "record_count",
            "邮箱": "contact_email",
            "更新": "data_updated_at",
            "格式": "formats",
            "备注": "ignore",
        },
        "defaults": {"open_type": "conditional", "region": "330100"},
        "value_maps": {"domain": {"长三角高价值清单": ""}},
        "organizations": {"create_missing": False},
    }
    raw.update(over)
    return importer.Mapping.from_dict(raw)


HEADER = ["名称", "单位", "开放", "频率", "领域", "数据量", "邮箱", "更新", "格式", "备注"]
ROWS = [
    [
        "公交线路",
        "交通局",
        "无条件开放",
        "每月",
        "交通运输",
        "1,024",
        "jt@example.org",
        "2023-6-1",
        "['csv', 'xlsx']",
        "",
    ],
    ["", "交通局", "", "", "", "", "", "", "", "no title"],
    ["客运站", "交通局", "半开放", "每月", "", "", "", "", "", ""],
    ["出租车", "交通局", "", "每 null null", "", "", "", "", "", ""],
    ["停车场", "交通局", "", "", "", "约一万", "", "", "", ""],
    ["路况", "交通局", "", "", "", "", "not-an-email", "", "", ""],
    ["航班", "交通局", "", "", "", "", "", "2023-13-45", "", ""],
    ["水质", "环保局", "", "", "", "", "", "", "", ""],
    ["公交线路", "交通局", "", "", "", "", "", "", "", "again"],
    ["高价值", "交通局", "", "", "长三角高价值清单", "", "暂无", "", "", ""],
]


def test_messy_csv_in_gbk_is_rejected_row_by_row(session: Session, tmp_path: Path) -> None:
    make_org(session, name="jtj", title="交通局", region_code="")
    path = tmp_path / "catalog.csv"
    lines = [",".join(f'"{v}"' for v in row) for row in [HEADER, *ROWS]]
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    report = importer.import_file(session, path, mapping=_mapping(), actor_id=None)
    got = {r.row: (r.field, r.code) for r in report.rejections}
    assert got == {
        3: ("title", "missing"),
        4: ("open_type", "unknown_value"),
        5: ("update_frequency", "unknown_value"),
        6: ("record_count", "invalid"),
        7: ("contact_email", "invalid"),
        8: ("data_updated_at", "invalid"),
        9: ("provider", "unknown_provider"),
        10: ("row", "duplicate"),
    }
    assert report.imported == 2 and report.imported == report.rows - report.rejected
    assert "第 2 行" in next(r.reason_zh for r in report.rejections if r.row == 10)
    bus = session.exec(select(Dataset).where(Dataset.title == "公交线路")).one()
    assert (bus.open_type, bus.update_frequency, bus.domain, bus.record_count) == (
        "unconditional",
        "monthly",
        "transport",
        1024,
    )
    assert bus.spatial == "330100" and bus.data_updated_at is not None and bus.data_updated_at.month == 6
    assert (
        bus.extras["source_portal"] == "测试市公共数据开放平台"
        and bus.grade is None
        and bus.status == "draft"
    )
    high = session.exec(select(Dataset).where(Dataset.title == "高价值")).one()
    assert high.domain == "" and high.contact_email is None  # value map blanks it; 暂无 is no address
    out = tmp_path / "rejections.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        report.write_csv(fh)
    assert out.read_text(encoding="utf-8-sig").count("\n") == 1 + len(report.rejections)


def test_xlsx_and_jsonl_inputs(session: Session, tmp_path: Path) -> None:
    make_org(session, name="jtj2", title="交通局", region_code="")
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(ROWS[0])
    ws.append([None] * len(HEADER))  # blank rows are skipped
    ws.append(ROWS[7])
    wb.save(tmp_path / "catalog.xlsx")
    report = importer.import_file(
        session, tmp_path / "catalog.xlsx", mapping=_mapping(), actor_id=None, dry_run=True
    )
    assert (report.rows, report.imported) == (2, 1)
    assert [(r.row, r.code) for r in report.rejections] == [(4, "unknown_provider")]
    jsonl = tmp_path / "catalog.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(dict(zip(HEADER, row, strict=True)), ensure_ascii=False) for row in ROWS[:3]),
        encoding="utf-8",
    )
    creating = _mapping(organizations={"create_missing": True, "region_code": "330100"})
    report = importer.import_file(session, jsonl, mapping=creating, actor_id=None)
    assert report.imported == 1 and [r.row for r in report.rejections] == [2, 3]


def test_bad_mappings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(importer.InvalidMapping, match="unknown target"):
        _mapping(columns={"名称": "titel"})
    with pytest.raises(importer.MappingNotFound):
        importer.load_mapping("no_such_portal")
    with pytest.raises(importer.UnreadableCatalog):
        list(importer.read_rows(tmp_path / "catalog.parquet"))
