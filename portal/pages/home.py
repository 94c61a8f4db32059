"""The home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from auth.policy import Action, may
from catalog import service
from portal.deps import ActorDep, SessionDep
from portal.pages.rendering import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """Search box, headline figures and the newest datasets."""
    total, newest = service.list_datasets(session, statuses=["published"], limit=10)
    newest = [d for d in newest if may(actor, Action.DATASET_LIST, d)]
    orgs = service.list_organizations(session, org_type="agency")
    return templates.TemplateResponse(
        request, "home.html", {"total": total, "newest": newest, "agency_count": len(orgs)}
    )
