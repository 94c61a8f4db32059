"""Datasets (catalog entries) and their resources."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from auth.policy import Action, authorize, may
from catalog import service
from catalog.enums import Grade
from catalog.schemas import DatasetCreate, DatasetPublic, DatasetUpdate, ResourceCreate, ResourcePublic
from portal.deps import ActorDep, CurrentUser, SessionDep, VisibleDataset

router = APIRouter(tags=["datasets"])


class DatasetPage(BaseModel):
    """One page of datasets."""

    count: int
    results: list[DatasetPublic]


@router.get("/datasets")
def list_datasets(
    session: SessionDep,
    actor: ActorDep,
    organization: str | None = None,
    limit: int = Query(20, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> DatasetPage:
    """List the datasets the caller may see, newest change first."""
    org_id = service.require_organization(session, organization).id if organization else None
    statuses = None if actor.is_sysadmin else ["published"]
    if org_id is not None and (actor.is_insider(org_id) or actor.is_sysadmin):
        statuses = None
    total, rows = service.list_datasets(
        session, owner_org_id=org_id, statuses=statuses, limit=limit, offset=offset
    )
    visible = [d for d in rows if may(actor, Action.DATASET_LIST, d)]
    return DatasetPage(count=total, results=[DatasetPublic.model_validate(d) for d in visible])


@router.post("/datasets", status_code=status.HTTP_201_CREATED)
def create_dataset(
    data: DatasetCreate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> DatasetPublic:
    """Register a dataset as a draft of the caller's organization."""
    authorize(actor, Action.DATASET_CREATE, service.require_organization(session, data.owner_org))
    dataset = service.create_dataset(session, actor_id=user.id, data=data)
    session.commit()
    return DatasetPublic.model_validate(dataset)


@router.get("/datasets/{name}")
def read_dataset(dataset: VisibleDataset) -> DatasetPublic:
    """Show one dataset."""
    return DatasetPublic.model_validate(dataset)


@router.patch("/datasets/{name}")
def update_dataset(
    dataset: VisibleDataset, data: DatasetUpdate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> DatasetPublic:
    """Change a dataset's declared fields."""
    authorize(actor, Action.DATASET_UPDATE, dataset)
    dataset = service.update_dataset(session, actor_id=user.id, dataset=dataset, data=data)
    session.commit()
    return DatasetPublic.model_validate(dataset)


class GradeConfirmation(BaseModel):
    """A grade confirmed by the owning agency's admin or data-security officer."""

    grade: Grade
    reason: str = ""


@router.post("/datasets/{name}/grade")
def confirm_grade(
    dataset: VisibleDataset,
    data: GradeConfirmation,
    session: SessionDep,
    user: CurrentUser,
    actor: ActorDep,
) -> DatasetPublic:
    """Confirm the dataset's grade, or override it with a reason."""
    authorize(actor, Action.GRADE_CONFIRM, dataset)
    dataset = service.confirm_grade(
        session, actor_id=user.id, dataset=dataset, grade=data.grade, reason=data.reason
    )
    session.commit()
    return DatasetPublic.model_validate(dataset)


@router.post("/datasets/{name}/publish")
def publish_dataset(
    dataset: VisibleDataset, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> DatasetPublic:
    """Publish a dataset whose grade is confirmed and allows its open type."""
    authorize(actor, Action.DATASET_PUBLISH, dataset)
    dataset = service.publish_dataset(session, actor_id=user.id, dataset=dataset)
    session.commit()
    return DatasetPublic.model_validate(dataset)


@router.get("/datasets/{name}/resources")
def list_resources(dataset: VisibleDataset, session: SessionDep) -> list[ResourcePublic]:
    """List a dataset's resources."""
    return [ResourcePublic.model_validate(r) for r in service.list_resources(session, dataset)]


@router.post("/datasets/{name}/resources", status_code=status.HTTP_201_CREATED)
def create_resource(
    dataset: VisibleDataset, data: ResourceCreate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> ResourcePublic:
    """Add a resource to a dataset; upload its file with PUT /resources/{id}/file."""
    authorize(actor, Action.DATASET_UPDATE, dataset)
    resource = service.create_resource(session, actor_id=user.id, dataset=dataset, data=data)
    session.commit()
    return ResourcePublic.model_validate(resource)
