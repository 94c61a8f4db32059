"""Load the shipped demo ledger through the services (idempotent: what exists is left alone)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.progress import Progress
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from auth.models import Membership
from auth.users import add_membership, create_user, get_user_by_name
from catalog import service
from catalog.demo import DemoDataset, DemoSpec, demo_file, load_demo_spec
from catalog.models import Dataset
from catalog.schemas import DatasetCreate, OrganizationCreate, ResourceCreate
from storage import Storage


@dataclass
class DemoResult:
    """What one load added."""

    organizations: int = 0
    users: int = 0
    datasets: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        if not (self.organizations or self.users or self.datasets):
            return "demo catalog already loaded; nothing to do"
        return (
            f"demo catalog loaded: {self.organizations} organizations, {self.users} users, "
            f"{self.datasets} datasets, {self.files} files"
        )


def load_demo(
    engine: Engine,
    storage: Storage,
    *,
    progress: bool = False,
    only_if_empty: bool = False,
    spec: DemoSpec | None = None,
) -> DemoResult:
    """Insert the demo organizations, users and datasets that are not there yet; queue their checks."""
    spec = spec or load_demo_spec()
    result = DemoResult()
    with Session(engine, expire_on_commit=False) as session:
        if only_if_empty and session.exec(select(Dataset.id).limit(1)).first() is not None:
            return result
        for org in spec.organizations:
            if service.get_organization_by_name(session, org.name) is None:
                service.create_organization(
                    session, actor_id=None, data=OrganizationCreate.model_validate(org.model_dump())
                )
                result.organizations += 1
        session.commit()
        for demo_user in spec.users:
            user = get_user_by_name(session, demo_user.name)
            if user is None:
                user = create_user(
                    session,
                    name=demo_user.name,
                    email=demo_user.email,
                    password=demo_user.password,
                    fullname=demo_user.fullname,
                    sysadmin=demo_user.sysadmin,
                    platform_roles=demo_user.platform_roles,
                )
                result.users += 1
            for m in demo_user.memberships:
                org_id = service.require_organization(session, m.organization).id
                exists = session.exec(
                    select(Membership).where(
                        Membership.user_id == user.id, Membership.organization_id == org_id
                    )
                ).first()
                if exists is None:
                    add_membership(
                        session,
                        user_id=user.id,
                        organization_id=org_id,
                        role=m.role,
                        security_officer=m.security_officer,
                    )
        session.commit()
        todo = [d for d in spec.datasets if service.get_dataset_by_name(session, d.name) is None]
        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task("loading demo datasets", total=len(todo))
            for demo in todo:
                result.files += _load_dataset(session, storage, demo)
                result.datasets += 1
                bar.advance(task)
    return result


def _load_dataset(session: Session, storage: Storage, demo: DemoDataset) -> int:
    """Register, upload, confirm and publish one demo dataset in one transaction."""
    fields = demo.model_dump(mode="json", exclude={"organization", "resources"})
    dataset = service.create_dataset(
        session, actor_id=None, data=DatasetCreate.model_validate({**fields, "owner_org": demo.organization})
    )
    files = 0
    for res in demo.resources:
        resource = service.create_resource(
            session,
            actor_id=None,
            dataset=dataset,
            data=ResourceCreate(name=res.name, description=res.description, format=res.format),
        )
        path = demo_file(res.file)
        with path.open("rb") as fh:
            service.upload_resource_file(
                session,
                storage,
                actor_id=None,
                resource=resource,
                filename=path.name,
                data=fh,
                content_type="text/csv",
            )
        files += 1
    service.confirm_grade(session, actor_id=None, dataset=dataset, grade=demo.grade, reason="")
    service.publish_dataset(session, actor_id=None, dataset=dataset)
    session.commit()
    return files
