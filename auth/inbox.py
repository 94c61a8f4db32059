"""The in-portal inbox (站内信): notifications about applications, reports and grants."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from auth.errors import AuthError
from auth.models import as_utc, utcnow


class NotificationNotFound(AuthError):
    """No such notification in this user's inbox."""

    def __init__(self, notification_id: object) -> None:
        super().__init__(f"消息不存在 / notification not found: {notification_id}")
        self.notification_id = notification_id


class Notification(SQLModel, table=True):
    """One message to one user."""

    __tablename__ = "notification"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=50, index=True)  # e.g. application.approved, report.due
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    link: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), index=True)
    read_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

    @property
    def is_read(self) -> bool:
        """True once the user has opened it."""
        return self.read_at is not None


def notify(
    session: Session,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    now: datetime | None = None,
) -> Notification:
    """Put one message in a user's inbox."""
    note = Notification(
        user_id=user_id,
        kind=kind[:50],
        title=title[:200],
        body=body,
        link=link[:500],
        created_at=as_utc(now) or utcnow(),
    )
    session.add(note)
    session.flush()
    return note


def inbox(
    session: Session, *, user_id: uuid.UUID, unread_only: bool = False, limit: int | None = None
) -> list[Notification]:
    """A user's messages, newest first."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    stmt = stmt.order_by(col(Notification.created_at).desc(), col(Notification.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def unread_count(session: Session, *, user_id: uuid.UUID) -> int:
    """How many messages the user has not opened."""
    stmt = (
        select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    )
    return int(session.exec(stmt).one())


def mark_read(
    session: Session,
    *,
    user_id: uuid.UUID,
    notification_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> int:
    """Mark one message (or, without an id, all of them) read; returns how many changed."""
    stamp = as_utc(now) or utcnow()
    if notification_id is not None:
        note = session.get(Notification, notification_id)
        if note is None or note.user_id != user_id:
            raise NotificationNotFound(notification_id)
        if note.read_at is not None:
            return 0
        note.read_at = stamp
        session.add(note)
        session.flush()
        return 1
    unread = inbox(session, user_id=user_id, unread_only=True)
    for note in unread:
        note.read_at = stamp
        session.add(note)
    session.flush()
    return len(unread)
