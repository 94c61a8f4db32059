"""Periodic jobs of the access workflow, run about once a minute by the quality worker's loop.

Each job runs in its own transaction: one that fails is rolled back and reported, and the others
still run. Every job is idempotent, so running it twice (two workers, a restart) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.settings import Settings

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60.0


@dataclass
class PeriodicResult:
    """What one run did: how many things each job changed, and the jobs that failed."""

    at: datetime
    expired_grants: int = 0
    reminders_sent: int = 0
    grants_suspended: int = 0
    expired_orders: int = 0
    harvests_run: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the worker's log."""
        parts = [
            f"expired grants {self.expired_grants}",
            f"reminders {self.reminders_sent}",
            f"suspended {self.grants_suspended}",
            f"expired orders {self.expired_orders}",
            f"harvests {self.harvests_run}",
        ]
        if self.errors:
            parts.append("errors: " + "; ".join(f"{k}: {v}" for k, v in self.errors.items()))
        return ", ".join(parts)


def _expire_grants(session: Session, settings: Settings, now: datetime) -> int:
    from auth.grants import expire_grants

    return len(expire_grants(session, now=now))


def _send_reminders(session: Session, settings: Settings, now: datetime) -> int:
    from auth.applications import send_reminders

    return len(send_reminders(session, now=now))


def _enforce_reports(session: Session, settings: Settings, now: datetime) -> int:
    from auth.applications import enforce_overdue_reports

    return len(enforce_overdue_reports(session, now=now))


def _expire_orders(session: Session, settings: Settings, now: datetime) -> int:
    try:
        from catalog.exchange.orders import expire_orders
        from portal.api_v1.exchange import AuthGateway
    except ImportError:  # the exchange is optional
        return 0
    return len(expire_orders(session, AuthGateway(settings.auth, actor_name="system"), now=now))


def _run_due_harvests(session: Session, settings: Settings, now: datetime) -> int:
    from catalog.harvest.runner import run_harvest
    from catalog.harvest.schedule import due_sources

    names = [source.name for source in due_sources(session, now=now)]
    session.rollback()  # the runner owns its transactions
    engine = session.get_bind()
    for name in names:
        run_harvest(engine, name)  # type: ignore[arg-type]
    return len(names)


JOBS: tuple[tuple[str, Callable[[Session, Settings, datetime], int]], ...] = (
    ("expired_grants", _expire_grants),
    ("reminders_sent", _send_reminders),
    ("grants_suspended", _enforce_reports),
    ("expired_orders", _expire_orders),
    ("harvests_run", _run_due_harvests),
)


def run_periodic(engine: Engine, settings: Settings, now: datetime | None = None) -> PeriodicResult:
    """Expire grants, remind of and enforce usage reports, expire orders, run due harvests; one commit per job."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    result = PeriodicResult(at=moment)
    for name, job in JOBS:
        with Session(engine, expire_on_commit=False) as session:
            try:
                setattr(result, name, job(session, settings, moment))
                session.commit()
            except Exception as exc:  # one failing job must not stop the others
                session.rollback()
                log.exception("periodic job %s failed", name)
                result.errors[name] = f"{type(exc).__name__}: {exc}"
    return result


class Every:
    """Says when a periodic call is due: at most once per `seconds` (monotonic clock)."""

    def __init__(
        self, seconds: float = INTERVAL_SECONDS, *, clock: Callable[[], float] | None = None
    ) -> None:
        import time

        self.seconds = seconds
        self._clock = clock or time.monotonic
        self._last: float | None = None

    def due(self) -> bool:
        """True (and the clock restarts) when the interval has passed since the last True."""
        now = self._clock()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True
