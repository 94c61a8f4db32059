"""The one ledger (一本账): summary counts, XLSX/CSV exports, history, and registration (登记)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from auth.policy import AccessDenied, Action, Actor, NotVisible, authorize, may
from catalog import ledger_views, service
from catalog import registration as reg
from catalog.models import Dataset, Organization
from portal.deps import ActorDep, CurrentUser, SessionDep, VisibleDataset

router = APIRouter(tags=["ledger"])


# --- shapes -------------------------------------------------------------------------------------


class LedgerEntryPublic(BaseModel):
    """One change recorded in the ledger."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    subject_type: str
    subject_id: uuid.UUID
    dataset_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class RegistrationCreate(BaseModel):
    """An application to register (first), change, correct or cancel a catalog entry."""

    kind: reg.RegistrationKind
    payload: dict[str, Any] = Field(default_factory=dict, description="proposed fields (change, correction)")
    reason: str = ""


class StepNote(BaseModel):
    """A note or reason given with a step."""

    note: str = ""


class NoticeStart(BaseModel):
    """How long the public notice (公示) lasts."""

    notice_days: int = Field(reg.DEFAULT_NOTICE_DAYS, ge=0, le=90)


class Reason(BaseModel):
    """A reason (required for rejections and objections)."""

    reason: str = Field(min_length=1)


class ObjectionDecision(BaseModel):
    """Uphold or dismiss an objection."""

    upheld: bool
    note: str = ""


class RegistrationEventPublic(BaseModel):
    """One step of a registration's history."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_id: uuid.UUID | None
    step: str
    from_state: str | None
    to_state: str
    note: str


class ObjectionPublic(BaseModel):
    """An objection filed during the notice period."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filed_at: datetime
    filed_by: uuid.UUID | None
    reason: str
    state: str
    decided_at: datetime | None
    decision_note: str


class RegistrationPublic(BaseModel):
    """A registration with its history and objections."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dataset_id: uuid.UUID
    kind: str
    state: str
    payload: dict[str, Any]
    reason: str
    rejection_reason: str
    notice_days: int | None
    notice_ends_at: datetime | None
    resource_code: str | None
    applied_at: datetime
    accepted_at: datetime | None
    reviewed_at: datetime | None
    noticed_at: datetime | None
    coded_at: datetime | None
    rejected_at: datetime | None
    events: list[RegistrationEventPublic] = Field(default_factory=list)
    objections: list[ObjectionPublic] = Field(default_factory=list)


def _public(session: SessionDep, registration: reg.Registration) -> RegistrationPublic:
    out = RegistrationPublic.model_validate(registration)
    out.events = [RegistrationEventPublic.model_validate(e) for e in reg.events_of(session, registration)]
    out.objections = [ObjectionPublic.model_validate(o) for o in reg.objections_of(session, registration)]
    return out


# --- scope ---------------------------------------------------------------------------------------


def _platform(actor: Actor) -> bool:
    return may(actor, Action.LEDGER_EXPORT)


def _scope(
    session: SessionDep, actor: Actor, organization: str | None
) -> tuple[uuid.UUID | None, list[str] | None]:
    """The agency and statuses the caller may count or export: all for the platform and insiders."""
    org_id = service.require_organization(session, organization).id if organization else None
    if _platform(actor) or (org_id is not None and actor.is_insider(org_id)):
        return org_id, None
    return org_id, ["published"]


# --- summary and exports --------------------------------------------------------------------------


@router.get("/ledger/summary")
def ledger_summary(session: SessionDep, actor: ActorDep, organization: str | None = None) -> dict[str, Any]:
    """Counts of the ledger: province-wide for the regulator/operator, published entries for others."""
    org_id, statuses = _scope(session, actor, organization)
    out = ledger_views.summary(session, organization_id=org_id, statuses=statuses).as_dict()
    out["scope"] = {"organization": organization, "statuses": statuses or "all"}
    return out


@router.get("/ledger/export.csv")
def export_csv(session: SessionDep, actor: ActorDep, organization: str | None = None) -> StreamingResponse:
    """The ledger (or one agency's part) as CSV, UTF-8 with BOM, streamed."""
    org_id, statuses = _scope(session, actor, organization)
    body = ledger_views.iter_csv(session, organization_id=org_id, statuses=statuses)
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _disposition(organization, "csv")},
    )


@router.get("/ledger/export.xlsx")
def export_xlsx(session: SessionDep, actor: ActorDep, organization: str | None = None) -> StreamingResponse:
    """The ledger (or one agency's part) as an XLSX workbook, written to a spooled file and streamed."""
    org_id, statuses = _scope(session, actor, organization)
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - closed by _chunks
    ledger_views.write_xlsx(session, spool, organization_id=org_id, statuses=statuses)
    spool.seek(0)
    return StreamingResponse(
        _chunks(spool),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": _disposition(organization, "xlsx")},
    )


def _chunks(spool: Any) -> Iterator[bytes]:
    try:
        while chunk := spool.read(256 * 1024):
            yield chunk
    finally:
        spool.close()


def _disposition(organization: str | None, ext: str) -> str:
    name = f"ledger-{organization}.{ext}" if organization else f"ledger.{ext}"
    return f'attachment; filename="{name}"'


# --- history ------------------------------------------------------------------------------------


def _may_read_history(actor: Actor, org_id: uuid.UUID) -> bool:
    return _platform(actor) or actor.is_insider(org_id) or (actor.user_id is not None and actor.is_sysadmin)


@router.get("/datasets/{name}/history")
def dataset_history(
    dataset: VisibleDataset,
    session: SessionDep,
    actor: ActorDep,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[LedgerEntryPublic]:
    """The ledger entries of one dataset, newest first (its agency and the platform)."""
    if not _may_read_history(actor, dataset.owner_org_id):
        raise AccessDenied(
            "ledger.history", "the history is for the owning agency and the platform / 仅限所属单位与平台"
        )
    entries = ledger_views.dataset_history(session, dataset, limit=limit, offset=offset)
    return [LedgerEntryPublic.model_validate(e) for e in entries]


@router.get("/organizations/{name}/history")
def organization_history(
    name: str,
    session: SessionDep,
    actor: ActorDep,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[LedgerEntryPublic]:
    """The ledger entries of one agency and its datasets, newest first (the agency and the platform)."""
    org: Organization = service.require_organization(session, name)
    if not _may_read_history(actor, org.id):
        raise AccessDenied(
            "ledger.history", "the history is for the agency and the platform / 仅限本单位与平台"
        )
    entries = ledger_views.organization_history(session, org, limit=limit, offset=offset)
    return [LedgerEntryPublic.model_validate(e) for e in entries]


# --- registration ---------------------------------------------------------------------------------


def _visible_registration(
    session: SessionDep, actor: Actor, registration_id: uuid.UUID
) -> tuple[reg.Registration, Dataset]:
    registration = reg.require_registration(session, registration_id)
    dataset = service.require_dataset(session, registration.dataset_id)
    public_notice = registration.state == reg.RegistrationState.NOTICE
    if not (
        public_notice
        or _may_read_history(actor, dataset.owner_org_id)
        or may(actor, Action.APPLICATION_CHECK)
    ):
        raise NotVisible(
            "registration.view", "registrations are public only during their notice / 仅公示期公开"
        )
    return registration, dataset


@router.post("/datasets/{name}/registrations", status_code=status.HTTP_201_CREATED)
def apply_registration(
    dataset: VisibleDataset, data: RegistrationCreate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> RegistrationPublic:
    """File a registration (登记申请) of a dataset: first, change, correction or cancellation."""
    authorize(actor, Action.DATASET_UPDATE, dataset)
    registration = reg.apply(
        session, actor_id=user.id, dataset=dataset, kind=data.kind, payload=data.payload, reason=data.reason
    )
    session.commit()
    return _public(session, registration)


@router.get("/datasets/{name}/registrations")
def list_registrations(
    dataset: VisibleDataset, session: SessionDep, actor: ActorDep
) -> list[RegistrationPublic]:
    """The registrations of a dataset, newest first."""
    found = reg.registrations_of(session, dataset.id)
    if not (_may_read_history(actor, dataset.owner_org_id) or may(actor, Action.APPLICATION_CHECK)):
        found = [r for r in found if r.state == reg.RegistrationState.NOTICE]
    return [_public(session, r) for r in found]


@router.get("/registrations/{registration_id}")
def read_registration(registration_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> RegistrationPublic:
    """Show one registration with its history and objections."""
    registration, _dataset = _visible_registration(session, actor, registration_id)
    return _public(session, registration)


def _decided(session: SessionDep, actor: Actor, registration_id: uuid.UUID) -> reg.Registration:
    """A registration the caller, as the data authority (platform operator), may move on."""
    registration, _dataset = _visible_registration(session, actor, registration_id)
    authorize(actor, Action.APPLICATION_CHECK)
    return registration


@router.post("/registrations/{registration_id}/accept")
def accept_registration(
    registration_id: uuid.UUID, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> RegistrationPublic:
    """Accept an application for processing (受理); the data authority."""
    registration = reg.accept(
        session, actor_id=user.id, registration=_decided(session, actor, registration_id)
    )
    session.commit()
    return _public(session, registration)


@router.post("/registrations/{registration_id}/review")
def review_registration(
    registration_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
    data: StepNote | None = None,
) -> RegistrationPublic:
    """Pass the formal review (形式审核); the data authority."""
    registration = reg.review(
        session,
        actor_id=user.id,
        registration=_decided(session, actor, registration_id),
        note=(data or StepNote()).note,
    )
    session.commit()
    return _public(session, registration)


@router.post("/registrations/{registration_id}/notice")
def notice_registration(
    registration_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
    data: NoticeStart | None = None,
) -> RegistrationPublic:
    """Publish the registration for public notice (公示); objections may be filed until it ends."""
    registration = reg.start_notice(
        session,
        actor_id=user.id,
        registration=_decided(session, actor, registration_id),
        notice_days=(data or NoticeStart()).notice_days,
    )
    session.commit()
    return _public(session, registration)


@router.post("/registrations/{registration_id}/object", status_code=status.HTTP_201_CREATED)
def object_to_registration(
    registration_id: uuid.UUID, data: Reason, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ObjectionPublic:
    """File an objection (异议) during the public notice; any signed-in user."""
    registration, _dataset = _visible_registration(session, actor, registration_id)
    objection = reg.file_objection(session, actor_id=user.id, registration=registration, reason=data.reason)
    session.commit()
    return ObjectionPublic.model_validate(objection)


@router.post("/registrations/{registration_id}/objections/{objection_id}")
def decide_objection(
    registration_id: uuid.UUID,
    objection_id: uuid.UUID,
    data: ObjectionDecision,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
) -> RegistrationPublic:
    """Uphold (back to formal review) or dismiss an objection; the data authority."""
    registration = _decided(session, actor, registration_id)
    if objection_id not in {o.id for o in reg.objections_of(session, registration)}:
        raise reg.RegistrationNotFound(f"异议不存在 / objection not found: {objection_id}")
    reg.decide_objection(
        session, actor_id=user.id, objection_id=objection_id, upheld=data.upheld, note=data.note
    )
    session.commit()
    return _public(session, registration)


@router.post("/registrations/{registration_id}/code")
def code_registration(
    registration_id: uuid.UUID, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> RegistrationPublic:
    """Finish the registration after its notice (赋码): code, change or cancel the entry."""
    registration = reg.code(session, actor_id=user.id, registration=_decided(session, actor, registration_id))
    session.commit()
    return _public(session, registration)


@router.post("/registrations/{registration_id}/reject")
def reject_registration(
    registration_id: uuid.UUID, data: Reason, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> RegistrationPublic:
    """Reject a registration with a reason (驳回); the data authority."""
    registration = reg.reject(
        session, actor_id=user.id, registration=_decided(session, actor, registration_id), reason=data.reason
    )
    session.commit()
    return _public(session, registration)
