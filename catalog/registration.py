"""Registration (登记) of catalog entries: apply, accept, review, public notice, code, or reject.

A registration is one of four kinds: 首次 first, 变更 change, 更正 correction, 注销 cancellation.
It moves applied -> accepted (受理) -> reviewed (形式审核) -> notice (公示, objections may be
filed until the period ends; an upheld objection sends it back to accepted) -> coded (赋码, done),
or to rejected (with a reason) from any open state. Coding a first registration gives the dataset
a resource code that never changes and is never reused; change and correction apply their payload;
a cancellation withdraws the entry and keeps its code reserved. Every step writes a history row
and a ledger entry. Who may take a step is the caller's business (it asks auth.policy); these
functions check only the state machine. Services flush; the caller commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Field, Session, SQLModel, col, select

from catalog import ledger, service
from catalog.errors import CatalogError, InvalidState, NotFound
from catalog.models import Dataset, Organization, UTCDateTime, aware, utcnow
from catalog.schemas import DatasetUpdate

DEFAULT_NOTICE_DAYS = 7
SEQUENCE_DIGITS = 6
DEFAULT_REGION = "000000"


class RegistrationKind(StrEnum):
    """What the registration asks for."""

    FIRST = "first"  # 首次登记
    CHANGE = "change"  # 变更登记
    CORRECTION = "correction"  # 更正登记
    CANCELLATION = "cancellation"  # 注销登记


class RegistrationState(StrEnum):
    """Where a registration stands."""

    APPLIED = "applied"  # 申请
    ACCEPTED = "accepted"  # 受理
    REVIEWED = "reviewed"  # 形式审核
    NOTICE = "notice"  # 公示
    CODED = "coded"  # 赋码 (done)
    REJECTED = "rejected"  # 驳回


class ObjectionState(StrEnum):
    """Where an objection filed during the notice period stands."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


KIND_LABELS = {
    "first": "首次登记",
    "change": "变更登记",
    "correction": "更正登记",
    "cancellation": "注销登记",
}
STATE_LABELS = {
    "applied": "申请",
    "accepted": "受理",
    "reviewed": "形式审核",
    "notice": "公示",
    "coded": "赋码",
    "rejected": "驳回",
}
OPEN_STATES = frozenset({"applied", "accepted", "reviewed", "notice"})


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _ts_opt(**kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kw)


class Registration(SQLModel, table=True):
    """One application to register, change, correct or cancel a catalog entry."""

    __tablename__ = "registration"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", index=True)
    kind: str = Field(max_length=16)
    state: str = Field(default="applied", max_length=16, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    reason: str = Field(default="")
    rejection_reason: str = Field(default="")
    notice_days: int | None = Field(default=None)
    notice_ends_at: datetime | None = _ts_opt()
    resource_code: str | None = Field(default=None, max_length=64)
    applied_at: datetime = _ts()
    applied_by: uuid.UUID | None = Field(default=None)
    accepted_at: datetime | None = _ts_opt()
    accepted_by: uuid.UUID | None = Field(default=None)
    reviewed_at: datetime | None = _ts_opt()
    reviewed_by: uuid.UUID | None = Field(default=None)
    noticed_at: datetime | None = _ts_opt()
    noticed_by: uuid.UUID | None = Field(default=None)
    coded_at: datetime | None = _ts_opt()
    coded_by: uuid.UUID | None = Field(default=None)
    rejected_at: datetime | None = _ts_opt()
    rejected_by: uuid.UUID | None = Field(default=None)
    updated_at: datetime = _ts()


class RegistrationEvent(SQLModel, table=True):
    """One step of a registration's history (who moved it from which state to which, and why)."""

    __tablename__ = "registration_event"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: uuid.UUID = Field(foreign_key="registration.id", index=True)
    at: datetime = _ts()
    actor_id: uuid.UUID | None = Field(default=None)
    step: str = Field(max_length=16)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    note: str = Field(default="")


class Objection(SQLModel, table=True):
    """An objection (异议) filed against a registration during its public notice."""

    __tablename__ = "registration_objection"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    registration_id: uuid.UUID = Field(foreign_key="registration.id", index=True)
    filed_at: datetime = _ts()
    filed_by: uuid.UUID | None = Field(default=None)
    reason: str
    state: str = Field(default="open", max_length=16)
    decided_at: datetime | None = _ts_opt()
    decided_by: uuid.UUID | None = Field(default=None)
    decision_note: str = Field(default="")


class ResourceCodeCounter(SQLModel, table=True):
    """The last number handed out under one code prefix; only ever incremented, atomically."""

    __tablename__ = "resource_code_counter"

    prefix: str = Field(primary_key=True, max_length=64)
    last: int = Field(default=0)


class AgencyCode(SQLModel, table=True):
    """The short agency number of an organization without a credit code, fixed once given."""

    __tablename__ = "agency_code"

    organization_id: uuid.UUID = Field(foreign_key="organization.id", primary_key=True)
    code: str = Field(max_length=16, unique=True)


class IssuedCode(SQLModel, table=True):
    """Every resource code ever issued; a code here is never issued again, even after cancellation."""

    __tablename__ = "issued_resource_code"

    code: str = Field(primary_key=True, max_length=64)
    dataset_id: uuid.UUID = Field(index=True)
    issued_at: datetime = _ts()
    cancelled_at: datetime | None = _ts_opt()


# --- errors ---------------------------------------------------------------------------------------


class RegistrationNotFound(NotFound):
    """No registration (or objection) has that id."""


class InvalidRegistration(CatalogError):
    """The application itself is not acceptable (bad kind, payload or reason); the message says why."""


# --- reads ----------------------------------------------------------------------------------------


def get_registration(session: Session, registration_id: uuid.UUID) -> Registration | None:
    """The registration with this id, or None."""
    return session.get(Registration, registration_id)


def require_registration(session: Session, registration_id: uuid.UUID) -> Registration:
    """The registration with this id; RegistrationNotFound otherwise."""
    found = get_registration(session, registration_id)
    if found is None:
        raise RegistrationNotFound(f"登记申请不存在 / registration not found: {registration_id}")
    return found


def events_of(session: Session, registration: Registration) -> list[RegistrationEvent]:
    """A registration's history, oldest first."""
    stmt = select(RegistrationEvent).where(RegistrationEvent.registration_id == registration.id)
    return list(session.exec(stmt.order_by(col(RegistrationEvent.id))))


def objections_of(session: Session, registration: Registration) -> list[Objection]:
    """Objections filed against a registration, oldest first."""
    stmt = select(Objection).where(Objection.registration_id == registration.id)
    return list(session.exec(stmt.order_by(col(Objection.filed_at))))


def open_registration(session: Session, dataset_id: uuid.UUID) -> Registration | None:
    """The dataset's registration still in progress, or None."""
    stmt = select(Registration).where(
        Registration.dataset_id == dataset_id, col(Registration.state).in_(list(OPEN_STATES))
    )
    return session.exec(stmt).first()


def registrations_of(session: Session, dataset_id: uuid.UUID) -> list[Registration]:
    """All registrations of a dataset, newest first."""
    stmt = select(Registration).where(Registration.dataset_id == dataset_id)
    return list(session.exec(stmt.order_by(col(Registration.applied_at).desc())))


# --- steps ----------------------------------------------------------------------------------------


def apply(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    dataset: Dataset,
    kind: str,
    payload: dict[str, Any] | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Registration:
    """File a registration of a dataset (申请); change and correction carry the proposed fields."""
    now = now or utcnow()
    try:
        kind = RegistrationKind(kind).value
    except ValueError as exc:
        raise InvalidRegistration(f"未知登记类型 / unknown registration kind: {kind!r}") from exc
    if open_registration(session, dataset.id) is not None:
        raise InvalidState("该目录已有办理中的登记 / the dataset already has a registration in progress")
    clean: dict[str, Any] = {}
    if kind == RegistrationKind.FIRST:
        if dataset.resource_code is not None:
            raise InvalidState(
                "该目录已赋码，请申请变更或更正 / already coded: apply for a change or correction"
            )
        if dataset.status == "withdrawn":
            raise InvalidState("已注销的目录不能再次登记 / a cancelled entry cannot be registered again")
    else:
        if dataset.resource_code is None:
            raise InvalidState("该目录尚未首次登记 / the dataset has no first registration yet")
        if dataset.status == "withdrawn":
            raise InvalidState("该目录已注销 / the entry is cancelled")
    if kind in (RegistrationKind.CHANGE, RegistrationKind.CORRECTION):
        clean = _validated_payload(payload or {})
        if not clean:
            raise InvalidRegistration(
                "变更或更正须提交拟变更的字段 / a change or correction needs fields to change"
            )
    elif payload:
        raise InvalidRegistration(
            "仅变更与更正登记可携带变更内容 / only change and correction carry a payload"
        )
    if kind in (RegistrationKind.CORRECTION, RegistrationKind.CANCELLATION) and not reason.strip():
        raise InvalidRegistration("更正或注销须说明理由 / a correction or cancellation needs a reason")
    reg = Registration(
        dataset_id=dataset.id,
        kind=kind,
        state=RegistrationState.APPLIED.value,
        payload=clean,
        reason=reason.strip(),
        applied_at=now,
        applied_by=actor_id,
        updated_at=now,
    )
    session.add(reg)
    _record(
        session,
        reg,
        dataset,
        actor_id=actor_id,
        step="apply",
        before=None,
        to="applied",
        note=reason,
        now=now,
    )
    session.flush()
    return reg


def accept(
    session: Session, *, actor_id: uuid.UUID | None, registration: Registration, now: datetime | None = None
) -> Registration:
    """Accept the application for processing (受理)."""
    return _advance(
        session, registration, actor_id=actor_id, step="accept", frm={"applied"}, to="accepted", now=now
    )


def review(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    registration: Registration,
    note: str = "",
    now: datetime | None = None,
) -> Registration:
    """Pass the formal review (形式审核) by the data authority."""
    return _advance(
        session,
        registration,
        actor_id=actor_id,
        step="review",
        frm={"accepted"},
        to="reviewed",
        note=note,
        now=now,
    )


def start_notice(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    registration: Registration,
    notice_days: int = DEFAULT_NOTICE_DAYS,
    now: datetime | None = None,
) -> Registration:
    """Publish the registration for public notice (公示) for `notice_days` days."""
    if notice_days < 0:
        raise InvalidRegistration("公示期不能为负 / the notice period cannot be negative")
    now = now or utcnow()
    registration.notice_days = notice_days
    registration.notice_ends_at = now + timedelta(days=notice_days)
    return _advance(
        session,
        registration,
        actor_id=actor_id,
        step="notice",
        frm={"reviewed"},
        to="notice",
        note=f"公示期 {notice_days} 天 / notice period {notice_days} days",
        now=now,
    )


def file_objection(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    registration: Registration,
    reason: str,
    now: datetime | None = None,
) -> Objection:
    """File an objection (异议) while the registration is under public notice."""
    now = now or utcnow()
    if registration.state != RegistrationState.NOTICE:
        raise InvalidState("仅公示期内可提出异议 / objections are filed only during the notice period")
    if registration.notice_ends_at is not None and aware(now) >= aware(registration.notice_ends_at):
        raise InvalidState("公示期已结束 / the notice period is over")
    if not reason.strip():
        raise InvalidRegistration("异议须说明理由 / an objection needs a reason")
    objection = Objection(
        registration_id=registration.id, filed_at=now, filed_by=actor_id, reason=reason.strip()
    )
    session.add(objection)
    dataset = service.require_dataset(session, registration.dataset_id)
    _record(
        session,
        registration,
        dataset,
        actor_id=actor_id,
        step="object",
        before=registration.state,
        to=registration.state,
        note=reason,
        now=now,
    )
    session.flush()
    return objection


def decide_objection(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    objection_id: uuid.UUID,
    upheld: bool,
    note: str = "",
    now: datetime | None = None,
) -> Objection:
    """Uphold (sends the registration back to formal review) or dismiss an open objection."""
    now = now or utcnow()
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise RegistrationNotFound(f"异议不存在 / objection not found: {objection_id}")
    if objection.state != ObjectionState.OPEN:
        raise InvalidState("该异议已处理 / the objection is already decided")
    registration = require_registration(session, objection.registration_id)
    objection.state = (ObjectionState.UPHELD if upheld else ObjectionState.DISMISSED).value
    objection.decided_at, objection.decided_by, objection.decision_note = now, actor_id, note.strip()
    session.add(objection)
    if upheld and registration.state == RegistrationState.NOTICE:
        registration.notice_ends_at = None
        _advance(
            session,
            registration,
            actor_id=actor_id,
            step="uphold",
            frm={"notice"},
            to="accepted",
            note=note or objection.reason,
            now=now,
        )
    else:
        dataset = service.require_dataset(session, registration.dataset_id)
        _record(
            session,
            registration,
            dataset,
            actor_id=actor_id,
            step="dismiss",
            before=registration.state,
            to=registration.state,
            note=note,
            now=now,
        )
    session.flush()
    return objection


def code(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    registration: Registration,
    now: datetime | None = None,
) -> Registration:
    """Finish a registration after its notice (赋码): code a first one, apply a change, cancel an entry."""
    now = now or utcnow()
    if registration.state != RegistrationState.NOTICE:
        raise InvalidState(
            f"仅公示后可赋码 / only a registration under notice can be coded (now {registration.state})"
        )
    if registration.notice_ends_at is not None and aware(now) < aware(registration.notice_ends_at):
        raise InvalidState("公示期未满 / the notice period has not ended yet")
    pending = [o for o in objections_of(session, registration) if o.state == ObjectionState.OPEN]
    if pending:
        raise InvalidState("尚有未处理的异议 / objections are still open")
    dataset = service.require_dataset(session, registration.dataset_id)
    kind = registration.kind
    if kind == RegistrationKind.FIRST:
        if dataset.resource_code is None:
            before = ledger.snapshot(dataset)
            dataset.resource_code = issue_code(session, dataset=dataset, now=now)
            dataset.updated_at = now
            session.add(dataset)
            ledger.append(session, actor_id=actor_id, action="dataset.code", subject=dataset, before=before)
            session.flush()
            service.reindex_dataset(session, dataset)
    elif kind in (RegistrationKind.CHANGE, RegistrationKind.CORRECTION):
        service.update_dataset(
            session,
            actor_id=actor_id,
            dataset=dataset,
            data=DatasetUpdate.model_validate(registration.payload),
        )
    elif kind == RegistrationKind.CANCELLATION:
        if dataset.status != "withdrawn":
            service.set_dataset_status(session, actor_id=actor_id, dataset=dataset, status="withdrawn")
        issued = session.get(IssuedCode, dataset.resource_code) if dataset.resource_code else None
        if issued is not None and issued.cancelled_at is None:
            issued.cancelled_at = now
            session.add(issued)
    registration.resource_code = dataset.resource_code
    return _advance(
        session, registration, actor_id=actor_id, step="code", frm={"notice"}, to="coded", now=now
    )


def reject(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    registration: Registration,
    reason: str,
    now: datetime | None = None,
) -> Registration:
    """Reject an open registration, with a reason (驳回)."""
    if not reason.strip():
        raise InvalidRegistration("驳回须说明理由 / a rejection needs a reason")
    registration.rejection_reason = reason.strip()
    return _advance(
        session,
        registration,
        actor_id=actor_id,
        step="reject",
        frm=set(OPEN_STATES),
        to="rejected",
        note=reason,
        now=now,
    )


# --- codes ----------------------------------------------------------------------------------------


def next_number(session: Session, prefix: str) -> int:
    """Take the next number under a prefix: one atomic upsert, safe under concurrent writers."""
    table = ResourceCodeCounter.__table__
    insert = _dialect_insert(session)
    stmt = (
        insert(table)
        .values(prefix=prefix, last=1)
        .on_conflict_do_update(index_elements=[table.c.prefix], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return int(session.execute(stmt).scalar_one())


def agency_code(session: Session, org: Organization) -> str:
    """The 9-character agency part of a code: the credit code's organization code, else a fixed number."""
    if org.credit_code and len(org.credit_code) == 18:
        return org.credit_code[8:17]
    found = session.get(AgencyCode, org.id)
    if found is not None:
        return found.code
    number = next_number(session, "agency")
    table = AgencyCode.__table__
    insert = _dialect_insert(session)
    # Two coders of the same new agency race here: the first row wins, the other number is unused.
    session.execute(
        insert(table)
        .values(organization_id=org.id, code=f"A{number:08d}")
        .on_conflict_do_nothing(index_elements=[table.c.organization_id])
    )
    return str(session.execute(select(table.c.code).where(table.c.organization_id == org.id)).scalar_one())


def region_of(org: Organization, dataset: Dataset) -> str:
    """The 6-digit division code a code starts with: the agency's region, else the entry's."""
    for candidate in (org.region_code, dataset.spatial):
        if candidate and len(candidate) >= 6 and candidate[:6].isdigit():
            return candidate[:6]
    return DEFAULT_REGION


def issue_code(session: Session, *, dataset: Dataset, now: datetime | None = None) -> str:
    """A new resource code for the dataset: region-agency-sequence, recorded as issued forever."""
    org = session.get(Organization, dataset.owner_org_id)
    if org is None:  # pragma: no cover - guarded by the foreign key
        raise InvalidState("dataset without an organization")
    prefix = f"{region_of(org, dataset)}-{agency_code(session, org)}"
    while True:
        candidate = f"{prefix}-{next_number(session, prefix):0{SEQUENCE_DIGITS}d}"
        if session.get(IssuedCode, candidate) is None:
            break  # a counter reset by hand must not hand out an old code again
    session.add(IssuedCode(code=candidate, dataset_id=dataset.id, issued_at=now or utcnow()))
    session.flush()
    return candidate


# --- internals ------------------------------------------------------------------------------------


def _dialect_insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise CatalogError(f"unsupported database for resource codes: {dialect}")  # pragma: no cover


def _validated_payload(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        data = DatasetUpdate.model_validate(payload)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidRegistration(f"变更内容无效 / invalid payload: {detail}") from exc
    return data.model_dump(mode="json", exclude_unset=True)


def _advance(
    session: Session,
    registration: Registration,
    *,
    actor_id: uuid.UUID | None,
    step: str,
    frm: set[str],
    to: str,
    note: str = "",
    now: datetime | None = None,
) -> Registration:
    now = now or utcnow()
    if registration.state not in frm:
        raise InvalidState(
            f"登记状态为 {STATE_LABELS.get(registration.state, registration.state)}，不能{step} / "
            f"cannot {step} a registration that is {registration.state}"
        )
    before = registration.state
    registration.state = to
    registration.updated_at = now
    stamp = {
        "accepted": "accepted",
        "reviewed": "reviewed",
        "notice": "noticed",
        "coded": "coded",
        "rejected": "rejected",
    }
    if step != "uphold" and to in stamp:
        setattr(registration, f"{stamp[to]}_at", now)
        setattr(registration, f"{stamp[to]}_by", actor_id)
    session.add(registration)
    dataset = service.require_dataset(session, registration.dataset_id)
    _record(
        session, registration, dataset, actor_id=actor_id, step=step, before=before, to=to, note=note, now=now
    )
    session.flush()
    return registration


def _record(
    session: Session,
    registration: Registration,
    dataset: Dataset,
    *,
    actor_id: uuid.UUID | None,
    step: str,
    before: str | None,
    to: str,
    note: str,
    now: datetime,
) -> None:
    session.add(
        RegistrationEvent(
            registration_id=registration.id,
            at=now,
            actor_id=actor_id,
            step=step,
            from_state=before,
            to_state=to,
            note=note.strip(),
        )
    )
    entry = ledger.append(
        session, actor_id=actor_id, action=f"registration.{step}", subject=registration, dataset=dataset
    )
    entry.at = now
