"""Ledger views: counts, update status, completeness, history and the XLSX/CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook
from sqlmodel import Session

from catalog import ledger_views as views
from catalog import service
from catalog.models import DataItem
from catalog.schemas import DatasetUpdate, ResourceCreate
from tests.factories import make_dataset, make_org, publish

NOW = datetime(2024, 6, 30, tzinfo=UTC)


def _ledger(session: Session) -> dict[str, object]:
    jtt = make_org(session, name="jtt", title="浙江省交通运输厅")
    wjw = make_org(session, name="wjw", title="浙江省卫生健康委员会")
    bus = make_dataset(
        session,
        jtt,
        name="bus",
        domain="transport",
        update_frequency="monthly",
        notes="公交线路",
        tags=["公交"],
        contact_name="张三",
        license_id="cc-by-4.0",
        spatial="330100",
        temporal_start=date(2020, 1, 1),
    )
    service.create_resource(
        session, actor_id=None, dataset=bus, data=ResourceCreate(name="线路", format="csv")
    )
    session.add(DataItem(dataset_id=bus.id, name="line", name_zh="线路"))
    bus.data_updated_at = NOW - timedelta(days=10)  # monthly and fresh: on time
    publish(session, bus)
    metro = make_dataset(
        session,
        jtt,
        name="metro",
        domain="transport",
        update_frequency="daily",
        open_type="conditional",
        grade="general_3",
    )
    service.create_resource(
        session, actor_id=None, dataset=metro, data=ResourceCreate(name="站点", format="xlsx")
    )
    metro.data_updated_at = NOW - timedelta(days=3)  # daily, three days old: overdue
    clinics = make_dataset(
        session,
        wjw,
        name="clinics",
        domain="health",
        update_frequency="irregular",
        grade=None,
        open_type="closed",
    )
    session.flush()
    return {"jtt": jtt, "wjw": wjw, "bus": bus, "metro": metro, "clinics": clinics}


def test_summary_counts_province_and_agency(session: Session) -> None:
    led = _ledger(session)
    s = views.summary(session, now=NOW)
    assert s.total == 3
    assert s.by_status == {"draft": 2, "published": 1}
    assert s.by_domain == {"transport": 2, "health": 1}
    assert s.by_grade == {"(none)": 1, "general_1": 1, "general_3": 1}
    assert s.by_open_type == {"closed": 1, "conditional": 1, "unconditional": 1}
    assert s.by_format == {"CSV": 1, "XLSX": 1}
    assert s.by_update_status == {"on_time": 1, "overdue": 1, "irregular": 1}
    assert [o["organization"] for o in s.by_organization] == ["jtt", "wjw"]
    assert s.complete == 1  # only the bus lines have every recommended field
    assert s.missing["resources"] == 1 and s.missing["data_dictionary"] == 2 and s.missing["notes"] == 2

    one = views.summary(session, organization_id=led["wjw"].id, now=NOW)  # type: ignore[attr-defined]
    assert one.total == 1 and one.by_domain == {"health": 1}
    public = views.summary(session, statuses=["published"], now=NOW)
    assert public.total == 1 and public.by_status == {"published": 1}


def test_incomplete_entries_name_what_is_missing(session: Session) -> None:
    _ledger(session)
    found = {e.name: e.missing for e in views.incomplete_entries(session)}
    assert "bus" not in found
    assert found["clinics"] == (
        "notes",
        "tags",
        "contact",
        "licence",
        "temporal",
        "spatial",
        "resources",
        "data_dictionary",
    )
    assert "resources" not in found["metro"]


def test_history_of_dataset_and_agency(session: Session) -> None:
    led = _ledger(session)
    service.update_dataset(session, actor_id=None, dataset=led["metro"], data=DatasetUpdate(notes="地铁站点"))  # type: ignore[arg-type]
    actions = [e.action for e in views.dataset_history(session, led["metro"])]  # type: ignore[arg-type]
    assert actions[0] == "dataset.update" and actions[-1] == "dataset.create"
    org_actions = [e.action for e in views.organization_history(session, led["jtt"])]  # type: ignore[arg-type]
    assert org_actions.count("dataset.create") == 2 and "organization.create" in org_actions


def test_csv_export_has_bom_and_chinese_headers(session: Session) -> None:
    led = _ledger(session)
    raw = b"".join(views.iter_csv(session, now=NOW))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["资源代码", "标识", "资源名称"]
    by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"bus", "metro", "clinics"}
    assert by_name["bus"]["开放属性"] == "无条件开放" and by_name["bus"]["提供单位"] == "浙江省交通运输厅"
    assert by_name["metro"]["更新状态"] == "逾期未更新" and by_name["metro"]["资源格式"] == "XLSX"
    assert by_name["clinics"]["状态"] == "草稿" and "数据字典" in by_name["clinics"]["缺失的推荐字段"]
    one = b"".join(views.iter_csv(session, organization_id=led["wjw"].id, now=NOW))  # type: ignore[attr-defined]
    assert len(list(csv.reader(io.StringIO(one.decode("utf-8-sig"))))) == 2


def test_xlsx_export_reads_back(session: Session) -> None:
    _ledger(session)
    out = io.BytesIO()
    assert views.write_xlsx(session, out, statuses=["published", "draft"], now=NOW) == 3
    ws = load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == views.EXPORT_HEADERS
    titles = {r[2] for r in rows[1:]}
    assert titles and all(isinstance(t, str) and t for t in titles)
    assert {r[1] for r in rows[1:]} == {"bus", "metro", "clinics"}
