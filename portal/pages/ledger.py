"""The province-wide ledger dashboard (数据资源一本账) with SVG charts and export links."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlmodel import col, select

from auth.policy import Action
from catalog.models import Dataset, Organization
from portal.deps import SessionDep
from portal.pages import ledgerdata
from portal.pages.charts import bar_chart, column_chart
from portal.pages.rendering import Page, PageContext, PageRoute, make_label, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

EXPORT_COLUMNS = (
    "name", "title", "title_en", "organization", "domain", "industry", "grade", "grade_confirmed",
    "open_type", "share_type", "update_frequency", "spatial", "status", "resource_code",
    "record_count", "quality_score", "download_count", "published_at", "data_updated_at", "updated_at",
)  # fmt: skip


def ledger_statuses(page: PageContext) -> list[str] | None:
    """The whole ledger for those who may export it; published entries for everyone else."""
    return None if page.may(Action.LEDGER_EXPORT) else ["published"]


def export_links(page: PageContext) -> list[tuple[str, str]]:
    """(label, url) of the ledger exports: the API's XLSX/CSV when mounted, else the page's CSV."""
    paths = {getattr(r, "path", "") for r in page.request.app.routes}
    found = sorted(p for p in paths if p.startswith("/api/v1/ledger") and "export" in p)
    if found:
        base = found[0]
        return [("XLSX", f"{base}?format=xlsx"), ("CSV", f"{base}?format=csv")]
    return [("CSV", "/ledger/export.csv")]


@router.get("/ledger", response_class=HTMLResponse)
def dashboard(page: Page, session: SessionDep) -> HTMLResponse:
    """Counts by domain, agency, grade and open type; updates over time; overdue datasets."""
    statuses = ledger_statuses(page)
    label = make_label(page.lang)
    by_domain = ledgerdata.counts_by(session, Dataset.domain, statuses=statuses)
    by_grade = ledgerdata.counts_by(session, Dataset.grade, statuses=statuses)
    by_open = ledgerdata.counts_by(session, Dataset.open_type, statuses=statuses)
    by_status = ledgerdata.counts_by(session, Dataset.status, statuses=statuses)
    by_org = ledgerdata.counts_by_org(session, statuses=statuses)
    months = ledgerdata.updates_by_month(session)
    overdue_n, overdue_rows = ledgerdata.overdue(session, statuses=statuses, limit=20)
    orgs = (
        {
            o.id: o
            for o in session.exec(
                select(Organization).where(col(Organization.id).in_([d.owner_org_id for d in overdue_rows]))
            ).all()
        }
        if overdue_rows
        else {}
    )

    def org_title(o: Organization) -> str:
        return (o.title_en or o.title) if page.lang == "en" else o.title

    return render(
        page,
        "ledger.html",
        {
            "total": sum(n for _, n in by_status),
            "by_status": by_status,
            "domain_chart": bar_chart([(label("domains", v) or "—", n) for v, n in by_domain]),
            "org_chart": bar_chart([(org_title(o), n) for o, n in by_org], label_width=220),
            "grade_chart": bar_chart(
                [(label("grades", v) or page.t("未分级", "ungraded"), n) for v, n in by_grade]
            ),
            "open_chart": bar_chart([(label("open_types", v), n) for v, n in by_open]),
            "month_chart": column_chart(months),
            "months": months,
            "overdue_n": overdue_n,
            "overdue_rows": overdue_rows,
            "orgs": orgs,
            "exports": export_links(page),
            "full": statuses is None,
        },
    )


@router.get("/ledger/export.csv")
def export_csv(page: Page, session: SessionDep) -> StreamingResponse:
    """The ledger as CSV (UTF-8 with BOM for Excel): published entries, or all for the regulator."""
    statuses = ledger_statuses(page)
    orgs = {o.id: o.name for o in session.exec(select(Organization)).all()}
    stmt = select(Dataset).order_by(Dataset.name)
    if statuses is not None:
        stmt = stmt.where(col(Dataset.status).in_(statuses))

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        yield "\ufeff" + buf.getvalue()
        for d in session.exec(stmt.execution_options(yield_per=1000)):
            buf.seek(0)
            buf.truncate()
            values = [
                orgs.get(d.owner_org_id, "") if c == "organization" else getattr(d, c) for c in EXPORT_COLUMNS
            ]
            writer.writerow(
                ["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in values]
            )
            yield buf.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="ledger.csv"'},
    )
