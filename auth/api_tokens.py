"""Long-lived API tokens: issued once in the clear, stored as SHA-256, revocable by their owner."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from auth import audit
from auth.errors import (
    AccountDisabled,
    ApiTokenNotFound,
    InvalidRole,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    UserNotFound,
)
from auth.models import ApiToken, AuditOutcome, TokenScope, User, UserState, as_utc, utcnow

TOKEN_PREFIX = "dl_"
DISPLAY_PREFIX_LENGTH = 10
# last_used_at is refreshed at most this often, so a busy client does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_SCOPE_ORDER = {TokenScope.READ.value: 0, TokenScope.WRITE.value: 1, TokenScope.ADMIN.value: 2}


def hash_token(raw: str) -> str:
    """The SHA-256 hex digest under which a raw token is stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def scope_allows(scope: str, needed: str) -> bool:
    """True when a token of this scope may do what needs the given scope (read < write < admin)."""
    return _SCOPE_ORDER.get(scope, -1) >= _SCOPE_ORDER.get(needed, 99)


def issue_api_token(
    session: Session,
    *,
    user_id: uuid.UUID,
    name: str,
    scope: str = TokenScope.WRITE.value,
    expires_at: datetime | None = None,
    client_addr: str = "",
) -> tuple[ApiToken, str]:
    """Create a token for a user; the raw token is returned here once and never stored."""
    try:
        scope = TokenScope(scope).value
    except ValueError as exc:
        raise InvalidRole("令牌范围 token scope", scope) from exc
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=name.strip()[:100] or "token",
        token_hash=hash_token(raw),
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
        scope=scope,
        expires_at=as_utc(expires_at),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        action="token.issue",
        actor_id=user.id,
        actor_name=user.name,
        object_type="api_token",
        object_id=str(token.id),
        client_addr=client_addr,
        detail={
            "name": token.name,
            "prefix": token.prefix,
            "scope": scope,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, raw


def list_api_tokens(session: Session, *, user_id: uuid.UUID, include_revoked: bool = False) -> list[ApiToken]:
    """A user's tokens, newest first (revoked ones only when asked)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id)
    if not include_revoked:
        stmt = stmt.where(col(ApiToken.revoked_at).is_(None))
    return list(session.exec(stmt.order_by(col(ApiToken.created_at).desc())).all())


def revoke_api_token(
    session: Session, *, token_id: uuid.UUID, user_id: uuid.UUID, client_addr: str = ""
) -> ApiToken:
    """Revoke one of the user's own tokens; it is refused from the next request on."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        # Another user's token is reported as missing, so ids cannot be probed.
        raise ApiTokenNotFound(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
        audit.record(
            session,
            action="token.revoke",
            actor_id=user_id,
            object_type="api_token",
            object_id=str(token.id),
            client_addr=client_addr,
            detail={"prefix": token.prefix, "name": token.name},
        )
    return token


def authenticate_api_token(
    session: Session, raw: str, *, now: datetime | None = None, client_addr: str = ""
) -> tuple[User, ApiToken]:
    """The user and token behind a raw API token (TokenInvalid, TokenRevoked, TokenExpired)."""
    now = as_utc(now) or utcnow()
    raw = (raw or "").strip()
    if not raw.startswith(TOKEN_PREFIX) or len(raw) < 20:
        raise TokenInvalid("not a dataledger API token")
    # Token and owner in one statement: this runs on every API request.
    found = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(ApiToken.token_hash == hash_token(raw))
    ).first()
    if found is None:
        raise TokenInvalid("unknown API token")
    token, user = found
    if token.revoked_at is not None:
        audit.record(
            session,
            action=audit.REVOKED_TOKEN_USE,
            actor_id=user.id,
            actor_name=user.name,
            object_type="api_token",
            object_id=str(token.id),
            client_addr=client_addr,
            outcome=AuditOutcome.DENIED.value,
            detail={"prefix": token.prefix, "revoked_at": str(as_utc(token.revoked_at))},
            at=now,
        )
        raise TokenRevoked(token.prefix)
    expires_at = as_utc(token.expires_at)
    if expires_at is not None and expires_at <= now:
        raise TokenExpired(f"API token {token.prefix} expired at {expires_at.isoformat()}")
    if user.state != UserState.ACTIVE.value:
        raise AccountDisabled()
    last_used = as_utc(token.last_used_at)
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
        session.flush()
    return user, token
