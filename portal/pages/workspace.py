"""Workspaces: agencies register and manage datasets (upload, quality, grade, schema, publish) and
review applications; enterprises follow their applications, grants, downloads and API tokens; the
platform operator does the formal check of applications."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from auth import applications, audit
from auth.api_tokens import issue_api_token, list_api_tokens, revoke_api_token
from auth.grants import grant_items, grants_of_user
from auth.models import User
from auth.policy import Action, authorize, can_review_applications, decide
from catalog import feedback as fb
from catalog import pipeline, service, vocab
from catalog.errors import CatalogError
from catalog.models import Dataset, Organization
from catalog.schemas import DatasetCreate, DatasetUpdate, ResourceCreate
from portal import downloads
from portal.deps import CurrentUser, SessionDep, SettingsDep, StorageDep
from portal.downloads import client_addr
from portal.pages.dataset import quality_view
from portal.pages.forms import CheckedForm, FieldErrors, field_errors, text
from portal.pages.rendering import Page, PageContext, PageRoute, bilingual, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

DATASET_FIELDS = (
    "name", "owner_org", "title", "title_en", "notes", "domain", "industry", "tags", "open_type",
    "share_type", "update_frequency", "spatial", "temporal_start", "temporal_end", "license_id",
    "contact_name", "contact_email", "source_system",
)  # fmt: skip
OPTIONAL_EMPTY = {"temporal_start", "temporal_end", "contact_email"}
DEFAULTED = {"open_type", "share_type", "update_frequency"}


def _orgs(session: Session, page: PageContext) -> list[Organization]:
    ids = list(page.actor.org_roles)
    if not ids:
        return []
    return list(
        session.exec(select(Organization).where(col(Organization.id).in_(ids)).order_by(Organization.name))
    )


def _users(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, User]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()}


@router.get("/workspace", response_class=HTMLResponse)
def workspace(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """Everything waiting for the signed-in user, by role."""
    orgs = _orgs(session, page)
    editable = [o for o in orgs if page.may(Action.DATASET_CREATE, o)]
    datasets: list[Dataset] = []
    if orgs:
        datasets = list(
            session.exec(
                select(Dataset)
                .where(col(Dataset.owner_org_id).in_([o.id for o in orgs]))
                .order_by(col(Dataset.updated_at).desc())
                .limit(100)
            )
        )
    review_orgs = [o.id for o in orgs if can_review_applications(page.actor, o.id)]
    to_review = applications.pending_review(session, org_ids=review_orgs) if review_orgs else []
    to_check = applications.pending_check(session) if page.may(Action.APPLICATION_CHECK) else []
    mine = applications.applications_of(session, applicant_id=user.id)
    grants = grants_of_user(session, user_id=user.id)
    my_downloads = audit.query(session, actor_id=user.id, action="resource.download", limit=20)
    _n, to_answer = (
        fb.list_feedback(session, organization_ids=review_orgs, state="open") if review_orgs else (0, [])
    )
    grant_sets = {g.id: grant_datasets(session, g.id) for g in grants}
    dataset_ids = {uuid.UUID(i) for a in [*to_review, *to_check, *mine] for i in a.dataset_ids}
    dataset_ids |= {i for ids in grant_sets.values() for i in ids}
    dataset_ids |= {f.dataset_id for f in to_answer if f.dataset_id}
    names = {d.id: d for d in service.get_datasets(session, dataset_ids)}
    return render(
        page,
        "workspace.html",
        {
            "orgs": orgs,
            "editable": editable,
            "datasets": datasets,
            "org_by_id": {o.id: o for o in orgs},
            "to_review": to_review,
            "to_check": to_check,
            "mine": mine,
            "grants": grants,
            "grant_sets": grant_sets,
            "downloads": my_downloads,
            "to_answer": to_answer,
            "dataset_by_id": names,
            "dataset_by_str": {str(k): v for k, v in names.items()},
        },
    )


# --- register and edit ---------------------------------------------------------------------------


def _dataset_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in DATASET_FIELDS:
        value = text(form, key)
        if key == "tags":
            values[key] = [t for t in (p.strip() for p in value.replace("，", ",").split(",")) if t]
        elif key in OPTIONAL_EMPTY and not value:
            values[key] = None
        elif key in DEFAULTED and not value:
            continue  # the schema's default applies
        else:
            values[key] = value
    return values


def _form_context(
    session: Session,
    page: PageContext,
    values: dict[str, Any],
    errors: FieldErrors,
    *,
    dataset: Dataset | None,
) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "dataset": dataset,
        "orgs": [o for o in _orgs(session, page) if page.may(Action.DATASET_CREATE, o)],
        "domains": vocab.domains(),
        "industries": [t for t in vocab.industries() if t.parent is None],
        "regions": vocab.regions(),
        "open_types": vocab.open_types(),
        "share_types": vocab.share_types(),
        "frequencies": vocab.frequencies(),
    }


@router.get("/workspace/dataset/new", response_class=HTMLResponse)
def new_dataset_form(page: Page, user: CurrentUser, session: SessionDep, org: str = "") -> HTMLResponse:
    """The registration form of a new catalog entry."""
    values: dict[str, Any] = {
        "owner_org": org,
        "open_type": "conditional",
        "share_type": "conditional",
        "update_frequency": "irregular",
        "tags": [],
    }
    return render(page, "dataset_form.html", _form_context(session, page, values, {}, dataset=None))


@router.post("/workspace/dataset/new", response_class=HTMLResponse)
def register_dataset(page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep) -> Response:
    """Register a draft; every invalid field gets its own message in both languages."""
    values = _dataset_values(form)
    errors: FieldErrors = {}
    data = None
    try:
        data = DatasetCreate.model_validate(
            {k: v for k, v in values.items() if v is not None or k in OPTIONAL_EMPTY}
        )
    except ValidationError as exc:
        errors = field_errors(exc)
    if data is not None:
        org = service.get_organization_by_name(session, data.owner_org)
        if org is None:
            errors["owner_org"] = ("请选择所属机构", "Choose the owning organization")
        elif not page.may(Action.DATASET_CREATE, org):
            errors["owner_org"] = (
                "您不能为该机构登记数据集",
                "You may not register datasets for this organization",
            )
        elif service.get_dataset_by_name(session, data.name) is not None:
            errors["name"] = ("该名称已被使用", "This name is already taken")
        else:
            dataset = service.create_dataset(session, actor_id=user.id, data=data)
            session.commit()
            return redirect(f"/workspace/dataset/{dataset.name}")
    return render(
        page, "dataset_form.html", _form_context(session, page, values, errors, dataset=None), status=422
    )


def _editable(session: Session, page: PageContext, name: str) -> Dataset:
    dataset = service.require_dataset(session, name)
    authorize(page.actor, Action.DATASET_VIEW, dataset)
    authorize(page.actor, Action.DATASET_UPDATE, dataset)
    return dataset


@router.get("/workspace/dataset/{name:slug}/edit", response_class=HTMLResponse)
def edit_dataset_form(page: Page, name: str, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """The edit form of a catalog entry."""
    dataset = _editable(session, page, name)
    values = {k: getattr(dataset, k, "") for k in DATASET_FIELDS if k not in ("owner_org",)}
    values["temporal_start"] = dataset.temporal_start.isoformat() if dataset.temporal_start else ""
    values["temporal_end"] = dataset.temporal_end.isoformat() if dataset.temporal_end else ""
    return render(page, "dataset_form.html", _form_context(session, page, values, {}, dataset=dataset))


@router.post("/workspace/dataset/{name:slug}/edit", response_class=HTMLResponse)
def edit_dataset(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Save changes to a catalog entry."""
    dataset = _editable(session, page, name)
    values = _dataset_values(form)
    values.pop("name", None)
    values.pop("owner_org", None)
    try:
        data = DatasetUpdate.model_validate(values)
    except ValidationError as exc:
        values["name"] = dataset.name
        ctx = _form_context(session, page, values, field_errors(exc), dataset=dataset)
        return render(page, "dataset_form.html", ctx, status=422)
    service.update_dataset(session, actor_id=user.id, dataset=dataset, data=data)
    session.commit()
    return redirect(f"/workspace/dataset/{dataset.name}")


# --- manage one dataset ----------------------------------------------------------------------------


@router.get("/workspace/dataset/{name:slug}", response_class=HTMLResponse)
def manage_dataset(
    page: Page, name: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Resources and uploads, quality results, grade, table schema and publication of one entry."""
    dataset = _editable(session, page, name)
    return render(page, "manage.html", _manage_context(session, page, dataset, settings))


def _manage_context(
    session: Session, page: PageContext, dataset: Dataset, settings: Any, **extra: Any
) -> dict[str, Any]:
    resources = service.list_resources(session, dataset)
    versions = service.latest_versions(session, resources)
    quality = [
        {"resource": r, "version": versions[r.id], "view": quality_view(versions[r.id], page.lang)}
        for r in resources
        if r.id in versions
    ]
    pending = pipeline.pending_jobs(session, dataset_id=dataset.id)
    publish = decide(page.actor, Action.DATASET_PUBLISH, dataset)
    return {
        "d": dataset,
        "resources": resources,
        "versions": versions,
        "quality": quality,
        "pending": len(pending),
        "grades": vocab.grades(),
        "can_confirm": page.may(Action.GRADE_CONFIRM, dataset),
        "publish": publish,
        "schema_text": json.dumps(dataset.table_schema or {"fields": []}, ensure_ascii=False, indent=2),
        "max_upload": settings.portal.max_upload_bytes,
        "schema_error": None,
        **extra,
    }


@router.post("/workspace/dataset/{name:slug}/resources")
def add_resource(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Add a file slot (or a link) to the dataset."""
    dataset = _editable(session, page, name)
    try:
        data = ResourceCreate(
            name=text(form, "name") or dataset.title,
            format=text(form, "format"),
            url=text(form, "url"),
            description=text(form, "description"),
        )
    except ValidationError as exc:
        raise CatalogErrorForPage(bilingual(str(exc), page.lang)) from exc
    service.create_resource(session, actor_id=user.id, dataset=dataset, data=data)
    session.commit()
    return redirect(f"/workspace/dataset/{dataset.name}#resources")


class CatalogErrorForPage(CatalogError):
    """A form value the catalog refused (shown as a 400 page)."""


@router.post("/workspace/resource/{resource_id}/upload")
def upload_fallback(
    page: Page,
    resource_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    form: CheckedForm,
) -> Response:
    """Upload without JavaScript: a multipart form post (the JS path PUTs to the API with progress)."""
    resource = service.require_resource(session, resource_id)
    dataset = service.require_dataset(session, resource.dataset_id)
    authorize(page.actor, Action.DATASET_UPDATE, dataset)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) and not hasattr(upload, "file"):
        raise CatalogErrorForPage("choose a file / 请选择文件")
    assert upload is not None and not isinstance(upload, str)
    version = service.upload_resource_file(
        session,
        storage,
        actor_id=user.id,
        resource=resource,
        filename=upload.filename or "upload",
        data=upload.file,
        content_type=upload.content_type,
        max_size=settings.portal.max_upload_bytes,
    )
    downloads.commit_or_remove(session, storage, version)
    return redirect(f"/workspace/dataset/{dataset.name}#quality")


@router.post("/workspace/dataset/{name:slug}/grade")
def confirm_grade(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Confirm the proposed grade (or override it with a reason)."""
    dataset = _editable(session, page, name)
    grade = text(form, "grade") or dataset.grade or dataset.proposed_grade or ""
    if vocab.get_term("grades", grade) is None:
        raise CatalogErrorForPage("choose a grade / 请选择分级")
    if dataset.grade is None:
        dataset.grade = dataset.proposed_grade  # the proposal is what is being confirmed
    authorize(page.actor, Action.GRADE_CONFIRM, dataset if dataset.grade else _with_grade(dataset, grade))
    service.confirm_grade(
        session, actor_id=user.id, dataset=dataset, grade=grade, reason=text(form, "reason")
    )
    session.commit()
    return redirect(f"/workspace/dataset/{dataset.name}#grade")


def _with_grade(dataset: Dataset, grade: str) -> Dataset:
    copy = dataset.model_copy()
    copy.grade = grade
    return copy


@router.post("/workspace/dataset/{name:slug}/schema", response_class=HTMLResponse)
def save_schema(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Replace the table schema (JSON), validated by quality.schema.parse_schema."""
    from quality.schema import parse_schema

    dataset = _editable(session, page, name)
    raw = text(form, "schema")
    try:
        schema = parse_schema(raw)
    except Exception as exc:  # parse_schema raises the quality package's errors and JSON errors
        ctx = _manage_context(
            session, page, dataset, settings, schema_text=raw, schema_error=bilingual(str(exc), page.lang)
        )
        return render(page, "manage.html", ctx, status=422)
    dataset.table_schema = schema.model_dump(mode="json")
    dataset.updated_at = datetime.now(UTC)
    session.add(dataset)
    session.commit()
    return redirect(f"/workspace/dataset/{dataset.name}#schema")


@router.post("/workspace/dataset/{name:slug}/publish")
def publish(page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep) -> Response:
    """Publish the entry (grade confirmed and allowing its open type)."""
    dataset = _editable(session, page, name)
    authorize(page.actor, Action.DATASET_PUBLISH, dataset)
    service.publish_dataset(session, actor_id=user.id, dataset=dataset)
    session.commit()
    return redirect(f"/dataset/{dataset.name}")


# --- applications --------------------------------------------------------------------------------


@router.get("/workspace/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    page: Page, application_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> HTMLResponse:
    """One application, its history and the step the viewer may take."""
    app = applications.require_application(session, application_id)
    owners = [uuid.UUID(o) for o in app.owner_org_ids]
    is_applicant = app.applicant_id == user.id
    is_reviewer = bool(owners) and all(can_review_applications(page.actor, o) for o in owners)
    is_checker = page.may(Action.APPLICATION_CHECK)
    if not (is_applicant or is_reviewer or is_checker or page.may(Action.AUDIT_READ)):
        raise applications.ApplicationNotFound(application_id)
    events = applications.history(session, app.id)
    datasets = service.get_datasets(session, app.dataset_uuids)
    users = _users(session, {app.applicant_id, *(e.actor_id for e in events)})
    today = datetime.now(UTC).date()
    return render(
        page,
        "application.html",
        {
            "app": app,
            "events": events,
            "datasets": datasets,
            "users": users,
            "is_applicant": is_applicant,
            "is_reviewer": is_reviewer and app.state == "checked",
            "is_checker": is_checker and app.state == "submitted",
            "default_to": (
                app.requested_to.date() if app.requested_to else today + timedelta(days=180)
            ).isoformat(),
        },
    )


@router.post("/workspace/applications/{application_id}/{step}")
def application_step(
    page: Page,
    application_id: uuid.UUID,
    step: str,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """Take one step: check, review, accept the agreement, or withdraw."""
    reason = text(form, "reason")
    if step == "check":
        applications.check(
            session,
            application_id=application_id,
            checker=page.actor,
            outcome=text(form, "outcome"),
            reason=reason,
        )
    elif step == "review":
        app = applications.require_application(session, application_id)
        terms = None
        if text(form, "decision") == "approve":
            valid_to = text(form, "valid_to")
            quota = text(form, "download_quota")
            terms = applications.GrantTerms(
                valid_from=datetime.now(UTC),
                valid_to=datetime.fromisoformat(valid_to).replace(tzinfo=UTC)
                if valid_to
                else app.requested_to,
                download_quota=int(quota) if quota.isdigit() else None,
                allowed_use=app.purpose,
            )
        applications.review(
            session,
            application_id=application_id,
            reviewer=page.actor,
            owner_org_ids=[uuid.UUID(o) for o in app.owner_org_ids],
            decision=text(form, "decision"),
            reason=reason,
            terms=terms,
        )
    elif step == "accept":
        applications.accept_agreement(
            session,
            application_id=application_id,
            applicant=page.actor,
            agreement_sha256=text(form, "agreement_sha256") or None,
        )
    elif step == "withdraw":
        applications.withdraw(session, application_id=application_id, applicant=page.actor, reason=reason)
    else:
        raise applications.ApplicationNotFound(application_id)
    session.commit()
    return redirect(f"/workspace/applications/{application_id}")


# --- API tokens ----------------------------------------------------------------------------------


@router.get("/workspace/tokens", response_class=HTMLResponse)
def tokens_page(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """The user's API tokens."""
    return render(
        page,
        "tokens.html",
        {"tokens": list_api_tokens(session, user_id=user.id), "raw": None, "created": None},
    )


@router.post("/workspace/tokens", response_class=HTMLResponse)
def create_token(page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep) -> HTMLResponse:
    """Issue a token; its secret is shown on this response only."""
    scope = text(form, "scope") or "read"
    days = text(form, "days")
    expires = datetime.now(UTC) + timedelta(days=int(days)) if days.isdigit() and int(days) > 0 else None
    token, raw = issue_api_token(
        session,
        user_id=user.id,
        name=text(form, "name")[:100] or "token",
        scope=scope,
        expires_at=expires,
        client_addr=client_addr(page.request),
    )
    session.commit()
    response = render(
        page,
        "tokens.html",
        {"tokens": list_api_tokens(session, user_id=user.id), "raw": raw, "created": token},
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/workspace/tokens/{token_id}/revoke")
def revoke_token(
    page: Page, token_id: uuid.UUID, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Revoke one of the user's tokens."""
    revoke_api_token(session, token_id=token_id, user_id=user.id, client_addr=client_addr(page.request))
    session.commit()
    return redirect("/workspace/tokens")


def grant_datasets(session: Session, grant_id: uuid.UUID) -> list[uuid.UUID]:
    """The datasets a grant covers."""
    return [i.dataset_id for i in grant_items(session, grant_id)]
