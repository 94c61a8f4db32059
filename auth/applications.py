"""有条件开放 applications: apply, formal check, review, data use agreement, grant, usage reports.

    submitted --check--> checked --review--> agreement_pending --accept_agreement--> approved (+ Grant)
        |  ^                |   \\--> rejected
        |  |                \\----> more_info_requested --resubmit--> submitted
        |  \\-------------------------------------/
        +--> more_info_requested / rejected (the formal check can also send it back or refuse it)

Each open step is due a number of working days (weekends and listed holidays skipped, in the
portal's time zone) after it began; `overdue` lists the late ones. The agreement is rendered from
a template at approval and stored with its SHA-256: later edits of the template never change it.
Accepting it creates the Grant and the usage reports (利用情况 / 应用成果) it owes; a report left
overdue suspends the grant until it is filed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import string
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from auth import audit
from auth.errors import AuthError
from auth.grants import (
    SUSPENDED_REPORT_OVERDUE,
    Grant,
    GrantSource,
    GrantState,
    create_grant,
    resume_grant,
    suspend_grant,
)
from auth.inbox import Notification, notify
from auth.models import Membership, as_utc, utcnow
from auth.policy import (
    AccessDenied,
    Action,
    Actor,
    DatasetLike,
    authorize,
    can_review_applications,
)

# --- vocabularies -----------------------------------------------------------------------------


class ApplicationState(StrEnum):
    """Where an application stands."""

    SUBMITTED = "submitted"  # waiting for the formal check (形式审查)
    CHECKED = "checked"  # waiting for the owning organization's review
    MORE_INFO_REQUESTED = "more_info_requested"  # waiting for the applicant to resubmit
    AGREEMENT_PENDING = "agreement_pending"  # approved in substance; applicant must sign
    APPROVED = "approved"  # agreement accepted, grant issued
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # cancelled by the applicant


TERMINAL_STATES = frozenset(
    {ApplicationState.APPROVED.value, ApplicationState.REJECTED.value, ApplicationState.WITHDRAWN.value}
)


class CheckOutcome(StrEnum):
    """Result of the formal check."""

    PASS = "pass"
    MORE_INFO = "more_info"
    REJECT = "reject"


class ReviewDecision(StrEnum):
    """Decision of the owning organization."""

    APPROVE = "approve"
    MORE_INFO = "more_info"
    REJECT = "reject"


class ReportKind(StrEnum):
    """What a usage report is about."""

    USAGE = "usage"  # 利用情况: how the data was used in the period
    OUTCOME = "outcome"  # 应用成果: what came of it, with links


class ReportState(StrEnum):
    """Whether a report has been filed."""

    OWED = "owed"
    FILED = "filed"


# Whose move it is in each open state.
AWAITING = {
    ApplicationState.SUBMITTED.value: "data_authority",
    ApplicationState.CHECKED.value: "owner_org",
    ApplicationState.MORE_INFO_REQUESTED.value: "applicant",
    ApplicationState.AGREEMENT_PENDING.value: "applicant",
}

DEFAULT_TEMPLATE_CODE = "default"
DEFAULT_AGREEMENT = """数据利用协议 / Data Use Agreement

申请编号 / Application: $application_id
申请人 / Applicant: $applicant_id
数据集 / Datasets: $dataset_ids
用途 / Purpose: $purpose
应用场景 / Scenario: $scenario
许可用途 / Allowed use: $allowed_use
有效期 / Valid: $valid_from — $valid_to
下载次数上限 / Download quota: $download_quota
查询次数上限 / Query quota: $query_quota
报告提交日期 / Reports due: $report_due

申请人承诺仅在许可用途范围内使用数据，不向第三方提供，不尝试重新识别个人，并按期报送利用情况和应用成果。
The applicant uses the data only for the allowed use, passes it to no third party, makes no attempt
to re-identify persons, and files usage and outcome reports when due.
"""


@dataclass(frozen=True)
class WorkflowRules:
    """Deadlines of the workflow; pass your own to change them (defaults suit a provincial portal)."""

    check_days: int = 3  # 形式审查, working days
    review_days: int = 10  # decision by the owning organization
    resubmit_days: int = 10  # applicant answers a request for more information
    agreement_days: int = 5  # applicant signs the agreement
    report_interval_days: int = 90  # a 利用情况 report every so many calendar days of the grant
    final_report_days: int = 30  # the 应用成果 report is due so many days after the grant ends
    timezone: str = "Asia/Shanghai"
    holidays: frozenset[date] = frozenset()  # public holidays that fall on weekdays
    extra_workdays: frozenset[date] = frozenset()  # 调休: weekend days that are working days

    def is_working_day(self, day: date) -> bool:
        """True for a working day in the portal's calendar."""
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


DEFAULT_RULES = WorkflowRules()


def add_working_days(start: datetime, days: int, *, rules: WorkflowRules = DEFAULT_RULES) -> datetime:
    """The end (23:59:59 local) of the `days`-th working day after `start`, in UTC."""
    zone = ZoneInfo(rules.timezone)
    aware = as_utc(start)
    assert aware is not None
    day = aware.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if rules.is_working_day(day):
            counted += 1
    end = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
    result = as_utc(end)
    assert result is not None
    return result


# --- errors -----------------------------------------------------------------------------------


class ApplicationNotFound(AuthError):
    """No such application (or not one the caller may see)."""

    def __init__(self, application_id: object) -> None:
        super().__init__(f"申请不存在 / application not found: {application_id}")
        self.application_id = application_id


class InvalidApplication(AuthError):
    """The application or the terms given for it are incomplete or inconsistent."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"申请无效 / invalid application: {reason}")
        self.reason = reason


class ApplicationStateConflict(AuthError):
    """The application is not in a state where this step is possible."""

    def __init__(self, application_id: object, state: str, step: str) -> None:
        super().__init__(
            f"申请当前状态为 {state}，不能执行 {step} / application {application_id} is {state}: cannot {step}"
        )
        self.application_id = application_id
        self.state = state
        self.step = step


class AgreementMismatch(AuthError):
    """The agreement the applicant signed is not the one on file."""

    def __init__(self, expected: str, given: str) -> None:
        super().__init__(
            f"协议内容已变化，请重新阅读 / the agreement differs from the one on file "
            f"(sha256 {expected[:12]}…, signed {given[:12]}…)"
        )
        self.expected = expected
        self.given = given


class TemplateNotFound(AuthError):
    """No agreement template with this code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"协议模板不存在 / agreement template not found: {code}")
        self.code = code


class ReportNotFound(AuthError):
    """No such usage report for this user."""

    def __init__(self, report_id: object) -> None:
        super().__init__(f"报告不存在 / usage report not found: {report_id}")
        self.report_id = report_id


class ReportAlreadyFiled(AuthError):
    """The usage report was already filed."""

    def __init__(self, report_id: object) -> None:
        super().__init__(f"报告已提交 / usage report already filed: {report_id}")
        self.report_id = report_id


# --- tables -----------------------------------------------------------------------------------


class Application(SQLModel, table=True):
    """A request for the files and rows of 有条件开放 datasets."""

    __tablename__ = "data_application"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    applicant_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    applicant_org_id: uuid.UUID | None = Field(default=None, index=True)
    dataset_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    owner_org_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    purpose: str = Field(sa_type=sa.Text)
    scenario: str = Field(default="", sa_type=sa.Text)
    requested_from: datetime = Field(sa_type=sa.DateTime(timezone=True))
    requested_to: datetime = Field(sa_type=sa.DateTime(timezone=True))
    security_commitment_signed: bool = Field(default=False)
    commitment_text: str = Field(default="", sa_type=sa.Text)
    commitment_sha256: str = Field(default="", max_length=64)
    state: str = Field(default=ApplicationState.SUBMITTED.value, max_length=30, index=True)
    due_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), index=True)
    # Frozen at approval: the terms and the agreement text, whatever happens to the template later.
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    agreement_template_code: str = Field(default="", max_length=50)
    agreement_template_version: int | None = Field(default=None)
    agreement_text: str = Field(default="", sa_type=sa.Text)
    agreement_sha256: str = Field(default="", max_length=64)
    agreement_accepted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    grant_id: uuid.UUID | None = Field(default=None, foreign_key="access_grant.id", index=True)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))

    @property
    def dataset_uuids(self) -> list[uuid.UUID]:
        """The requested datasets as UUIDs."""
        return [uuid.UUID(v) for v in self.dataset_ids]

    @property
    def awaiting(self) -> str | None:
        """Whose move it is: data_authority, owner_org, applicant, or None when closed."""
        return AWAITING.get(self.state)


class ApplicationEvent(SQLModel, table=True):
    """One step in an application's history."""

    __tablename__ = "data_application_event"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="data_application.id", index=True, ondelete="CASCADE")
    seq: int = Field(default=1)  # 1, 2, 3 ... within one application
    actor_id: uuid.UUID | None = Field(default=None)
    at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    step: str = Field(max_length=30)
    from_state: str = Field(default="", max_length=30)
    to_state: str = Field(max_length=30)
    reason: str = Field(default="", sa_type=sa.Text)


class AgreementTemplate(SQLModel, table=True):
    """An editable data use agreement; `$name` placeholders are filled in at approval."""

    __tablename__ = "agreement_template"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=50, unique=True, index=True)
    title: str = Field(default="", max_length=200)
    body: str = Field(sa_type=sa.Text)
    version: int = Field(default=1)
    updated_by: uuid.UUID | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class UsageReport(SQLModel, table=True):
    """A 利用情况 or 应用成果 report the grantee owes by a date."""

    __tablename__ = "usage_report"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    grant_id: uuid.UUID = Field(foreign_key="access_grant.id", index=True, ondelete="CASCADE")
    application_id: uuid.UUID | None = Field(default=None, foreign_key="data_application.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(default=ReportKind.USAGE.value, max_length=20)
    due_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    state: str = Field(default=ReportState.OWED.value, max_length=10, index=True)
    reminded_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    filed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    usage_text: str = Field(default="", sa_type=sa.Text)  # 利用情况
    results_text: str = Field(default="", sa_type=sa.Text)  # 应用成果
    # [{"title": ..., "url": ..., "dataset_id": ...}]: published results, optionally a catalog entry
    result_links: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)


# --- terms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantTerms:
    """What the owning organization grants on approval."""

    valid_from: datetime
    valid_to: datetime
    download_quota: int | None = None
    query_quota: int | None = None
    allowed_use: str = ""
    report_due_at: tuple[datetime, ...] = field(default=())  # empty: computed from the rules

    def to_json(self) -> dict[str, Any]:
        """The terms as stored on the application."""
        return {
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "download_quota": self.download_quota,
            "query_quota": self.query_quota,
            "allowed_use": self.allowed_use,
            "report_due_at": [_iso(d) for d in self.report_due_at],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GrantTerms:
        """The terms as read back from the application."""
        return cls(
            valid_from=_parse(data["valid_from"]),
            valid_to=_parse(data["valid_to"]),
            download_quota=data.get("download_quota"),
            query_quota=data.get("query_quota"),
            allowed_use=data.get("allowed_use", ""),
            report_due_at=tuple(_parse(d) for d in data.get("report_due_at", [])),
        )


def _iso(value: datetime) -> str:
    aware = as_utc(value)
    assert aware is not None
    return aware.isoformat()


def _parse(value: str) -> datetime:
    parsed = as_utc(datetime.fromisoformat(value))
    assert parsed is not None
    return parsed


def _now(now: datetime | None) -> datetime:
    value = as_utc(now) if now is not None else utcnow()
    assert value is not None
    return value


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of a text in UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def report_schedule(terms: GrantTerms, *, rules: WorkflowRules = DEFAULT_RULES) -> list[tuple[str, datetime]]:
    """(kind, due_at) of every report a grant owes: the terms' dates, or periodic ones plus a final one."""
    if terms.report_due_at:
        dates = sorted(_now(d) for d in terms.report_due_at)
        return [(ReportKind.USAGE.value, d) for d in dates[:-1]] + [(ReportKind.OUTCOME.value, dates[-1])]
    start, end = _now(terms.valid_from), _now(terms.valid_to)
    due: list[tuple[str, datetime]] = []
    step = timedelta(days=max(rules.report_interval_days, 1))
    moment = start + step
    while moment < end:
        due.append((ReportKind.USAGE.value, moment))
        moment += step
    due.append((ReportKind.OUTCOME.value, end + timedelta(days=rules.final_report_days)))
    return due


# --- reading ----------------------------------------------------------------------------------


def get_application(session: Session, application_id: uuid.UUID) -> Application | None:
    """One application by id, or None."""
    return session.get(Application, application_id)


def require_application(session: Session, application_id: uuid.UUID) -> Application:
    """One application by id; raises ApplicationNotFound."""
    app = session.get(Application, application_id)
    if app is None:
        raise ApplicationNotFound(application_id)
    return app


def history(session: Session, application_id: uuid.UUID) -> list[ApplicationEvent]:
    """The steps of one application, oldest first."""
    stmt = (
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application_id)
        .order_by(col(ApplicationEvent.seq))
    )
    return list(session.exec(stmt).all())


def applications_of(session: Session, *, applicant_id: uuid.UUID) -> list[Application]:
    """One applicant's applications, newest first."""
    stmt = (
        select(Application)
        .where(Application.applicant_id == applicant_id)
        .order_by(col(Application.submitted_at).desc())
    )
    return list(session.exec(stmt).all())


def pending_check(session: Session) -> list[Application]:
    """Applications waiting for the formal check, oldest deadline first."""
    stmt = (
        select(Application)
        .where(Application.state == ApplicationState.SUBMITTED.value)
        .order_by(col(Application.due_at))
    )
    return list(session.exec(stmt).all())


def pending_review(session: Session, *, org_ids: Iterable[uuid.UUID]) -> list[Application]:
    """Checked applications for data owned by any of these organizations, oldest deadline first."""
    wanted = {str(o) for o in org_ids}
    stmt = (
        select(Application)
        .where(Application.state == ApplicationState.CHECKED.value)
        .order_by(col(Application.due_at))
    )
    # owner_org_ids is a JSON list; filtering in Python keeps SQLite and PostgreSQL alike.
    return [a for a in session.exec(stmt).all() if wanted.intersection(a.owner_org_ids)]


def overdue(session: Session, *, now: datetime | None = None) -> list[Application]:
    """Open applications whose current step is past its deadline, most overdue first."""
    moment = _now(now)
    stmt = (
        select(Application)
        .where(
            col(Application.state).not_in(sorted(TERMINAL_STATES)),
            col(Application.due_at).is_not(None),
            col(Application.due_at) < moment,
        )
        .order_by(col(Application.due_at))
    )
    return list(session.exec(stmt).all())


# --- transitions ------------------------------------------------------------------------------

_STEP_DAYS = {
    ApplicationState.SUBMITTED.value: "check_days",
    ApplicationState.CHECKED.value: "review_days",
    ApplicationState.MORE_INFO_REQUESTED.value: "resubmit_days",
    ApplicationState.AGREEMENT_PENDING.value: "agreement_days",
}


def _move(
    session: Session,
    app: Application,
    *,
    step: str,
    to_state: str,
    actor_id: uuid.UUID | None,
    reason: str,
    now: datetime,
    rules: WorkflowRules,
    detail: dict[str, Any] | None = None,
) -> None:
    from_state = "" if step == "submit" else app.state
    if step != "submit":
        # Claim the step: only the request that still finds the state it checked moves it on, so
        # a double-clicked accept or two reviewers at once cannot both succeed.
        table = Application.__table__  # type: ignore[attr-defined]
        claimed = session.execute(
            sa.update(table)
            .where(table.c.id == app.id, table.c.state == from_state)
            .values(state=to_state, updated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            current = session.execute(sa.select(table.c.state).where(table.c.id == app.id)).scalar()
            raise ApplicationStateConflict(app.id, str(current), step)
    seq = session.exec(
        select(sa.func.count()).select_from(ApplicationEvent).where(ApplicationEvent.application_id == app.id)
    ).one()
    app.state = to_state
    days = _STEP_DAYS.get(to_state)
    app.due_at = add_working_days(now, getattr(rules, days), rules=rules) if days else None
    app.updated_at = now
    if to_state in TERMINAL_STATES:
        app.decided_at = now
    session.add(app)
    session.add(
        ApplicationEvent(
            application_id=app.id,
            seq=int(seq) + 1,
            actor_id=actor_id,
            at=now,
            step=step,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
        )
    )
    audit.record(
        session,
        action=f"application.{step}",
        actor_id=actor_id,
        object_type="application",
        object_id=str(app.id),
        outcome="ok",
        detail={"from_state": from_state, "to_state": to_state, "reason": reason, **(detail or {})},
    )
    session.flush()


def _require_state(app: Application, step: str, *states: str) -> None:
    if app.state not in states:
        raise ApplicationStateConflict(app.id, app.state, step)


def _require_own(app: Application, user_id: uuid.UUID | None) -> None:
    if user_id is None or app.applicant_id != user_id:
        raise ApplicationNotFound(app.id)  # other people's applications are not even visible


def _tell_applicant(
    session: Session, app: Application, kind: str, title: str, body: str, now: datetime
) -> None:
    notify(
        session,
        user_id=app.applicant_id,
        kind=kind,
        title=title,
        body=body,
        link=f"/applications/{app.id}",
        now=now,
    )


def _tell_reviewers(session: Session, app: Application, now: datetime) -> None:
    org_ids = [uuid.UUID(o) for o in app.owner_org_ids]
    if not org_ids:
        return
    stmt = select(Membership.user_id).where(
        col(Membership.organization_id).in_(org_ids), col(Membership.role).in_(["admin", "editor"])
    )
    for user_id in dict.fromkeys(session.exec(stmt).all()):
        notify(
            session,
            user_id=user_id,
            kind="application.to_review",
            title="有新的数据申请待审核 / an application awaits your review",
            body=f"用途 / purpose: {app.purpose[:200]}\n截止 / due: {app.due_at}",
            link=f"/applications/{app.id}",
            now=now,
        )


def submit(
    session: Session,
    *,
    applicant: Actor,
    datasets: Sequence[DatasetLike],
    purpose: str,
    scenario: str,
    requested_from: datetime,
    requested_to: datetime,
    security_commitment_signed: bool,
    commitment_text: str,
    applicant_org_id: uuid.UUID | None = None,
    now: datetime | None = None,
    rules: WorkflowRules = DEFAULT_RULES,
) -> Application:
    """Apply for 有条件开放 datasets (each must pass the policy's application.create)."""
    moment = _now(now)
    if not datasets:
        raise InvalidApplication("choose at least one dataset / 请选择数据集")
    for dataset in datasets:
        authorize(applicant, Action.APPLICATION_CREATE, dataset)
    assert applicant.user_id is not None  # authorize refuses anonymous applicants
    if not purpose.strip():
        raise InvalidApplication("state the purpose / 请填写用途")
    start, end = _now(requested_from), _now(requested_to)
    if end <= start:
        raise InvalidApplication("the requested period ends before it begins / 申请期限无效")
    if not security_commitment_signed or not commitment_text.strip():
        raise InvalidApplication("the data security commitment must be signed / 须签署数据安全承诺书")
    app = Application(
        applicant_id=applicant.user_id,
        applicant_org_id=applicant_org_id,
        dataset_ids=list(dict.fromkeys(str(d.id) for d in datasets)),
        owner_org_ids=list(dict.fromkeys(str(d.owner_org_id) for d in datasets)),
        purpose=purpose,
        scenario=scenario,
        requested_from=start,
        requested_to=end,
        security_commitment_signed=True,
        commitment_text=commitment_text,
        commitment_sha256=sha256_text(commitment_text),
        submitted_at=moment,
    )
    session.add(app)
    session.flush()
    _move(
        session,
        app,
        step="submit",
        to_state=ApplicationState.SUBMITTED.value,
        actor_id=applicant.user_id,
        reason="",
        now=moment,
        rules=rules,
        detail={"dataset_ids": app.dataset_ids},
    )
    _tell_applicant(
        session,
        app,
        "application.submitted",
        "申请已提交 / application submitted",
        f"形式审查截止 / formal check due: {app.due_at}",
        moment,
    )
    return app


def resubmit(
    session: Session,
    *,
    application_id: uuid.UUID,
    applicant: Actor,
    note: str,
    purpose: str | None = None,
    scenario: str | None = None,
    now: datetime | None = None,
    rules: WorkflowRules = DEFAULT_RULES,
) -> Application:
    """Answer a request for more information; the application goes back to the formal check."""
    moment = _now(now)
    app = require_application(session, application_id)
    _require_own(app, applicant.user_id)
    _require_state(app, "resubmit", ApplicationState.MORE_INFO_REQUESTED.value)
    if purpose is not None:
        if not purpose.strip():
            raise InvalidApplication("state the purpose / 请填写用途")
        app.purpose = purpose
    if scenario is not None:
        app.scenario = scenario
    _move(
        session,
        app,
        step="resubmit",
        to_state=ApplicationState.SUBMITTED.value,
        actor_id=applicant.user_id,
        reason=note,
        now=moment,
        rules=rules,
    )
    return app


def withdraw(
    session: Session,
    *,
    application_id: uuid.UUID,
    applicant: Actor,
    reason: str = "",
    now: datetime | None = None,
) -> Application:
    """The applicant cancels an open application."""
    moment = _now(now)
    app = require_application(session, application_id)
    _require_own(app, applicant.user_id)
    _require_state(app, "withdraw", *AWAITING)
    _move(
        session,
        app,
        step="withdraw",
        to_state=ApplicationState.WITHDRAWN.value,
        actor_id=applicant.user_id,
        reason=reason,
        now=moment,
        rules=DEFAULT_RULES,
    )
    return app


def check(
    session: Session,
    *,
    application_id: uuid.UUID,
    checker: Actor,
    outcome: str,
    reason: str = "",
    now: datetime | None = None,
    rules: WorkflowRules = DEFAULT_RULES,
) -> Application:
    """形式审查 by the data authority: pass it on to the owner, ask for more, or reject."""
    authorize(checker, Action.APPLICATION_CHECK)
    result = CheckOutcome(outcome)
    moment = _now(now)
    app = require_application(session, application_id)
    _require_state(app, "check", ApplicationState.SUBMITTED.value)
    if result != CheckOutcome.PASS and not reason.strip():
        raise InvalidApplication("give a reason / 请说明理由")
    to_state = {
        CheckOutcome.PASS: ApplicationState.CHECKED,
        CheckOutcome.MORE_INFO: ApplicationState.MORE_INFO_REQUESTED,
        CheckOutcome.REJECT: ApplicationState.REJECTED,
    }[result].value
    _move(
        session,
        app,
        step="check",
        to_state=to_state,
        actor_id=checker.user_id,
        reason=reason,
        now=moment,
        rules=rules,
    )
    titles = {
        ApplicationState.CHECKED.value: "申请已通过形式审查 / application passed the formal check",
        ApplicationState.MORE_INFO_REQUESTED.value: "申请需补充材料 / more information needed",
        ApplicationState.REJECTED.value: "申请未通过形式审查 / application rejected at the formal check",
    }
    _tell_applicant(session, app, f"application.{to_state}", titles[to_state], reason, moment)
    if to_state == ApplicationState.CHECKED.value:
        _tell_reviewers(session, app, moment)
    return app


def _terms_from_request(app: Application) -> GrantTerms:
    return GrantTerms(valid_from=app.requested_from, valid_to=app.requested_to, allowed_use=app.purpose)


def _render(template: AgreementTemplate, app: Application, terms: GrantTerms) -> str:
    def unlimited(value: int | None) -> str:
        return "不限 / unlimited" if value is None else str(value)

    values = {
        "application_id": str(app.id),
        "applicant_id": str(app.applicant_id),
        "dataset_ids": ", ".join(app.dataset_ids),
        "purpose": app.purpose,
        "scenario": app.scenario,
        "allowed_use": terms.allowed_use,
        "valid_from": _iso(terms.valid_from),
        "valid_to": _iso(terms.valid_to),
        "download_quota": unlimited(terms.download_quota),
        "query_quota": unlimited(terms.query_quota),
        "report_due": ", ".join(f"{kind} {_iso(d)}" for kind, d in report_schedule(terms)),
    }
    return string.Template(template.body).safe_substitute(values)


def review(
    session: Session,
    *,
    application_id: uuid.UUID,
    reviewer: Actor,
    owner_org_ids: Iterable[uuid.UUID],
    decision: str,
    reason: str = "",
    terms: GrantTerms | None = None,
    template_code: str = DEFAULT_TEMPLATE_CODE,
    now: datetime | None = None,
    rules: WorkflowRules = DEFAULT_RULES,
) -> Application:
    """Decision of the owning organization; approval freezes the terms and the agreement text."""
    verdict = ReviewDecision(decision)
    moment = _now(now)
    owners = list(dict.fromkeys(owner_org_ids))
    app = require_application(session, application_id)
    if not owners or not all(can_review_applications(reviewer, org) for org in owners):
        raise AccessDenied(
            Action.APPLICATION_REVIEW.value,
            "applications are reviewed by admins and editors of the owning organization",
        )
    _require_state(app, "review", ApplicationState.CHECKED.value)
    if verdict != ReviewDecision.APPROVE and not reason.strip():
        raise InvalidApplication("give a reason / 请说明理由")
    if verdict == ReviewDecision.APPROVE:
        granted = terms or _terms_from_request(app)
        _validate_terms(granted)
        if not granted.report_due_at:
            dates = tuple(d for _, d in report_schedule(granted, rules=rules))
            granted = dataclasses.replace(granted, report_due_at=dates)
        template = _template_for(session, template_code)
        app.terms = granted.to_json()
        app.agreement_template_code = template.code
        app.agreement_template_version = template.version
        app.agreement_text = _render(template, app, granted)
        app.agreement_sha256 = sha256_text(app.agreement_text)
        to_state = ApplicationState.AGREEMENT_PENDING.value
        title = "申请已获批准，请签署数据利用协议 / approved: please accept the data use agreement"
    elif verdict == ReviewDecision.MORE_INFO:
        to_state = ApplicationState.MORE_INFO_REQUESTED.value
        title = "申请需补充材料 / more information needed"
    else:
        to_state = ApplicationState.REJECTED.value
        title = "申请未获批准 / application rejected"
    _move(
        session,
        app,
        step="review",
        to_state=to_state,
        actor_id=reviewer.user_id,
        reason=reason,
        now=moment,
        rules=rules,
        detail={"decision": verdict.value, "agreement_sha256": app.agreement_sha256 or None},
    )
    _tell_applicant(session, app, f"application.{to_state}", title, reason, moment)
    return app


def _validate_terms(terms: GrantTerms) -> None:
    if _now(terms.valid_to) <= _now(terms.valid_from):
        raise InvalidApplication("the granted period ends before it begins / 授权期限无效")
    for name in ("download_quota", "query_quota"):
        value = getattr(terms, name)
        if value is not None and value < 0:
            raise InvalidApplication(f"{name} must not be negative")


def accept_agreement(
    session: Session,
    *,
    application_id: uuid.UUID,
    applicant: Actor,
    agreement_sha256: str | None = None,
    now: datetime | None = None,
    rules: WorkflowRules = DEFAULT_RULES,
) -> Grant:
    """The applicant accepts the frozen agreement: the grant and its owed reports are created."""
    moment = _now(now)
    app = require_application(session, application_id)
    _require_own(app, applicant.user_id)
    _require_state(app, "accept_agreement", ApplicationState.AGREEMENT_PENDING.value)
    if sha256_text(app.agreement_text) != app.agreement_sha256:
        raise AgreementMismatch(app.agreement_sha256, sha256_text(app.agreement_text))
    if agreement_sha256 is not None and agreement_sha256 != app.agreement_sha256:
        raise AgreementMismatch(app.agreement_sha256, agreement_sha256)
    terms = GrantTerms.from_json(app.terms)
    grant = create_grant(
        session,
        user_id=app.applicant_id,
        organization_id=app.applicant_org_id,
        dataset_ids=app.dataset_uuids,
        source=GrantSource.APPLICATION.value,
        source_id=app.id,
        valid_from=terms.valid_from,
        valid_to=terms.valid_to,
        download_quota=terms.download_quota,
        query_quota=terms.query_quota,
        allowed_use=terms.allowed_use,
        actor_id=applicant.user_id,
    )
    for kind, due_at in report_schedule(terms, rules=rules):
        session.add(
            UsageReport(
                grant_id=grant.id, application_id=app.id, user_id=app.applicant_id, kind=kind, due_at=due_at
            )
        )
    app.grant_id = grant.id
    app.agreement_accepted_at = moment
    _move(
        session,
        app,
        step="accept_agreement",
        to_state=ApplicationState.APPROVED.value,
        actor_id=applicant.user_id,
        reason="",
        now=moment,
        rules=rules,
        detail={"agreement_sha256": app.agreement_sha256, "grant_id": str(grant.id)},
    )
    _tell_applicant(
        session,
        app,
        "grant.issued",
        "授权已生效 / access granted",
        f"有效期至 / valid until {_iso(terms.valid_to)}",
        moment,
    )
    return grant


# --- agreement templates ----------------------------------------------------------------------


def get_template(session: Session, code: str) -> AgreementTemplate | None:
    """An agreement template by code, or None."""
    return session.exec(select(AgreementTemplate).where(AgreementTemplate.code == code)).first()


def _template_for(session: Session, code: str) -> AgreementTemplate:
    template = get_template(session, code)
    if template is not None:
        return template
    if code == DEFAULT_TEMPLATE_CODE:
        return save_template(
            session, code=code, title="数据利用协议 / Data Use Agreement", body=DEFAULT_AGREEMENT
        )
    raise TemplateNotFound(code)


def save_template(
    session: Session,
    *,
    code: str,
    title: str,
    body: str,
    actor_id: uuid.UUID | None = None,
) -> AgreementTemplate:
    """Create or edit an agreement template (agreements already issued keep their own text)."""
    template = get_template(session, code)
    if template is None:
        template = AgreementTemplate(code=code, title=title, body=body, updated_by=actor_id)
    else:
        template.title, template.body = title, body
        template.version += 1
        template.updated_by = actor_id
        template.updated_at = utcnow()
    session.add(template)
    audit.record(
        session,
        action="agreement_template.save",
        actor_id=actor_id,
        object_type="agreement_template",
        object_id=code,
        detail={"version": template.version, "sha256": sha256_text(body)},
    )
    session.flush()
    return template


# --- usage reports ----------------------------------------------------------------------------


def reports_of_grant(session: Session, grant_id: uuid.UUID) -> list[UsageReport]:
    """Every report a grant owes or has received, by due date."""
    stmt = select(UsageReport).where(UsageReport.grant_id == grant_id).order_by(col(UsageReport.due_at))
    return list(session.exec(stmt).all())


def due_reports(
    session: Session, *, now: datetime | None = None, within_days: int = 0, user_id: uuid.UUID | None = None
) -> list[UsageReport]:
    """Owed reports due by now + within_days (overdue ones included), earliest first."""
    horizon = _now(now) + timedelta(days=within_days)
    stmt = select(UsageReport).where(
        UsageReport.state == ReportState.OWED.value, col(UsageReport.due_at) <= horizon
    )
    if user_id is not None:
        stmt = stmt.where(UsageReport.user_id == user_id)
    return list(session.exec(stmt.order_by(col(UsageReport.due_at))).all())


def send_reminders(
    session: Session, *, now: datetime | None = None, days_before: int = 7
) -> list[Notification]:
    """Remind grantees, once, of reports due within `days_before` days; returns the messages sent."""
    moment = _now(now)
    sent: list[Notification] = []
    for report in due_reports(session, now=moment, within_days=days_before):
        if report.reminded_at is not None or _now(report.due_at) < moment:
            continue
        label = "利用情况报告" if report.kind == ReportKind.USAGE.value else "应用成果报告"
        sent.append(
            notify(
                session,
                user_id=report.user_id,
                kind="report.due",
                title=f"{label}即将到期 / {report.kind} report due soon",
                body=f"请于 {_iso(report.due_at)} 前提交，逾期将暂停授权。/ File it by then or the grant is suspended.",
                link=f"/reports/{report.id}",
                now=moment,
            )
        )
        report.reminded_at = moment
        session.add(report)
    session.flush()
    return sent


def enforce_overdue_reports(session: Session, *, now: datetime | None = None) -> list[Grant]:
    """Suspend every active grant with an overdue report; returns the grants suspended now."""
    moment = _now(now)
    suspended: list[Grant] = []
    late = session.exec(
        select(UsageReport).where(
            UsageReport.state == ReportState.OWED.value, col(UsageReport.due_at) < moment
        )
    ).all()
    for report in late:
        grant = session.get(Grant, report.grant_id)
        if grant is None or grant.state != GrantState.ACTIVE.value:
            continue
        suspend_grant(
            session,
            grant_id=grant.id,
            actor_id=None,
            actor_name="system",
            reason=f"usage report {report.id} overdue since {_iso(report.due_at)}",
            cause=SUSPENDED_REPORT_OVERDUE,
            now=moment,
        )
        notify(
            session,
            user_id=report.user_id,
            kind="grant.suspended",
            title="报告逾期，授权已暂停 / report overdue: access suspended",
            body="提交逾期报告后授权自动恢复。/ Filing the report resumes access.",
            link=f"/reports/{report.id}",
            now=moment,
        )
        suspended.append(grant)
    return suspended


def file_report(
    session: Session,
    *,
    report_id: uuid.UUID,
    user_id: uuid.UUID,
    usage_text: str,
    results_text: str = "",
    result_links: Iterable[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> UsageReport:
    """File a report; a grant suspended for overdue reports resumes once none is overdue."""
    moment = _now(now)
    report = session.get(UsageReport, report_id)
    if report is None or report.user_id != user_id:
        raise ReportNotFound(report_id)
    if report.state == ReportState.FILED.value:
        raise ReportAlreadyFiled(report_id)
    if not usage_text.strip() and not results_text.strip():
        raise InvalidApplication("the report is empty / 报告内容不能为空")
    links = [
        {
            "title": str(link.get("title", "")),
            "url": str(link.get("url", "")),
            "dataset_id": str(link["dataset_id"]) if link.get("dataset_id") else None,
        }
        for link in result_links
    ]
    report.state = ReportState.FILED.value
    report.filed_at = moment
    report.usage_text, report.results_text, report.result_links = usage_text, results_text, links
    session.add(report)
    audit.record(
        session,
        action="usage_report.file",
        actor_id=user_id,
        object_type="usage_report",
        object_id=str(report.id),
        detail={"grant_id": str(report.grant_id), "kind": report.kind, "links": len(links)},
    )
    session.flush()
    grant = session.get(Grant, report.grant_id)
    still_late = session.exec(
        select(UsageReport.id).where(
            UsageReport.grant_id == report.grant_id,
            UsageReport.state == ReportState.OWED.value,
            col(UsageReport.due_at) < moment,
        )
    ).first()
    if (
        grant is not None
        and grant.state == GrantState.SUSPENDED.value
        and grant.suspension_cause == SUSPENDED_REPORT_OVERDUE
        and still_late is None
    ):
        resume_grant(
            session, grant_id=grant.id, actor_id=None, actor_name="system", reason="overdue reports filed"
        )
        notify(
            session,
            user_id=user_id,
            kind="grant.resumed",
            title="授权已恢复 / access resumed",
            body="逾期报告已提交。/ The overdue report was filed.",
            now=moment,
        )
    return report
