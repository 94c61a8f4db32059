"""FastAPI dependencies: settings, session, storage, the caller and the datasets it may see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from auth.errors import TokenInvalid
from auth.grants import load_actor
from auth.models import User
from auth.policy import Action, Actor, authorize
from catalog import service
from catalog.models import Dataset, Resource
from portal.errors import NotAuthenticated
from portal.settings import Settings
from storage import Storage

API_TOKEN_PREFIX = "dl_"


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in a worker
# thread, and each such hop costs ~70 µs of CPU on every request.


async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    return request.app.state.engine  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the route commits."""
    # Opening a Session does no I/O (the connection is checked out on first use). Closing returns
    # the connection (a rollback), so it runs in a worker thread, shielded and with its own limiter
    # as FastAPI does for the exit of a plain generator dependency.
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


async def get_storage(request: Request) -> Storage:
    """The app's object storage."""
    return request.app.state.storage  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
StorageDep = Annotated[Storage, Depends(get_storage)]


def bearer_credential(request: Request) -> str | None:
    """The token the caller presents: `Authorization: Bearer T`, a raw CKAN key, or X-CKAN-API-Key."""
    header = request.headers.get("authorization", "").strip()
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value else header
    key = request.headers.get("x-ckan-api-key", "").strip()
    return key or None


def user_from_credential(session: Session, settings: Settings, credential: str) -> User:
    """The user an API token or an access token belongs to (TokenInvalid/Expired/Revoked otherwise)."""
    if credential.startswith(API_TOKEN_PREFIX):
        from auth.api_tokens import authenticate_api_token

        user, _token = authenticate_api_token(session, credential)
        return user
    from auth.tokens import decode_access_token

    claims = decode_access_token(settings.auth, credential)
    user = session.get(User, claims.user_id)
    if user is None or user.state != "active":
        raise TokenInvalid("the token's account no longer exists or is disabled / 令牌所属账号不可用")
    return user


def optional_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user, or None for an anonymous caller; a bad token is a 401, not anonymity."""
    cached = getattr(request.state, "user", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    credential = bearer_credential(request)
    user = None
    if credential:
        try:
            user = user_from_credential(session, settings, credential)
        except Exception:
            session.commit()  # keep the audit record of a revoked token's use
            raise
    elif (cookie_user := getattr(request.state, "cookie_user_id", None)) is not None:
        user = session.get(User, cookie_user)
        if user is not None and user.state != "active":
            user = None  # a disabled account's session ends at once
    request.state.user = user
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; 401 for anonymous callers."""
    if user is None:
        raise NotAuthenticated("sign in or send an API token / 请先登录或提供 API 令牌")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def current_actor(session: SessionDep, user: OptionalUser) -> Actor:
    """What the policy needs to know of the caller."""
    return load_actor(session, user=user)


ActorDep = Annotated[Actor, Depends(current_actor)]


def visible_dataset(name: str, session: SessionDep, actor: ActorDep) -> Dataset:
    """The dataset named in the path, if the caller may see it (404 otherwise)."""
    dataset = service.require_dataset(session, name)
    authorize(actor, Action.DATASET_VIEW, dataset)
    return dataset


VisibleDataset = Annotated[Dataset, Depends(visible_dataset)]


def visible_resource(resource_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> Resource:
    """The resource named in the path, if the caller may see its dataset."""
    resource = service.require_resource(session, resource_id)
    authorize(actor, Action.DATASET_VIEW, service.require_dataset(session, resource.dataset_id))
    return resource


VisibleResource = Annotated[Resource, Depends(visible_resource)]
