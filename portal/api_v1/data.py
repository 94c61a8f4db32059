"""The data API: query and preview a resource's rows, and sign download links, under the policy."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from auth import audit
from auth.policy import Action, authorize
from catalog import dataapi, service
from catalog.dataapi import DataQuery, DataResult, InvalidQuery
from catalog.models import Dataset, Resource
from portal import downloads
from portal.deps import ActorDep, CurrentUser, OptionalUser, SessionDep, SettingsDep, StorageDep
from portal.errors import error_body
from portal.settings import Settings
from storage import Storage, content_disposition

router = APIRouter(tags=["data"])

_BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {"description": "Unknown field, malformed filter, sort or cursor / 查询参数错误"}
}


class DownloadLink(BaseModel):
    """A signed, short-lived download link bound to one user, one resource and (if needed) one grant."""

    url: str
    expires_at: datetime


def _bad_request(exc: InvalidQuery) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=400)


def table_for(
    session: Session, storage: Storage, settings: Settings, resource: Resource, version: int | None = None
) -> Path:
    """The local Parquet file behind a resource version (latest by default), for every data surface."""
    return downloads.local_table(storage, settings, service.require_version(session, resource, version))


def _load(session: Session, resource_id: uuid.UUID) -> tuple[Resource, Dataset]:
    resource = service.require_resource(session, resource_id)
    return resource, service.require_dataset(session, resource.dataset_id)


def parse_filters(raw: str | None) -> dict[str, Any]:
    """The `filters` query parameter: a JSON object, e.g. {"区县": "西湖区", "year__gte": 2020}."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidQuery(f"filters is not valid JSON: {exc} / 筛选条件不是合法 JSON") from exc
    if not isinstance(value, dict):
        raise InvalidQuery("filters must be a JSON object / 筛选条件须为 JSON 对象")
    return value


def build_query(**params: Any) -> DataQuery:
    """A DataQuery from request parameters; a parameter out of range is an InvalidQuery (400)."""
    try:
        return DataQuery(**params)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidQuery(detail) from exc


@router.get(
    "/resources/{resource_id}/data",
    response_model=DataResult,
    responses={**_BAD_REQUEST, 200: {"content": {"text/csv": {}}}},
)
def query_data(
    request: Request,
    resource_id: uuid.UUID,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    actor: ActorDep,
    user: OptionalUser,
    filters: Annotated[
        str | None,
        Query(description='JSON object: {"field": value | [values], "field__gte": value, ...}'),
    ] = None,
    q: Annotated[str | None, Query(description="Case-insensitive text search over text columns.")] = None,
    fields: Annotated[
        list[str] | None, Query(description="Fields to return (comma-separated or repeated).")
    ] = None,
    sort: Annotated[
        list[str] | None, Query(description='"field asc|desc", comma-separated or repeated.')
    ] = None,
    limit: Annotated[
        int, Query(description=f"Rows per page, 0..{dataapi.MAX_LIMIT}.")
    ] = dataapi.DEFAULT_LIMIT,
    offset: Annotated[int, Query(description="Rows to skip (or use cursor).")] = 0,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    include_total: Annotated[bool, Query(description="Count all matching rows.")] = False,
    format: Annotated[str, Query(description="json or csv.")] = "json",
    version: Annotated[int | None, Query(description="Version number; latest by default.")] = None,
) -> Response | DataResult:
    """Query a resource's rows (filters, q, fields, sort, paging), as JSON or streamed CSV.

    Counts against the query quota of the caller's grant for 有条件开放 data; 不予开放 data is never
    served outside its organization. Bad input is a 400 with {"error", "detail"}.
    """
    try:
        if format not in ("json", "csv"):
            raise InvalidQuery("format must be json or csv")
        query = build_query(
            filters=parse_filters(filters),
            q=q or None,
            fields=[p for item in fields for p in dataapi.split_list(item)] if fields else None,
            sort=sort or [],
            limit=limit,
            offset=offset,
            cursor=cursor or None,
            include_total=include_total,
        )
        resource, dataset = _load(session, resource_id)
        downloads.authorize_file_access(
            session,
            request,
            actor=actor,
            user=user,
            dataset=dataset,
            action=Action.RESOURCE_QUERY,
            object_id=str(resource.id),
        )
        path = table_for(session, storage, settings, resource, version)
        if format == "csv":
            total = dataapi.total_rows(path, query) if include_total else None
            rows = dataapi.stream_csv(path, query)
            session.commit()  # quota and audit land only once the query is known to run
            headers = {"Content-Disposition": content_disposition(f"{resource.name}.csv", inline=True)}
            if total is not None:
                headers["X-Total-Count"] = str(total)
            return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)
        result = dataapi.run_query(path, query)
    except InvalidQuery as exc:
        session.rollback()  # a refused query spends no quota
        return _bad_request(exc)
    session.commit()
    return result


@router.get("/resources/{resource_id}/preview", response_model=DataResult, responses=_BAD_REQUEST)
def preview_data(
    request: Request,
    resource_id: uuid.UUID,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    actor: ActorDep,
    user: OptionalUser,
    rows: Annotated[int, Query(description=f"Rows to show, 0..{dataapi.MAX_PREVIEW_ROWS}.")] = 20,
    version: Annotated[int | None, Query(description="Version number; latest by default.")] = None,
) -> Response | DataResult:
    """The first rows of a resource's table with its column types (audited; spends no quota)."""
    try:
        if not 0 <= rows <= dataapi.MAX_PREVIEW_ROWS:
            raise InvalidQuery(f"rows must be between 0 and {dataapi.MAX_PREVIEW_ROWS}")
        resource, dataset = _load(session, resource_id)
        downloads.authorize_file_access(
            session,
            request,
            actor=actor,
            user=user,
            dataset=dataset,
            action=Action.RESOURCE_PREVIEW,
            object_id=str(resource.id),
            count=False,  # a glimpse of the rows is not a download; the policy still decides
        )
        path = table_for(session, storage, settings, resource, version)
        result = dataapi.preview(path, rows)
    except InvalidQuery as exc:
        session.rollback()
        return _bad_request(exc)
    session.commit()
    return result


@router.post("/resources/{resource_id}/download-link", status_code=201)
def create_download_link(
    request: Request,
    resource_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    actor: ActorDep,
    user: CurrentUser,
) -> DownloadLink:
    """Sign a short-lived download URL for the caller (bound to their grant for 有条件开放 data)."""
    from auth.grants import active_grant_for
    from auth.policy import AccessDenied
    from auth.tokens import issue_download_token

    del storage  # the link is served by the download route, from whatever storage is configured
    resource, dataset = _load(session, resource_id)
    authorize(actor, Action.DATASET_VIEW, dataset)
    authorize(actor, Action.RESOURCE_DOWNLOAD, dataset)
    grant_id = None
    now = datetime.now(UTC)
    if dataset.open_type == "conditional" and not actor.is_insider(dataset.owner_org_id):
        grant = active_grant_for(
            session, user_id=user.id, dataset_id=dataset.id, resource_id=resource.id, now=now, kind="download"
        )
        if grant is None:
            raise AccessDenied(
                str(Action.RESOURCE_DOWNLOAD), "no active grant covers this resource / 无有效授权"
            )
        grant_id = grant.id
    ttl = timedelta(seconds=settings.auth.download_token_ttl_seconds)
    token = issue_download_token(
        settings.auth, user_id=user.id, resource_id=resource.id, grant_id=grant_id, ttl=ttl, now=now
    )
    audit.record(
        session,
        action="resource.download_link",
        actor_id=user.id,
        actor_name=user.name,
        object_type="resource",
        object_id=str(resource.id),
        client_addr=downloads.client_addr(request),
        detail={"dataset": dataset.name, "grant": str(grant_id) if grant_id else None},
    )
    session.commit()
    url = request.url_for("download", resource_id=str(resource.id)).include_query_params(token=token)
    return DownloadLink(url=str(url), expires_at=now + ttl)
