"""挂牌审核: the checklist keeps core, important and unattested personal data off the market."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from auth import audit
from catalog.exchange import products
from catalog.exchange.errors import InvalidAuthorization, InvalidTransition, ListingRefused
from catalog.models import DataItem, LedgerEntry
from storage import LocalStorage
from tests.catalog.exchange.world import attach, authorize_broker, broker_product, build_world, gateway, plan


def failing(checks: list[products.Check]) -> set[str]:
    return {c.code for c in checks if not c.ok}


@pytest.mark.parametrize("grade", ["core", "important"])
def test_core_and_important_data_can_never_be_listed(
    session: Session, storage: LocalStorage, grade: str
) -> None:
    world = build_world(session, storage, grade=grade, open_type="closed")
    product = broker_product(session, world, authorize_broker(session, world), delivery_modes=["sandbox"])
    attach(session, world, product)
    plan(session, world, product, kind="metered", download_quota=None, query_quota=5)
    with pytest.raises(ListingRefused) as caught:
        products.submit_product(session, gateway(), actor_id=None, product=product)
    assert {f["code"] for f in caught.value.failures} == {"grade"}
    assert product.status == "draft"
    # even if it got into the queue some other way, approval refuses it
    product.status = "submitted"
    with pytest.raises(ListingRefused):
        products.approve_product(session, gateway(), actor_id=None, product=product)
    assert product.status == "submitted"


def test_declared_important_data_is_refused(session: Session, storage: LocalStorage) -> None:
    world = build_world(session, storage)
    product = broker_product(session, world, authorize_broker(session, world), contains_important_data=True)
    with pytest.raises(ListingRefused):
        products.submit_product(session, gateway(), actor_id=None, product=product)


def test_personal_information_needs_an_anonymization_attestation(
    session: Session, storage: LocalStorage
) -> None:
    world = build_world(session, storage)
    session.add(DataItem(dataset_id=world.dataset.id, name="身份证号", sensitive_type="id_card"))
    session.flush()
    product = broker_product(session, world, authorize_broker(session, world))
    attach(session, world, product)
    plan(session, world, product)
    # undeclared personal information: the declaration contradicts the data
    assert "personal_info" in failing(products.checklist(session, product))
    product.contains_personal_info = True
    product.anonymization_method = "k-匿名化 (k=20), 身份证号删除"
    products.submit_product(session, gateway(), actor_id=None, product=product)
    with pytest.raises(ListingRefused) as caught:
        products.approve_product(session, gateway(), actor_id=None, product=product)
    assert [f["code"] for f in caught.value.failures] == ["personal_info"]
    attach(session, world, product, kind="anonymization")
    products.approve_product(session, gateway(), actor_id=world.users["operator"].id, product=product)
    assert product.status == "listed"


def test_review_queue_checklist_reject_resubmit_approve_delist(
    session: Session, storage: LocalStorage
) -> None:
    world = build_world(session, storage)
    product = broker_product(session, world, authorize_broker(session, world), spec={"content": "无来源说明"})
    products.submit_product(session, gateway(), actor_id=world.users["broker"].id, product=product)
    assert products.review_queue(session) == [product]
    assert failing(products.checklist(session, product)) == {"lawful_source", "assessments"}
    with pytest.raises(ListingRefused):
        products.approve_product(session, gateway(), actor_id=None, product=product)
    products.reject_product(session, gateway(), actor_id=None, product=product, reasons=["未说明合法来源"])
    assert product.status == "rejected" and product.review_reasons == ["未说明合法来源"]
    product.spec = {**product.spec, "data_source": "本单位业务系统", "lawful_origin": "履职采集"}
    attach(session, world, product)
    plan(session, world, product)
    products.submit_product(session, gateway(), actor_id=None, product=product)
    products.approve_product(session, gateway(), actor_id=world.users["operator"].id, product=product)
    assert product.status == "listed" and product.spec["quality_report"][0]["quality_score"] == 92.5
    with pytest.raises(InvalidTransition):
        products.approve_product(session, gateway(), actor_id=None, product=product)
    products.delist_product(session, gateway(), actor_id=None, product=product, reason="下架")
    assert product.status == "delisted"
    session.commit()
    actions = [
        e.action for e in session.exec(select(LedgerEntry).where(LedgerEntry.subject_id == product.id))
    ]
    assert actions.count("exchange.product.submit") == 2 and "exchange.product.reject" in actions
    assert "exchange.product.approve" in actions and "exchange.product.delist" in actions
    assert [
        e.action for e in audit.query(session, object_id=str(product.id), action="exchange.product.approve")
    ]
    assert audit.verify_chain(session) is None


def test_broker_authorization_must_be_valid(session: Session, storage: LocalStorage) -> None:
    world = build_world(session, storage)
    now = datetime.now(UTC)
    expired = authorize_broker(
        session, world, valid_from=now - timedelta(days=10), valid_to=now - timedelta(days=1)
    )
    product = broker_product(session, world, expired)
    assert "authorization" in failing(products.checklist(session, product))
    live = authorize_broker(session, world)
    product.authorization_id = live.id
    assert "authorization" not in failing(products.checklist(session, product))
    products.revoke_authorization(session, gateway(), actor_id=None, authorization=live, reason="终止合作")
    assert "authorization" in failing(products.checklist(session, product))
    with pytest.raises(
        InvalidAuthorization
    ):  # a broker cannot be authorized for data the holder does not hold
        other = build_world(session, storage)
        authorize_broker(session, world, dataset_ids=[other.dataset.id])
