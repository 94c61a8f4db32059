"""Harvest sources and the reports of their jobs (/api/v1/harvest)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from fastapi import APIRouter, status

from auth.policy import Action, Actor, NotVisible, authorize, may
from catalog import service
from catalog.harvest import service as harvest
from catalog.harvest.models import HarvestSource
from catalog.harvest.schemas import HarvestJobPublic, HarvestSourceCreate, HarvestSourcePublic
from portal.deps import ActorDep, CurrentUser, SessionDep

router = APIRouter(prefix="/harvest", tags=["harvest"])


def _manages(actor: Actor, org_id: uuid.UUID) -> bool:
    return may(actor, Action.ORG_MANAGE, SimpleNamespace(id=org_id))


def _may_read(actor: Actor, source: HarvestSource) -> bool:
    return (
        _manages(actor, source.organization_id)
        or actor.is_insider(source.organization_id)
        or actor.is_regulator
        or actor.is_operator
    )


@router.get("/sources")
def list_sources(session: SessionDep, user: CurrentUser, actor: ActorDep) -> list[HarvestSourcePublic]:
    """Harvest sources of the organizations the caller belongs to (all of them for sysadmins)."""
    sources = harvest.list_sources(session)
    return [HarvestSourcePublic.model_validate(s) for s in sources if _may_read(actor, s)]


@router.post("/sources", status_code=status.HTTP_201_CREATED)
def create_source(
    data: HarvestSourceCreate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> HarvestSourcePublic:
    """Register a harvest source (a sysadmin, or an admin of the owning organization)."""
    org = service.require_organization(session, data.organization)
    authorize(actor, Action.ORG_MANAGE, org)
    source = harvest.create_source(session, actor_id=user.id, data=data)
    session.commit()
    return HarvestSourcePublic.model_validate(source)


@router.get("/sources/{name}")
def read_source(name: str, session: SessionDep, user: CurrentUser, actor: ActorDep) -> HarvestSourcePublic:
    """One harvest source."""
    source = harvest.require_source(session, name)
    if not _may_read(actor, source):
        raise NotVisible("harvest.read", "not a member of the owning organization")
    return HarvestSourcePublic.model_validate(source)


@router.get("/sources/{name}/jobs")
def list_jobs(name: str, session: SessionDep, user: CurrentUser, actor: ActorDep) -> list[HarvestJobPublic]:
    """A source's jobs, newest first."""
    source = harvest.require_source(session, name)
    if not _may_read(actor, source):
        raise NotVisible("harvest.read", "not a member of the owning organization")
    return [HarvestJobPublic.model_validate(j) for j in harvest.list_jobs(session, source)]


@router.get("/jobs/{job_id}")
def read_job(job_id: uuid.UUID, session: SessionDep, user: CurrentUser, actor: ActorDep) -> HarvestJobPublic:
    """A harvest job's counts and report (failures with reasons, withdrawals)."""
    job = harvest.require_job(session, job_id)
    source = session.get(HarvestSource, job.source_id)
    if source is None or not _may_read(actor, source):
        raise NotVisible("harvest.read", "not a member of the owning organization")
    return HarvestJobPublic.model_validate(job)
