"""The regulator's pages: audit log search with CSV export, and anomaly signals."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, StreamingResponse

from auth import audit
from auth.policy import Action, authorize
from auth.users import get_user_by_name
from portal.deps import SessionDep
from portal.pages.rendering import Page, PageContext, PageRoute, int_param, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PER_PAGE = 50


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def _filters(page: PageContext, session: Any) -> tuple[dict[str, Any], dict[str, str]]:
    params = page.request.query_params
    form = {k: params.get(k, "").strip() for k in ("actor", "action", "outcome", "object", "since", "until")}
    filters: dict[str, Any] = {}
    if form["actor"]:
        user = get_user_by_name(session, form["actor"])
        filters["actor_id"] = user.id if user else uuid.UUID(int=0)
    if form["action"]:
        filters["action"] = form["action"]
    if form["outcome"]:
        filters["outcome"] = form["outcome"]
    if form["object"]:
        filters["object_id"] = form["object"]
    since, until = _date(form["since"]), _date(form["until"])
    if since:
        filters["since"] = since
    if until:
        filters["until"] = until + timedelta(days=1)
    return filters, form


@router.get("/regulator", response_class=HTMLResponse)
def regulator_page(page: Page, session: SessionDep) -> HTMLResponse:
    """Search the audit log; see the anomaly signals of the last day."""
    if page.user is None:
        from portal.errors import NotAuthenticated

        raise NotAuthenticated("sign in / 请先登录")
    authorize(page.actor, Action.AUDIT_READ)
    filters, form = _filters(page, session)
    page_no = int_param(page, "page", 1)
    rows = audit.query(session, limit=PER_PAGE + 1, offset=(page_no - 1) * PER_PAGE, **filters)
    signals = audit.anomalies(session)
    return render(
        page,
        "regulator.html",
        {
            "rows": rows[:PER_PAGE],
            "has_next": len(rows) > PER_PAGE,
            "page_no": page_no,
            "form": form,
            "signals": signals,
            "export_query": page.request.url.query,
        },
    )


@router.get("/regulator/audit.csv")
def audit_csv(page: Page, session: SessionDep) -> StreamingResponse:
    """The matching audit records as CSV (UTF-8 with BOM, opens in Excel)."""
    if page.user is None:
        from portal.errors import NotAuthenticated

        raise NotAuthenticated("sign in / 请先登录")
    authorize(page.actor, Action.AUDIT_READ)
    filters, _form = _filters(page, session)
    rows = audit.query(session, limit=10_000, **filters)

    def body() -> Iterator[bytes]:
        for chunk in audit.export_csv(rows, excel_bom=True):
            yield chunk.encode("utf-8")

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit.csv"'},
    )
