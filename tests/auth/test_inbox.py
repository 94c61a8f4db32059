"""The inbox: notify, list newest first, unread filter, mark read, privacy between users."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from auth.inbox import NotificationNotFound, inbox, mark_read, notify, unread_count
from auth.models import User

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def make_user(session: Session, *, name: str = "zhangsan", platform_roles: list[str] | None = None) -> User:
    """A user row without a password: Argon2 hashing would dominate these tests' run time."""
    user = User(name=name, email=f"{name}@example.gov.cn", platform_roles=list(platform_roles or []))
    session.add(user)
    session.flush()
    return user


def test_notify_list_and_mark_read(session: Session) -> None:
    alice = make_user(session, name="alice")
    bob = make_user(session, name="bob")
    first = notify(
        session,
        user_id=alice.id,
        kind="application.checked",
        title="申请已通过形式审查",
        body="您的申请已进入审核。",
        link="/applications/1",
        now=T0,
    )
    second = notify(
        session,
        user_id=alice.id,
        kind="report.due",
        title="利用情况报告即将到期",
        body="请于 5 月 10 日前提交。",
        now=T0 + timedelta(hours=1),
    )
    notify(session, user_id=bob.id, kind="report.due", title="bob's", body="", now=T0)

    assert [n.id for n in inbox(session, user_id=alice.id)] == [second.id, first.id]
    assert inbox(session, user_id=alice.id)[1].title == "申请已通过形式审查"
    assert unread_count(session, user_id=alice.id) == 2

    assert mark_read(session, user_id=alice.id, notification_id=first.id, now=T0) == 1
    assert mark_read(session, user_id=alice.id, notification_id=first.id) == 0  # already read
    assert [n.id for n in inbox(session, user_id=alice.id, unread_only=True)] == [second.id]
    assert inbox(session, user_id=alice.id)[1].is_read

    assert mark_read(session, user_id=alice.id) == 1
    assert unread_count(session, user_id=alice.id) == 0
    assert unread_count(session, user_id=bob.id) == 1


def test_cannot_mark_someone_elses_message(session: Session) -> None:
    alice = make_user(session, name="alice")
    bob = make_user(session, name="bob")
    note = notify(session, user_id=bob.id, kind="x", title="t", body="b")
    with pytest.raises(NotificationNotFound):
        mark_read(session, user_id=alice.id, notification_id=note.id)
    with pytest.raises(NotificationNotFound):
        mark_read(session, user_id=alice.id, notification_id=uuid.uuid4())
    assert unread_count(session, user_id=bob.id) == 1
