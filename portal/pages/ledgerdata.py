"""Aggregates of the ledger for the dashboard and organization pages (GROUP BY queries, no N+1)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from catalog.models import Dataset, LedgerEntry, Organization

# The longest a dataset may go without new data, by declared frequency (irregular: never overdue).
PERIOD_DAYS = {"realtime": 1, "daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "yearly": 366}


def _scope(statuses: Sequence[str] | None, org_id: uuid.UUID | None) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if statuses is not None:
        conds.append(col(Dataset.status).in_(list(statuses)))
    if org_id is not None:
        conds.append(Dataset.owner_org_id == org_id)
    return conds


def counts_by(
    session: Session, column: Any, *, statuses: Sequence[str] | None, org_id: uuid.UUID | None = None
) -> list[tuple[str, int]]:
    """(value, count) of datasets grouped by one column, most first."""
    stmt = select(column, func.count()).where(*_scope(statuses, org_id)).group_by(column)
    rows = [(str(v or ""), int(n)) for v, n in session.exec(stmt).all()]
    return sorted(rows, key=lambda vn: (-vn[1], vn[0]))


def counts_by_org(
    session: Session, *, statuses: Sequence[str] | None, limit: int = 15
) -> list[tuple[Organization, int]]:
    """The organizations with the most datasets, with their counts."""
    stmt = (
        select(Organization, func.count(col(Dataset.id)))
        .join(Dataset, col(Dataset.owner_org_id) == Organization.id)
        .where(*_scope(statuses, None))
        .group_by(col(Organization.id))
        .order_by(func.count(col(Dataset.id)).desc(), Organization.name)
        .limit(limit)
    )
    return [(o, int(n)) for o, n in session.exec(stmt).all()]


def _overdue_condition(now: datetime) -> sa.ColumnElement[bool]:
    last = func.coalesce(Dataset.data_updated_at, Dataset.published_at, Dataset.created_at)
    return sa.or_(
        *(
            sa.and_(Dataset.update_frequency == freq, last < now - timedelta(days=days))
            for freq, days in PERIOD_DAYS.items()
        )
    )


def overdue(
    session: Session,
    *,
    statuses: Sequence[str] | None,
    org_id: uuid.UUID | None = None,
    now: datetime | None = None,
    limit: int = 20,
) -> tuple[int, list[Dataset]]:
    """Datasets not updated as often as declared: the count and the most overdue ones."""
    moment = now or datetime.now(UTC)
    conds = [*_scope(statuses, org_id), _overdue_condition(moment)]
    total = session.exec(select(func.count()).select_from(Dataset).where(*conds)).one()
    last = func.coalesce(Dataset.data_updated_at, Dataset.published_at, Dataset.created_at)
    rows = session.exec(select(Dataset).where(*conds).order_by(last).limit(limit)).all()
    return int(total), list(rows)


def updates_by_month(
    session: Session, *, months: int = 12, org_id: uuid.UUID | None = None, now: datetime | None = None
) -> list[tuple[str, int]]:
    """Ledger entries per month over the last `months` months (zeros included), oldest first."""
    moment = now or datetime.now(UTC)
    start = (
        moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=31 * (months - 1))
    ).replace(day=1)
    dialect = session.get_bind().dialect.name
    at = col(LedgerEntry.at)
    month = func.to_char(at, "YYYY-MM") if dialect == "postgresql" else func.strftime("%Y-%m", at)
    stmt = select(month, func.count()).where(at >= start)
    if org_id is not None:
        stmt = stmt.where(LedgerEntry.organization_id == org_id)
    found = {str(m): int(n) for m, n in session.exec(stmt.group_by(month)).all()}
    out = []
    y, m = start.year, start.month
    for _ in range(months):
        key = f"{y:04d}-{m:02d}"
        out.append((key, found.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def org_dataset_counts(session: Session, *, statuses: Sequence[str] | None) -> dict[uuid.UUID, int]:
    """Datasets per organization id, in one query."""
    stmt = (
        select(Dataset.owner_org_id, func.count())
        .where(*_scope(statuses, None))
        .group_by(Dataset.owner_org_id)
    )
    return {i: int(n) for i, n in session.exec(stmt).all()}
