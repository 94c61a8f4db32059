"""The data requests board (数据需求), answers to requests, error reports and complaints, and the
showcase of applications built on open data (应用成果)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from auth.policy import Action, can_review_applications
from catalog import feedback as fb
from catalog import service
from catalog.models import Dataset, Organization
from portal.deps import CurrentUser, SessionDep, SettingsDep
from portal.pages.dataset import answer_days
from portal.pages.forms import CheckedForm, text
from portal.pages.rendering import Page, PageContext, PageRoute, bilingual, int_param, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PER_PAGE = 20


def may_answer(page: PageContext, item: fb.Feedback) -> bool:
    """Admins and editors of the addressed organization answer; the operator answers open requests."""
    if page.user is None:
        return False
    if item.organization_id is not None:
        return can_review_applications(page.actor, item.organization_id) or page.actor.is_sysadmin
    return page.actor.is_operator or page.actor.is_sysadmin


def _orgs_by_id(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, Organization]:
    return service.organizations_by_id(session, [i for i in ids if i is not None])


@router.get("/requests", response_class=HTMLResponse)
def requests_board(page: Page, session: SessionDep) -> HTMLResponse:
    """Data requests with their answers and deadlines, newest first."""
    page_no = int_param(page, "page", 1)
    state = page.request.query_params.get("state") or None
    if state not in (None, "open", "answered"):
        state = None
    total, items = fb.list_feedback(
        session, kind="request", state=state, limit=PER_PAGE, offset=(page_no - 1) * PER_PAGE
    )
    orgs = _orgs_by_id(session, {i.organization_id for i in items})
    return render(
        page,
        "requests.html",
        {
            "items": items,
            "total": total,
            "page_no": page_no,
            "per_page": PER_PAGE,
            "orgs": orgs,
            "state": state,
            "can_answer": {i.id: may_answer(page, i) for i in items},
            "now": datetime.now(UTC),
        },
    )


@router.get("/requests/new", response_class=HTMLResponse)
def new_request_form(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """The form for a new data request."""
    agencies = service.list_organizations(session, org_type="agency")
    return render(page, "request_form.html", {"agencies": agencies, "error": None, "values": {}})


@router.post("/requests/new", response_class=HTMLResponse)
def new_request(
    page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Post a data request, addressed to an agency or to the platform."""
    values = {k: text(form, k) for k in ("title", "body", "organization")}
    org = (
        service.get_organization_by_name(session, values["organization"]) if values["organization"] else None
    )
    try:
        fb.submit_feedback(
            session,
            kind="request",
            title=values["title"],
            body=values["body"],
            author_id=user.id,
            author_name=user.fullname or user.name,
            organization_id=org.id if org else None,
            answer_days=answer_days(settings),
        )
    except fb.InvalidFeedback as exc:
        agencies = service.list_organizations(session, org_type="agency")
        error = (bilingual(str(exc), "zh"), bilingual(str(exc), "en"))
        return render(
            page, "request_form.html", {"agencies": agencies, "error": error, "values": values}, status=422
        )
    session.commit()
    return redirect("/requests")


@router.post("/requests/{item_id}/vote")
def vote(
    page: Page, item_id: uuid.UUID, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Second a data request."""
    item = fb.require_feedback(session, item_id)
    fb.vote(session, item=item)
    session.commit()
    return redirect(f"/requests#r-{item.id}")


@router.post("/feedback/{item_id}/answer")
def answer(
    page: Page, item_id: uuid.UUID, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Answer a request, error report or complaint (its organization, or the operator)."""
    item = fb.require_feedback(session, item_id)
    if not may_answer(page, item):
        from auth.policy import AccessDenied

        raise AccessDenied("feedback.answer", "only the addressed organization answers / 仅被答复机构可答复")
    fb.answer_feedback(
        session,
        item=item,
        answer=text(form, "answer"),
        answered_by=user.id,
        answered_by_name=user.fullname or user.name,
    )
    session.commit()
    if item.dataset_id is not None:
        dataset = session.get(Dataset, item.dataset_id)
        if dataset is not None:
            return redirect(f"/dataset/{dataset.name}#feedback")
    return redirect(f"/requests#r-{item.id}")


@router.get("/showcase", response_class=HTMLResponse)
def showcase(page: Page, session: SessionDep) -> HTMLResponse:
    """Applications built on open data, with the datasets they use."""
    entries = fb.list_showcase(session, limit=100)
    ids = {uuid.UUID(i) for e in entries for i in e.dataset_ids}
    datasets = {str(d.id): d for d in service.get_datasets(session, ids) if page.may(Action.DATASET_LIST, d)}
    return render(
        page, "showcase.html", {"entries": entries, "datasets": datasets, "error": None, "values": {}}
    )


@router.post("/showcase", response_class=HTMLResponse)
def add_showcase(page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep) -> Response:
    """Add an application, linked to published datasets named by their identifiers."""
    values = {k: text(form, k) for k in ("title", "description", "url", "datasets")}
    names = [n.strip() for n in values["datasets"].replace("，", ",").split(",") if n.strip()]
    found = list(session.exec(select(Dataset).where(col(Dataset.name).in_(names)))) if names else []
    visible = [d for d in found if page.may(Action.DATASET_LIST, d)]
    try:
        if len(visible) != len(set(names)):
            raise fb.InvalidFeedback("unknown dataset identifier / 数据集标识名不存在")
        fb.add_showcase(
            session,
            title=values["title"],
            description=values["description"],
            url=values["url"],
            dataset_ids=[d.id for d in visible],
            author_id=user.id,
            author_name=user.fullname or user.name,
        )
    except fb.InvalidFeedback as exc:
        entries = fb.list_showcase(session, limit=100)
        ids = {uuid.UUID(i) for e in entries for i in e.dataset_ids}
        datasets = {str(d.id): d for d in service.get_datasets(session, ids)}
        error = (bilingual(str(exc), "zh"), bilingual(str(exc), "en"))
        return render(
            page,
            "showcase.html",
            {"entries": entries, "datasets": datasets, "error": error, "values": values},
            status=422,
        )
    session.commit()
    return redirect("/showcase")
