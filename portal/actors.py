"""Where users meet the policy: load what auth.policy needs to know of a caller."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

from auth.grants import granted_dataset_ids
from sqlmodel import Session, select

from auth.models import Membership, User
from auth.policy import ANONYMOUS, Actor

ANONYMOUS_ACTOR = ANONYMOUS


def actor_for(session: Session, user: User, *, now: datetime | None = None) -> Actor:
    """The policy's view of one signed-in user: roles, memberships and live grants."""
    memberships = session.exec(select(Membership).where(Membership.user_id == user.id)).all()
    return Actor(
        user_id=user.id,
        is_sysadmin=user.is_sysadmin,
        platform_roles=frozenset(user.platform_roles or ()),
        org_roles=MappingProxyType({m.organization_id: m.role for m in memberships}),
        security_officer_orgs=frozenset(m.organization_id for m in memberships if m.security_officer),
        granted_dataset_ids=granted_dataset_ids(session, user_id=user.id, now=now or datetime.now(UTC)),
    )
