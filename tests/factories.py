"""Test data made through the services, so it obeys the same rules as real data."""

from __future__ import annotations

import itertools
from typing import Any

from sqlmodel import Session

from auth.api_tokens import issue_api_token
from auth.models import User
from auth.users import add_membership, create_user
from catalog import service
from catalog.models import Dataset, Organization
from catalog.schemas import DatasetCreate, OrganizationCreate

_seq = itertools.count(1)
PASSWORD = "correct-horse-9"


def make_org(session: Session, **overrides: Any) -> Organization:
    """An agency, unless overridden."""
    n = next(_seq)
    data = {"name": f"org-{n}", "title": f"测试部门{n}", "org_type": "agency", "region_code": "330000"}
    data.update(overrides)
    return service.create_organization(session, actor_id=None, data=OrganizationCreate(**data))


def make_user(
    session: Session,
    *,
    org: Organization | None = None,
    role: str = "editor",
    security_officer: bool = False,
    **overrides: Any,
) -> User:
    """A user, a member of org with role when org is given."""
    n = next(_seq)
    data: dict[str, Any] = {"name": f"user-{n}", "email": f"user{n}@example.org", "password": PASSWORD}
    data.update(overrides)
    user = create_user(session, **data)
    if org is not None:
        add_membership(
            session, user_id=user.id, organization_id=org.id, role=role, security_officer=security_officer
        )
    session.flush()
    return user


def make_token(session: Session, user: User, scope: str = "write") -> str:
    """A raw API token for the user."""
    _token, raw = issue_api_token(session, user_id=user.id, name=f"t{next(_seq)}", scope=scope)
    session.flush()
    return raw


def make_dataset(session: Session, org: Organization, **overrides: Any) -> Dataset:
    """A draft dataset of org."""
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"dataset-{n}",
        "title": f"公交线路数据{n}",
        "owner_org": org.name,
        "open_type": "unconditional",
        "grade": "general_1",
    }
    data.update(overrides)
    return service.create_dataset(session, actor_id=None, data=DatasetCreate(**data))


def publish(session: Session, dataset: Dataset) -> Dataset:
    """Confirm the dataset's declared grade and publish it."""
    dataset.grade_confirmed = True
    session.add(dataset)
    return service.publish_dataset(session, actor_id=None, dataset=dataset)
