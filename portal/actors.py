"""Where users meet the policy: the policy's view of a caller."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from auth.grants import load_actor
from auth.models import User
from auth.policy import ANONYMOUS, Actor

ANONYMOUS_ACTOR = ANONYMOUS


def actor_for(session: Session, user: User, *, now: datetime | None = None) -> Actor:
    """The policy's view of one signed-in user: roles, memberships and live grants."""
    return load_actor(session, user=user, now=now)
