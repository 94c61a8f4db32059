"""The one download path: policy first, then quota and audit, then the bytes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from auth.grants import active_grant_for, consume
from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from auth import audit
from auth.models import User
from auth.policy import Action, Actor, authorize, decide
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


def _is_first_request(request: Request) -> bool:
    """Resumed transfers (a Range past byte 0) do not count again against quotas or popularity."""
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
) -> None:
    """Decide one file action (download, preview, query), consume grant quota, and audit it."""
    authorize(actor, Action.DATASET_VIEW, dataset)
    decision = decide(actor, action, dataset)
    actor_name = user.name if user else ""
    if not decision.allowed:
        audit.record(
            session,
            action=str(action),
            actor_id=actor.user_id,
            actor_name=actor_name,
            object_type="resource",
            object_id=object_id,
            client_addr=client_addr(request),
            outcome="denied",
            detail={"reason": decision.reason, "dataset": dataset.name},
        )
        session.commit()
        authorize(actor, action, dataset)
    detail: dict[str, str] = {"dataset": dataset.name}
    if (
        count
        and actor.user_id is not None
        and dataset.open_type == "conditional"
        and not actor.is_insider(dataset.owner_org_id)
    ):
        now = datetime.now(UTC)
        grant = active_grant_for(session, user_id=actor.user_id, dataset_id=dataset.id, now=now)
        if grant is not None:
            kind = "query" if action == Action.RESOURCE_QUERY else "download"
            consume(session, grant_id=grant.id, kind=kind, now=now)
            detail["grant"] = str(grant.id)
    audit.record(
        session,
        action=str(action),
        actor_id=actor.user_id,
        actor_name=actor_name,
        object_type="resource",
        object_id=object_id,
        client_addr=client_addr(request),
        outcome="allowed",
        detail=detail,
    )


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
    """Serve one resource file to a caller the policy allows, counted and audited."""
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
