"""The 有条件开放 application workflow, end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from auth.applications import (
    AgreementMismatch,
    Application,
    ApplicationNotFound,
    ApplicationState,
    ApplicationStateConflict,
    GrantTerms,
    InvalidApplication,
    ReportAlreadyFiled,
    UsageReport,
    WorkflowRules,
    accept_agreement,
    add_working_days,
    check,
    due_reports,
    enforce_overdue_reports,
    file_report,
    history,
    overdue,
    pending_check,
    pending_review,
    reports_of_grant,
    require_application,
    resubmit,
    review,
    save_template,
    send_reminders,
    sha256_text,
    submit,
    withdraw,
)
from auth.grants import (
    Grant,
    GrantState,
    GrantSuspended,
    consume,
    granted_dataset_ids,
    load_actor,
    require_grant,
)
from auth.inbox import inbox
from auth.models import AuditEvent, User
from auth.policy import AccessDenied, Action, Actor, decide
from auth.users import add_membership

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)  # a Monday morning
ORG = uuid.uuid4()
OTHER_ORG = uuid.uuid4()
COMMITMENT = "本单位承诺依法依规使用数据，落实数据安全保护责任。"


def make_user(session: Session, *, name: str = "zhangsan", platform_roles: list[str] | None = None) -> User:
    """A user row without a password: Argon2 hashing would dominate these tests' run time."""
    user = User(name=name, email=f"{name}@example.gov.cn", platform_roles=list(platform_roles or []))
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class Entry:
    id: uuid.UUID
    owner_org_id: uuid.UUID = ORG
    status: str = "published"
    open_type: str = "conditional"
    grade: str | None = "general_3"
    grade_confirmed: bool = True


@dataclass
class People:
    applicant: Actor
    operator: Actor
    reviewer: Actor
    reviewer_id: uuid.UUID


@pytest.fixture
def people(session: Session) -> People:
    applicant = make_user(session, name="qiye")
    operator = make_user(session, name="yunying", platform_roles=["operator"])
    reviewer = make_user(session, name="jiaotong-admin")
    add_membership(session, user_id=reviewer.id, organization_id=ORG, role="admin")
    return People(
        applicant=load_actor(session, user=applicant),
        operator=load_actor(session, user=operator),
        reviewer=load_actor(session, user=reviewer),
        reviewer_id=reviewer.id,
    )


def _submit(session: Session, who: Actor, *datasets: Entry, now: datetime = NOW, **kw: object) -> Application:
    args: dict[str, object] = {
        "purpose": "城市交通拥堵研究",
        "scenario": "高校科研",
        "requested_from": now,
        "requested_to": now + timedelta(days=180),
        "security_commitment_signed": True,
        "commitment_text": COMMITMENT,
        "now": now,
    }
    args.update(kw)
    return submit(session, applicant=who, datasets=list(datasets) or [Entry(uuid.uuid4())], **args)  # type: ignore[arg-type]


def _states(session: Session, app_id: uuid.UUID) -> list[tuple[str, str]]:
    return [(e.from_state, e.to_state) for e in history(session, app_id)]


def test_happy_path_gives_a_grant_the_policy_honours(session: Session, people: People) -> None:
    dataset = Entry(uuid.uuid4())
    app = _submit(session, people.applicant, dataset)
    assert app.state == ApplicationState.SUBMITTED and app.awaiting == "data_authority"
    assert app.commitment_sha256 == sha256_text(COMMITMENT)
    assert pending_check(session) == [app]

    check(
        session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW + timedelta(hours=2)
    )
    assert app.state == ApplicationState.CHECKED
    assert pending_review(session, org_ids=[ORG]) == [app]
    assert pending_review(session, org_ids=[OTHER_ORG]) == []
    to_review = inbox(session, user_id=people.reviewer_id)
    assert [n.kind for n in to_review] == ["application.to_review"]

    terms = GrantTerms(
        valid_from=NOW + timedelta(days=1),
        valid_to=NOW + timedelta(days=91),
        download_quota=3,
        allowed_use="仅用于城市交通拥堵研究，不得商用",
    )
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="approve",
        terms=terms,
        now=NOW + timedelta(days=1),
    )
    assert app.state == ApplicationState.AGREEMENT_PENDING
    assert "仅用于城市交通拥堵研究" in app.agreement_text
    assert app.agreement_sha256 == sha256_text(app.agreement_text)

    grant = accept_agreement(
        session,
        application_id=app.id,
        applicant=people.applicant,
        agreement_sha256=app.agreement_sha256,
        now=NOW + timedelta(days=1, hours=1),
    )
    assert app.state == ApplicationState.APPROVED and app.grant_id == grant.id
    assert grant.download_quota == 3 and grant.allowed_use == "仅用于城市交通拥堵研究，不得商用"
    assert grant.source == "application" and grant.source_id == app.id

    during = NOW + timedelta(days=2)
    assert granted_dataset_ids(session, user_id=app.applicant_id, now=during) == {dataset.id}
    assert load_actor(session, user=None).is_anonymous
    holder = load_actor(session, user=session.get(User, app.applicant_id), now=during)
    assert decide(holder, Action.RESOURCE_DOWNLOAD, dataset).allowed
    assert not decide(people.applicant, Action.RESOURCE_DOWNLOAD, dataset).allowed  # loaded before
    consume(session, grant_id=grant.id, now=during)

    assert _states(session, app.id) == [
        ("", "submitted"),
        ("submitted", "checked"),
        ("checked", "agreement_pending"),
        ("agreement_pending", "approved"),
    ]
    kinds = [n.kind for n in inbox(session, user_id=app.applicant_id)]
    assert kinds == [
        "grant.issued",
        "application.agreement_pending",
        "application.checked",
        "application.submitted",
    ]
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    for step in (
        "application.submit",
        "application.check",
        "application.review",
        "application.accept_agreement",
    ):
        assert step in actions
    assert "grant.create" in actions
    # 90 days of grant: no periodic report before the end, then the 应用成果 report
    assert [r.kind for r in reports_of_grant(session, grant.id)] == ["outcome"]
    assert overdue(session, now=NOW + timedelta(days=365)) == []  # closed applications are never late


def test_reject_at_review_is_final(session: Session, people: People) -> None:
    app = _submit(session, people.applicant)
    check(session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW)
    with pytest.raises(InvalidApplication):
        review(
            session, application_id=app.id, reviewer=people.reviewer, owner_org_ids=[ORG], decision="reject"
        )
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="reject",
        reason="用途与数据不匹配",
        now=NOW + timedelta(hours=1),
    )
    assert app.state == ApplicationState.REJECTED and app.awaiting is None and app.decided_at is not None
    assert history(session, app.id)[-1].reason == "用途与数据不匹配"
    with pytest.raises(ApplicationStateConflict):
        accept_agreement(session, application_id=app.id, applicant=people.applicant)
    with pytest.raises(ApplicationStateConflict):
        review(
            session, application_id=app.id, reviewer=people.reviewer, owner_org_ids=[ORG], decision="approve"
        )
    assert inbox(session, user_id=app.applicant_id)[0].kind == "application.rejected"


def test_reject_at_the_formal_check(session: Session, people: People) -> None:
    app = _submit(session, people.applicant)
    check(
        session, application_id=app.id, checker=people.operator, outcome="reject", reason="材料不全", now=NOW
    )
    assert app.state == ApplicationState.REJECTED


def test_ask_for_more_then_resubmit(session: Session, people: People) -> None:
    app = _submit(session, people.applicant)
    check(session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW)
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="more_info",
        reason="请说明数据保存方式",
        now=NOW + timedelta(hours=1),
    )
    assert app.state == ApplicationState.MORE_INFO_REQUESTED and app.awaiting == "applicant"
    stranger = Actor(user_id=uuid.uuid4())
    with pytest.raises(ApplicationNotFound):
        resubmit(session, application_id=app.id, applicant=stranger, note="x")
    resubmit(
        session,
        application_id=app.id,
        applicant=people.applicant,
        note="数据存放于本单位内网，专人管理",
        scenario="高校科研（内网环境）",
        now=NOW + timedelta(hours=2),
    )
    assert app.state == ApplicationState.SUBMITTED and app.scenario == "高校科研（内网环境）"
    check(
        session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW + timedelta(hours=3)
    )
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="approve",
        now=NOW + timedelta(hours=4),
    )
    assert _states(session, app.id) == [
        ("", "submitted"),
        ("submitted", "checked"),
        ("checked", "more_info_requested"),
        ("more_info_requested", "submitted"),
        ("submitted", "checked"),
        ("checked", "agreement_pending"),
    ]
    # terms default to the request
    assert app.terms["allowed_use"] == "城市交通拥堵研究"


def test_who_may_do_what(session: Session, people: People) -> None:
    closed = Entry(uuid.uuid4(), open_type="closed", grade="core")
    with pytest.raises(AccessDenied):
        _submit(session, people.applicant, closed)
    with pytest.raises(AccessDenied):
        _submit(session, Actor(), Entry(uuid.uuid4()))
    with pytest.raises(InvalidApplication):
        _submit(session, people.applicant, security_commitment_signed=False)
    with pytest.raises(InvalidApplication):
        _submit(session, people.applicant, requested_to=NOW - timedelta(days=1))
    app = _submit(session, people.applicant)
    with pytest.raises(AccessDenied):
        check(session, application_id=app.id, checker=people.applicant, outcome="pass")
    with pytest.raises(ApplicationStateConflict):
        review(
            session, application_id=app.id, reviewer=people.reviewer, owner_org_ids=[ORG], decision="approve"
        )
    check(session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW)
    other_admin = Actor(user_id=uuid.uuid4(), org_roles=MappingProxyType({OTHER_ORG: "admin"}))
    member = Actor(user_id=uuid.uuid4(), org_roles=MappingProxyType({ORG: "member"}))
    for who, owners in (
        (other_admin, [ORG]),
        (member, [ORG]),
        (people.reviewer, [ORG, OTHER_ORG]),
        (people.reviewer, []),
    ):
        with pytest.raises(AccessDenied):
            review(session, application_id=app.id, reviewer=who, owner_org_ids=owners, decision="approve")
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="approve",
        now=NOW,
    )
    with pytest.raises(ApplicationNotFound):
        accept_agreement(session, application_id=app.id, applicant=people.reviewer)
    # the applicant may withdraw an open application, once
    other = _submit(session, people.applicant)
    withdraw(session, application_id=other.id, applicant=people.applicant, reason="不再需要")
    assert other.state == ApplicationState.WITHDRAWN
    with pytest.raises(ApplicationStateConflict):
        withdraw(session, application_id=other.id, applicant=people.applicant)
    with pytest.raises(ApplicationNotFound):
        withdraw(session, application_id=app.id, applicant=people.reviewer)


def test_working_day_deadlines_and_overdue(session: Session, people: People) -> None:
    rules = WorkflowRules(check_days=3)
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)
    app = _submit(session, people.applicant, now=friday, rules=rules)
    # Mon, Tue, Wed: due at the end of Wednesday, Shanghai time; the weekend does not count
    assert app.due_at is not None
    assert app.due_at.astimezone(SHANGHAI).replace(tzinfo=None) == datetime(2026, 3, 11, 23, 59, 59)
    tuesday = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)  # 4 calendar days later: not late
    assert overdue(session, now=tuesday) == []
    thursday = datetime(2026, 3, 12, 0, 0, 1, tzinfo=SHANGHAI)
    assert [a.id for a in overdue(session, now=thursday)] == [app.id]
    assert overdue(session, now=thursday)[0].awaiting == "data_authority"
    # the next step gets a fresh deadline
    check(session, application_id=app.id, checker=people.operator, outcome="pass", now=thursday, rules=rules)
    assert overdue(session, now=thursday) == []


def test_add_working_days_skips_holidays_and_counts_make_up_days() -> None:
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)
    holiday = WorkflowRules(holidays=frozenset({date(2026, 3, 9)}))
    assert add_working_days(friday, 1, rules=holiday).astimezone(SHANGHAI).date() == date(2026, 3, 10)
    makeup = WorkflowRules(extra_workdays=frozenset({date(2026, 3, 7)}))
    assert add_working_days(friday, 1, rules=makeup).astimezone(SHANGHAI).date() == date(2026, 3, 7)
    assert add_working_days(friday, 0).astimezone(SHANGHAI).date() == date(2026, 3, 6)


def test_agreement_is_frozen_against_template_edits(session: Session, people: People) -> None:
    save_template(
        session, code="default", title="协议", body="甲方同意乙方将数据用于：$allowed_use。版本一。"
    )
    app = _submit(session, people.applicant)
    check(session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW)
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="approve",
        now=NOW,
    )
    text, digest = app.agreement_text, app.agreement_sha256
    assert text == "甲方同意乙方将数据用于：城市交通拥堵研究。版本一。"
    assert app.agreement_template_version == 1

    edited = save_template(
        session, code="default", title="协议", body="新版本：$allowed_use，另加违约金条款。"
    )
    assert edited.version == 2
    session.expire_all()
    fresh = require_application(session, app.id)
    assert (fresh.agreement_text, fresh.agreement_sha256) == (text, digest)

    with pytest.raises(AgreementMismatch):
        accept_agreement(
            session, application_id=app.id, applicant=people.applicant, agreement_sha256=sha256_text("x")
        )
    accept_agreement(
        session, application_id=app.id, applicant=people.applicant, agreement_sha256=digest, now=NOW
    )
    save_template(session, code="default", title="协议", body="第三版")
    session.expire_all()
    assert require_application(session, app.id).agreement_sha256 == digest

    later = _submit(session, people.applicant)
    check(session, application_id=later.id, checker=people.operator, outcome="pass", now=NOW)
    review(
        session,
        application_id=later.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="approve",
        now=NOW,
    )
    assert later.agreement_text == "第三版" and later.agreement_template_version == 3


def _approved_grant(session: Session, people: People, report_due_at: tuple[datetime, ...]) -> Grant:
    app = _submit(session, people.applicant)
    check(session, application_id=app.id, checker=people.operator, outcome="pass", now=NOW)
    terms = GrantTerms(
        valid_from=NOW, valid_to=NOW + timedelta(days=120), download_quota=10, report_due_at=report_due_at
    )
    review(
        session,
        application_id=app.id,
        reviewer=people.reviewer,
        owner_org_ids=[ORG],
        decision="approve",
        terms=terms,
        now=NOW,
    )
    return accept_agreement(session, application_id=app.id, applicant=people.applicant, now=NOW)


def test_overdue_report_suspends_and_filing_resumes(session: Session, people: People) -> None:
    first_due, final_due = NOW + timedelta(days=30), NOW + timedelta(days=150)
    grant = _approved_grant(session, people, (first_due, final_due))
    reports = reports_of_grant(session, grant.id)
    assert [(r.kind, r.due_at.astimezone(UTC)) for r in reports] == [
        ("usage", first_due),
        ("outcome", final_due),
    ]
    user_id = grant.user_id

    # a week before: one reminder, once
    soon = first_due - timedelta(days=5)
    assert [r.id for r in due_reports(session, now=soon, within_days=7)] == [reports[0].id]
    sent = send_reminders(session, now=soon, days_before=7)
    assert len(sent) == 1 and sent[0].kind == "report.due" and sent[0].user_id == user_id
    assert send_reminders(session, now=soon + timedelta(days=1), days_before=7) == []

    # not yet late: nothing happens
    assert enforce_overdue_reports(session, now=first_due - timedelta(seconds=1)) == []
    late = first_due + timedelta(days=1)
    assert [g.id for g in enforce_overdue_reports(session, now=late)] == [grant.id]
    assert require_grant(session, grant.id).state == GrantState.SUSPENDED
    assert enforce_overdue_reports(session, now=late) == []  # already suspended
    with pytest.raises(GrantSuspended):
        consume(session, grant_id=grant.id, now=late)
    assert granted_dataset_ids(session, user_id=user_id, now=late) == frozenset()
    assert inbox(session, user_id=user_id)[0].kind == "grant.suspended"

    filed = file_report(
        session,
        report_id=reports[0].id,
        user_id=user_id,
        usage_text="下载 2 次，用于拥堵指数建模",
        results_text="形成研究报告一份",
        result_links=[
            {"title": "拥堵指数报告", "url": "https://example.edu.cn/r.pdf", "dataset_id": uuid.uuid4()}
        ],
        now=late + timedelta(hours=1),
    )
    assert filed.state == "filed" and filed.result_links[0]["title"] == "拥堵指数报告"
    assert require_grant(session, grant.id).state == GrantState.ACTIVE
    assert consume(session, grant_id=grant.id, now=late + timedelta(hours=2)).downloads_used == 1
    assert inbox(session, user_id=user_id)[0].kind == "grant.resumed"
    with pytest.raises(ReportAlreadyFiled):
        file_report(session, report_id=reports[0].id, user_id=user_id, usage_text="again")


def test_filing_one_of_two_overdue_reports_keeps_the_suspension(session: Session, people: People) -> None:
    grant = _approved_grant(
        session, people, (NOW + timedelta(days=10), NOW + timedelta(days=20), NOW + timedelta(days=200))
    )
    late = NOW + timedelta(days=25)
    enforce_overdue_reports(session, now=late)
    first, second, _ = reports_of_grant(session, grant.id)
    file_report(session, report_id=first.id, user_id=grant.user_id, usage_text="一季度", now=late)
    assert require_grant(session, grant.id).state == GrantState.SUSPENDED
    file_report(session, report_id=second.id, user_id=grant.user_id, usage_text="二季度", now=late)
    assert require_grant(session, grant.id).state == GrantState.ACTIVE


def test_a_manual_suspension_is_not_lifted_by_filing(session: Session, people: People) -> None:
    from auth.grants import suspend_grant

    grant = _approved_grant(session, people, (NOW + timedelta(days=10), NOW + timedelta(days=200)))
    suspend_grant(session, grant_id=grant.id, actor_id=None, reason="涉嫌违规使用")
    report = reports_of_grant(session, grant.id)[0]
    file_report(
        session,
        report_id=report.id,
        user_id=grant.user_id,
        usage_text="按期报告",
        now=NOW + timedelta(days=9),
    )
    assert require_grant(session, grant.id).state == GrantState.SUSPENDED
    assert session.exec(select(UsageReport).where(UsageReport.state == "owed")).all()[0].kind == "outcome"


def test_accepting_twice_at_once_makes_one_grant(engine: Engine) -> None:
    """Two sessions both see the agreement pending; only the first acceptance issues a grant."""
    with Session(engine, expire_on_commit=False) as s:
        applicant = make_user(s, name="qiye")
        operator = make_user(s, name="yunying", platform_roles=["operator"])
        reviewer = make_user(s, name="shenhe")
        add_membership(s, user_id=reviewer.id, organization_id=ORG, role="editor")
        who = load_actor(s, user=applicant)
        app = _submit(s, who)
        check(s, application_id=app.id, checker=load_actor(s, user=operator), outcome="pass", now=NOW)
        review(
            s,
            application_id=app.id,
            reviewer=load_actor(s, user=reviewer),
            owner_org_ids=[ORG],
            decision="approve",
            now=NOW,
        )
        s.commit()
    with Session(engine) as first, Session(engine) as second:
        assert first.get(Application, app.id).state == "agreement_pending"  # type: ignore[union-attr]
        assert second.get(Application, app.id).state == "agreement_pending"  # type: ignore[union-attr]
        accept_agreement(first, application_id=app.id, applicant=who, now=NOW)
        first.commit()
        with pytest.raises(ApplicationStateConflict):
            accept_agreement(second, application_id=app.id, applicant=who, now=NOW)
        second.rollback()
    with Session(engine) as s:
        assert len(s.exec(select(Grant).where(Grant.source_id == app.id)).all()) == 1
        assert s.get(Application, app.id).state == "approved"  # type: ignore[union-attr]
