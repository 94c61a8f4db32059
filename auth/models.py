"""Tables of the auth package: users, memberships, API tokens and the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Normalize a datetime read back from the database (SQLite drops the zone) to aware UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class PlatformRole(StrEnum):
    """Roles that span organizations."""

    REGULATOR = "regulator"  # 监管方: reads audit logs and anomaly reports
    OPERATOR = "operator"  # 平台运营方: runs the portal


class UserState(StrEnum):
    """Whether an account may sign in."""

    ACTIVE = "active"
    DISABLED = "disabled"


class MembershipRole(StrEnum):
    """Role of a user inside one organization."""

    ADMIN = "admin"
    EDITOR = "editor"
    MEMBER = "member"


class TokenScope(StrEnum):
    """What an API token may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class AuditOutcome(StrEnum):
    """Result of an audited action."""

    ALLOWED = "allowed"
    DENIED = "denied"
    OK = "ok"
    FAILED = "failed"


class User(SQLModel, table=True):
    """An account of a person (or a system) that signs in."""

    __tablename__ = "user"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    email: str = Field(max_length=254, unique=True, index=True)
    fullname: str = Field(default="", max_length=200)
    password_hash: str = Field(default="", max_length=255)
    is_sysadmin: bool = Field(default=False)
    platform_roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    state: str = Field(default=UserState.ACTIVE.value, max_length=20)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_login_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))

    @property
    def is_active(self) -> bool:
        """True when the account is not disabled."""
        return self.state == UserState.ACTIVE.value

    def has_platform_role(self, role: str) -> bool:
        """True when the user holds this platform role (regulator, operator)."""
        return role in (self.platform_roles or [])


class Membership(SQLModel, table=True):
    """A user's role in one organization (the organization lives in catalog; no foreign key)."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id", name="uq_membership_user_org"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    organization_id: uuid.UUID = Field(index=True)
    role: str = Field(default=MembershipRole.MEMBER.value, max_length=20)
    security_officer: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


class ApiToken(SQLModel, table=True):
    """A long-lived API token; only the SHA-256 of the raw token is stored."""

    __tablename__ = "api_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    scope: str = Field(default=TokenScope.WRITE.value, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    expires_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class AuditEvent(SQLModel, table=True):
    """One record of the append-only, hash-chained audit log (written only by auth.audit.record)."""

    __tablename__ = "audit_event"

    # Assigned by auth.audit.record under a lock, gapless from 1, so a deleted record leaves a hole.
    id: int | None = Field(default=None, primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_name: str = Field(default="", max_length=254)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(default="", max_length=50)
    object_id: str = Field(default="", max_length=200, index=True)
    client_addr: str = Field(default="", max_length=64)
    outcome: str = Field(default=AuditOutcome.OK.value, max_length=10)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
