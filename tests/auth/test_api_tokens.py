"""API tokens: issued once, stored hashed, revocable, expiring (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from auth import audit
from auth.api_tokens import (
    authenticate_api_token,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
    scope_allows,
)
from auth.errors import (
    AccountDisabled,
    ApiTokenNotFound,
    InvalidRole,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from auth.models import ApiToken
from auth.users import set_user_state
from tests.auth.conftest import make_user


def test_issue_and_authenticate(session: Session) -> None:
    user = make_user(session)
    token, raw = issue_api_token(session, user_id=user.id, name="ETL 脚本", scope="read")
    session.commit()
    assert raw.startswith("dl_")
    assert len(raw) >= 3 + 43  # 32 random bytes, base64url
    assert raw.startswith(token.prefix)
    got_user, got_token = authenticate_api_token(session, raw)
    assert (got_user.id, got_token.id, got_token.scope) == (user.id, token.id, "read")
    assert got_token.last_used_at is not None
    assert [t.id for t in list_api_tokens(session, user_id=user.id)] == [token.id]
    issued = audit.query(session, action="token.issue")
    assert issued[0].object_id == str(token.id)
    assert raw not in str(issued[0].detail)


def test_only_the_hash_is_stored(session: Session) -> None:
    user = make_user(session)
    token, raw = issue_api_token(session, user_id=user.id, name="ci")
    session.commit()
    row = session.connection().execute(sa.text("select * from api_token")).mappings().one()
    assert raw not in {str(v) for v in row.values()}
    assert all(raw not in str(v) for v in row.values())
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10]


def test_each_token_is_random(session: Session) -> None:
    user = make_user(session)
    raws = {issue_api_token(session, user_id=user.id, name=f"t{i}")[1] for i in range(5)}
    assert len(raws) == 5


@pytest.mark.parametrize("raw", ["", "dl_", "dl_not-a-real-token-at-all-xxxxxxxx", "Bearer abc", "x" * 50])
def test_unknown_token_is_invalid(session: Session, raw: str) -> None:
    make_user(session)
    with pytest.raises(TokenInvalid):
        authenticate_api_token(session, raw)


def test_revoked_token_is_refused_and_audited(session: Session) -> None:
    user = make_user(session)
    token, raw = issue_api_token(session, user_id=user.id, name="laptop")
    session.commit()
    authenticate_api_token(session, raw)
    revoke_api_token(session, token_id=token.id, user_id=user.id)
    session.commit()
    with pytest.raises(TokenRevoked):
        authenticate_api_token(session, raw, client_addr="203.0.113.9")
    session.commit()
    used = audit.query(session, action="token.revoked_use")
    assert len(used) == 1
    assert (used[0].actor_id, used[0].outcome, used[0].client_addr) == (user.id, "denied", "203.0.113.9")
    assert audit.query(session, action="token.revoke")[0].object_id == str(token.id)
    assert list_api_tokens(session, user_id=user.id) == []
    assert [t.id for t in list_api_tokens(session, user_id=user.id, include_revoked=True)] == [token.id]


def test_only_the_owner_can_revoke(session: Session) -> None:
    owner = make_user(session, name="owner")
    other = make_user(session, name="other")
    token, raw = issue_api_token(session, user_id=owner.id, name="mine")
    with pytest.raises(ApiTokenNotFound):
        revoke_api_token(session, token_id=token.id, user_id=other.id)
    with pytest.raises(ApiTokenNotFound):
        revoke_api_token(session, token_id=uuid.uuid4(), user_id=owner.id)
    assert authenticate_api_token(session, raw)[0].id == owner.id


def test_expired_token_is_refused(session: Session) -> None:
    user = make_user(session)
    expires = datetime.now(UTC) + timedelta(days=30)
    _token, raw = issue_api_token(session, user_id=user.id, name="temp", expires_at=expires)
    session.commit()
    session.expire_all()
    assert authenticate_api_token(session, raw, now=expires - timedelta(seconds=1))
    with pytest.raises(TokenExpired):
        authenticate_api_token(session, raw, now=expires + timedelta(seconds=1))


def test_disabled_owner_cannot_use_token(session: Session) -> None:
    user = make_user(session)
    _token, raw = issue_api_token(session, user_id=user.id, name="t")
    set_user_state(session, user_id=user.id, state="disabled")
    with pytest.raises(AccountDisabled):
        authenticate_api_token(session, raw)


def test_scopes(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(InvalidRole):
        issue_api_token(session, user_id=user.id, name="t", scope="root")
    assert scope_allows("admin", "write") and scope_allows("write", "read") and scope_allows("read", "read")
    assert not scope_allows("read", "write") and not scope_allows("write", "admin")
    assert not scope_allows("bogus", "read")
    assert session.get(ApiToken, uuid.uuid4()) is None
