"""The append-only ledger: every change to an organization, dataset or resource, with the change."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from catalog.models import Dataset, LedgerEntry, Organization, Resource, ResourceVersion


def snapshot(obj: SQLModel) -> dict[str, Any]:
    """A JSON-ready copy of a row's fields."""
    return obj.model_dump(mode="json")


def _subject_ids(subject: SQLModel) -> tuple[str, uuid.UUID | None, uuid.UUID | None]:
    if isinstance(subject, Organization):
        return "organization", None, subject.id
    if isinstance(subject, Dataset):
        return "dataset", subject.id, subject.owner_org_id
    if isinstance(subject, Resource):
        return "resource", subject.dataset_id, None
    if isinstance(subject, ResourceVersion):
        return "resource_version", None, None
    return type(subject).__name__.lower(), None, None


def append(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    subject: SQLModel,
    before: dict[str, Any] | None = None,
    dataset: Dataset | None = None,
) -> LedgerEntry:
    """Record one change in the ledger, in the session's transaction."""
    subject_type, dataset_id, org_id = _subject_ids(subject)
    if dataset is not None:
        dataset_id, org_id = dataset.id, dataset.owner_org_id
    entry = LedgerEntry(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject.id,  # type: ignore[attr-defined]
        dataset_id=dataset_id,
        organization_id=org_id,
        before=before,
        after=snapshot(subject),
    )
    session.add(entry)
    return entry


def history(
    session: Session,
    *,
    dataset_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LedgerEntry]:
    """Ledger entries of one dataset or one agency, newest first."""
    stmt = select(LedgerEntry)
    if dataset_id is not None:
        stmt = stmt.where(LedgerEntry.dataset_id == dataset_id)
    if organization_id is not None:
        stmt = stmt.where(LedgerEntry.organization_id == organization_id)
    stmt = stmt.order_by(col(LedgerEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(stmt))
