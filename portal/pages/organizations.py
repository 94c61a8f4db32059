"""Organization pages: the list of publishers and each one's ledger."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlmodel import col, func, select

from auth.policy import listing_scope
from catalog import ledger, service, vocab
from catalog.models import Dataset, Organization
from portal.deps import SessionDep
from portal.pages import ledgerdata
from portal.pages.charts import bar_chart
from portal.pages.rendering import Page, PageRoute, int_param, make_label, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PER_PAGE = 50


@router.get("/organization", response_class=HTMLResponse)
def organization_list(page: Page, session: SessionDep) -> HTMLResponse:
    """Every organization by type, with its count of published datasets."""
    orgs = service.list_organizations(session)
    counts = ledgerdata.org_dataset_counts(session, statuses=["published"])
    groups = []
    for term in vocab.org_types():
        members = sorted(
            (o for o in orgs if o.org_type == term.code), key=lambda o: (-counts.get(o.id, 0), o.name)
        )
        if members:
            groups.append((term.label(page.lang), members))
    return render(page, "organizations.html", {"groups": groups, "counts": counts})


@router.get("/organization/{name:slug}", response_class=HTMLResponse)
def organization_page(page: Page, name: str, session: SessionDep) -> HTMLResponse:
    """One organization and its ledger: the entries the viewer may see, with counts and history."""
    org = service.require_organization(session, name)
    scope = listing_scope(page.actor)
    statuses = None if org.id in scope.org_ids else sorted(scope.statuses)
    page_no = int_param(page, "page", 1)
    stmt = select(Dataset).where(Dataset.owner_org_id == org.id)
    if statuses is not None:
        stmt = stmt.where(col(Dataset.status).in_(statuses))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    datasets = session.exec(
        stmt.order_by(col(Dataset.updated_at).desc()).offset((page_no - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    label = make_label(page.lang)
    by_grade = ledgerdata.counts_by(session, Dataset.grade, statuses=statuses, org_id=org.id)
    by_open = ledgerdata.counts_by(session, Dataset.open_type, statuses=statuses, org_id=org.id)
    overdue_n, overdue_rows = ledgerdata.overdue(session, statuses=statuses, org_id=org.id, limit=10)
    history = (
        ledger.history(session, organization_id=org.id, limit=15)
        if org.id in scope.org_ids or page.actor.is_regulator
        else []
    )
    parent = session.get(Organization, org.parent_id) if org.parent_id else None
    return render(
        page,
        "organization.html",
        {
            "org": org,
            "parent": parent,
            "datasets": datasets,
            "total": total,
            "page_no": page_no,
            "per_page": PER_PAGE,
            "grade_chart": bar_chart([(label("grades", g) or "—", n) for g, n in by_grade]),
            "open_chart": bar_chart([(label("open_types", g), n) for g, n in by_open]),
            "overdue_n": overdue_n,
            "overdue_rows": overdue_rows,
            "history": history,
            "insider": org.id in scope.org_ids,
        },
    )
