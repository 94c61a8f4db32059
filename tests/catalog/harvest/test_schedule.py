"""Harvest schedules: "every N h" and cron, and which sources are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from catalog.harvest.models import HarvestSource
from catalog.harvest.schedule import due_sources, next_run
from tests.factories import make_org

T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


def test_next_run() -> None:
    assert next_run("", None, T0) is None
    assert next_run("every 24h", None, T0) == T0  # a new source runs at once
    assert next_run("every 24h", T0, T0) == T0 + timedelta(hours=24)
    assert next_run("0 2 * * *", T0, T0) == datetime(2026, 1, 6, 2, 0, tzinfo=UTC)


def test_due_sources(session: Session) -> None:
    org = make_org(session)
    for name, schedule, last in [
        ("manual", "", None),
        ("daily", "every 24h", T0),
        ("nightly", "0 2 * * *", T0),
        ("new", "every 6h", None),
    ]:
        session.add(
            HarvestSource(
                organization_id=org.id,
                name=name,
                kind="ckan",
                url="http://127.0.0.1:9/",
                schedule=schedule,
                last_run_at=last,
                created_at=T0,
            )
        )
    session.flush()
    names = lambda now: sorted(s.name for s in due_sources(session, now=now))  # noqa: E731
    assert names(T0 + timedelta(hours=1)) == ["new"]
    assert names(T0 + timedelta(hours=18)) == ["new", "nightly"]
    assert names(T0 + timedelta(hours=25)) == ["daily", "new", "nightly"]
