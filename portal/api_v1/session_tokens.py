"""Sign-in for API clients: a password exchanged for a short-lived access token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from auth.tokens import create_access_token
from auth.users import authenticate
from portal.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(tags=["auth"])


class AccessToken(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    """The signed-in user."""

    id: str
    name: str
    email: str
    fullname: str
    is_sysadmin: bool
    platform_roles: list[str]


@router.post("/auth/token")
def issue_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> AccessToken:
    """Exchange a user name (or email) and password for an access token."""
    client = request.client.host if request.client else ""
    try:
        user = authenticate(session, settings.auth, login=username, password=password, client_addr=client)
    finally:
        session.commit()  # failed-login counters and audit records are kept either way
    token = create_access_token(settings.auth, user_id=user.id)
    return AccessToken(access_token=token, expires_in=settings.auth.access_token_ttl_seconds)


@router.get("/me")
def read_me(user: CurrentUser) -> Me:
    """Show the signed-in user."""
    return Me(
        id=str(user.id),
        name=user.name,
        email=user.email,
        fullname=user.fullname,
        is_sysadmin=user.is_sysadmin,
        platform_roles=list(user.platform_roles or []),
    )
