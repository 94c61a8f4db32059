"""Accounts: creation, lookup, sign-in with lockout, and organization memberships."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

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
from auth.models import (
    AuditOutcome,
    Membership,
    MembershipRole,
    PlatformRole,
    User,
    UserState,
    as_utc,
    utcnow,
)
from auth.passwords import burn_verify, hash_password, needs_rehash, verify_password
from auth.settings import AuthSettings

DEFAULT_PASSWORD_MIN_LENGTH = 8
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A short list of the passwords tried first by every attacker.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "11111111",
        "88888888",
        "qwerty123",
        "qwertyuiop",
        "abc12345",
        "iloveyou",
        "admin123",
        "admin@123",
        "a1234567",
        "woaini1314",
        "changeme",
        "letmein1",
    }
)


def normalize_email(email: str) -> str:
    """Trim and lower-case an e-mail address (addresses are unique case-insensitively)."""
    return email.strip().lower()


def check_password_strength(
    password: str, *, name: str = "", email: str = "", min_length: int = DEFAULT_PASSWORD_MIN_LENGTH
) -> None:
    """Raise WeakPassword unless the password is long enough and not trivially guessable."""
    if len(password) < min_length:
        raise WeakPassword(f"至少 {min_length} 个字符 / at least {min_length} characters")
    if len(set(password)) < 3:
        raise WeakPassword("字符种类过少 / too few distinct characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise WeakPassword("过于常见 / too common")
    local = normalize_email(email).split("@", 1)[0]
    if (name and name.lower() in lowered) or (len(local) >= 3 and local in lowered):
        raise WeakPassword("不能包含用户名或邮箱 / must not contain the user name or e-mail")


def _platform_roles(roles: Iterable[str]) -> list[str]:
    result = []
    for role in roles:
        try:
            value = PlatformRole(role).value
        except ValueError as exc:
            raise InvalidRole("平台角色 platform role", str(role)) from exc
        if value not in result:
            result.append(value)
    return result


def create_user(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    fullname: str = "",
    sysadmin: bool = False,
    platform_roles: Iterable[str] = (),
    password_min_length: int = DEFAULT_PASSWORD_MIN_LENGTH,
    actor_id: uuid.UUID | None = None,
) -> User:
    """Create an account (UserNameTaken, EmailTaken, WeakPassword, InvalidUserName, InvalidEmail)."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise InvalidUserName(name)
    email = normalize_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidEmail(email)
    roles = _platform_roles(platform_roles)
    if get_user_by_name(session, name) is not None:
        raise UserNameTaken(name)
    if get_user_by_email(session, email) is not None:
        raise EmailTaken(email)
    check_password_strength(password, name=name, email=email, min_length=password_min_length)
    user = User(
        name=name,
        email=email,
        fullname=fullname.strip(),
        password_hash=hash_password(password),
        is_sysadmin=sysadmin,
        platform_roles=roles,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        action="user.create",
        actor_id=actor_id,
        object_type="user",
        object_id=str(user.id),
        detail={"name": name, "sysadmin": sysadmin, "platform_roles": roles},
    )
    return user


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    """The user with this id, or None."""
    return session.get(User, user_id)


def get_user_by_name(session: Session, name: str) -> User | None:
    """The user with this name, or None."""
    return session.exec(select(User).where(User.name == name.strip())).first()


def get_user_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail address (case-insensitive), or None."""
    return session.exec(select(User).where(func.lower(User.email) == normalize_email(email))).first()


def require_user(session: Session, ref: uuid.UUID | str) -> User:
    """The user with this id (UUID) or name (str); UserNotFound otherwise."""
    user = get_user(session, ref) if isinstance(ref, uuid.UUID) else get_user_by_name(session, ref)
    if user is None:
        raise UserNotFound(ref)
    return user


def _find_login(session: Session, login: str) -> User | None:
    login = login.strip()
    if "@" in login:
        return get_user_by_email(session, login)
    return get_user_by_name(session, login)


def _count_failure(session: Session, user: User) -> int:
    """Add one failed sign-in atomically, so parallel guesses cannot slip past the lockout."""
    session.flush()
    count = session.execute(
        sa.update(User)
        .where(col(User.id) == user.id)
        .values(failed_logins=col(User.failed_logins) + 1)
        .returning(col(User.failed_logins))
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(user, "failed_logins", count)
    return int(count)


def authenticate(
    session: Session,
    settings: AuthSettings,
    *,
    login: str,
    password: str,
    client_addr: str = "",
    now: datetime | None = None,
) -> User:
    """Check a name-or-email and password; lock the account after repeated failures.

    Raises InvalidCredentials (same message for an unknown account and a wrong password),
    AccountLocked or AccountDisabled. These errors have ``commit_on_raise``: the failure counter
    and audit records are flushed, and the caller must commit them before answering.
    """
    now = as_utc(now) or utcnow()
    user = _find_login(session, login)
    if user is None:
        burn_verify(password)
        audit.record(
            session,
            action="auth.login_failed",
            actor_name=login.strip()[:254],
            client_addr=client_addr,
            outcome=AuditOutcome.FAILED.value,
            detail={"reason": "unknown_account"},
            at=now,
        )
        raise InvalidCredentials()
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        audit.record(
            session,
            action="auth.login_failed",
            actor_id=user.id,
            actor_name=user.name,
            object_type="user",
            object_id=str(user.id),
            client_addr=client_addr,
            outcome=AuditOutcome.DENIED.value,
            detail={"reason": "locked", "locked_until": locked_until.isoformat()},
            at=now,
        )
        raise AccountLocked(locked_until)
    if locked_until is not None:
        user.locked_until = None
        user.failed_logins = 0
    if not verify_password(user.password_hash, password):
        failures = _count_failure(session, user)
        detail: dict[str, object] = {"reason": "wrong_password", "failures": failures}
        if failures >= settings.login_max_failures:
            user.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
            user.failed_logins = 0
            detail["locked_until"] = user.locked_until.isoformat()
        session.add(user)
        audit.record(
            session,
            action="auth.login_failed",
            actor_id=user.id,
            actor_name=user.name,
            object_type="user",
            object_id=str(user.id),
            client_addr=client_addr,
            outcome=AuditOutcome.FAILED.value,
            detail=detail,
            at=now,
        )
        if user.locked_until is not None:
            audit.record(
                session,
                action="auth.lockout",
                actor_id=user.id,
                actor_name=user.name,
                object_type="user",
                object_id=str(user.id),
                client_addr=client_addr,
                detail={"locked_until": user.locked_until.isoformat()},
                at=now,
            )
        raise InvalidCredentials()
    if user.state != UserState.ACTIVE.value:
        audit.record(
            session,
            action="auth.login_failed",
            actor_id=user.id,
            actor_name=user.name,
            object_type="user",
            object_id=str(user.id),
            client_addr=client_addr,
            outcome=AuditOutcome.DENIED.value,
            detail={"reason": "disabled"},
            at=now,
        )
        raise AccountDisabled()
    user.failed_logins = 0
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    audit.record(
        session,
        action="auth.login",
        actor_id=user.id,
        actor_name=user.name,
        object_type="user",
        object_id=str(user.id),
        client_addr=client_addr,
        at=now,
    )
    return user


def set_password(
    session: Session,
    *,
    user_id: uuid.UUID,
    password: str,
    password_min_length: int = DEFAULT_PASSWORD_MIN_LENGTH,
    actor_id: uuid.UUID | None = None,
) -> User:
    """Replace a user's password (WeakPassword) and clear any lockout."""
    user = require_user(session, user_id)
    check_password_strength(password, name=user.name, email=user.email, min_length=password_min_length)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(
        session,
        action="user.password_change",
        actor_id=actor_id or user.id,
        object_type="user",
        object_id=str(user.id),
    )
    return user


def set_user_state(
    session: Session, *, user_id: uuid.UUID, state: str, actor_id: uuid.UUID | None = None
) -> User:
    """Enable or disable an account; enabling also clears a lockout."""
    try:
        value = UserState(state).value
    except ValueError as exc:
        raise InvalidRole("账号状态 state", state) from exc
    user = require_user(session, user_id)
    user.state = value
    if value == UserState.ACTIVE.value:
        user.failed_logins = 0
        user.locked_until = None
    session.add(user)
    audit.record(
        session,
        action=f"user.{'enable' if value == UserState.ACTIVE.value else 'disable'}",
        actor_id=actor_id,
        object_type="user",
        object_id=str(user.id),
    )
    return user


# --- memberships ----------------------------------------------------------------------------


def get_membership(session: Session, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> Membership | None:
    """The user's membership of this organization, or None."""
    return session.exec(
        select(Membership).where(Membership.user_id == user_id, Membership.organization_id == organization_id)
    ).first()


def add_membership(
    session: Session,
    *,
    user_id: uuid.UUID,
    organization_id: uuid.UUID,
    role: str,
    security_officer: bool = False,
    actor_id: uuid.UUID | None = None,
) -> Membership:
    """Add a user to an organization, or change the role of an existing membership."""
    try:
        role = MembershipRole(role).value
    except ValueError as exc:
        raise InvalidRole("成员角色 membership role", role) from exc
    require_user(session, user_id)
    membership = get_membership(session, user_id=user_id, organization_id=organization_id)
    if membership is None:
        membership = Membership(user_id=user_id, organization_id=organization_id)
    membership.role = role
    membership.security_officer = security_officer
    session.add(membership)
    session.flush()
    audit.record(
        session,
        action="membership.set",
        actor_id=actor_id,
        object_type="organization",
        object_id=str(organization_id),
        detail={"user_id": str(user_id), "role": role, "security_officer": security_officer},
    )
    return membership


def remove_membership(
    session: Session, *, user_id: uuid.UUID, organization_id: uuid.UUID, actor_id: uuid.UUID | None = None
) -> bool:
    """Remove a user from an organization; False when they were not a member."""
    membership = get_membership(session, user_id=user_id, organization_id=organization_id)
    if membership is None:
        return False
    session.delete(membership)
    session.flush()
    audit.record(
        session,
        action="membership.remove",
        actor_id=actor_id,
        object_type="organization",
        object_id=str(organization_id),
        detail={"user_id": str(user_id)},
    )
    return True


def memberships_of(session: Session, user_id: uuid.UUID) -> list[Membership]:
    """Every membership of one user."""
    return list(
        session.exec(
            select(Membership).where(Membership.user_id == user_id).order_by(col(Membership.created_at))
        ).all()
    )


def members_of(session: Session, organization_id: uuid.UUID) -> list[Membership]:
    """Every membership of one organization."""
    return list(
        session.exec(
            select(Membership)
            .where(Membership.organization_id == organization_id)
            .order_by(col(Membership.created_at))
        ).all()
    )
