"""Grants: approved access (有条件开放 applications) and purchased or targeted entitlements.

A grant gives one user files, previews and rows of some datasets (optionally only some resources)
for a period, within download and query quotas. Quotas are spent with one atomic UPDATE, so two
concurrent downloads can never both take the last unit. Every change is written to the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from auth import audit
from auth.errors import AuthError
from auth.models import Membership, User, UserState, as_utc, utcnow
from auth.policy import ANONYMOUS, Actor


class GrantSource(StrEnum):
    """Where a grant came from."""

    APPLICATION = "application"  # an approved 有条件开放 application
    PURCHASE = "purchase"  # an order of a data product
    TARGETED = "targeted"  # 定向开放 decided by the owning organization


class GrantState(StrEnum):
    """Life of a grant; only ACTIVE grants open anything."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


class UsageKind(StrEnum):
    """What a unit of quota pays for."""

    DOWNLOAD = "download"
    QUERY = "query"


SUSPENDED_MANUALLY = "manual"
SUSPENDED_REPORT_OVERDUE = "report_overdue"


# --- errors -----------------------------------------------------------------------------------


class GrantNotFound(AuthError):
    """No such grant."""

    def __init__(self, grant_id: object) -> None:
        super().__init__(f"授权不存在 / grant not found: {grant_id}")
        self.grant_id = grant_id


class InvalidGrant(AuthError):
    """The terms of a new grant do not make sense."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"授权条款无效 / invalid grant: {reason}")
        self.reason = reason


class GrantStateConflict(AuthError):
    """The grant is not in a state that allows this change (e.g. resuming an active grant)."""

    def __init__(self, grant_id: object, state: str, wanted: str) -> None:
        super().__init__(f"授权状态为 {state}，不能{wanted} / grant {grant_id} is {state}: cannot {wanted}")
        self.grant_id = grant_id
        self.state = state


class GrantUnusable(AuthError):
    """Base of the reasons a grant cannot be used right now."""

    def __init__(self, grant_id: object, message: str) -> None:
        super().__init__(message)
        self.grant_id = grant_id


class GrantRevoked(GrantUnusable):
    """The grant was revoked."""

    def __init__(self, grant_id: object, reason: str = "") -> None:
        super().__init__(grant_id, f"授权已撤销 / grant revoked: {reason}".rstrip(": "))
        self.reason = reason


class GrantExpired(GrantUnusable):
    """The grant's validity period is over (or has not begun)."""

    def __init__(self, grant_id: object, reason: str = "validity period is over") -> None:
        super().__init__(grant_id, f"授权不在有效期内 / grant not valid now: {reason}")
        self.reason = reason


class GrantSuspended(GrantUnusable):
    """The grant is suspended, e.g. until an overdue usage report is filed."""

    def __init__(self, grant_id: object, reason: str = "") -> None:
        super().__init__(grant_id, f"授权已暂停 / grant suspended: {reason}".rstrip(": "))
        self.reason = reason


class QuotaExhausted(GrantUnusable):
    """No download or query units are left on the grant."""

    def __init__(self, grant_id: object, kind: str, quota: int | None) -> None:
        super().__init__(grant_id, f"{kind} 配额已用完 / {kind} quota of {quota} used up")
        self.kind = kind
        self.quota = quota


# --- tables -----------------------------------------------------------------------------------


class Grant(SQLModel, table=True):
    """One user's entitlement to the files and rows of some datasets, for a period, within quotas."""

    __tablename__ = "access_grant"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    organization_id: uuid.UUID | None = Field(default=None, index=True)  # the grantee's organization
    source: str = Field(max_length=20)
    source_id: uuid.UUID | None = Field(default=None, index=True)  # application, order ...
    valid_from: datetime = Field(sa_type=sa.DateTime(timezone=True))
    valid_to: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    download_quota: int | None = Field(default=None)  # None: unlimited
    downloads_used: int = Field(default=0)
    query_quota: int | None = Field(default=None)
    queries_used: int = Field(default=0)
    allowed_use: str = Field(default="", sa_type=sa.Text)
    state: str = Field(default=GrantState.ACTIVE.value, max_length=20, index=True)
    suspension_cause: str | None = Field(default=None, max_length=30)
    suspended_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoke_reason: str = Field(default="", max_length=1000)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))

    def remaining(self, kind: str) -> int | None:
        """Units left of a kind of quota; None when unlimited."""
        quota, used = self._quota(kind)
        return None if quota is None else max(quota - used, 0)

    def _quota(self, kind: str) -> tuple[int | None, int]:
        if UsageKind(kind) == UsageKind.DOWNLOAD:
            return self.download_quota, self.downloads_used
        return self.query_quota, self.queries_used


class GrantItem(SQLModel, table=True):
    """One dataset (or one resource of it) covered by a grant."""

    __tablename__ = "access_grant_item"
    __table_args__ = (
        sa.UniqueConstraint("grant_id", "dataset_id", "resource_id", name="uq_access_grant_item"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    grant_id: uuid.UUID = Field(foreign_key="access_grant.id", index=True, ondelete="CASCADE")
    dataset_id: uuid.UUID = Field(index=True)
    resource_id: uuid.UUID | None = Field(default=None, index=True)  # None: every resource


# --- reading ----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    value = as_utc(now) if now is not None else utcnow()
    assert value is not None
    return value


def get_grant(session: Session, grant_id: uuid.UUID) -> Grant | None:
    """One grant by id, or None."""
    return session.get(Grant, grant_id)


def require_grant(session: Session, grant_id: uuid.UUID) -> Grant:
    """One grant by id; raises GrantNotFound."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise GrantNotFound(grant_id)
    return grant


def grant_items(session: Session, grant_id: uuid.UUID) -> list[GrantItem]:
    """The datasets and resources a grant covers."""
    return list(session.exec(select(GrantItem).where(GrantItem.grant_id == grant_id)).all())


def grants_of_user(session: Session, *, user_id: uuid.UUID) -> list[Grant]:
    """Every grant of one user, newest first."""
    stmt = select(Grant).where(Grant.user_id == user_id).order_by(col(Grant.created_at).desc())
    return list(session.exec(stmt).all())


def _usable_now(now: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        col(Grant.state) == GrantState.ACTIVE.value,
        col(Grant.valid_from) <= now,
        col(Grant.valid_to) > now,
    ]


def active_grant_for(
    session: Session,
    *,
    user_id: uuid.UUID,
    dataset_id: uuid.UUID,
    now: datetime | None = None,
    resource_id: uuid.UUID | None = None,
    kind: str | None = None,
) -> Grant | None:
    """The user's usable grant on a dataset (and resource), preferring one with quota of `kind` left."""
    moment = _now(now)
    item_match = [col(GrantItem.dataset_id) == dataset_id]
    if resource_id is not None:
        item_match.append(
            sa.or_(col(GrantItem.resource_id).is_(None), col(GrantItem.resource_id) == resource_id)
        )
    stmt = (
        select(Grant)
        .join(GrantItem, col(GrantItem.grant_id) == col(Grant.id))
        .where(col(Grant.user_id) == user_id, *_usable_now(moment), *item_match)
        .order_by(col(Grant.valid_to).desc(), col(Grant.created_at).desc())
    )
    candidates: list[Grant] = []
    for grant in session.exec(stmt).all():  # a grant with several matching items comes back once each
        if all(grant.id != seen.id for seen in candidates):
            candidates.append(grant)
    if not candidates:
        return None
    if kind is not None:
        for grant in candidates:
            left = grant.remaining(kind)
            if left is None or left > 0:
                return grant
    return candidates[0]


def granted_dataset_ids(
    session: Session, *, user_id: uuid.UUID | None, now: datetime | None = None
) -> frozenset[uuid.UUID]:
    """Datasets the user holds an active, valid grant on (for auth.policy.Actor)."""
    if user_id is None:
        return frozenset()
    moment = _now(now)
    stmt = (
        select(GrantItem.dataset_id)
        .join(Grant, col(GrantItem.grant_id) == col(Grant.id))
        .where(col(Grant.user_id) == user_id, *_usable_now(moment))
        .distinct()
    )
    return frozenset(session.exec(stmt).all())


# --- changing ---------------------------------------------------------------------------------


def _audit(
    session: Session,
    grant: Grant,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    actor_name: str = "",
    detail: dict[str, object] | None = None,
    at: datetime | None = None,
) -> None:
    audit.record(
        session,
        action=action,
        actor_id=actor_id,
        actor_name=actor_name,
        object_type="grant",
        object_id=str(grant.id),
        outcome="ok",
        detail={"user_id": str(grant.user_id), "state": grant.state, **(detail or {})},
        at=at,
    )


def create_grant(
    session: Session,
    *,
    user_id: uuid.UUID,
    dataset_ids: Iterable[uuid.UUID] = (),
    resources: Iterable[tuple[uuid.UUID, uuid.UUID]] = (),
    source: str,
    valid_from: datetime,
    valid_to: datetime,
    source_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    download_quota: int | None = None,
    query_quota: int | None = None,
    allowed_use: str = "",
    actor_id: uuid.UUID | None = None,
    actor_name: str = "",
) -> Grant:
    """Grant a user whole datasets and/or (dataset_id, resource_id) pairs for a period."""
    source = GrantSource(source).value
    start, end = as_utc(valid_from), as_utc(valid_to)
    assert start is not None and end is not None
    if end <= start:
        raise InvalidGrant("valid_to must be after valid_from / 截止时间须晚于起始时间")
    for name, quota in (("download_quota", download_quota), ("query_quota", query_quota)):
        if quota is not None and quota < 0:
            raise InvalidGrant(f"{name} must not be negative")
    whole = list(dict.fromkeys(dataset_ids))
    parts = [pair for pair in dict.fromkeys(resources) if pair[0] not in whole]
    if not whole and not parts:
        raise InvalidGrant("a grant must cover at least one dataset / 授权须至少包含一个数据集")
    grant = Grant(
        user_id=user_id,
        organization_id=organization_id,
        source=source,
        source_id=source_id,
        valid_from=start,
        valid_to=end,
        download_quota=download_quota,
        query_quota=query_quota,
        allowed_use=allowed_use,
        created_by=actor_id,
    )
    session.add(grant)
    session.flush()
    for dataset_id in whole:
        session.add(GrantItem(grant_id=grant.id, dataset_id=dataset_id))
    for dataset_id, resource_id in parts:
        session.add(GrantItem(grant_id=grant.id, dataset_id=dataset_id, resource_id=resource_id))
    _audit(
        session,
        grant,
        "grant.create",
        actor_id=actor_id,
        actor_name=actor_name,
        detail={
            "source": source,
            "source_id": str(source_id) if source_id else None,
            "dataset_ids": [str(d) for d in whole],
            "resources": [[str(d), str(r)] for d, r in parts],
            "valid_from": start.isoformat(),
            "valid_to": end.isoformat(),
            "download_quota": download_quota,
            "query_quota": query_quota,
        },
    )
    session.flush()
    return grant


def revoke_grant(
    session: Session,
    *,
    grant_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    reason: str,
    actor_name: str = "",
    now: datetime | None = None,
) -> Grant:
    """Revoke a grant for good; it stops opening anything at once. Revoking twice changes nothing."""
    grant = require_grant(session, grant_id)
    if grant.state == GrantState.REVOKED.value:
        return grant
    moment = _now(now)
    previous = grant.state
    grant.state = GrantState.REVOKED.value
    grant.revoked_at = moment
    grant.revoke_reason = reason[:1000]
    session.add(grant)
    _audit(
        session,
        grant,
        "grant.revoke",
        actor_id=actor_id,
        actor_name=actor_name,
        detail={"from_state": previous, "reason": reason},
    )
    session.flush()
    return grant


def suspend_grant(
    session: Session,
    *,
    grant_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    reason: str,
    cause: str = SUSPENDED_MANUALLY,
    actor_name: str = "",
    now: datetime | None = None,
) -> Grant:
    """Suspend an active grant until it is resumed."""
    grant = require_grant(session, grant_id)
    if grant.state != GrantState.ACTIVE.value:
        raise GrantStateConflict(grant_id, grant.state, "suspend")
    grant.state = GrantState.SUSPENDED.value
    grant.suspension_cause = cause
    grant.suspended_at = _now(now)
    session.add(grant)
    _audit(
        session,
        grant,
        "grant.suspend",
        actor_id=actor_id,
        actor_name=actor_name,
        detail={"reason": reason, "cause": cause},
    )
    session.flush()
    return grant


def resume_grant(
    session: Session,
    *,
    grant_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    reason: str = "",
    actor_name: str = "",
) -> Grant:
    """Lift a suspension; the validity period and quotas still apply."""
    grant = require_grant(session, grant_id)
    if grant.state != GrantState.SUSPENDED.value:
        raise GrantStateConflict(grant_id, grant.state, "resume")
    cause = grant.suspension_cause
    grant.state = GrantState.ACTIVE.value
    grant.suspension_cause = None
    grant.suspended_at = None
    session.add(grant)
    _audit(
        session,
        grant,
        "grant.resume",
        actor_id=actor_id,
        actor_name=actor_name,
        detail={"reason": reason, "cause": cause},
    )
    session.flush()
    return grant


def expire_grants(session: Session, *, now: datetime | None = None) -> list[Grant]:
    """Mark active and suspended grants whose period is over as expired (a periodic job)."""
    moment = _now(now)
    stmt = select(Grant).where(
        col(Grant.state).in_([GrantState.ACTIVE.value, GrantState.SUSPENDED.value]),
        col(Grant.valid_to) <= moment,
    )
    expired = list(session.exec(stmt).all())
    for grant in expired:
        grant.state = GrantState.EXPIRED.value
        session.add(grant)
        _audit(session, grant, "grant.expire", actor_id=None, actor_name="system")
    session.flush()
    return expired


def consume(
    session: Session,
    *,
    grant_id: uuid.UUID,
    kind: str = UsageKind.DOWNLOAD.value,
    now: datetime | None = None,
    actor_id: uuid.UUID | None = None,
    actor_name: str = "",
) -> Grant:
    """Spend one unit of download or query quota, atomically; raises why the grant is unusable."""
    usage = UsageKind(kind)
    moment = _now(now)
    table = Grant.__table__  # type: ignore[attr-defined]
    if usage == UsageKind.DOWNLOAD:
        quota_col, used_col = table.c.download_quota, table.c.downloads_used
    else:
        quota_col, used_col = table.c.query_quota, table.c.queries_used
    # The check and the spend are one statement: the database re-checks "used < quota" on the row
    # it updates, so of two concurrent requests for the last unit exactly one matches.
    result = session.execute(
        sa.update(table)
        .where(
            table.c.id == grant_id,
            table.c.state == GrantState.ACTIVE.value,
            table.c.valid_from <= moment,
            table.c.valid_to > moment,
            sa.or_(quota_col.is_(None), used_col < quota_col),
        )
        .values({used_col.name: used_col + 1})
    )
    grant = session.get(Grant, grant_id, populate_existing=True)
    if grant is None:
        raise GrantNotFound(grant_id)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _why_unusable(grant, usage, moment)
    quota, used = grant._quota(usage)
    _audit(
        session,
        grant,
        f"grant.consume.{usage.value}",
        actor_id=actor_id if actor_id is not None else grant.user_id,
        actor_name=actor_name,
        detail={"used": used, "quota": quota},
    )
    return grant


def _why_unusable(grant: Grant, usage: UsageKind, moment: datetime) -> GrantUnusable:
    if grant.state == GrantState.REVOKED.value:
        return GrantRevoked(grant.id, grant.revoke_reason)
    if grant.state == GrantState.SUSPENDED.value:
        return GrantSuspended(grant.id, grant.suspension_cause or "")
    start, end = as_utc(grant.valid_from), as_utc(grant.valid_to)
    assert start is not None and end is not None
    if grant.state == GrantState.EXPIRED.value or moment >= end:
        return GrantExpired(grant.id, f"valid until {end.isoformat()}")
    if moment < start:
        return GrantExpired(grant.id, f"valid from {start.isoformat()}")
    return QuotaExhausted(grant.id, usage.value, grant._quota(usage)[0])


def load_actor(session: Session, *, user: User | None, now: datetime | None = None) -> Actor:
    """The policy's view of a signed-in user: roles, memberships, officer duties and grants."""
    if user is None or user.state != UserState.ACTIVE.value:
        return ANONYMOUS
    memberships = session.exec(select(Membership).where(Membership.user_id == user.id)).all()
    return Actor(
        user_id=user.id,
        is_sysadmin=bool(user.is_sysadmin),
        platform_roles=frozenset(user.platform_roles or ()),
        org_roles=MappingProxyType({m.organization_id: m.role for m in memberships}),
        security_officer_orgs=frozenset(m.organization_id for m in memberships if m.security_officer),
        granted_dataset_ids=granted_dataset_ids(session, user_id=user.id, now=now),
    )
