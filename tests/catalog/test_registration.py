"""Registration (登记): the state machine, stable resource codes and their concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalog import registration as reg
from catalog.errors import InvalidState
from catalog.models import Dataset, LedgerEntry
from tests.factories import make_dataset, make_org

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def _through_notice(session: Session, r: reg.Registration, *, days: int = 7) -> reg.Registration:
    reg.accept(session, actor_id=None, registration=r, now=T0 + timedelta(hours=1))
    reg.review(session, actor_id=None, registration=r, now=T0 + timedelta(hours=2))
    return reg.start_notice(
        session, actor_id=None, registration=r, notice_days=days, now=T0 + timedelta(hours=3)
    )


def _register(session: Session, dataset: Dataset) -> reg.Registration:
    r = reg.apply(session, actor_id=None, dataset=dataset, kind="first", now=T0)
    _through_notice(session, r)
    return reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(days=8))


def test_first_registration_codes_the_dataset(session: Session) -> None:
    org = make_org(session, region_code="330100", credit_code="11330000650034907P")
    ds = make_dataset(session, org)
    r = reg.apply(session, actor_id=None, dataset=ds, kind="first", now=T0)
    assert r.state == "applied"
    _through_notice(session, r)
    with pytest.raises(InvalidState, match="notice period has not ended"):
        reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(days=3))
    reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(days=7, hours=4))
    assert r.state == "coded" and r.coded_at is not None
    # region + the credit code's 9-character organization code + sequence
    assert ds.resource_code == "330100-650034907-000001" == r.resource_code
    steps = [e.step for e in reg.events_of(session, r)]
    assert steps == ["apply", "accept", "review", "notice", "code"]
    actions = session.exec(
        select(LedgerEntry.action).where(LedgerEntry.dataset_id == ds.id).order_by(col(LedgerEntry.id))
    ).all()
    assert [a for a in actions if a.startswith("registration.")] == [
        "registration.apply",
        "registration.accept",
        "registration.review",
        "registration.notice",
        "registration.code",
    ]
    assert "dataset.code" in actions


def test_codes_are_sequential_per_agency_and_use_an_agency_number(session: Session) -> None:
    org = make_org(session, region_code="330200")
    other = make_org(session, region_code="330200")
    codes = [_register(session, make_dataset(session, org)).resource_code for _ in range(3)]
    assert codes == ["330200-A00000001-000001", "330200-A00000001-000002", "330200-A00000001-000003"]
    assert _register(session, make_dataset(session, other)).resource_code == "330200-A00000002-000001"


def test_objection_upheld_sends_it_back_and_blocks_coding_until_decided(session: Session) -> None:
    ds = make_dataset(session, make_org(session))
    r = reg.apply(session, actor_id=None, dataset=ds, kind="first", now=T0)
    _through_notice(session, r, days=5)
    objection = reg.file_objection(
        session, actor_id=None, registration=r, reason="数据范围与实际不符", now=T0 + timedelta(days=1)
    )
    with pytest.raises(InvalidState, match="objections are still open"):
        reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(days=6))
    reg.decide_objection(
        session, actor_id=None, objection_id=objection.id, upheld=True, now=T0 + timedelta(days=2)
    )
    assert r.state == "accepted" and r.notice_ends_at is None
    with pytest.raises(InvalidState):
        reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(days=9))
    reg.review(session, actor_id=None, registration=r, now=T0 + timedelta(days=3))
    reg.start_notice(session, actor_id=None, registration=r, notice_days=5, now=T0 + timedelta(days=3))
    # A dismissed objection does not stop coding; none may be filed after the period.
    second = reg.file_objection(
        session, actor_id=None, registration=r, reason="重复", now=T0 + timedelta(days=4)
    )
    reg.decide_objection(
        session, actor_id=None, objection_id=second.id, upheld=False, now=T0 + timedelta(days=5)
    )
    with pytest.raises(InvalidState, match="notice period is over"):
        reg.file_objection(session, actor_id=None, registration=r, reason="晚了", now=T0 + timedelta(days=8))
    reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(days=8))
    assert r.state == "coded" and ds.resource_code is not None
    assert [o.state for o in reg.objections_of(session, r)] == ["upheld", "dismissed"]


def test_change_applies_payload_and_keeps_the_code(session: Session) -> None:
    ds = make_dataset(session, make_org(session), update_frequency="yearly")
    code = _register(session, ds).resource_code
    with pytest.raises(reg.InvalidRegistration):
        reg.apply(session, actor_id=None, dataset=ds, kind="change", payload={"update_frequency": "hourly"})
    with pytest.raises(InvalidState, match="already coded"):
        reg.apply(session, actor_id=None, dataset=ds, kind="first")
    r = reg.apply(
        session, actor_id=None, dataset=ds, kind="change", payload={"update_frequency": "monthly"}, now=T0
    )
    assert ds.update_frequency == "yearly"  # nothing changes before the registration is coded
    with pytest.raises(InvalidState, match="in progress"):
        reg.apply(
            session, actor_id=None, dataset=ds, kind="correction", payload={"notes": "x"}, reason="typo"
        )
    _through_notice(session, r, days=0)
    reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(hours=4))
    assert ds.update_frequency == "monthly" and ds.resource_code == code


def test_cancellation_withdraws_and_the_code_is_never_reused(session: Session) -> None:
    org = make_org(session, region_code="330300")
    ds = make_dataset(session, org)
    code = _register(session, ds).resource_code
    with pytest.raises(reg.InvalidRegistration, match="reason"):
        reg.apply(session, actor_id=None, dataset=ds, kind="cancellation")
    r = reg.apply(session, actor_id=None, dataset=ds, kind="cancellation", reason="数据已停止采集", now=T0)
    _through_notice(session, r, days=0)
    reg.code(session, actor_id=None, registration=r, now=T0 + timedelta(hours=4))
    assert ds.status == "withdrawn" and ds.resource_code == code
    issued = session.get(reg.IssuedCode, code)
    assert issued is not None and issued.cancelled_at is not None
    with pytest.raises(InvalidState):
        reg.apply(session, actor_id=None, dataset=ds, kind="first")
    fresh = _register(session, make_dataset(session, org)).resource_code
    assert fresh != code and fresh.endswith("-000002")


def test_reject_needs_a_reason_and_ends_the_registration(session: Session) -> None:
    ds = make_dataset(session, make_org(session))
    r = reg.apply(session, actor_id=None, dataset=ds, kind="first", now=T0)
    with pytest.raises(reg.InvalidRegistration):
        reg.reject(session, actor_id=None, registration=r, reason="  ")
    reg.reject(session, actor_id=None, registration=r, reason="缺少数据字典", now=T0)
    assert r.state == "rejected" and r.rejection_reason == "缺少数据字典"
    with pytest.raises(InvalidState):
        reg.accept(session, actor_id=None, registration=r)
    assert ds.resource_code is None
    assert reg.open_registration(session, ds.id) is None
    reg.apply(session, actor_id=None, dataset=ds, kind="first")  # may apply again


def test_concurrent_coding_hands_out_distinct_consecutive_codes(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        org = make_org(s, region_code="330400")
        ids = []
        for _ in range(12):
            r = reg.apply(s, actor_id=None, dataset=make_dataset(s, org), kind="first", now=T0)
            _through_notice(s, r, days=0)
            ids.append(r.id)
        s.commit()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def work(rid: object) -> None:
        try:
            with Session(engine) as s:
                r = reg.require_registration(s, rid)  # type: ignore[arg-type]
                barrier.wait(timeout=20)
                reg.code(s, actor_id=None, registration=r, now=T0 + timedelta(days=1))
                s.commit()
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(rid,)) for rid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with Session(engine) as s:
        codes = sorted(c for c in s.exec(select(Dataset.resource_code)).all() if c)
    assert len(codes) == 12
    assert [c.rsplit("-", 1)[1] for c in codes] == [f"{n:06d}" for n in range(1, 13)]
