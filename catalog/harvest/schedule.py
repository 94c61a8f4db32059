"""When a harvest source is due: "every N h" or a 5-field cron expression (croniter), in UTC."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session, select

from catalog.harvest.models import HarvestSource

EVERY = re.compile(r"^every\s+(\d+)\s*h$")


def next_run(schedule: str, last_run_at: datetime | None, created_at: datetime) -> datetime | None:
    """The first moment the source should run after its last run (None for manual sources)."""
    schedule = schedule.strip()
    if not schedule:
        return None
    base = last_run_at or created_at
    if (match := EVERY.match(schedule)) is not None:
        return base + timedelta(hours=int(match.group(1))) if last_run_at else created_at
    from croniter import croniter

    return croniter(schedule, base).get_next(datetime)  # type: ignore[no-any-return]


def due_sources(session: Session, *, now: datetime) -> list[HarvestSource]:
    """Active sources whose schedule says they should have run by now."""
    sources = session.exec(select(HarvestSource).where(HarvestSource.state == "active")).all()
    due = []
    for source in sources:
        at = next_run(source.schedule, source.last_run_at, source.created_at)
        if at is not None and at <= now:
            due.append(source)
    return due
