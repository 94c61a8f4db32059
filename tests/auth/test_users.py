"""Accounts: creation rules, sign-in, lockout and memberships (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from auth import audit
from auth.errors import (
    AccountDisabled,
    AccountLocked,
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    InvalidRole,
    InvalidUserName,
    UserNameTaken,
    UserNotFound,
    WeakPassword,
)
from auth.models import AuditEvent, User
from auth.settings import AuthSettings
from auth.users import (
    add_membership,
    authenticate,
    create_user,
    get_user_by_email,
    get_user_by_name,
    memberships_of,
    remove_membership,
    require_user,
    set_password,
    set_user_state,
)
from tests.auth.conftest import PASSWORD, make_user

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_create_user_stores_a_hash_not_the_password(session: Session) -> None:
    user = make_user(session, name="li-si", email="Li.Si@Example.GOV.cn", fullname="李四")
    session.commit()
    assert user.email == "li.si@example.gov.cn"
    assert user.fullname == "李四"
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    assert get_user_by_name(session, "li-si") == user
    assert get_user_by_email(session, "LI.SI@example.gov.cn") == user
    assert require_user(session, user.id) == user
    assert require_user(session, "li-si") == user
    with pytest.raises(UserNotFound):
        require_user(session, "nobody")
    with pytest.raises(UserNotFound):
        require_user(session, uuid.uuid4())


def test_platform_roles_and_sysadmin(session: Session) -> None:
    user = make_user(session, name="jianguan", platform_roles=["regulator", "regulator"], sysadmin=True)
    session.commit()
    session.expire_all()
    again = require_user(session, user.id)
    assert again.platform_roles == ["regulator"]
    assert again.has_platform_role("regulator")
    assert not again.has_platform_role("operator")
    assert again.is_sysadmin
    with pytest.raises(InvalidRole):
        make_user(session, name="bad-role", platform_roles=["king"])


def test_duplicate_name_and_email_are_refused(session: Session) -> None:
    make_user(session, name="wangwu", email="wangwu@example.gov.cn")
    with pytest.raises(UserNameTaken):
        make_user(session, name="wangwu", email="other@example.gov.cn")
    with pytest.raises(EmailTaken):
        make_user(session, name="wangwu2", email="WANGWU@example.gov.cn")


@pytest.mark.parametrize("name", ["A", "Zhang San", "张三", "-lead", "x" * 101, ""])
def test_invalid_names_are_refused(session: Session, name: str) -> None:
    with pytest.raises(InvalidUserName):
        create_user(session, name=name, email="a@example.gov.cn", password=PASSWORD)


def test_invalid_email_is_refused(session: Session) -> None:
    with pytest.raises(InvalidEmail):
        create_user(session, name="abc", email="not-an-email", password=PASSWORD)


@pytest.mark.parametrize(
    "password", ["short1", "password", "12345678", "aaaaaaaaaaaa", "zhaoliu-2024", "88888888"]
)
def test_weak_passwords_are_refused(session: Session, password: str) -> None:
    with pytest.raises(WeakPassword):
        create_user(session, name="zhaoliu", email="zl@example.gov.cn", password=password)
    assert get_user_by_name(session, "zhaoliu") is None


def test_authenticate_by_name_or_email(session: Session, settings: AuthSettings) -> None:
    user = make_user(session)
    session.commit()
    assert (
        authenticate(session, settings, login="zhangsan", password=PASSWORD, client_addr="10.0.0.1") == user
    )
    assert authenticate(session, settings, login="ZhangSan@Example.gov.cn ", password=PASSWORD) == user
    session.commit()
    assert user.last_login_at is not None
    logins = audit.query(session, action="auth.login", actor_id=user.id)
    assert len(logins) == 2
    assert logins[-1].client_addr == "10.0.0.1"


def test_unknown_user_and_wrong_password_look_the_same(session: Session, settings: AuthSettings) -> None:
    make_user(session)
    session.commit()
    with pytest.raises(InvalidCredentials) as unknown:
        authenticate(session, settings, login="ghost", password=PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        authenticate(session, settings, login="zhangsan", password="wrong-password")
    assert str(unknown.value) == str(wrong.value)
    session.commit()
    failed = audit.query(session, action="auth.login_failed")
    assert {e.detail["reason"] for e in failed} == {"unknown_account", "wrong_password"}
    assert all(e.outcome == "failed" for e in failed)


def test_lockout_after_max_failures_and_release(session: Session, settings: AuthSettings) -> None:
    user = make_user(session)
    session.commit()
    for i in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            authenticate(
                session, settings, login="zhangsan", password="bad-guess", now=T0 + timedelta(seconds=i)
            )
        session.commit()  # the edge commits failures too (commit_on_raise)
    # Now even the right password is refused while the lock lasts.
    during = T0 + timedelta(seconds=settings.login_lockout_seconds - 10)
    with pytest.raises(AccountLocked) as locked:
        authenticate(session, settings, login="zhangsan", password=PASSWORD, now=during)
    assert locked.value.until > during
    session.commit()
    assert audit.query(session, action="auth.lockout", actor_id=user.id)
    # After the period the right password works again and the counter starts afresh.
    after = T0 + timedelta(seconds=settings.login_lockout_seconds + 10)
    assert authenticate(session, settings, login="zhangsan", password=PASSWORD, now=after) == user
    session.commit()
    session.expire_all()
    fresh = require_user(session, user.id)
    assert fresh.locked_until is None
    assert fresh.failed_logins == 0


def test_failures_below_threshold_do_not_lock_and_success_resets(
    session: Session, settings: AuthSettings
) -> None:
    make_user(session)
    session.commit()
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(InvalidCredentials):
            authenticate(session, settings, login="zhangsan", password="bad-guess", now=T0)
    authenticate(session, settings, login="zhangsan", password=PASSWORD, now=T0)
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(InvalidCredentials):
            authenticate(session, settings, login="zhangsan", password="bad-guess", now=T0)
    assert authenticate(session, settings, login="zhangsan", password=PASSWORD, now=T0)


def test_failure_count_survives_in_the_database(engine: Engine, settings: AuthSettings) -> None:
    with Session(engine) as s:
        make_user(s)
        s.commit()
    for _ in range(settings.login_max_failures):
        with Session(engine) as s, pytest.raises(InvalidCredentials):
            try:
                authenticate(s, settings, login="zhangsan", password="bad-guess", now=T0)
            finally:
                s.commit()
    with Session(engine) as s:
        user = s.exec(select(User).where(User.name == "zhangsan")).one()
        assert user.locked_until is not None
        with pytest.raises(AccountLocked):
            authenticate(s, settings, login="zhangsan", password=PASSWORD, now=T0)


def test_parallel_guesses_cannot_slip_past_the_lockout(engine: Engine, settings: AuthSettings) -> None:
    with Session(engine) as s:
        make_user(s)
        s.commit()
    attempts = settings.login_max_failures * 2
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def guess() -> None:
        with Session(engine) as s:
            s.exec(select(User).where(User.name == "zhangsan")).one()  # everyone reads first
            barrier.wait()
            try:
                authenticate(s, settings, login="zhangsan", password="parallel-guess", now=T0)
            except (InvalidCredentials, AccountLocked) as exc:
                outcomes.append(type(exc).__name__)
            finally:
                s.commit()

    threads = [threading.Thread(target=guess) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == attempts
    with Session(engine) as s:
        with pytest.raises(AccountLocked):
            authenticate(s, settings, login="zhangsan", password=PASSWORD, now=T0)
        assert audit.verify_chain(s) is None


def test_disabled_account_cannot_sign_in(session: Session, settings: AuthSettings) -> None:
    user = make_user(session)
    set_user_state(session, user_id=user.id, state="disabled")
    with pytest.raises(AccountDisabled):
        authenticate(session, settings, login="zhangsan", password=PASSWORD)
    # A wrong password on a disabled account still reads as bad credentials.
    with pytest.raises(InvalidCredentials):
        authenticate(session, settings, login="zhangsan", password="nope-nope-1")
    set_user_state(session, user_id=user.id, state="active")
    assert authenticate(session, settings, login="zhangsan", password=PASSWORD) == user


def test_set_password_replaces_and_unlocks(session: Session, settings: AuthSettings) -> None:
    user = make_user(session)
    user.locked_until = datetime.now(UTC) + timedelta(hours=1)
    set_password(session, user_id=user.id, password="New-Secret-99")
    with pytest.raises(InvalidCredentials):
        authenticate(session, settings, login="zhangsan", password=PASSWORD)
    assert authenticate(session, settings, login="zhangsan", password="New-Secret-99") == user
    with pytest.raises(WeakPassword):
        set_password(session, user_id=user.id, password="123")


def test_outdated_hash_is_upgraded_on_sign_in(session: Session, settings: AuthSettings) -> None:
    user = make_user(session)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    session.commit()
    old = user.password_hash
    authenticate(session, settings, login="zhangsan", password=PASSWORD)
    assert user.password_hash != old
    assert authenticate(session, settings, login="zhangsan", password=PASSWORD) == user


def test_memberships(session: Session) -> None:
    user = make_user(session)
    org_a, org_b = uuid.uuid4(), uuid.uuid4()
    add_membership(session, user_id=user.id, organization_id=org_a, role="editor")
    add_membership(session, user_id=user.id, organization_id=org_b, role="member", security_officer=True)
    # Adding again changes the role instead of duplicating the membership.
    add_membership(session, user_id=user.id, organization_id=org_a, role="admin")
    session.commit()
    got = {m.organization_id: (m.role, m.security_officer) for m in memberships_of(session, user.id)}
    assert got == {org_a: ("admin", False), org_b: ("member", True)}
    with pytest.raises(InvalidRole):
        add_membership(session, user_id=user.id, organization_id=org_a, role="owner")
    with pytest.raises(UserNotFound):
        add_membership(session, user_id=uuid.uuid4(), organization_id=org_a, role="member")
    assert remove_membership(session, user_id=user.id, organization_id=org_b)
    assert not remove_membership(session, user_id=user.id, organization_id=org_b)
    assert [m.organization_id for m in memberships_of(session, user.id)] == [org_a]
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions == [
        "user.create",
        "membership.set",
        "membership.set",
        "membership.set",
        "membership.remove",
    ]
