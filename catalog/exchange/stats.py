"""Statistics of the exchange for the operator and the regulator: turnover, top products and sellers."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from catalog.exchange.models import DataProduct, Dispute, DisputeState, ExchangeOrder, OrderStatus
from catalog.models import Organization

# Orders whose money changed hands and stayed there (refunds do not count as turnover).
TURNOVER = (
    OrderStatus.ACTIVE.value,
    OrderStatus.RECEIVED.value,
    OrderStatus.EXPIRED.value,
    OrderStatus.REVOKED.value,
)


@dataclass
class ExchangeStats:
    """Turnover by month and category, top products and sellers, open disputes; amounts in fen."""

    orders: int = 0
    turnover_fen: int = 0
    commission_fen: int = 0
    by_month: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    top_products: list[dict[str, object]] = field(default_factory=list)
    top_sellers: list[dict[str, object]] = field(default_factory=list)
    open_disputes: int = 0
    listed_products: int = 0


def exchange_stats(session: Session, *, top: int = 10) -> ExchangeStats:
    """Figures over every paid, unrefunded order (targeted grants count as orders of price 0)."""
    stats = ExchangeStats()
    orders = list(
        session.exec(
            select(ExchangeOrder).where(
                col(ExchangeOrder.status).in_(list(TURNOVER)), col(ExchangeOrder.paid_at).is_not(None)
            )
        )
    )
    by_month: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    by_product: Counter[uuid.UUID] = Counter()
    by_seller: Counter[uuid.UUID] = Counter()
    counts: Counter[uuid.UUID] = Counter()
    for order in orders:
        assert order.paid_at is not None
        stats.orders += 1
        stats.turnover_fen += order.price_fen
        stats.commission_fen += order.exchange_fee_fen
        by_month[f"{order.paid_at:%Y-%m}"] += order.price_fen
        by_category[order.category or "—"] += order.price_fen
        by_product[order.product_id] += order.price_fen
        counts[order.product_id] += 1
        by_seller[order.seller_org_id] += order.price_fen
    stats.by_month = dict(sorted(by_month.items()))
    stats.by_category = dict(sorted(by_category.items(), key=lambda kv: -kv[1]))
    products = {p.id: p for p in session.exec(select(DataProduct))}
    orgs = {
        o.id: o for o in session.exec(select(Organization).where(col(Organization.id).in_(list(by_seller))))
    }
    stats.top_products = [
        {
            "name": products[pid].name,
            "title": products[pid].title,
            "turnover_fen": amount,
            "orders": counts[pid],
        }
        for pid, amount in sorted(by_product.items(), key=lambda kv: (-kv[1], -counts[kv[0]]))[:top]
        if pid in products
    ]
    stats.top_sellers = [
        {"name": orgs[oid].name, "title": orgs[oid].title, "turnover_fen": amount}
        for oid, amount in by_seller.most_common(top)
        if oid in orgs
    ]
    stats.open_disputes = len(
        list(session.exec(select(Dispute.id).where(col(Dispute.state) != DisputeState.RESOLVED.value)))
    )
    stats.listed_products = sum(1 for p in products.values() if p.status == "listed")
    return stats
