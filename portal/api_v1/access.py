"""Access on /api/v1: 有条件开放 applications, grants, usage reports, the inbox, and the audit log.

The workflow lives in auth.applications and auth.grants; each route here loads what the policy
needs, asks auth.policy, calls one service and commits once. Who sees what:
the applicant sees their own applications; the data authority (platform operator) checks them;
admins and editors of the owning organization review them and see their grants; an admin of the
owning organization revokes a grant; the regulator (and sysadmins) read everything, and only they
read the audit log (Action.AUDIT_READ).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from auth import applications as apps
from auth import audit, inbox
from auth.grants import Grant, GrantItem, grant_items, grants_of_user, require_grant, revoke_grant
from auth.models import AuditEvent, User, as_utc
from auth.policy import (
    AccessDenied,
    Action,
    Actor,
    authorize,
    can_review_applications,
    may,
)
from auth.users import get_user_by_name
from catalog import service
from catalog.models import Dataset
from portal.deps import ActorDep, CurrentUser, SessionDep

router = APIRouter(tags=["access"])


# --- shapes -------------------------------------------------------------------------------------


class DatasetRef(BaseModel):
    """A dataset named in an application, a grant or a report."""

    id: uuid.UUID
    name: str | None = None
    title: str | None = None


class ApplicationCreate(BaseModel):
    """An application for one or more 有条件开放 datasets."""

    datasets: list[str] = Field(min_length=1, description="dataset names or ids")
    purpose: str = Field(min_length=1, description="用途")
    scenario: str = Field("", description="应用场景")
    requested_from: datetime
    requested_to: datetime
    security_commitment_signed: bool = Field(description="数据安全承诺书已签署")
    commitment_text: str = Field(min_length=1, description="the signed security commitment, as signed")
    organization: str | None = Field(None, description="the applicant's organization (name or id)")


class CheckRequest(BaseModel):
    """形式审查 result."""

    outcome: apps.CheckOutcome
    reason: str = ""


class ReviewRequest(BaseModel):
    """The owning organization's decision; terms apply to an approval (defaults: as requested)."""

    decision: apps.ReviewDecision
    reason: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    download_quota: int | None = Field(None, ge=0)
    query_quota: int | None = Field(None, ge=0)
    allowed_use: str | None = None
    template: str = apps.DEFAULT_TEMPLATE_CODE


class AcceptRequest(BaseModel):
    """The applicant accepts the agreement they read, identified by its SHA-256."""

    agreement_sha256: str = Field(min_length=64, max_length=64)


class ResubmitRequest(BaseModel):
    """The applicant's answer to a request for more information."""

    note: str = Field(min_length=1)
    purpose: str | None = None
    scenario: str | None = None


class ReasonBody(BaseModel):
    """A reason given with a step."""

    reason: str = ""


class RevokeRequest(BaseModel):
    """Why a grant is revoked (required)."""

    reason: str = Field(min_length=1, max_length=1000)


class EventPublic(BaseModel):
    """One step of an application's history."""

    seq: int
    at: datetime
    step: str
    from_state: str
    to_state: str
    actor_id: uuid.UUID | None
    actor_name: str
    reason: str


class ApplicationPublic(BaseModel):
    """An application as its applicant and its reviewers see it."""

    id: uuid.UUID
    applicant_id: uuid.UUID
    applicant_name: str
    applicant_org_id: uuid.UUID | None
    datasets: list[DatasetRef]
    owner_org_ids: list[uuid.UUID]
    purpose: str
    scenario: str
    requested_from: datetime
    requested_to: datetime
    security_commitment_signed: bool
    commitment_sha256: str
    state: str
    awaiting: str | None
    due_at: datetime | None
    overdue: bool
    terms: dict[str, Any]
    agreement_sha256: str
    agreement_accepted_at: datetime | None
    grant_id: uuid.UUID | None
    submitted_at: datetime
    decided_at: datetime | None
    updated_at: datetime
    history: list[EventPublic] | None = None


class AgreementPublic(BaseModel):
    """The frozen data use agreement of an approved application."""

    application_id: uuid.UUID
    template_code: str
    template_version: int | None
    text: str
    sha256: str
    accepted_at: datetime | None


class GrantPublic(BaseModel):
    """A grant: what it opens, for how long, and how much of it is used."""

    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    organization_id: uuid.UUID | None
    source: str
    source_id: uuid.UUID | None
    datasets: list[DatasetRef]
    resource_ids: list[uuid.UUID]
    valid_from: datetime
    valid_to: datetime
    download_quota: int | None
    downloads_used: int
    downloads_left: int | None
    query_quota: int | None
    queries_used: int
    queries_left: int | None
    allowed_use: str
    state: str
    suspension_cause: str | None
    revoked_at: datetime | None
    revoke_reason: str
    created_at: datetime


class AcceptResult(BaseModel):
    """What accepting the agreement produced: the approved application, its agreement and the grant."""

    application: ApplicationPublic
    agreement: AgreementPublic
    grant: GrantPublic


class ResultLink(BaseModel):
    """A published result of the use of the data (paper, app, report), optionally a catalog entry."""

    title: str = Field(min_length=1, max_length=300)
    url: str = Field("", max_length=1000)
    dataset: str | None = Field(None, description="a catalog dataset (name or id) the result is")


class ReportFile(BaseModel):
    """A usage report: 利用情况 and/or 应用成果 with links."""

    usage_text: str = ""
    results_text: str = ""
    result_links: list[ResultLink] = Field(default_factory=list)


class ReportPublic(BaseModel):
    """A usage report owed or filed."""

    id: uuid.UUID
    grant_id: uuid.UUID
    application_id: uuid.UUID | None
    kind: str
    due_at: datetime
    overdue: bool
    state: str
    reminded_at: datetime | None
    filed_at: datetime | None
    usage_text: str
    results_text: str
    result_links: list[dict[str, Any]]


class NotificationPublic(BaseModel):
    """One inbox message."""

    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class InboxPage(BaseModel):
    """The caller's inbox."""

    unread: int
    results: list[NotificationPublic]


class Marked(BaseModel):
    """How many messages were marked read."""

    marked: int


class AuditEventPublic(BaseModel):
    """One audit record, with its place in the hash chain."""

    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    client_addr: str
    outcome: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """One page of audit records, newest first."""

    limit: int
    offset: int
    results: list[AuditEventPublic]


class AnomalyPublic(BaseModel):
    """A pattern in the audit log worth a regulator's look."""

    kind: str
    actor_id: uuid.UUID | None
    actor_name: str
    count: int
    first_at: datetime | None
    last_at: datetime | None
    detail: dict[str, Any]


class ChainStatus(BaseModel):
    """Whether the audit chain verifies, and if not, the first broken record."""

    ok: bool
    head_id: int | None
    head_hash: str | None
    broken_record_id: int | None = None
    reason: str | None = None
    checked_at: datetime


# --- helpers ------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value)


def _names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.name).where(col(User.id).in_(wanted))).all()
    return {uid: name for uid, name in rows}


def _dataset_refs(session: Session, ids: Iterable[uuid.UUID]) -> list[DatasetRef]:
    ordered = list(dict.fromkeys(ids))
    found = {d.id: d for d in service.get_datasets(session, ordered)}
    return [
        DatasetRef(id=i, name=found[i].name, title=found[i].title) if i in found else DatasetRef(id=i)
        for i in ordered
    ]


def _history(session: Session, app: apps.Application) -> list[EventPublic]:
    events = apps.history(session, app.id)
    names = _names(session, (e.actor_id for e in events))
    return [
        EventPublic(
            seq=e.seq,
            at=_utc(e.at),  # type: ignore[arg-type]
            step=e.step,
            from_state=e.from_state,
            to_state=e.to_state,
            actor_id=e.actor_id,
            actor_name=names.get(e.actor_id, "") if e.actor_id else "",
            reason=e.reason,
        )
        for e in events
    ]


def _application(
    session: Session, app: apps.Application, *, with_history: bool = False, now: datetime | None = None
) -> ApplicationPublic:
    moment = now or datetime.now(UTC)
    due = _utc(app.due_at)
    return ApplicationPublic(
        id=app.id,
        applicant_id=app.applicant_id,
        applicant_name=_names(session, [app.applicant_id]).get(app.applicant_id, ""),
        applicant_org_id=app.applicant_org_id,
        datasets=_dataset_refs(session, app.dataset_uuids),
        owner_org_ids=[uuid.UUID(o) for o in app.owner_org_ids],
        purpose=app.purpose,
        scenario=app.scenario,
        requested_from=_utc(app.requested_from),  # type: ignore[arg-type]
        requested_to=_utc(app.requested_to),  # type: ignore[arg-type]
        security_commitment_signed=app.security_commitment_signed,
        commitment_sha256=app.commitment_sha256,
        state=app.state,
        awaiting=app.awaiting,
        due_at=due,
        overdue=bool(due is not None and app.state not in apps.TERMINAL_STATES and due < moment),
        terms=app.terms or {},
        agreement_sha256=app.agreement_sha256,
        agreement_accepted_at=_utc(app.agreement_accepted_at),
        grant_id=app.grant_id,
        submitted_at=_utc(app.submitted_at),  # type: ignore[arg-type]
        decided_at=_utc(app.decided_at),
        updated_at=_utc(app.updated_at),  # type: ignore[arg-type]
        history=_history(session, app) if with_history else None,
    )


def _agreement(app: apps.Application) -> AgreementPublic:
    return AgreementPublic(
        application_id=app.id,
        template_code=app.agreement_template_code,
        template_version=app.agreement_template_version,
        text=app.agreement_text,
        sha256=app.agreement_sha256,
        accepted_at=_utc(app.agreement_accepted_at),
    )


def _grant(session: Session, grant: Grant) -> GrantPublic:
    items = grant_items(session, grant.id)
    return GrantPublic(
        id=grant.id,
        user_id=grant.user_id,
        user_name=_names(session, [grant.user_id]).get(grant.user_id, ""),
        organization_id=grant.organization_id,
        source=grant.source,
        source_id=grant.source_id,
        datasets=_dataset_refs(session, (i.dataset_id for i in items)),
        resource_ids=[i.resource_id for i in items if i.resource_id is not None],
        valid_from=_utc(grant.valid_from),  # type: ignore[arg-type]
        valid_to=_utc(grant.valid_to),  # type: ignore[arg-type]
        download_quota=grant.download_quota,
        downloads_used=grant.downloads_used,
        downloads_left=grant.remaining("download"),
        query_quota=grant.query_quota,
        queries_used=grant.queries_used,
        queries_left=grant.remaining("query"),
        allowed_use=grant.allowed_use,
        state=grant.state,
        suspension_cause=grant.suspension_cause,
        revoked_at=_utc(grant.revoked_at),
        revoke_reason=grant.revoke_reason,
        created_at=_utc(grant.created_at),  # type: ignore[arg-type]
    )


def _report(report: apps.UsageReport, now: datetime | None = None) -> ReportPublic:
    moment = now or datetime.now(UTC)
    due = _utc(report.due_at)
    assert due is not None
    return ReportPublic(
        id=report.id,
        grant_id=report.grant_id,
        application_id=report.application_id,
        kind=report.kind,
        due_at=due,
        overdue=report.state == apps.ReportState.OWED.value and due < moment,
        state=report.state,
        reminded_at=_utc(report.reminded_at),
        filed_at=_utc(report.filed_at),
        usage_text=report.usage_text,
        results_text=report.results_text,
        result_links=list(report.result_links or []),
    )


def _owner_orgs(app: apps.Application) -> list[uuid.UUID]:
    return [uuid.UUID(o) for o in app.owner_org_ids]


def _reviews(actor: Actor, app: apps.Application) -> bool:
    return any(can_review_applications(actor, org) for org in _owner_orgs(app))


def _oversees(actor: Actor) -> bool:
    """The regulator and sysadmins read every application and grant."""
    return may(actor, Action.AUDIT_READ)


def readable_application(session: Session, actor: Actor, application_id: uuid.UUID) -> apps.Application:
    """An application the caller may read: their own, one to check, one to review, or any for the regulator."""
    app = apps.require_application(session, application_id)
    if actor.user_id is not None and (
        app.applicant_id == actor.user_id
        or may(actor, Action.APPLICATION_CHECK)
        or _reviews(actor, app)
        or _oversees(actor)
    ):
        return app
    raise apps.ApplicationNotFound(application_id)  # others' applications are not even visible


def _grant_orgs(session: Session, grant: Grant) -> set[uuid.UUID]:
    ids = [i.dataset_id for i in grant_items(session, grant.id)]
    return {d.owner_org_id for d in service.get_datasets(session, ids)}


def readable_grant(session: Session, actor: Actor, grant_id: uuid.UUID) -> Grant:
    """A grant the caller may read: their own, their organization's data, or any for the regulator."""
    grant = require_grant(session, grant_id)
    if actor.user_id is not None and (
        grant.user_id == actor.user_id
        or _oversees(actor)
        or any(can_review_applications(actor, org) for org in _grant_orgs(session, grant))
    ):
        return grant
    from auth.grants import GrantNotFound

    raise GrantNotFound(grant_id)


def _visible_datasets(session: Session, actor: Actor, refs: Iterable[str]) -> list[Dataset]:
    found: list[Dataset] = []
    for ref in dict.fromkeys(refs):
        dataset = service.require_dataset(session, _ref(ref))
        authorize(actor, Action.DATASET_VIEW, dataset)
        found.append(dataset)
    return found


def _ref(value: str) -> str | uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return value


# --- applications -------------------------------------------------------------------------------


@router.post("/applications", status_code=status.HTTP_201_CREATED)
def submit_application(
    data: ApplicationCreate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ApplicationPublic:
    """Apply for 有条件开放 datasets: purpose, scenario, period and the signed security commitment."""
    datasets = _visible_datasets(session, actor, data.datasets)
    org_id: uuid.UUID | None = None
    if data.organization:
        org = service.require_organization(session, _ref(data.organization))
        if not actor.is_insider(org.id):
            raise AccessDenied(str(Action.APPLICATION_CREATE), "you apply only for your own organization")
        org_id = org.id
    elif len(actor.org_roles) == 1:
        org_id = next(iter(actor.org_roles))
    app = apps.submit(
        session,
        applicant=actor,
        datasets=datasets,
        purpose=data.purpose,
        scenario=data.scenario,
        requested_from=data.requested_from,
        requested_to=data.requested_to,
        security_commitment_signed=data.security_commitment_signed,
        commitment_text=data.commitment_text,
        applicant_org_id=org_id,
    )
    session.commit()
    return _application(session, app, with_history=True)


@router.get("/applications")
def list_my_applications(session: SessionDep, user: CurrentUser) -> list[ApplicationPublic]:
    """The caller's own applications, newest first."""
    now = datetime.now(UTC)
    return [_application(session, a, now=now) for a in apps.applications_of(session, applicant_id=user.id)]


@router.get("/applications/pending-check")
def list_pending_check(session: SessionDep, actor: ActorDep) -> list[ApplicationPublic]:
    """Applications waiting for the formal check (the data authority's queue), oldest deadline first."""
    authorize(actor, Action.APPLICATION_CHECK)
    now = datetime.now(UTC)
    return [_application(session, a, now=now) for a in apps.pending_check(session)]


@router.get("/applications/pending-review")
def list_pending_review(session: SessionDep, user: CurrentUser, actor: ActorDep) -> list[ApplicationPublic]:
    """Checked applications for data of the organizations the caller reviews for."""
    orgs = [org for org in actor.org_roles if can_review_applications(actor, org)]
    if not orgs:
        raise AccessDenied(
            str(Action.APPLICATION_REVIEW),
            "applications are reviewed by admins and editors of the owning organization",
        )
    now = datetime.now(UTC)
    return [_application(session, a, now=now) for a in apps.pending_review(session, org_ids=orgs)]


@router.get("/applications/overdue")
def list_overdue(session: SessionDep, user: CurrentUser, actor: ActorDep) -> list[ApplicationPublic]:
    """Open applications past their step's deadline: all for the regulator and the data authority, own data for reviewers."""
    now = datetime.now(UTC)
    late = apps.overdue(session, now=now)
    if not (_oversees(actor) or may(actor, Action.APPLICATION_CHECK)):
        if not any(can_review_applications(actor, org) for org in actor.org_roles):
            raise AccessDenied("application.overdue", "for reviewers, the data authority and the regulator")
        late = [a for a in late if _reviews(actor, a)]
    return [_application(session, a, now=now) for a in late]


@router.get("/applications/{application_id}")
def read_application(application_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ApplicationPublic:
    """One application with its history (applicant, data authority, reviewers, regulator)."""
    app = readable_application(session, actor, application_id)
    return _application(session, app, with_history=True)


@router.get("/applications/{application_id}/history")
def read_history(application_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> list[EventPublic]:
    """The steps of one application, oldest first."""
    return _history(session, readable_application(session, actor, application_id))


@router.post("/applications/{application_id}/check")
def check_application(
    application_id: uuid.UUID, data: CheckRequest, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ApplicationPublic:
    """形式审查 by the data authority: pass to the owner, ask for more, or reject (with a reason)."""
    authorize(actor, Action.APPLICATION_CHECK)
    app = apps.check(
        session, application_id=application_id, checker=actor, outcome=data.outcome.value, reason=data.reason
    )
    session.commit()
    return _application(session, app, with_history=True)


@router.post("/applications/{application_id}/review")
def review_application(
    application_id: uuid.UUID, data: ReviewRequest, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ApplicationPublic:
    """The owning organization approves (with terms), rejects, or asks for more (with a reason)."""
    app = readable_application(session, actor, application_id)
    for dataset in service.get_datasets(session, app.dataset_uuids):
        authorize(actor, Action.APPLICATION_REVIEW, dataset)
    terms = None
    if data.decision == apps.ReviewDecision.APPROVE:
        terms = apps.GrantTerms(
            valid_from=data.valid_from or app.requested_from,
            valid_to=data.valid_to or app.requested_to,
            download_quota=data.download_quota,
            query_quota=data.query_quota,
            allowed_use=data.allowed_use if data.allowed_use is not None else app.purpose,
        )
    app = apps.review(
        session,
        application_id=app.id,
        reviewer=actor,
        owner_org_ids=_owner_orgs(app),
        decision=data.decision.value,
        reason=data.reason,
        terms=terms,
        template_code=data.template,
    )
    session.commit()
    return _application(session, app, with_history=True)


@router.get("/applications/{application_id}/agreement")
def read_agreement(application_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> AgreementPublic:
    """The frozen data use agreement and its SHA-256 (once the application is approved in substance)."""
    app = readable_application(session, actor, application_id)
    if not app.agreement_sha256:
        raise apps.ApplicationStateConflict(app.id, app.state, "read_agreement")
    return _agreement(app)


@router.post("/applications/{application_id}/accept")
def accept_agreement(
    application_id: uuid.UUID, data: AcceptRequest, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> AcceptResult:
    """The applicant accepts the agreement they read (by its SHA-256): the grant is issued."""
    app = readable_application(session, actor, application_id)
    for dataset in service.get_datasets(session, app.dataset_uuids):
        authorize(actor, Action.DATASET_VIEW, dataset)
    grant = apps.accept_agreement(
        session, application_id=app.id, applicant=actor, agreement_sha256=data.agreement_sha256
    )
    session.commit()
    return AcceptResult(
        application=_application(session, app, with_history=True),
        agreement=_agreement(app),
        grant=_grant(session, grant),
    )


@router.post("/applications/{application_id}/resubmit")
def resubmit_application(
    application_id: uuid.UUID, data: ResubmitRequest, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ApplicationPublic:
    """Answer a request for more information; the application goes back to the formal check."""
    app = readable_application(session, actor, application_id)
    for dataset in service.get_datasets(session, app.dataset_uuids):
        authorize(actor, Action.APPLICATION_CREATE, dataset)
    app = apps.resubmit(
        session,
        application_id=app.id,
        applicant=actor,
        note=data.note,
        purpose=data.purpose,
        scenario=data.scenario,
    )
    session.commit()
    return _application(session, app, with_history=True)


@router.post("/applications/{application_id}/withdraw")
def withdraw_application(
    application_id: uuid.UUID, data: ReasonBody, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ApplicationPublic:
    """The applicant cancels an open application."""
    app = readable_application(session, actor, application_id)
    if app.applicant_id != user.id:
        raise AccessDenied("application.withdraw", "only the applicant withdraws an application")
    app = apps.withdraw(session, application_id=app.id, applicant=actor, reason=data.reason)
    session.commit()
    return _application(session, app, with_history=True)


# --- grants -------------------------------------------------------------------------------------


@router.get("/grants")
def list_my_grants(session: SessionDep, user: CurrentUser) -> list[GrantPublic]:
    """The caller's grants, newest first, with quota use."""
    return [_grant(session, g) for g in grants_of_user(session, user_id=user.id)]


@router.get("/organizations/{name}/grants")
def list_org_grants(
    name: str,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
    state: str | None = None,
) -> list[GrantPublic]:
    """Grants on the organization's data (its admins, editors and the regulator)."""
    org = service.require_organization(session, _ref(name))
    if not (can_review_applications(actor, org.id) or _oversees(actor)):
        authorize(actor, Action.ORG_MANAGE, org)
    owned = select(Dataset.id).where(Dataset.owner_org_id == org.id)
    grant_ids = select(GrantItem.grant_id).where(col(GrantItem.dataset_id).in_(owned)).distinct()
    stmt = select(Grant).where(col(Grant.id).in_(grant_ids))
    if state:
        stmt = stmt.where(Grant.state == state)
    rows = session.exec(stmt.order_by(col(Grant.created_at).desc())).all()
    return [_grant(session, g) for g in rows]


@router.get("/grants/{grant_id}")
def read_grant(grant_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> GrantPublic:
    """One grant (holder, owning organization, regulator)."""
    return _grant(session, readable_grant(session, actor, grant_id))


@router.post("/grants/{grant_id}/revoke")
def revoke(
    grant_id: uuid.UUID, data: RevokeRequest, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> GrantPublic:
    """Revoke a grant for good, with a reason (an admin of the organization that owns the data)."""
    grant = readable_grant(session, actor, grant_id)
    orgs = service.organizations_by_id(session, _grant_orgs(session, grant))
    if not orgs:
        raise AccessDenied("grant.revoke", "the grant covers no dataset of an organization")
    for org in orgs.values():
        authorize(actor, Action.ORG_MANAGE, org)
    grant = revoke_grant(
        session, grant_id=grant.id, actor_id=user.id, actor_name=user.name, reason=data.reason.strip()
    )
    inbox.notify(
        session,
        user_id=grant.user_id,
        kind="grant.revoked",
        title="授权已撤销 / access revoked",
        body=data.reason.strip(),
        link=f"/grants/{grant.id}",
    )
    session.commit()
    return _grant(session, grant)


@router.get("/grants/{grant_id}/reports")
def list_grant_reports(grant_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> list[ReportPublic]:
    """The usage reports a grant owes or has received, by due date."""
    grant = readable_grant(session, actor, grant_id)
    now = datetime.now(UTC)
    return [_report(r, now) for r in apps.reports_of_grant(session, grant.id)]


# --- usage reports ------------------------------------------------------------------------------


@router.get("/reports")
def list_my_reports(
    session: SessionDep, user: CurrentUser, state: Literal["owed", "filed"] | None = None
) -> list[ReportPublic]:
    """The caller's usage reports (利用情况 / 应用成果), by due date."""
    now = datetime.now(UTC)
    stmt = select(apps.UsageReport).where(apps.UsageReport.user_id == user.id)
    if state is not None:
        stmt = stmt.where(apps.UsageReport.state == state)
    rows = session.exec(stmt.order_by(col(apps.UsageReport.due_at))).all()
    return [_report(r, now) for r in rows]


@router.post("/reports/{report_id}")
def file_report(
    report_id: uuid.UUID, data: ReportFile, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ReportPublic:
    """File a usage report; links may name catalog datasets. Filing an overdue one resumes the grant."""
    links: list[dict[str, Any]] = []
    for link in data.result_links:
        entry: dict[str, Any] = {"title": link.title, "url": link.url}
        if link.dataset:
            (dataset,) = _visible_datasets(session, actor, [link.dataset])
            entry["dataset_id"] = str(dataset.id)
        links.append(entry)
    report = apps.file_report(
        session,
        report_id=report_id,
        user_id=user.id,
        usage_text=data.usage_text,
        results_text=data.results_text,
        result_links=links,
    )
    session.commit()
    return _report(report)


# --- inbox --------------------------------------------------------------------------------------


@router.get("/inbox")
def read_inbox(
    session: SessionDep,
    user: CurrentUser,
    unread_only: bool = False,
    limit: int = Query(100, ge=1, le=1000),
) -> InboxPage:
    """The caller's messages (站内信), newest first, with the unread count."""
    notes = inbox.inbox(session, user_id=user.id, unread_only=unread_only, limit=limit)
    return InboxPage(
        unread=inbox.unread_count(session, user_id=user.id),
        results=[
            NotificationPublic(
                id=n.id,
                kind=n.kind,
                title=n.title,
                body=n.body,
                link=n.link,
                created_at=_utc(n.created_at),  # type: ignore[arg-type]
                read_at=_utc(n.read_at),
            )
            for n in notes
        ],
    )


@router.post("/inbox/read-all")
def mark_all_read(session: SessionDep, user: CurrentUser) -> Marked:
    """Mark every message read."""
    count = inbox.mark_read(session, user_id=user.id)
    session.commit()
    return Marked(marked=count)


@router.post("/inbox/{notification_id}/read")
def mark_read(notification_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> Marked:
    """Mark one message read."""
    count = inbox.mark_read(session, user_id=user.id, notification_id=notification_id)
    session.commit()
    return Marked(marked=count)


# --- the audit log (regulator) ------------------------------------------------------------------


def _actor_filter(session: Session, actor: str | None) -> uuid.UUID | None:
    if not actor:
        return None
    ref = _ref(actor)
    if isinstance(ref, uuid.UUID):
        return ref
    found = get_user_by_name(session, ref)
    # An unknown name matches nothing rather than everything.
    return found.id if found is not None else uuid.UUID(int=0)


def _event(e: AuditEvent) -> AuditEventPublic:
    return AuditEventPublic(
        id=int(e.id or 0),
        at=_utc(e.at),  # type: ignore[arg-type]
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        client_addr=e.client_addr,
        outcome=e.outcome,
        detail=dict(e.detail or {}),
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


@router.get("/audit/events")
def query_audit(
    session: SessionDep,
    actor: ActorDep,
    by: str | None = Query(None, alias="actor", description="user name or id"),
    object_id: str | None = None,
    action: str | None = Query(None, description="exact, or a prefix ending in '.' (grant.)"),
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> AuditPage:
    """Audit records by actor, object, action, outcome and time, newest first (regulator, sysadmin)."""
    authorize(actor, Action.AUDIT_READ)
    rows = audit.query(
        session,
        actor_id=_actor_filter(session, by),
        object_id=object_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return AuditPage(limit=limit, offset=offset, results=[_event(e) for e in rows])


def matches(
    event: AuditEvent,
    *,
    actor_id: uuid.UUID | None,
    object_id: str | None,
    action: str | None,
    outcome: str | None,
) -> bool:
    """The filters of audit.query, applied to one record (for streamed exports)."""
    if actor_id is not None and event.actor_id != actor_id:
        return False
    if object_id is not None and event.object_id != object_id:
        return False
    if action is not None:
        if action.endswith("."):
            if not event.action.startswith(action):
                return False
        elif event.action != action:
            return False
    return outcome is None or event.outcome == outcome


@router.get("/audit/events.csv")
def export_audit(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
    by: str | None = Query(None, alias="actor", description="user name or id"),
    object_id: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bom: bool = Query(False, description="prepend a UTF-8 BOM for Excel"),
) -> StreamingResponse:
    """The audit records in [since, until) as CSV, oldest first, streamed (regulator, sysadmin)."""
    authorize(actor, Action.AUDIT_READ)
    actor_id = _actor_filter(session, by)
    audit.record(
        session,
        action="audit.export",
        actor_id=user.id,
        actor_name=user.name,
        object_type="audit",
        client_addr=request.client.host if request.client else "",
        detail={"since": str(since) if since else None, "until": str(until) if until else None},
    )
    session.commit()
    engine = request.app.state.engine

    def rows() -> Iterator[str]:
        # A session of its own: the request's session is closed by the time the body streams.
        with Session(engine) as own:
            picked = (
                e
                for e in audit.stream(own, since=since, until=until)
                if matches(e, actor_id=actor_id, object_id=object_id, action=action, outcome=outcome)
            )
            yield from audit.export_csv(picked, excel_bom=bom)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        (line.encode("utf-8") for line in rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


@router.get("/audit/anomalies")
def audit_anomalies(
    session: SessionDep,
    actor: ActorDep,
    window_hours: int = Query(24, ge=1, le=24 * 31),
    baseline_days: int = Query(30, ge=1, le=365),
    download_factor: float = Query(5.0, gt=0),
    min_downloads: int = Query(50, ge=0),
    min_denials: int = Query(10, ge=1),
) -> list[AnomalyPublic]:
    """Signals for the regulator: download spikes, repeated denials, use of revoked tokens."""
    authorize(actor, Action.AUDIT_READ)
    found = audit.anomalies(
        session,
        window=timedelta(hours=window_hours),
        baseline_days=baseline_days,
        download_factor=download_factor,
        min_downloads=min_downloads,
        min_denials=min_denials,
    )
    return [
        AnomalyPublic(
            kind=a.kind,
            actor_id=a.actor_id,
            actor_name=a.actor_name,
            count=a.count,
            first_at=a.first_at,
            last_at=a.last_at,
            detail=a.detail,
        )
        for a in found
    ]


@router.get("/audit/verify")
def verify_audit(
    session: SessionDep,
    actor: ActorDep,
    head_id: int | None = Query(None, description="a published head id to check against"),
    head_hash: str | None = Query(None, description="the published head's hash"),
) -> ChainStatus:
    """Walk the hash chain: ok, or the first broken record and why (regulator, sysadmin)."""
    authorize(actor, Action.AUDIT_READ)
    expected = (head_id, head_hash) if head_id is not None and head_hash else None
    broken = audit.verify_chain(session, expected_head=expected)
    top = audit.head(session)
    return ChainStatus(
        ok=broken is None,
        head_id=top[0] if top else None,
        head_hash=top[1] if top else None,
        broken_record_id=broken.record_id if broken else None,
        reason=broken.reason if broken else None,
        checked_at=datetime.now(UTC),
    )
