"""The one download path: policy first, then quota and audit, then the bytes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from auth import audit
from auth.errors import TokenInvalid
from auth.grants import (
    Grant,
    GrantExpired,
    GrantRevoked,
    GrantState,
    GrantSuspended,
    active_grant_for,
    consume,
    load_actor,
    require_grant,
)
from auth.models import User, as_utc
from auth.policy import AccessDenied, Action, Actor, authorize, decide
from catalog import service
from catalog.models import Dataset, ResourceVersion
from portal.settings import Settings
from portal.transfer import serve_version
from storage import Storage


def commit_or_remove(session: Session, storage: Storage, version: ResourceVersion) -> None:
    """Commit an upload's metadata; if that fails, remove the object so that nothing is orphaned."""
    try:
        session.commit()
    except Exception:
        session.rollback()
        storage.delete(version.storage_key)
        raise


def client_addr(request: Request) -> str:
    """The caller's address, for the audit log."""
    return request.client.host if request.client else ""


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _is_first_request(request: Request) -> bool:
    """Resumed transfers (a Range past byte 0) and HEAD do not count against quotas or popularity."""
    if request.method == "HEAD":  # a look at the headers (size, ETag) takes nothing
        return False
    header = request.headers.get("range", "")
    return not header or header.replace(" ", "").startswith("bytes=0-")


def authorize_file_access(
    session: Session,
    request: Request,
    *,
    actor: Actor,
    user: User | None,
    dataset: Dataset,
    action: Action,
    object_id: str,
    count: bool = True,
    grant_id: uuid.UUID | None = None,
) -> None:
    """Decide one file action (download, preview, query), consume grant quota, and audit it.

    `grant_id` (from a signed download link) names the grant to spend; otherwise the caller's
    active grant on the dataset is used.
    """
    authorize(actor, Action.DATASET_VIEW, dataset)
    decision = decide(actor, action, dataset)

    def record(outcome: str, detail: dict[str, str]) -> None:
        audit.record(
            session,
            action=str(action),
            actor_id=actor.user_id,
            actor_name=user.name if user else "",
            object_type="resource",
            object_id=object_id,
            client_addr=client_addr(request),
            outcome=outcome,
            detail={**detail, "dataset": dataset.name},
        )

    if not decision.allowed:
        record("denied", {"reason": decision.reason})
        session.commit()  # the refusal is audited even though the request fails
        authorize(actor, action, dataset)
    detail: dict[str, str] = {}
    kind = "query" if action == Action.RESOURCE_QUERY else "download"
    if (
        count
        and actor.user_id is not None
        and dataset.open_type == "conditional"
        and not actor.is_insider(dataset.owner_org_id)
    ):
        now = datetime.now(UTC)
        if grant_id is None:
            # The policy knows grants by dataset; a grant may cover only some of its resources.
            grant = active_grant_for(
                session,
                user_id=actor.user_id,
                dataset_id=dataset.id,
                now=now,
                resource_id=_as_uuid(object_id),
                kind=kind,
            )
            if grant is None:
                reason = "no grant covers this resource / 授权不包含该资源"
                record("denied", {"reason": reason})
                session.commit()
                raise AccessDenied(str(action), reason)
            grant_id = grant.id
        consume(session, grant_id=grant_id, kind=kind, now=now)
        detail["grant"] = str(grant_id)
    record("allowed", detail)


def _check_link_grant(grant: Grant) -> None:
    """Raise why a link's grant cannot be used now (revoked, suspended, expired)."""
    now = datetime.now(UTC)
    if grant.state == GrantState.REVOKED.value:
        raise GrantRevoked(grant.id, grant.revoke_reason)
    if grant.state == GrantState.SUSPENDED.value:
        raise GrantSuspended(grant.id, grant.suspension_cause or "")
    start, end = as_utc(grant.valid_from), as_utc(grant.valid_to)
    if grant.state != GrantState.ACTIVE.value or start is None or end is None or not start <= now < end:
        raise GrantExpired(grant.id)


def link_caller(
    session: Session, settings: Settings, token: str, *, resource_id: uuid.UUID
) -> tuple[User, Actor, uuid.UUID | None]:
    """The user a signed download link acts for, and its grant, which must still be usable now."""
    from auth.tokens import verify_download_token

    claims = verify_download_token(settings.auth, token, resource_id=resource_id)
    user = session.get(User, claims.user_id)
    if user is None or user.state != "active":
        raise TokenInvalid("the link's account no longer exists or is disabled / 链接所属账号不可用")
    if claims.grant_id is not None:
        _check_link_grant(require_grant(session, claims.grant_id))
    return user, load_actor(session, user=user), claims.grant_id


def download(
    request: Request,
    session: Session,
    storage: Storage,
    settings: Settings,
    *,
    actor: Actor,
    user: User | None,
    resource_id: uuid.UUID,
    version: int | None = None,
) -> Response:
    """Serve one resource file to a caller the policy allows, counted and audited.

    With `?token=` (a signed link from POST /resources/{id}/download-link) the request acts as the
    link's user under the link's grant; policy and grant are checked again now, so a revoked or
    expired grant stops the link at once.
    """
    grant_id = None
    token = request.query_params.get("token")
    if token:
        user, actor, grant_id = link_caller(session, settings, token, resource_id=resource_id)
    resource = service.require_resource(session, resource_id)
    dataset = service.require_dataset(session, resource.dataset_id)
    first = _is_first_request(request)
    authorize_file_access(
        session,
        request,
        actor=actor,
        user=user,
        dataset=dataset,
        action=Action.RESOURCE_DOWNLOAD,
        object_id=str(resource.id),
        count=first,
        grant_id=grant_id,
    )
    found = service.require_version(session, resource, version)
    if first:
        service.count_download(session, dataset)
    session.commit()
    return serve_version(
        request,
        storage,
        found,
        redirect=settings.portal.download_mode == "redirect",
        presign_ttl=settings.storage.presign_ttl_seconds,
    )


def local_table(storage: Storage, settings: Settings, version: ResourceVersion) -> Path:
    """The local Parquet file behind a resource version, for the data API, previews and CKAN's
    datastore: read in place on local storage, else a copy in a cache of bounded size (S3)."""
    from catalog import dataapi

    return dataapi.version_table(
        storage,
        version,
        cache_dir=settings.portal.var_dir / "cache",
        max_cache_bytes=settings.portal.table_cache_bytes,
    )
