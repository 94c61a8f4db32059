"""Harvest sources and jobs: register, list, find. Functions flush; the caller commits."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from catalog import ledger, service
from catalog.harvest.errors import HarvestJobNotFound, HarvestSourceNameTaken, HarvestSourceNotFound
from catalog.harvest.models import HarvestJob, HarvestRecord, HarvestSource
from catalog.harvest.schemas import HarvestSourceCreate


def get_source(session: Session, name_or_id: str | uuid.UUID) -> HarvestSource | None:
    """The source with this name or id, or None."""
    if isinstance(name_or_id, uuid.UUID):
        return session.get(HarvestSource, name_or_id)
    try:
        return session.get(HarvestSource, uuid.UUID(str(name_or_id)))
    except ValueError:
        return session.exec(select(HarvestSource).where(HarvestSource.name == name_or_id)).first()


def require_source(session: Session, name_or_id: str | uuid.UUID) -> HarvestSource:
    """The source with this name or id; HarvestSourceNotFound otherwise."""
    source = get_source(session, name_or_id)
    if source is None:
        raise HarvestSourceNotFound(f"harvest source not found / 采集源不存在: {name_or_id}")
    return source


def list_sources(session: Session, *, organization_ids: set[uuid.UUID] | None = None) -> list[HarvestSource]:
    """Sources by name (only those of these organizations, when given)."""
    stmt = select(HarvestSource)
    if organization_ids is not None:
        stmt = stmt.where(col(HarvestSource.organization_id).in_(sorted(organization_ids)))
    return list(session.exec(stmt.order_by(HarvestSource.name)))


def create_source(
    session: Session, *, actor_id: uuid.UUID | None, data: HarvestSourceCreate
) -> HarvestSource:
    """Register a harvest source and record it in the ledger."""
    if get_source(session, data.name) is not None:
        raise HarvestSourceNameTaken(f"harvest source name already in use / 采集源名称已存在: {data.name}")
    org = service.require_organization(session, data.organization)
    source = HarvestSource(
        organization_id=org.id,
        name=data.name,
        title=data.title or data.name,
        kind=data.kind,
        url=data.url,
        mapping=data.mapping.model_dump(mode="json"),
        schedule=data.schedule,
        created_by=actor_id,
    )
    session.add(source)
    ledger.append(session, actor_id=actor_id, action="harvest_source.create", subject=source)
    session.flush()
    return source


def require_job(session: Session, job_id: uuid.UUID) -> HarvestJob:
    """The job with this id; HarvestJobNotFound otherwise."""
    job = session.get(HarvestJob, job_id)
    if job is None:
        raise HarvestJobNotFound(f"harvest job not found / 采集任务不存在: {job_id}")
    return job


def list_jobs(session: Session, source: HarvestSource, *, limit: int = 20) -> list[HarvestJob]:
    """A source's jobs, newest first."""
    stmt = select(HarvestJob).where(HarvestJob.source_id == source.id)
    return list(session.exec(stmt.order_by(col(HarvestJob.started_at).desc()).limit(limit)))


def unfinished_job(session: Session, source: HarvestSource) -> HarvestJob | None:
    """The source's latest job that did not finish (running or interrupted), to resume."""
    stmt = select(HarvestJob).where(
        HarvestJob.source_id == source.id, col(HarvestJob.status).in_(["running", "interrupted"])
    )
    return session.exec(stmt.order_by(col(HarvestJob.started_at).desc())).first()


def records_of(session: Session, source: HarvestSource) -> list[HarvestRecord]:
    """Every remote dataset the source has brought in."""
    return list(session.exec(select(HarvestRecord).where(HarvestRecord.source_id == source.id)))
