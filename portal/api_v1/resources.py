"""Resources: upload a file (streamed), list versions, download under the policy."""

from __future__ import annotations

import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, UploadFile
from fastapi.responses import Response

from auth.policy import Action, authorize
from catalog import service
from catalog.errors import FileTooLarge
from catalog.models import Resource, ResourceVersion
from catalog.schemas import ResourcePublic, ResourceVersionPublic
from portal import downloads
from portal.deps import (
    ActorDep,
    CurrentUser,
    OptionalUser,
    SessionDep,
    SettingsDep,
    StorageDep,
    VisibleResource,
)
from portal.transfer import body_chunks

router = APIRouter(tags=["resources"])


@router.get("/resources/{resource_id}")
def read_resource(resource: VisibleResource) -> ResourcePublic:
    """Show one resource."""
    return ResourcePublic.model_validate(resource)


@router.get("/resources/{resource_id}/versions")
def list_versions(resource: VisibleResource, session: SessionDep) -> list[ResourceVersionPublic]:
    """List every uploaded version of a resource's file, newest first."""
    return [ResourceVersionPublic.model_validate(v) for v in service.list_versions(session, resource)]


def _check_upload(
    session: SessionDep, actor: ActorDep, resource: Resource, length: int | None, limit: int
) -> None:
    authorize(actor, Action.DATASET_UPDATE, service.require_dataset(session, resource.dataset_id))
    if length is not None and length > limit:
        raise FileTooLarge(f"file larger than the limit of {limit} bytes / 文件超过大小上限")


@router.put("/resources/{resource_id}/file", status_code=201)
async def put_file(
    request: Request,
    resource: VisibleResource,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    user: CurrentUser,
    actor: ActorDep,
    filename: Annotated[str, Query(min_length=1, max_length=300)],
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[int | None, Header()] = None,
) -> ResourceVersionPublic:
    """Upload the request body as the resource's next version (streamed; any size up to the limit)."""
    limit = settings.portal.max_upload_bytes
    _check_upload(session, actor, resource, content_length, limit)
    media = None if content_type in (None, "application/octet-stream") else content_type

    def store() -> ResourceVersion:
        version = service.upload_resource_file(
            session,
            storage,
            actor_id=user.id,
            resource=resource,
            filename=filename,
            data=body_chunks(request),
            content_type=media,
            max_size=limit,
        )
        downloads.commit_or_remove(session, storage, version)
        return version

    version = await anyio.to_thread.run_sync(store)
    return ResourceVersionPublic.model_validate(version)


@router.post("/resources/{resource_id}/upload", status_code=201)
def upload_file(
    resource: VisibleResource,
    upload: UploadFile,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    user: CurrentUser,
    actor: ActorDep,
) -> ResourceVersionPublic:
    """Upload a file as multipart/form-data (field `upload`) as the resource's next version."""
    limit = settings.portal.max_upload_bytes
    _check_upload(session, actor, resource, upload.size, limit)
    version = service.upload_resource_file(
        session,
        storage,
        actor_id=user.id,
        resource=resource,
        filename=upload.filename or "upload",
        data=upload.file,
        content_type=upload.content_type,
        max_size=limit,
    )
    downloads.commit_or_remove(session, storage, version)
    return ResourceVersionPublic.model_validate(version)


@router.api_route("/resources/{resource_id}/download", methods=["GET", "HEAD"])
def download(
    request: Request,
    resource_id: uuid.UUID,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    actor: ActorDep,
    user: OptionalUser,
    version: int | None = None,
) -> Response:
    """Download a resource's file (latest version unless `version` is given), if the policy allows."""
    return downloads.download(
        request, session, storage, settings, actor=actor, user=user, resource_id=resource_id, version=version
    )
