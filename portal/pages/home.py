"""The home page: search box, headline figures, domains, newest and most downloaded datasets."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlmodel import col, func, select

from catalog import vocab
from catalog.models import Dataset, Organization
from portal.deps import SessionDep
from portal.pages.rendering import Page, PageRoute, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PUBLISHED = "published"


@router.get("/", response_class=HTMLResponse)
def home(page: Page, session: SessionDep) -> HTMLResponse:
    """Search box, headline figures, domains with counts, newest and most downloaded."""
    published = Dataset.status == PUBLISHED
    total, open_count, downloads = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(sa.case((Dataset.open_type == "unconditional", 1), else_=0)), 0),
            func.coalesce(func.sum(Dataset.download_count), 0),
        ).where(published)
    ).one()
    agencies = session.exec(
        select(func.count()).select_from(Organization).where(Organization.org_type == "agency")
    ).one()
    by_domain = dict(
        session.exec(select(Dataset.domain, func.count()).where(published).group_by(Dataset.domain)).all()
    )
    domains = [
        (t, by_domain.get(t.code, 0)) for t in vocab.domains() if t.parent is None and by_domain.get(t.code)
    ]
    newest = session.exec(
        select(Dataset).where(published).order_by(col(Dataset.published_at).desc().nulls_last()).limit(6)
    ).all()
    popular = session.exec(
        select(Dataset).where(published).order_by(col(Dataset.download_count).desc(), Dataset.name).limit(6)
    ).all()
    return render(
        page,
        "home.html",
        {
            "total": total,
            "agency_count": agencies,
            "open_share": (open_count / total * 100) if total else 0.0,
            "downloads": downloads,
            "domains": domains,
            "newest": newest,
            "popular": popular,
        },
    )
