"""Rights life cycle on the certificate; cancellation and refund before delivery; no refund after."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from catalog.exchange import certificates, orders, products, rights, settlement
from catalog.exchange.errors import CertificateInvalid, InvalidProduct, InvalidTransition
from catalog.exchange.settings import ExchangeSettings
from storage import LocalStorage
from tests.catalog.exchange.world import attach, authorize_broker, broker_product, build_world, gateway, plan


def listed(session: Session, storage: LocalStorage) -> tuple:
    world = build_world(session, storage)
    product = broker_product(session, world, authorize_broker(session, world))
    attach(session, world, product)
    p = plan(session, world, product)
    products.submit_product(session, gateway(), actor_id=None, product=product)
    products.approve_product(session, gateway(), actor_id=None, product=product)
    return world, product, p


def test_rights_life_is_reflected_in_the_certificate(session: Session, storage: LocalStorage) -> None:
    world, product, _ = listed(session, storage)
    gw = gateway()
    with pytest.raises(InvalidProduct):  # only the holder registers, and the fingerprint must match
        rights.apply(session, gw, actor_id=None, product=product, holder=world.broker, rights=["holding"])
    with pytest.raises(InvalidProduct):
        rights.apply(
            session,
            gw,
            actor_id=None,
            product=product,
            holder=world.holder,
            rights=["holding"],
            data_sha256="0" * 64,
        )
    reg = rights.apply(
        session, gw, actor_id=None, product=product, holder=world.holder, rights=["holding", "operating"]
    )
    rights.certify(session, gw, actor_id=None, registration=reg)
    first = reg.certificate
    assert certificates.verify(gw, first).payload["status"] == "registered"
    rights.license_rights(
        session,
        gw,
        actor_id=None,
        registration=reg,
        licensee=world.broker,
        rights=["operating"],
        until=reg.created_at,
    )
    objection = rights.file_objection(
        session, gw, actor_id=None, objector_name="某公司", registration=reg, reason="数据系我方采集"
    )
    assert certificates.verify(gw, reg.certificate).payload["status"] == "objected"
    with pytest.raises(InvalidTransition):
        rights.transfer_rights(session, gw, actor_id=None, registration=reg, to=world.buyer_org)
    rights.decide_objection(
        session, gw, actor_id=None, objection=objection, upheld=False, resolution="证据不足"
    )
    rights.transfer_rights(session, gw, actor_id=None, registration=reg, to=world.buyer_org)
    payload = certificates.verify(gw, reg.certificate).payload
    assert (
        payload["holder"]["id"] == str(world.buyer_org.id)
        and payload["licenses"][0]["licensee"] == world.broker.name
    )
    rights.cancel_registration(session, gw, actor_id=None, registration=reg, reason="注销")
    assert certificates.verify(gw, reg.certificate).payload["status"] == "cancelled"
    assert certificates.verify(gw, first).payload["version"] == 1 < reg.certificate_version
    kinds = [e.kind for e in rights.events_of(session, reg)]
    assert kinds == ["apply", "register", "license", "objection", "objection_dismissed", "transfer", "cancel"]
    with pytest.raises(CertificateInvalid):
        certificates.verify(gateway(), first[:-4] + "abcd")


def test_cancel_and_refund_before_delivery_only(session: Session, storage: LocalStorage) -> None:
    world, product, p = listed(session, storage)
    gw, buyer = gateway(), world.users["buyer"].id

    def paid() -> orders.ExchangeOrder:
        order = orders.place_order(
            session,
            gw,
            actor_id=buyer,
            product=product,
            plan=p,
            buyer_org=world.buyer_org,
            buyer_user_id=buyer,
            settings=ExchangeSettings(),
        )
        orders.accept_contract(session, gw, actor_id=buyer, order=order, side="buyer")
        orders.accept_contract(session, gw, actor_id=None, order=order, side="seller")
        return orders.record_payment(session, gw, actor_id=buyer, order=order, amount_fen=p.price_fen)

    unpaid = orders.place_order(
        session,
        gw,
        actor_id=buyer,
        product=product,
        plan=p,
        buyer_org=world.buyer_org,
        buyer_user_id=buyer,
        settings=ExchangeSettings(),
    )
    assert orders.cancel_order(session, gw, actor_id=buyer, order=unpaid).status == "cancelled"
    first = paid()
    assert orders.cancel_order(session, gw, actor_id=buyer, order=first).status == "refunded"
    assert gw.usage(session, grant_id=first.grant_id).state == "revoked"
    assert settlement.balances(session).get(f"buyer:{world.buyer_org.id}", 0) == 0
    second = paid()
    gw.consume_query(session, grant_id=second.grant_id, actor_id=buyer)  # something was delivered
    with pytest.raises(InvalidTransition):
        orders.cancel_order(session, gw, actor_id=buyer, order=second)
    with pytest.raises(InvalidProduct):  # a seller cannot buy its own product
        orders.place_order(
            session,
            gw,
            actor_id=None,
            product=product,
            plan=p,
            buyer_org=world.broker,
            buyer_user_id=buyer,
            settings=ExchangeSettings(),
        )
