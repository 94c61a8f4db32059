"""Quality: reports of uploaded files, the table schema, re-runs and the timeliness monitor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel

from auth.policy import Action, authorize
from catalog import pipeline, service
from portal.deps import ActorDep, CurrentUser, SessionDep, VisibleDataset, VisibleResource

router = APIRouter(tags=["quality"])


class QualityReport(BaseModel):
    """The quality of one version of a resource's file."""

    resource_id: uuid.UUID
    version: int
    status: str
    job_state: str | None
    job_error: str | None
    score: float | None
    encoding: str | None
    row_count: int | None
    read_report: dict[str, Any] | None
    profile: list[dict[str, Any]]
    report: dict[str, Any] | None
    ingest_error: str | None


class JobPublic(BaseModel):
    """A queued or finished quality job."""

    id: uuid.UUID
    version_id: uuid.UUID
    state: str
    progress: float
    error: str | None


class OverdueDataset(BaseModel):
    """A dataset whose data is older than its declared update frequency allows."""

    name: str
    title: str
    update_frequency: str
    data_updated_at: datetime | None


@router.get("/resources/{resource_id}/quality")
def read_quality(resource: VisibleResource, session: SessionDep, version: int | None = None) -> QualityReport:
    """Show the quality report of a resource's file (latest version unless `version` is given)."""
    found = next((v for v in service.list_versions(session, resource) if version in (None, v.version)), None)
    if found is None:
        service.require_version(session, resource, version)  # raises ResourceNotFound
    assert found is not None
    job = pipeline.job_for_version(session, found.id)
    return QualityReport(
        resource_id=resource.id,
        version=found.version,
        status=found.quality_status,
        job_state=job.state if job else None,
        job_error=job.error if job else None,
        score=found.quality_score,
        encoding=found.encoding,
        row_count=found.row_count,
        read_report=found.read_report,
        profile=found.columns,
        report=found.quality_report,
        ingest_error=found.ingest_error,
    )


@router.get("/datasets/{name}/schema")
def read_schema(dataset: VisibleDataset) -> dict[str, Any]:
    """Show the dataset's table schema (declared, or proposed from the first profile)."""
    return dataset.table_schema or {"fields": [], "primary_key": [], "rules": []}


@router.put("/datasets/{name}/schema")
def write_schema(
    dataset: VisibleDataset,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
    schema: dict[str, Any] = Body(...),
) -> dict[str, Any]:
    """Declare the dataset's table schema; its checks run again on every file."""
    authorize(actor, Action.DATASET_UPDATE, dataset)
    service.set_table_schema(session, actor_id=user.id, dataset=dataset, schema=schema)
    _requeue(session, dataset)
    session.commit()
    return dataset.table_schema or {}


@router.post("/datasets/{name}/quality/run", status_code=202)
def rerun(
    dataset: VisibleDataset, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> list[JobPublic]:
    """Queue the quality checks of every file of the dataset again."""
    authorize(actor, Action.DATASET_UPDATE, dataset)
    jobs = _requeue(session, dataset)
    session.commit()
    return [JobPublic.model_validate(j, from_attributes=True) for j in jobs]


@router.get("/quality/overdue")
def overdue(session: SessionDep, organization: str | None = None) -> list[OverdueDataset]:
    """List published datasets overdue for their declared update frequency (时效性监测)."""
    org_id = service.require_organization(session, organization).id if organization else None
    rows = pipeline.overdue_datasets(session, now=datetime.now(UTC), owner_org_id=org_id)
    return [OverdueDataset.model_validate(d, from_attributes=True) for d in rows]


def _requeue(session: SessionDep, dataset: Any) -> list[Any]:
    return [
        pipeline.enqueue(session, service.require_version(session, r))
        for r in service.list_resources(session, dataset)
        if r.latest_version
    ]
