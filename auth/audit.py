"""The tamper-evident audit log: an append-only SHA-256 hash chain, queries, CSV export, anomalies.

Each record's ``hash`` is SHA-256 over a canonical JSON of its fields (id, time, actor, action,
object, client, outcome, detail) and the previous record's hash. Ids are assigned here, gapless
from 1, under a lock (PostgreSQL advisory transaction lock; SQLite's database write lock), so
concurrent appends never fork the chain and a deleted record leaves a visible hole. Removing the
newest records cannot be seen from the chain alone: publish ``head()`` now and then and pass it
to ``verify_chain(expected_head=...)``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from auth.models import AuditEvent, AuditOutcome, as_utc, utcnow

GENESIS_HASH = "0" * 64
# Arbitrary constant key of the PostgreSQL advisory lock that serializes appends ("DLAUDIT").
_PG_LOCK_KEY = 0x444C4155444954
_VERIFY_BATCH = 1000

DOWNLOAD_ACTIONS: tuple[str, ...] = ("resource.download",)
REVOKED_TOKEN_USE = "token.revoked_use"
CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "client_addr",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class BrokenLink:
    """The first record where the chain does not verify, and why."""

    record_id: int | None
    reason: str


@dataclass(frozen=True)
class Anomaly:
    """A pattern in the audit log that a regulator should look at."""

    kind: str  # "download_spike" | "repeated_denials" | "revoked_token_use"
    actor_id: uuid.UUID | None
    actor_name: str
    count: int
    first_at: datetime | None
    last_at: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so the stored detail reads back exactly as it was hashed."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _canonical(event: AuditEvent) -> bytes:
    at = as_utc(event.at)
    assert at is not None
    body = {
        "id": event.id,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": str(event.actor_id) if event.actor_id is not None else None,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_addr": event.client_addr,
        "outcome": event.outcome,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def compute_hash(event: AuditEvent) -> str:
    """The SHA-256 (hex) an audit record must carry, given its fields and prev_hash."""
    return hashlib.sha256(_canonical(event)).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialize appends until the end of the transaction."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # A write statement (even one touching no row) takes SQLite's database write lock, held to
        # commit, so the tail read next is the true tail. pysqlite does not BEGIN for plain SELECTs.
        conn.execute(sa.text("update audit_event set id = id where 0 = 1"))


def head(session: Session) -> tuple[int, str] | None:
    """The id and hash of the newest record (publish it to detect truncation), None when empty."""
    row = session.exec(
        select(AuditEvent.id, AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def record(
    session: Session,
    *,
    action: str,
    actor_id: uuid.UUID | None = None,
    actor_name: str = "",
    object_type: str = "",
    object_id: str | uuid.UUID = "",
    client_addr: str = "",
    outcome: str = AuditOutcome.OK.value,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one record to the audit chain (flushes; the caller commits)."""
    outcome = AuditOutcome(outcome).value
    session.flush()
    _lock_chain(session)
    tail = head(session)
    last_id, prev_hash = tail if tail is not None else (0, GENESIS_HASH)
    event = AuditEvent(
        id=last_id + 1,
        at=as_utc(at) or utcnow(),
        actor_id=actor_id,
        actor_name=actor_name[:254],
        action=action[:100],
        object_type=object_type[:50],
        object_id=str(object_id)[:200],
        client_addr=(client_addr or "")[:64],
        outcome=outcome,
        detail=_jsonable(detail or {}),
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(event)
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session, *, expected_head: tuple[int, str] | None = None) -> BrokenLink | None:
    """Walk the whole chain; return the first broken record and why, or None when it verifies."""
    expected_id = 1
    prev_hash = GENESIS_HASH
    last: AuditEvent | None = None
    after = 0
    while True:
        batch = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.id) > after)
            .order_by(col(AuditEvent.id))
            .limit(_VERIFY_BATCH)
            .execution_options(populate_existing=True)
        ).all()
        if not batch:
            break
        for event in batch:
            assert event.id is not None
            if event.id != expected_id:
                missing = (
                    f"{expected_id}" if event.id == expected_id + 1 else f"{expected_id}..{event.id - 1}"
                )
                return BrokenLink(event.id, f"record(s) {missing} missing before record {event.id}")
            if event.prev_hash != prev_hash:
                return BrokenLink(event.id, "prev_hash does not match the hash of the previous record")
            if compute_hash(event) != event.hash:
                return BrokenLink(event.id, "content does not match its hash (record was altered)")
            prev_hash = event.hash
            expected_id += 1
            last = event
        after = expected_id - 1
    if expected_head is not None:
        head_id, head_hash = expected_head
        if last is None or last.id is None or last.id < head_id:
            return BrokenLink(head_id, f"records up to {head_id} were published but are missing")
        found = session.get(AuditEvent, head_id)
        if found is None or found.hash != head_hash:
            return BrokenLink(head_id, "record does not match the published head hash")
    return None


def query(
    session: Session,
    *,
    actor_id: uuid.UUID | None = None,
    object_id: str | uuid.UUID | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Audit records matching every given filter, newest first; 'action' ending in '.' is a prefix."""
    stmt = select(AuditEvent)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    if action is not None:
        if action.endswith("."):
            stmt = stmt.where(col(AuditEvent.action).startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == action)
    if outcome is not None:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if since is not None:
        stmt = stmt.where(col(AuditEvent.at) >= since)
    if until is not None:
        stmt = stmt.where(col(AuditEvent.at) < until)
    stmt = stmt.order_by(col(AuditEvent.id).desc()).offset(max(offset, 0)).limit(max(min(limit, 10_000), 0))
    return list(session.exec(stmt).all())


def stream(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = _VERIFY_BATCH,
) -> Iterator[AuditEvent]:
    """Every record in [since, until), oldest first, read in batches (for exporting large ranges)."""
    after = 0
    while True:
        stmt = select(AuditEvent).where(col(AuditEvent.id) > after)
        if since is not None:
            stmt = stmt.where(col(AuditEvent.at) >= since)
        if until is not None:
            stmt = stmt.where(col(AuditEvent.at) < until)
        rows = session.exec(stmt.order_by(col(AuditEvent.id)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id or after


def export_csv(rows: Iterable[AuditEvent], *, excel_bom: bool = False) -> Iterator[str]:
    """Yield the records as CSV lines (header first); excel_bom prepends a BOM so Excel reads UTF-8."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate(0)
        return text

    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" if excel_bom else "") + flush()
    for event in rows:
        at = as_utc(event.at)
        writer.writerow(
            [
                event.id,
                at.isoformat() if at else "",
                event.actor_id or "",
                event.actor_name,
                event.action,
                event.object_type,
                event.object_id,
                event.client_addr,
                event.outcome,
                json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                event.prev_hash,
                event.hash,
            ]
        )
        yield flush()


# --- anomalies ------------------------------------------------------------------------------


def _downloads_spikes(
    session: Session,
    *,
    now: datetime,
    window: timedelta,
    baseline_days: int,
    factor: float,
    min_downloads: int,
    actions: tuple[str, ...],
) -> list[Anomaly]:
    start = now - window
    baseline_start = start - timedelta(days=baseline_days)
    rows = session.exec(
        select(AuditEvent.actor_id, AuditEvent.actor_name, AuditEvent.at).where(
            col(AuditEvent.action).in_(actions),
            col(AuditEvent.outcome).in_([AuditOutcome.OK.value, AuditOutcome.ALLOWED.value]),
            col(AuditEvent.actor_id).is_not(None),
            col(AuditEvent.at) >= baseline_start,
            col(AuditEvent.at) < now,
        )
    ).all()
    current: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    daily: dict[uuid.UUID, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[uuid.UUID, str] = {}
    for actor_id, actor_name, at_raw in rows:
        at = as_utc(at_raw)
        assert at is not None
        names[actor_id] = actor_name
        if at >= start:
            current[actor_id].append(at)
        else:
            daily[actor_id][(at - baseline_start).days] += 1
    found = []
    window_days = window / timedelta(days=1)
    for actor_id, times in current.items():
        per_day = [daily[actor_id].get(day, 0) for day in range(baseline_days)]
        median = statistics.median(per_day) if per_day else 0.0
        usual = median * window_days
        if len(times) > min_downloads and len(times) > factor * usual:
            found.append(
                Anomaly(
                    kind="download_spike",
                    actor_id=actor_id,
                    actor_name=names[actor_id],
                    count=len(times),
                    first_at=min(times),
                    last_at=max(times),
                    detail={"daily_median": median, "usual_in_window": usual, "factor": factor},
                )
            )
    return found


def _grouped(
    session: Session, *, where: list[Any], since: datetime, now: datetime
) -> list[tuple[uuid.UUID | None, str, str, int, datetime, datetime]]:
    stmt = (
        select(
            AuditEvent.actor_id,
            sa.func.max(AuditEvent.actor_name),
            AuditEvent.client_addr,
            sa.func.count(),
            sa.func.min(AuditEvent.at),
            sa.func.max(AuditEvent.at),
        )
        .where(col(AuditEvent.at) >= since, col(AuditEvent.at) < now, *where)
        .group_by(AuditEvent.actor_id, AuditEvent.client_addr)
    )
    return [tuple(row) for row in session.exec(stmt).all()]  # type: ignore[misc]


def anomalies(
    session: Session,
    *,
    now: datetime | None = None,
    window: timedelta = timedelta(days=1),
    baseline_days: int = 30,
    download_factor: float = 5.0,
    min_downloads: int = 50,
    min_denials: int = 10,
    download_actions: tuple[str, ...] = DOWNLOAD_ACTIONS,
) -> list[Anomaly]:
    """Signals for the regulator in [now - window, now): download spikes, repeated denials, revoked tokens.

    A download spike is an account with more than ``min_downloads`` downloads in the window and more
    than ``download_factor`` times its usual volume (median downloads per day over the
    ``baseline_days`` before the window, days without downloads counted as zero).
    Repeated denials are ``min_denials`` or more denied requests by one actor (or one anonymous
    client address). Every use of a revoked API token is reported.
    """
    now = as_utc(now) or utcnow()
    start = now - window
    found = _downloads_spikes(
        session,
        now=now,
        window=window,
        baseline_days=baseline_days,
        factor=download_factor,
        min_downloads=min_downloads,
        actions=download_actions,
    )
    denials: dict[tuple[uuid.UUID | None, str], list[Any]] = {}
    for actor_id, name, addr, count, first, last in _grouped(
        session, where=[AuditEvent.outcome == AuditOutcome.DENIED.value], since=start, now=now
    ):
        # Signed-in actors are counted across addresses; anonymous ones per address.
        key = (actor_id, "" if actor_id is not None else addr)
        entry = denials.setdefault(key, [name, 0, as_utc(first), as_utc(last), set()])
        entry[1] += count
        entry[2] = min(entry[2], as_utc(first))
        entry[3] = max(entry[3], as_utc(last))
        entry[4].add(addr)
    for (actor_id, _addr), (name, count, first, last, addrs) in denials.items():
        if count >= min_denials:
            found.append(
                Anomaly(
                    kind="repeated_denials",
                    actor_id=actor_id,
                    actor_name=name,
                    count=count,
                    first_at=first,
                    last_at=last,
                    detail={"client_addrs": sorted(addrs)},
                )
            )
    revoked: dict[uuid.UUID | None, list[Any]] = {}
    for actor_id, name, addr, count, first, last in _grouped(
        session, where=[AuditEvent.action == REVOKED_TOKEN_USE], since=start, now=now
    ):
        entry = revoked.setdefault(actor_id, [name, 0, as_utc(first), as_utc(last), set()])
        entry[1] += count
        entry[2] = min(entry[2], as_utc(first))
        entry[3] = max(entry[3], as_utc(last))
        entry[4].add(addr)
    for actor_id, (name, count, first, last, addrs) in revoked.items():
        found.append(
            Anomaly(
                kind="revoked_token_use",
                actor_id=actor_id,
                actor_name=name,
                count=count,
                first_at=first,
                last_at=last,
                detail={"client_addrs": sorted(addrs)},
            )
        )
    return found
