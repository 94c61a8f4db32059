"""Orders: contract, payment, entitlement, receipt and settlement, cancellation and refund,
revocation, expiry, disputes, targeted grants, and sandbox queries under an entitlement.

    order = place_order(session, gw, actor_id=u, product=p, plan=plan, buyer_org=org, buyer_user_id=u, ...)
    accept_contract(session, gw, actor_id=u, order=order, side="buyer")
    accept_contract(session, gw, actor_id=s, order=order, side="seller")
    record_payment(session, gw, actor_id=u, order=order, amount_fen=order.price_fen, payment_ref="...")
    confirm_receipt(session, gw, actor_id=u, order=order)   # settles and issues the 交易凭证

The entitlement is a grant held by the ordering user (auth.grants, source "purchase" or "targeted"):
downloads and data API calls under it pass the same policy, quotas and audit as any other grant.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from catalog import ledger, service
from catalog.exchange import certificates, settlement
from catalog.exchange.errors import (
    DisputeNotFound,
    InvalidProduct,
    InvalidTransition,
    OrderNotFound,
    SandboxRefused,
)
from catalog.exchange.models import (
    Contract,
    DataProduct,
    DeliveryMode,
    Dispute,
    DisputeOutcome,
    DisputeState,
    ExchangeOrder,
    OrderStatus,
    PricePlan,
    ProductStatus,
    SellerRole,
)
from catalog.exchange.ports import Gateway
from catalog.exchange.products import _record
from catalog.exchange.sandbox import AggregateQuery, AggregateResult, compile_aggregate, run_aggregate
from catalog.exchange.settings import ExchangeSettings
from catalog.models import Organization, aware, utcnow

CONTRACT_TEMPLATE_VERSION = "2025.1"
BUYER, SELLER = "buyer", "seller"
IN_FORCE = (OrderStatus.ACTIVE.value, OrderStatus.RECEIVED.value)

CONTRACT_TEMPLATE = """数据产品交易合同 / Data Product Transaction Contract
合同编号 / No.: {number}    模板版本 / Template: {template}

甲方（卖方） / Seller: {seller} ({seller_role}){holder_clause}
乙方（买方） / Buyer: {buyer}
交易机构 / Exchange: 大数据交易中心 (dataledger exchange)

一、交易标的 / Product: {product} ({product_name})
二、价格方案 / Plan: {plan} — {kind}; 价格 / price: ¥{price} ({price_fen} 分)
三、交付方式 / Delivery: {modes}; 额度 / quotas: 下载 downloads {downloads}, 调用 queries {queries}
四、使用期限 / Term: 自付款之日起 {period_days} 日 / {period_days} days from payment
五、使用范围 / Scope of use: {scope}
六、使用限制 / Restrictions: {restrictions}
七、禁止转售 / No resale: 乙方不得以任何形式转售、转让、再许可或公开本数据产品及其副本；
    The buyer shall not resell, transfer, sublicense or publish the product or any copy of it.
八、佣金 / Commissions: 交易机构佣金 ¥{exchange_fee}，经纪佣金 ¥{broker_fee}，卖方净得 ¥{seller_net}
九、争议解决 / Disputes: 提交交易机构调解处理 / referred to the exchange for resolution.
"""


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def get_order(session: Session, ref: str | uuid.UUID) -> ExchangeOrder | None:
    """An order by id or number, or None."""
    return service.by_id_or_key(session, ExchangeOrder, ref, "number")


def require_order(session: Session, ref: str | uuid.UUID) -> ExchangeOrder:
    """An order by id or number; raises OrderNotFound."""
    order = get_order(session, ref)
    if order is None:
        raise OrderNotFound(f"订单不存在 / order not found: {ref}")
    return order


def contract_of(session: Session, order: ExchangeOrder) -> Contract | None:
    """The order's contract."""
    return session.exec(select(Contract).where(Contract.order_id == order.id)).first()


def orders_of_org(session: Session, org_id: uuid.UUID) -> list[ExchangeOrder]:
    """Orders where the organization buys, sells or holds, newest first."""
    stmt = select(ExchangeOrder).where(
        (col(ExchangeOrder.buyer_org_id) == org_id)
        | (col(ExchangeOrder.seller_org_id) == org_id)
        | (col(ExchangeOrder.holder_org_id) == org_id)
    )
    return list(session.exec(stmt.order_by(col(ExchangeOrder.created_at).desc())))


def _change(
    session: Session,
    gw: Gateway,
    order: ExchangeOrder,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    before: dict[str, Any],
    detail: dict[str, Any] | None = None,
) -> None:
    order.updated_at = utcnow()
    session.add(order)
    session.flush()
    _record(
        session,
        gw,
        actor_id=actor_id,
        action=action,
        subject=order,
        org_id=order.seller_org_id,
        before=before,
        detail={"number": order.number, "status": order.status, **(detail or {})},
    )
    session.flush()


def _require(order: ExchangeOrder, *allowed: OrderStatus, what: str) -> None:
    if order.status not in {s.value for s in allowed}:
        raise InvalidTransition(
            f"订单状态为 {order.status}，不能{what} / order is {order.status}: cannot {what}"
        )


def _new_order(
    *,
    product: DataProduct,
    plan: PricePlan | None,
    buyer_org: Organization,
    buyer_user_id: uuid.UUID,
    price_fen: int,
    settings: ExchangeSettings,
    scope_of_use: str,
    period_days: int,
    download_quota: int | None,
    query_quota: int | None,
    actor_id: uuid.UUID | None,
    targeted: bool = False,
) -> ExchangeOrder:
    if buyer_org.id in (product.seller_org_id, product.holder_org_id):
        raise InvalidProduct("a seller does not buy its own product / 卖方不能购买自己的产品")
    broker = product.seller_org_id if product.seller_role != SellerRole.HOLDER.value else None
    parts = settlement.split(
        price_fen,
        commission_bp=settings.commission_bp,
        broker_commission_bp=settings.broker_commission_bp,
        has_broker=broker is not None,
    )
    now = utcnow()
    return ExchangeOrder(
        number=f"DX{now:%Y%m%d}{secrets.token_hex(4).upper()}",
        product_id=product.id,
        plan_id=plan.id if plan else None,
        buyer_org_id=buyer_org.id,
        buyer_user_id=buyer_user_id,
        seller_org_id=product.seller_org_id,
        holder_org_id=product.holder_org_id,
        broker_org_id=broker,
        targeted=targeted,
        category=product.category,
        price_fen=parts.price_fen,
        exchange_fee_fen=parts.exchange_fen,
        broker_fee_fen=parts.broker_fen,
        seller_net_fen=parts.seller_fen,
        scope_of_use=scope_of_use,
        period_days=period_days,
        download_quota=download_quota,
        query_quota=query_quota,
        created_by=actor_id,
    )


def render_contract(
    order: ExchangeOrder,
    *,
    product: DataProduct,
    plan_name: str,
    plan_kind: str,
    seller: Organization,
    holder: Organization,
    buyer: Organization,
) -> tuple[dict[str, Any], str]:
    """The contract's terms and text, from the template."""
    terms = {
        "number": order.number,
        "template": CONTRACT_TEMPLATE_VERSION,
        "seller": seller.title,
        "seller_role": product.seller_role,
        "holder_clause": ""
        if holder.id == seller.id
        else f"\n数据持有方 / Holder: {holder.title}（经授权代理 / acting under authorization）",
        "buyer": buyer.title,
        "product": product.title,
        "product_name": product.name,
        "plan": plan_name,
        "kind": plan_kind,
        "price": _yuan(order.price_fen),
        "price_fen": order.price_fen,
        "modes": ", ".join(product.delivery_modes),
        "downloads": "不限 unlimited" if order.download_quota is None else order.download_quota,
        "queries": "不限 unlimited" if order.query_quota is None else order.query_quota,
        "period_days": order.period_days,
        "scope": order.scope_of_use or "仅限乙方内部使用 / internal use by the buyer only",
        "restrictions": product.spec.get("usage_restrictions") or "—",
        "exchange_fee": _yuan(order.exchange_fee_fen),
        "broker_fee": _yuan(order.broker_fee_fen),
        "seller_net": _yuan(order.seller_net_fen),
        "no_resale": True,
    }
    return terms, CONTRACT_TEMPLATE.format(**terms)


def _make_contract(
    session: Session, order: ExchangeOrder, product: DataProduct, plan_name: str, plan_kind: str
) -> Contract:
    seller = session.get(Organization, order.seller_org_id)
    holder = session.get(Organization, order.holder_org_id)
    buyer = session.get(Organization, order.buyer_org_id)
    assert seller is not None and holder is not None and buyer is not None
    terms, text = render_contract(
        order,
        product=product,
        plan_name=plan_name,
        plan_kind=plan_kind,
        seller=seller,
        holder=holder,
        buyer=buyer,
    )
    contract = Contract(
        order_id=order.id,
        template_version=CONTRACT_TEMPLATE_VERSION,
        terms=terms,
        text=text,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    session.add(contract)
    return contract


def place_order(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    plan: PricePlan,
    buyer_org: Organization,
    buyer_user_id: uuid.UUID,
    settings: ExchangeSettings,
    scope_of_use: str = "",
) -> ExchangeOrder:
    """Order a plan of a listed product; the contract is drawn up for both sides to accept."""
    if product.status != ProductStatus.LISTED.value:
        raise InvalidTransition("only listed products can be ordered / 仅已挂牌产品可下单")
    if plan.product_id != product.id or not plan.active:
        raise InvalidProduct("the plan is not on offer for this product / 价格方案无效")
    order = _new_order(
        product=product,
        plan=plan,
        buyer_org=buyer_org,
        buyer_user_id=buyer_user_id,
        price_fen=plan.price_fen,
        settings=settings,
        scope_of_use=scope_of_use,
        period_days=plan.period_days,
        download_quota=plan.download_quota,
        query_quota=plan.query_quota,
        actor_id=actor_id,
    )
    session.add(order)
    session.flush()
    _make_contract(session, order, product, plan.name, plan.kind)
    _change(
        session,
        gw,
        order,
        "exchange.order.create",
        actor_id=actor_id,
        before={},
        detail={"price_fen": order.price_fen},
    )
    return order


def accept_contract(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, order: ExchangeOrder, side: str
) -> Contract:
    """One side accepts the contract; once both have, the order awaits payment."""
    _require(order, OrderStatus.PENDING_CONTRACT, what="accept the contract")
    contract = contract_of(session, order)
    assert contract is not None
    now = utcnow()
    if side == BUYER:
        contract.buyer_accepted_by, contract.buyer_accepted_at = actor_id, now
    elif side == SELLER:
        contract.seller_accepted_by, contract.seller_accepted_at = actor_id, now
    else:
        raise InvalidProduct(f"side must be buyer or seller, not {side!r}")
    session.add(contract)
    before = ledger.snapshot(order)
    if contract.buyer_accepted_at and contract.seller_accepted_at:
        order.status = OrderStatus.PENDING_PAYMENT.value
    _change(
        session,
        gw,
        order,
        "exchange.contract.accept",
        actor_id=actor_id,
        before=before,
        detail={"side": side, "contract_sha256": contract.text_sha256},
    )
    return contract


def _open_entitlement(
    session: Session,
    gw: Gateway,
    order: ExchangeOrder,
    product: DataProduct,
    *,
    source: str,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> None:
    modes = set(product.delivery_modes)
    if modes & {DeliveryMode.FILE.value, DeliveryMode.API.value}:
        covered = [uuid.UUID(x) for x in product.dataset_ids]
    else:
        # Sandbox-only: the grant covers the product's id, which is no dataset, so it opens no files
        # or rows through the policy; it carries the period and the query quota the sandbox spends.
        covered = [product.id]
    order.valid_from = now
    order.valid_to = now + timedelta(days=order.period_days)
    order.grant_id = gw.grant(
        session,
        user_id=order.buyer_user_id,
        organization_id=order.buyer_org_id,
        dataset_ids=covered,
        source=source,
        source_id=order.id,
        valid_from=order.valid_from,
        valid_to=order.valid_to,
        download_quota=order.download_quota,
        query_quota=order.query_quota,
        allowed_use=order.scope_of_use,
        actor_id=actor_id,
    )


def record_payment(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    order: ExchangeOrder,
    amount_fen: int,
    payment_ref: str = "",
    now: datetime | None = None,
) -> ExchangeOrder:
    """Record the buyer's payment into escrow (simulated) and open the entitlement."""
    _require(order, OrderStatus.PENDING_PAYMENT, what="pay")
    if amount_fen != order.price_fen:
        raise InvalidProduct(
            f"amount {amount_fen} does not match the price {order.price_fen} (fen) / 金额与价格不符"
        )
    product = session.get(DataProduct, order.product_id)
    assert product is not None
    moment = aware(now) if now else utcnow()
    before = ledger.snapshot(order)
    order.paid_at = moment
    order.payment_ref = payment_ref[:100] or f"SIM-{secrets.token_hex(6).upper()}"
    settlement.post_payment(session, order, at=moment)
    _open_entitlement(session, gw, order, product, source="purchase", actor_id=actor_id, now=moment)
    order.status = OrderStatus.ACTIVE.value
    _change(
        session,
        gw,
        order,
        "exchange.order.pay",
        actor_id=actor_id,
        before=before,
        detail={"amount_fen": amount_fen, "grant": str(order.grant_id)},
    )
    return order


def _settle(session: Session, gw: Gateway, order: ExchangeOrder, *, now: datetime) -> None:
    """Pay out of escrow and issue the transaction certificate (交易凭证)."""
    if order.settled_at is not None:
        return
    settlement.post_settlement(session, order, at=now)
    order.settled_at = now
    product = session.get(DataProduct, order.product_id)
    buyer = session.get(Organization, order.buyer_org_id)
    seller = session.get(Organization, order.seller_org_id)
    contract = contract_of(session, order)
    assert product is not None and buyer is not None and seller is not None
    payload = certificates.transaction_payload(
        order,
        product=product,
        buyer=buyer,
        seller=seller,
        contract_sha256=contract.text_sha256 if contract else "",
        issued_at=now,
    )
    order.certificate = gw.sign(payload)


def confirm_receipt(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    order: ExchangeOrder,
    now: datetime | None = None,
) -> ExchangeOrder:
    """The buyer confirms receipt: the order settles and the transaction certificate is issued."""
    _require(order, OrderStatus.ACTIVE, what="confirm receipt")
    moment = aware(now) if now else utcnow()
    before = ledger.snapshot(order)
    order.received_at = moment
    order.status = OrderStatus.RECEIVED.value
    _settle(session, gw, order, now=moment)
    _change(session, gw, order, "exchange.order.settle", actor_id=actor_id, before=before)
    return order


def cancel_order(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, order: ExchangeOrder, reason: str = ""
) -> ExchangeOrder:
    """Cancel before payment, or before delivery with a refund; after delivery, open a dispute instead."""
    before = ledger.snapshot(order)
    now = utcnow()
    if order.status in (OrderStatus.PENDING_CONTRACT.value, OrderStatus.PENDING_PAYMENT.value):
        order.status = OrderStatus.CANCELLED.value
        order.cancelled_at = now
        _change(
            session,
            gw,
            order,
            "exchange.order.cancel",
            actor_id=actor_id,
            before=before,
            detail={"reason": reason},
        )
        return order
    _require(order, OrderStatus.ACTIVE, what="cancel")
    assert order.grant_id is not None
    if gw.usage(session, grant_id=order.grant_id).used or order.targeted:
        raise InvalidTransition("already delivered: open a dispute instead / 已交付，不能取消，请提起争议")
    gw.revoke(
        session, grant_id=order.grant_id, reason=f"order cancelled / 订单取消: {reason}", actor_id=actor_id
    )
    settlement.post_refund(session, order, at=now)
    order.status = OrderStatus.REFUNDED.value
    order.cancelled_at = order.refunded_at = now
    _change(
        session,
        gw,
        order,
        "exchange.order.refund",
        actor_id=actor_id,
        before=before,
        detail={"reason": reason},
    )
    return order


def revoke_entitlement(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, order: ExchangeOrder, reason: str
) -> ExchangeOrder:
    """The seller or the operator revokes an entitlement, with a reason; delivery stops at once."""
    if not reason.strip():
        raise InvalidProduct("a revocation states its reason / 撤销须说明理由")
    _require(order, OrderStatus.ACTIVE, OrderStatus.RECEIVED, what="revoke")
    before = ledger.snapshot(order)
    assert order.grant_id is not None
    gw.revoke(session, grant_id=order.grant_id, reason=reason, actor_id=actor_id)
    order.status = OrderStatus.REVOKED.value
    order.revoked_at, order.revoke_reason = utcnow(), reason[:1000]
    _change(
        session,
        gw,
        order,
        "exchange.order.revoke",
        actor_id=actor_id,
        before=before,
        detail={"reason": reason},
    )
    return order


def expire_orders(session: Session, gw: Gateway, *, now: datetime | None = None) -> list[ExchangeOrder]:
    """Mark orders whose term is over as expired (a periodic job); unsettled undisputed ones settle.

    Delivery already stops at the term's end without this job: the grant's own period ends then.
    """
    moment = aware(now) if now else utcnow()
    stmt = select(ExchangeOrder).where(
        col(ExchangeOrder.status).in_(list(IN_FORCE)), col(ExchangeOrder.valid_to) <= moment
    )
    expired = list(session.exec(stmt))
    for order in expired:
        before = ledger.snapshot(order)
        order.status = OrderStatus.EXPIRED.value
        if not open_disputes(session, order_id=order.id):
            _settle(session, gw, order, now=moment)
        _change(session, gw, order, "exchange.order.expire", actor_id=None, before=before)
    return expired


def grant_targeted(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    buyer_org: Organization,
    buyer_user_id: uuid.UUID,
    period_days: int,
    download_quota: int | None,
    query_quota: int | None,
    scope_of_use: str,
    settings: ExchangeSettings,
) -> ExchangeOrder:
    """定向授权: the seller grants a listed product free to a named buyer (contract accepted by the seller)."""
    if product.status != ProductStatus.LISTED.value:
        raise InvalidTransition("only listed (reviewed) products can be granted / 仅已挂牌产品可定向授权")
    if period_days < 1:
        raise InvalidProduct("period_days must be at least 1")
    order = _new_order(
        product=product,
        plan=None,
        buyer_org=buyer_org,
        buyer_user_id=buyer_user_id,
        price_fen=0,
        settings=settings,
        scope_of_use=scope_of_use,
        period_days=period_days,
        download_quota=download_quota,
        query_quota=query_quota,
        actor_id=actor_id,
        targeted=True,
    )
    session.add(order)
    session.flush()
    contract = _make_contract(session, order, product, "定向授权 / targeted grant", "targeted")
    contract.seller_accepted_by, contract.seller_accepted_at = actor_id, utcnow()
    now = utcnow()
    order.paid_at = now
    _open_entitlement(session, gw, order, product, source="targeted", actor_id=actor_id, now=now)
    order.status = OrderStatus.ACTIVE.value
    _change(
        session,
        gw,
        order,
        "exchange.order.targeted_grant",
        actor_id=actor_id,
        before={},
        detail={"grant": str(order.grant_id)},
    )
    return order


# --- disputes -----------------------------------------------------------------------------------


def open_disputes(session: Session, *, order_id: uuid.UUID | None = None) -> list[Dispute]:
    """Disputes not yet resolved (of one order, or all), oldest first."""
    stmt = select(Dispute).where(col(Dispute.state) != DisputeState.RESOLVED.value)
    if order_id is not None:
        stmt = stmt.where(Dispute.order_id == order_id)
    return list(session.exec(stmt.order_by(col(Dispute.created_at))))


def disputes_of(session: Session, order: ExchangeOrder) -> list[Dispute]:
    """Every dispute of an order, oldest first."""
    stmt = select(Dispute).where(Dispute.order_id == order.id).order_by(col(Dispute.created_at))
    return list(session.exec(stmt))


def require_dispute(session: Session, dispute_id: uuid.UUID) -> Dispute:
    """One dispute; raises DisputeNotFound."""
    found = session.get(Dispute, dispute_id)
    if found is None:
        raise DisputeNotFound(f"争议不存在 / dispute not found: {dispute_id}")
    return found


def open_dispute(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, order: ExchangeOrder, side: str, reason: str
) -> Dispute:
    """The buyer or the seller opens a dispute over a paid order."""
    if side not in (BUYER, SELLER):
        raise InvalidProduct(f"side must be buyer or seller, not {side!r}")
    if not reason.strip():
        raise InvalidProduct("a dispute states its grounds / 争议须说明理由")
    _require(
        order,
        OrderStatus.ACTIVE,
        OrderStatus.RECEIVED,
        OrderStatus.EXPIRED,
        OrderStatus.REVOKED,
        what="dispute",
    )
    if open_disputes(session, order_id=order.id):
        raise InvalidTransition("a dispute over this order is open already / 该订单已有未结争议")
    dispute = Dispute(order_id=order.id, opened_by=actor_id, opener_side=side, reason=reason)
    session.add(dispute)
    session.flush()
    _record(
        session,
        gw,
        actor_id=actor_id,
        action="exchange.dispute.open",
        subject=dispute,
        org_id=order.seller_org_id,
        detail={"order": order.number, "side": side},
    )
    session.flush()
    return dispute


def answer_dispute(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, dispute: Dispute, side: str, answer: str
) -> Dispute:
    """The other side answers a dispute."""
    if dispute.state != DisputeState.OPEN.value:
        raise InvalidTransition(f"dispute is {dispute.state}: cannot answer")
    if side == dispute.opener_side:
        raise InvalidProduct("the other side answers a dispute / 争议须由对方答复")
    before = ledger.snapshot(dispute)
    dispute.answer, dispute.answered_by, dispute.answered_at = answer, actor_id, utcnow()
    dispute.state = DisputeState.ANSWERED.value
    session.add(dispute)
    order = session.get(ExchangeOrder, dispute.order_id)
    assert order is not None
    _record(
        session,
        gw,
        actor_id=actor_id,
        action="exchange.dispute.answer",
        subject=dispute,
        org_id=order.seller_org_id,
        before=before,
    )
    session.flush()
    return dispute


def resolve_dispute(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    dispute: Dispute,
    outcome: str,
    resolution: str,
) -> Dispute:
    """The operator resolves a dispute: no action, revoke the entitlement, or refund (revoke and repay)."""
    if dispute.state == DisputeState.RESOLVED.value:
        raise InvalidTransition("dispute is resolved already")
    result = DisputeOutcome(outcome)
    order = session.get(ExchangeOrder, dispute.order_id)
    assert order is not None
    now = utcnow()
    order_before = ledger.snapshot(order)
    if result in (DisputeOutcome.REVOKE, DisputeOutcome.REFUND) and order.grant_id is not None:
        gw.revoke(
            session,
            grant_id=order.grant_id,
            reason=f"dispute resolved / 争议裁决: {resolution}",
            actor_id=actor_id,
        )
        if order.status in IN_FORCE:
            order.status = OrderStatus.REVOKED.value
            order.revoked_at, order.revoke_reason = now, resolution[:1000]
    if result == DisputeOutcome.REFUND and order.refunded_at is None and order.paid_at is not None:
        if order.settled_at is None:
            settlement.post_refund(session, order, at=now)
        else:
            settlement.post_clawback(session, order, at=now)
        order.refunded_at = now
        order.status = OrderStatus.REFUNDED.value
    before = ledger.snapshot(dispute)
    dispute.state = DisputeState.RESOLVED.value
    dispute.outcome, dispute.resolution = result.value, resolution
    dispute.resolved_by, dispute.resolved_at = actor_id, now
    session.add(dispute)
    _record(
        session,
        gw,
        actor_id=actor_id,
        action="exchange.dispute.resolve",
        subject=dispute,
        org_id=order.seller_org_id,
        before=before,
        detail={"outcome": result.value},
    )
    if order_before != ledger.snapshot(order):
        _change(
            session,
            gw,
            order,
            "exchange.order.dispute_outcome",
            actor_id=actor_id,
            before=order_before,
            detail={"outcome": result.value},
        )
    session.flush()
    return dispute


def order_record(session: Session, order: ExchangeOrder) -> dict[str, Any]:
    """The full record of an order for the operator: contract, clearing postings, disputes, ledger."""
    from catalog.models import LedgerEntry

    subjects = [order.id, *[d.id for d in disputes_of(session, order)]]
    entries = session.exec(
        select(LedgerEntry).where(col(LedgerEntry.subject_id).in_(subjects)).order_by(col(LedgerEntry.id))
    ).all()
    contract = contract_of(session, order)
    return {
        "order": order.model_dump(mode="json", exclude={"certificate"}),
        "contract": contract.model_dump(mode="json") if contract else None,
        "clearing": [e.model_dump(mode="json") for e in settlement.entries_of(session, order.id)],
        "disputes": [d.model_dump(mode="json") for d in disputes_of(session, order)],
        "ledger": [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "action": e.action,
                "actor_id": str(e.actor_id) if e.actor_id else None,
            }
            for e in entries
        ],
    }


# --- sandbox ------------------------------------------------------------------------------------


def sandbox_query(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID,
    order: ExchangeOrder,
    dataset_id: uuid.UUID,
    table_path: Path,
    query: AggregateQuery,
    settings: ExchangeSettings,
) -> AggregateResult:
    """Run an aggregate query for the buyer under the order's entitlement: checked, counted, audited."""
    _require(order, OrderStatus.ACTIVE, OrderStatus.RECEIVED, what="query")
    if actor_id != order.buyer_user_id:
        raise InvalidTransition("only the ordering user queries under this entitlement / 仅下单用户可查询")
    product = session.get(DataProduct, order.product_id)
    assert product is not None
    if DeliveryMode.SANDBOX.value not in product.delivery_modes:
        raise SandboxRefused("this product is not delivered through the sandbox / 该产品不提供沙箱查询")
    if str(dataset_id) not in product.dataset_ids:
        raise SandboxRefused("the table is not part of this product / 该数据表不属于本产品")
    compile_aggregate(table_path, query)  # a malformed query spends no quota
    assert order.grant_id is not None
    gw.consume_query(session, grant_id=order.grant_id, actor_id=actor_id)
    result = run_aggregate(
        table_path, query, k=settings.sandbox_min_group_size, max_groups=settings.sandbox_max_groups
    )
    gw.audit(
        session,
        action="exchange.sandbox.query",
        actor_id=actor_id,
        object_type="exchangeorder",
        object_id=str(order.id),
        detail={
            "dataset": str(dataset_id),
            "query": query.model_dump(mode="json"),
            "groups": len(result.rows),
            "withheld_groups": result.withheld_groups,
            "k": result.k,
        },
    )
    session.flush()
    return result
