"""Grants: quotas, revocation, expiry, suspension, and the last unit under concurrency."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from auth.grants import (
    Grant,
    GrantExpired,
    GrantNotFound,
    GrantRevoked,
    GrantState,
    GrantStateConflict,
    GrantSuspended,
    InvalidGrant,
    QuotaExhausted,
    active_grant_for,
    consume,
    create_grant,
    expire_grants,
    grant_items,
    granted_dataset_ids,
    require_grant,
    resume_grant,
    revoke_grant,
    suspend_grant,
)
from auth.models import AuditEvent, User
from auth.policy import Action, Actor, decide

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DATASET = uuid.uuid4()


def make_user(session: Session, *, name: str = "zhangsan", platform_roles: list[str] | None = None) -> User:
    """A user row without a password: Argon2 hashing would dominate these tests' run time."""
    user = User(name=name, email=f"{name}@example.gov.cn", platform_roles=list(platform_roles or []))
    session.add(user)
    session.flush()
    return user


def _grant(session: Session, user: User, **kw: object) -> Grant:
    terms: dict[str, object] = {
        "user_id": user.id,
        "dataset_ids": [DATASET],
        "source": "application",
        "valid_from": NOW - timedelta(days=1),
        "valid_to": NOW + timedelta(days=30),
        "allowed_use": "交通规划研究",
    }
    terms.update(kw)
    return create_grant(session, **terms)  # type: ignore[arg-type]


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def test_download_quota_is_spent_to_zero_and_no_further(session: Session) -> None:
    user = make_user(session)
    grant = _grant(session, user, download_quota=2)
    assert consume(session, grant_id=grant.id, now=NOW).downloads_used == 1
    assert consume(session, grant_id=grant.id, now=NOW).remaining("download") == 0
    with pytest.raises(QuotaExhausted) as exc:
        consume(session, grant_id=grant.id, now=NOW)
    assert exc.value.quota == 2 and exc.value.kind == "download"
    # queries have their own quota; None means unlimited
    for _ in range(5):
        consume(session, grant_id=grant.id, kind="query", now=NOW)
    assert require_grant(session, grant.id).queries_used == 5
    assert require_grant(session, grant.id).downloads_used == 2
    assert _actions(session).count("grant.consume.download") == 2


def test_zero_query_quota_allows_no_query(session: Session) -> None:
    grant = _grant(session, make_user(session), query_quota=0)
    with pytest.raises(QuotaExhausted):
        consume(session, grant_id=grant.id, kind="query", now=NOW)


def test_revocation_stops_access_at_once(session: Session) -> None:
    user = make_user(session)
    grant = _grant(session, user)
    assert active_grant_for(session, user_id=user.id, dataset_id=DATASET, now=NOW) == grant
    assert granted_dataset_ids(session, user_id=user.id, now=NOW) == {DATASET}
    revoke_grant(session, grant_id=grant.id, actor_id=None, reason="违反使用承诺")
    assert active_grant_for(session, user_id=user.id, dataset_id=DATASET, now=NOW) is None
    assert granted_dataset_ids(session, user_id=user.id, now=NOW) == frozenset()
    with pytest.raises(GrantRevoked) as exc:
        consume(session, grant_id=grant.id, now=NOW)
    assert "违反使用承诺" in str(exc.value)
    again = revoke_grant(session, grant_id=grant.id, actor_id=None, reason="twice")
    assert again.revoke_reason == "违反使用承诺"
    assert _actions(session)[-2:] == ["grant.create", "grant.revoke"]  # the second revoke: no-op


def test_policy_follows_the_grants_the_database_holds(session: Session) -> None:
    """The Actor built from granted_dataset_ids gets files of a conditional dataset, then loses them."""

    class Entry:
        id = DATASET
        owner_org_id = uuid.uuid4()
        status = "published"
        open_type = "conditional"
        grade = "general_3"
        grade_confirmed = True

    user = make_user(session)
    grant = _grant(session, user)

    def actor() -> Actor:
        return Actor(
            user_id=user.id, granted_dataset_ids=granted_dataset_ids(session, user_id=user.id, now=NOW)
        )

    assert decide(actor(), Action.RESOURCE_DOWNLOAD, Entry()).allowed
    suspend_grant(session, grant_id=grant.id, actor_id=None, reason="检查")
    assert not decide(actor(), Action.RESOURCE_DOWNLOAD, Entry()).allowed


def test_expiry_and_not_yet_valid(session: Session) -> None:
    user = make_user(session)
    grant = _grant(session, user, valid_from=NOW + timedelta(days=1), valid_to=NOW + timedelta(days=2))
    with pytest.raises(GrantExpired, match="valid from"):
        consume(session, grant_id=grant.id, now=NOW)
    assert consume(session, grant_id=grant.id, now=NOW + timedelta(days=1, hours=1)).downloads_used == 1
    later = NOW + timedelta(days=2)
    with pytest.raises(GrantExpired, match="valid until"):
        consume(session, grant_id=grant.id, now=later)
    assert active_grant_for(session, user_id=user.id, dataset_id=DATASET, now=later) is None
    assert expire_grants(session, now=NOW) == []
    assert [g.id for g in expire_grants(session, now=later)] == [grant.id]
    assert require_grant(session, grant.id).state == GrantState.EXPIRED
    assert "grant.expire" in _actions(session)


def test_times_in_other_zones_are_stored_as_utc(session: Session) -> None:
    shanghai = datetime(2026, 3, 2, 17, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    )
    user = make_user(session)
    grant = _grant(session, user, valid_from=shanghai, valid_to=shanghai + timedelta(hours=1))
    session.expire_all()
    fresh = require_grant(session, grant.id)
    assert consume(session, grant_id=fresh.id, now=datetime(2026, 3, 2, 17, 30, tzinfo=UTC))
    with pytest.raises(GrantExpired):
        consume(session, grant_id=fresh.id, now=datetime(2026, 3, 2, 16, 59, tzinfo=UTC))


def test_suspension_and_resume(session: Session) -> None:
    user = make_user(session)
    grant = _grant(session, user)
    suspend_grant(session, grant_id=grant.id, actor_id=None, reason="待核查")
    with pytest.raises(GrantSuspended):
        consume(session, grant_id=grant.id, now=NOW)
    assert active_grant_for(session, user_id=user.id, dataset_id=DATASET, now=NOW) is None
    with pytest.raises(GrantStateConflict):
        suspend_grant(session, grant_id=grant.id, actor_id=None, reason="again")
    resume_grant(session, grant_id=grant.id, actor_id=None)
    assert consume(session, grant_id=grant.id, now=NOW).downloads_used == 1
    with pytest.raises(GrantStateConflict):
        resume_grant(session, grant_id=grant.id, actor_id=None)
    revoke_grant(session, grant_id=grant.id, actor_id=None, reason="end")
    with pytest.raises(GrantStateConflict):
        suspend_grant(session, grant_id=grant.id, actor_id=None, reason="too late")
    assert {"grant.suspend", "grant.resume", "grant.revoke"} <= set(_actions(session))


def test_resource_level_items(session: Session) -> None:
    user = make_user(session)
    other_dataset, resource, other_resource = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    grant = _grant(session, user, resources=[(other_dataset, resource)])
    assert len(grant_items(session, grant.id)) == 2
    found = active_grant_for(
        session, user_id=user.id, dataset_id=other_dataset, resource_id=resource, now=NOW
    )
    assert found is not None and found.id == grant.id
    assert (
        active_grant_for(
            session, user_id=user.id, dataset_id=other_dataset, resource_id=other_resource, now=NOW
        )
        is None
    )
    # a whole-dataset item covers every resource of it
    assert active_grant_for(session, user_id=user.id, dataset_id=DATASET, resource_id=resource, now=NOW)


def test_prefers_a_grant_with_quota_left(session: Session) -> None:
    user = make_user(session)
    spent = _grant(session, user, download_quota=1, valid_to=NOW + timedelta(days=60))
    consume(session, grant_id=spent.id, now=NOW)
    fresh = _grant(session, user, download_quota=5)
    chosen = active_grant_for(session, user_id=user.id, dataset_id=DATASET, now=NOW, kind="download")
    assert chosen is not None and chosen.id == fresh.id


def test_invalid_terms(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(InvalidGrant):
        _grant(session, user, valid_to=NOW - timedelta(days=2))
    with pytest.raises(InvalidGrant):
        _grant(session, user, dataset_ids=[])
    with pytest.raises(InvalidGrant):
        _grant(session, user, download_quota=-1)
    with pytest.raises(ValueError):
        _grant(session, user, source="gift")
    with pytest.raises(GrantNotFound):
        consume(session, grant_id=uuid.uuid4(), now=NOW)


def _setup_last_unit(engine: Engine) -> uuid.UUID:
    with Session(engine, expire_on_commit=False) as s:
        user = make_user(s, name="racer")
        grant = _grant(s, user, download_quota=1)
        s.commit()
        return grant.id


def test_two_sessions_cannot_both_take_the_last_unit(engine: Engine) -> None:
    """Both sessions saw one unit left; only the first spend succeeds."""
    grant_id = _setup_last_unit(engine)
    with Session(engine) as first, Session(engine) as second:
        assert first.get(Grant, grant_id).downloads_used == 0  # type: ignore[union-attr]
        assert second.get(Grant, grant_id).downloads_used == 0  # type: ignore[union-attr]
        consume(first, grant_id=grant_id, now=NOW)
        first.commit()
        with pytest.raises(QuotaExhausted):
            consume(second, grant_id=grant_id, now=NOW)
        second.rollback()
    with Session(engine) as check:
        assert check.get(Grant, grant_id).downloads_used == 1  # type: ignore[union-attr]


def test_concurrent_threads_race_for_the_last_unit(engine: Engine) -> None:
    grant_id = _setup_last_unit(engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def download() -> None:
        with Session(engine) as s:
            s.get(Grant, grant_id)
            barrier.wait()
            try:
                consume(s, grant_id=grant_id, now=NOW)
                s.commit()
                result = "ok"
            except QuotaExhausted:
                s.rollback()
                result = "exhausted"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=download) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["exhausted", "ok"]
    with Session(engine) as check:
        assert check.get(Grant, grant_id).downloads_used == 1  # type: ignore[union-attr]
