"""The signed-in user's API tokens, and the token-scope rule of the native API.

A token is shown in the clear once, when it is created; afterwards only its prefix is known.
Scopes nest (read < write < admin): a read-scoped token may call every safe method and the few
POST routes that only read, and nothing else; a token never creates a token broader than itself.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import anyio.to_thread
from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from auth.api_tokens import hash_token, issue_api_token, list_api_tokens, revoke_api_token, scope_allows
from auth.errors import AuthError
from auth.models import ApiToken, TokenScope, as_utc
from auth.policy import AccessDenied
from portal.deps import API_TOKEN_PREFIX, CurrentUser, SessionDep, SettingsDep, bearer_credential
from portal.settings import Settings

router = APIRouter(tags=["tokens"])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST routes that only read: a read-scoped token may call them.
READ_ONLY_POSTS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/api/v1/auth/token$"),
    re.compile(r"^/api/v1/resources/[^/]+/download-link$"),
    re.compile(r"^/api/v1/exchange/certificates/verify$"),
    re.compile(r"^/api/v1/exchange/orders/[^/]+/sandbox$"),
)


# --- the scope a request needs and the one its credential carries --------------------------------


def needed_scope(method: str, path: str) -> str:
    """The token scope a request to the native API needs: read for reads, write otherwise."""
    if method.upper() in SAFE_METHODS:
        return TokenScope.READ.value
    if method.upper() == "POST" and any(p.match(path) for p in READ_ONLY_POSTS):
        return TokenScope.READ.value
    return TokenScope.WRITE.value


def credential_scope(session: Session, settings: Settings, credential: str) -> str | None:
    """The scope a credential carries (None when unknown or invalid: authentication answers that)."""
    if credential.startswith(API_TOKEN_PREFIX):
        return session.exec(
            select(ApiToken.scope).where(ApiToken.token_hash == hash_token(credential))
        ).first()
    from auth.tokens import decode_access_token

    try:
        claims = decode_access_token(settings.auth, credential)
    except AuthError:
        return None
    # Access tokens list their scopes; the broadest one counts (they nest).
    for scope in (TokenScope.ADMIN.value, TokenScope.WRITE.value, TokenScope.READ.value):
        if scope in claims.scopes:
            return scope
    return ""


async def enforce_token_scope(request: Request, session: SessionDep, settings: SettingsDep) -> None:
    """Refuse (403) a request whose bearer token's scope is narrower than the request needs."""
    # async: reads (most requests) return at once without a worker-thread hop.
    needed = needed_scope(request.method, request.url.path)
    if needed == TokenScope.READ.value:
        return
    credential = bearer_credential(request)
    if not credential:
        return  # cookie sessions and anonymous callers carry no scope
    scope = await anyio.to_thread.run_sync(credential_scope, session, settings, credential)
    if scope is not None and not scope_allows(scope, needed):
        raise AccessDenied(
            f"api.{needed}", f"this token's scope is {scope or 'none'} / 令牌范围不足，只读令牌不能写入"
        )


# --- the routes ----------------------------------------------------------------------------------


class ApiTokenCreate(BaseModel):
    """A new token: a name to recognize it by, a scope and an optional expiry."""

    name: str = Field(min_length=1, max_length=100)
    scope: TokenScope = TokenScope.READ
    expires_at: datetime | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiTokenPublic(BaseModel):
    """A token as listed: never the token itself."""

    id: uuid.UUID
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenPublic:
        """The public view of one token."""
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            scope=token.scope,
            created_at=as_utc(token.created_at),  # type: ignore[arg-type]
            expires_at=as_utc(token.expires_at),
            revoked_at=as_utc(token.revoked_at),
            last_used_at=as_utc(token.last_used_at),
        )


class ApiTokenIssued(ApiTokenPublic):
    """A token just created: `token` is shown this once and never again."""

    token: str


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/me/tokens")
def list_my_tokens(
    session: SessionDep, user: CurrentUser, include_revoked: bool = False
) -> list[ApiTokenPublic]:
    """List the caller's API tokens (prefix, scope, expiry, last use), newest first."""
    tokens = list_api_tokens(session, user_id=user.id, include_revoked=include_revoked)
    return [ApiTokenPublic.of(t) for t in tokens]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_my_token(
    data: ApiTokenCreate, request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ApiTokenIssued:
    """Create an API token for the caller; the raw token is in this answer only."""
    credential = bearer_credential(request)
    if credential:
        own = credential_scope(session, settings, credential)
        if own is not None and not scope_allows(own, data.scope.value):
            raise AccessDenied(
                "token.issue", "a token cannot create a token broader than itself / 令牌范围不足"
            )
    expires_at = data.expires_at
    if expires_at is None and data.expires_in_days is not None:
        expires_at = datetime.now(UTC) + timedelta(days=data.expires_in_days)
    token, raw = issue_api_token(
        session,
        user_id=user.id,
        name=data.name,
        scope=data.scope.value,
        expires_at=expires_at,
        client_addr=_client(request),
    )
    session.commit()
    return ApiTokenIssued(**ApiTokenPublic.of(token).model_dump(), token=raw)


@router.delete("/me/tokens/{token_id}")
def revoke_my_token(
    token_id: uuid.UUID, request: Request, session: SessionDep, user: CurrentUser
) -> ApiTokenPublic:
    """Revoke one of the caller's API tokens; it is refused from the next request on."""
    token = revoke_api_token(session, token_id=token_id, user_id=user.id, client_addr=_client(request))
    session.commit()
    return ApiTokenPublic.of(token)
