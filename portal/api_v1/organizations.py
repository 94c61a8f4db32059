"""Organizations: agencies, enterprises, brokers, service providers, the exchange."""

from __future__ import annotations

from fastapi import APIRouter, status

from auth.policy import Action, authorize
from catalog import service
from catalog.schemas import OrganizationCreate, OrganizationPublic, OrganizationUpdate
from portal.deps import ActorDep, CurrentUser, SessionDep

router = APIRouter(tags=["organizations"])


@router.get("/organizations")
def list_organizations(session: SessionDep, org_type: str | None = None) -> list[OrganizationPublic]:
    """List organizations."""
    orgs = service.list_organizations(session, org_type=org_type)
    return [OrganizationPublic.model_validate(o) for o in orgs]


@router.post("/organizations", status_code=status.HTTP_201_CREATED)
def create_organization(
    data: OrganizationCreate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> OrganizationPublic:
    """Register an organization (system administrators)."""
    authorize(actor, Action.ORG_CREATE)
    org = service.create_organization(session, actor_id=user.id, data=data)
    session.commit()
    return OrganizationPublic.model_validate(org)


@router.get("/organizations/{name}")
def read_organization(name: str, session: SessionDep) -> OrganizationPublic:
    """Show one organization."""
    return OrganizationPublic.model_validate(service.require_organization(session, name))


@router.patch("/organizations/{name}")
def update_organization(
    name: str, data: OrganizationUpdate, session: SessionDep, user: CurrentUser, actor: ActorDep
) -> OrganizationPublic:
    """Change an organization's titles, description or region code (its admins, system administrators)."""
    org = service.require_organization(session, name)
    authorize(actor, Action.ORG_MANAGE, org)
    org = service.update_organization(session, actor_id=user.id, org=org, data=data)
    session.commit()
    return OrganizationPublic.model_validate(org)
