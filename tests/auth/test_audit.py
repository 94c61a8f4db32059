"""The audit hash chain, its tamper detection, queries, CSV export and anomaly signals."""

from __future__ import annotations

import csv
import io
import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from auth import audit
from auth.models import AuditEvent

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
ALICE = uuid.UUID("00000000-0000-0000-0000-00000000a11c")
BOB = uuid.UUID("00000000-0000-0000-0000-000000000b0b")
CAROL = uuid.UUID("00000000-0000-0000-0000-0000000ca201")
DAVE = uuid.UUID("00000000-0000-0000-0000-000000000da7")


def fill(session: Session, n: int = 10) -> list[AuditEvent]:
    events = [
        audit.record(
            session,
            action="dataset.view" if i % 2 else "resource.download",
            actor_id=ALICE if i % 3 else BOB,
            actor_name="alice" if i % 3 else "bob",
            object_type="dataset",
            object_id=f"ds-{i}",
            client_addr="10.1.2.3",
            detail={"i": i, "title": "全省企业登记信息", "when": NOW, "id": uuid.UUID(int=i), "f": 0.1 * i},
            at=NOW - timedelta(minutes=n - i),
        )
        for i in range(n)
    ]
    session.commit()
    return events


def test_chain_links_and_verifies(session: Session) -> None:
    events = fill(session)
    assert [e.id for e in events] == list(range(1, 11))
    assert events[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    session.expire_all()
    assert audit.verify_chain(session) is None
    assert audit.head(session) == (10, events[-1].hash)
    # Values are stored in a JSON-safe form that reads back as hashed.
    assert session.get(AuditEvent, 3).detail["title"] == "全省企业登记信息"  # type: ignore[union-attr]


def test_long_values_are_cut_to_the_column_sizes(session: Session) -> None:
    event = audit.record(
        session, action="a" * 150, object_id="对象" * 150, actor_name="n" * 300, client_addr="::1" * 40
    )
    session.commit()
    session.expire_all()
    stored = session.get(AuditEvent, event.id)
    assert stored is not None
    assert (len(stored.action), len(stored.object_id), len(stored.actor_name)) == (100, 200, 254)
    assert audit.verify_chain(session) is None


def test_empty_chain_verifies(session: Session) -> None:
    assert audit.verify_chain(session) is None
    assert audit.head(session) is None


def test_edited_detail_is_detected_at_that_record(session: Session) -> None:
    fill(session)
    session.execute(sa.update(AuditEvent).where(AuditEvent.id == 4).values(detail={"i": 4, "title": "改"}))
    session.commit()
    broken = audit.verify_chain(session)
    assert broken is not None
    assert broken.record_id == 4
    assert "altered" in broken.reason


def test_edited_field_with_recomputed_hash_is_detected_at_the_next_record(session: Session) -> None:
    fill(session)
    event = session.get(AuditEvent, 6)
    assert event is not None
    event.outcome = "denied"
    event.hash = audit.compute_hash(event)  # a careful forger fixes up the record's own hash
    session.add(event)
    session.commit()
    broken = audit.verify_chain(session)
    assert broken is not None
    assert broken.record_id == 7
    assert "prev_hash" in broken.reason


def test_deleted_record_is_detected(session: Session) -> None:
    fill(session)
    session.execute(sa.delete(AuditEvent).where(AuditEvent.id == 5))
    session.commit()
    broken = audit.verify_chain(session)
    assert broken is not None
    assert broken.record_id == 6
    assert "5 missing" in broken.reason


def test_deleted_first_record_is_detected(session: Session) -> None:
    fill(session)
    session.execute(sa.delete(AuditEvent).where(AuditEvent.id == 1))
    session.commit()
    broken = audit.verify_chain(session)
    assert broken is not None and broken.record_id == 2


def test_truncated_tail_is_detected_against_a_published_head(session: Session) -> None:
    fill(session)
    published = audit.head(session)
    assert published is not None
    session.execute(sa.delete(AuditEvent).where(AuditEvent.id >= 9))
    session.commit()
    assert audit.verify_chain(session) is None  # the chain alone cannot see it
    broken = audit.verify_chain(session, expected_head=published)
    assert broken is not None and broken.record_id == 10
    assert audit.verify_chain(session, expected_head=(8, session.get(AuditEvent, 8).hash)) is None  # type: ignore[union-attr]


def test_rolled_back_records_leave_no_gap(session: Session) -> None:
    fill(session, 3)
    audit.record(session, action="x.discarded")
    session.rollback()
    event = audit.record(session, action="x.kept")
    session.commit()
    assert event.id == 4
    assert audit.verify_chain(session) is None


def test_concurrent_appends_do_not_fork(engine: Engine) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                with Session(engine) as s:
                    audit.record(s, action="load.test", actor_name=f"worker-{n}", detail={"i": i})
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEvent)).one() == 60
        assert audit.verify_chain(s) is None


def test_query_filters_and_pages(session: Session) -> None:
    fill(session, 12)
    assert len(audit.query(session)) == 12
    newest = audit.query(session, limit=3)
    assert [e.id for e in newest] == [12, 11, 10]
    assert [e.id for e in audit.query(session, limit=3, offset=3)] == [9, 8, 7]
    bob = audit.query(session, actor_id=BOB)
    assert {e.actor_name for e in bob} == {"bob"} and len(bob) == 4
    assert [e.object_id for e in audit.query(session, object_id="ds-3")] == ["ds-3"]
    downloads = audit.query(session, action="resource.download")
    assert len(downloads) == 6
    assert len(audit.query(session, action="resource.")) == 6
    assert len(audit.query(session, action="resource")) == 0
    window = audit.query(session, since=NOW - timedelta(minutes=5), until=NOW - timedelta(minutes=2))
    assert len(window) == 3


def test_export_csv(session: Session) -> None:
    fill(session, 3)
    lines = list(audit.export_csv(audit.query(session)))
    assert len(lines) == 4
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    assert [r["id"] for r in rows] == ["3", "2", "1"]
    assert "全省企业登记信息" in rows[0]["detail"]
    assert rows[2]["prev_hash"] == audit.GENESIS_HASH
    streamed = [e.id for e in audit.stream(session, batch=2)]
    assert streamed == [1, 2, 3]
    assert [e.id for e in audit.stream(session, since=NOW - timedelta(minutes=2))] == [2, 3]
    excel = "".join(audit.export_csv([], excel_bom=True))
    assert excel.startswith("\ufeffid,at,")


def plant(session: Session) -> None:
    """A week of ordinary downloads, then one day with a spike, denials and a revoked token."""
    window_start = NOW - timedelta(days=1)
    for day in range(1, 8):
        base = window_start - timedelta(days=day) + timedelta(hours=1)
        for k in range(3):  # everyone downloads about 3 files a day
            for actor, name in ((ALICE, "alice"), (BOB, "bob")):
                audit.record(
                    session,
                    action="resource.download",
                    actor_id=actor,
                    actor_name=name,
                    at=base + timedelta(minutes=k),
                )
        for k in range(14):  # carol is a heavy but steady user: 14 a day
            audit.record(
                session,
                action="resource.download",
                actor_id=CAROL,
                actor_name="carol",
                at=base + timedelta(seconds=k),
            )
    for k in range(60):  # bob suddenly downloads 60 files
        audit.record(
            session,
            action="resource.download",
            actor_id=BOB,
            actor_name="bob",
            at=window_start + timedelta(minutes=k),
        )
    for k in range(4):  # alice as usual
        audit.record(
            session,
            action="resource.download",
            actor_id=ALICE,
            actor_name="alice",
            at=window_start + timedelta(hours=k),
        )
    for k in range(60):  # carol: 60 is many, but not five times her usual 14
        audit.record(
            session,
            action="resource.download",
            actor_id=CAROL,
            actor_name="carol",
            at=window_start + timedelta(seconds=k),
        )
    for k in range(12):  # dave keeps probing restricted data
        audit.record(
            session,
            action="resource.download",
            actor_id=DAVE,
            actor_name="dave",
            outcome="denied",
            client_addr="198.51.100.7",
            at=window_start + timedelta(minutes=10 + k),
        )
    for k in range(3):  # alice is refused a few times: normal
        audit.record(
            session,
            action="dataset.view",
            actor_id=ALICE,
            actor_name="alice",
            outcome="denied",
            at=NOW - timedelta(hours=k + 1),
        )
    for k in range(15):  # an anonymous scraper
        audit.record(
            session,
            action="api.request",
            outcome="denied",
            client_addr="192.0.2.66",
            at=NOW - timedelta(minutes=k + 1),
        )
    audit.record(
        session,
        action=audit.REVOKED_TOKEN_USE,
        actor_id=ALICE,
        actor_name="alice",
        outcome="denied",
        client_addr="203.0.113.5",
        at=NOW - timedelta(minutes=30),
    )
    # Old events outside the window are not reported again.
    for k in range(12):
        audit.record(
            session,
            action="dataset.view",
            actor_id=DAVE,
            outcome="denied",
            at=window_start - timedelta(days=3, minutes=k),
        )
    session.commit()


def test_anomalies_on_planted_data(session: Session) -> None:
    plant(session)
    found = audit.anomalies(
        session, now=NOW, window=timedelta(days=1), baseline_days=7, min_downloads=50, min_denials=10
    )
    by_kind: dict[str, list[audit.Anomaly]] = {}
    for a in found:
        by_kind.setdefault(a.kind, []).append(a)
    spikes = by_kind["download_spike"]
    assert [(a.actor_id, a.count) for a in spikes] == [(BOB, 60)]
    assert spikes[0].detail["daily_median"] == 3
    denials = {(a.actor_id, tuple(a.detail["client_addrs"])): a.count for a in by_kind["repeated_denials"]}
    assert denials == {(DAVE, ("198.51.100.7",)): 12, (None, ("192.0.2.66",)): 15}
    revoked = by_kind["revoked_token_use"]
    assert [(a.actor_id, a.count, a.detail["client_addrs"]) for a in revoked] == [(ALICE, 1, ["203.0.113.5"])]
    assert audit.verify_chain(session) is None
    # A quiet day earlier (with the same baseline length) shows nothing.
    assert (
        audit.anomalies(session, now=NOW - timedelta(days=5), window=timedelta(days=1), baseline_days=7) == []
    )
