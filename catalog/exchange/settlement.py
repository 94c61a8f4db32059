"""Commission splits and the clearing ledger (simulated settlement; states and amounts are real).

Remainder rule: each commission is the price times its rate in basis points, divided by 10 000 and
rounded DOWN (integer division on fen); the seller receives the rest. So the three parts are never
negative and always sum to the price exactly: exchange + broker + seller == price.

The clearing ledger is double-entry: every transfer posts entries that sum to zero. Payment moves
the price from the buyer to escrow; settlement moves it out of escrow to the exchange, the broker
and the seller; a refund moves it back to the buyer (from escrow, or
from every party of a settled order).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from catalog.exchange.errors import InvalidProduct
from catalog.exchange.models import ESCROW, EXCHANGE_FEES, ClearingEntry, ExchangeOrder

BP = 10_000


@dataclass(frozen=True, slots=True)
class Split:
    """A price split into the exchange's commission, the broker's commission and the seller's share."""

    price_fen: int
    exchange_fen: int
    broker_fen: int
    seller_fen: int


def split(price_fen: int, *, commission_bp: int, broker_commission_bp: int, has_broker: bool) -> Split:
    """Split a price (fen) by the remainder rule: commissions round down, the seller gets the rest."""
    if price_fen < 0:
        raise InvalidProduct("price must not be negative / 价格不能为负")
    for rate in (commission_bp, broker_commission_bp):
        if not 0 <= rate <= BP:
            raise InvalidProduct("commission rates are 0..10000 basis points")
    exchange = price_fen * commission_bp // BP
    broker = price_fen * broker_commission_bp // BP if has_broker else 0
    if exchange + broker > price_fen:  # only when the two rates together exceed 100 %
        broker = price_fen - exchange
    return Split(price_fen, exchange, broker, price_fen - exchange - broker)


def org_account(kind: str, org_id: uuid.UUID) -> str:
    """The clearing account of an organization in one role: buyer, seller or broker."""
    return f"{kind}:{org_id}"


def _post(
    session: Session, order: ExchangeOrder, kind: str, legs: list[tuple[str, int]], at: datetime
) -> list[ClearingEntry]:
    if sum(amount for _account, amount in legs) != 0:
        raise AssertionError("a clearing transfer must sum to zero")  # pragma: no cover - by construction
    transfer = uuid.uuid4()
    entries = [
        ClearingEntry(
            transfer_id=transfer, order_id=order.id, kind=kind, account=account, amount_fen=amount, at=at
        )
        for account, amount in legs
        if amount != 0
    ]
    session.add_all(entries)
    return entries


def post_payment(session: Session, order: ExchangeOrder, *, at: datetime) -> list[ClearingEntry]:
    """The buyer pays the price into escrow."""
    price = order.price_fen
    return _post(
        session, order, "payment", [(org_account("buyer", order.buyer_org_id), -price), (ESCROW, price)], at
    )


def post_settlement(session: Session, order: ExchangeOrder, *, at: datetime) -> list[ClearingEntry]:
    """Escrow pays out the exchange's and the broker's commissions and the seller's share."""
    legs = [(ESCROW, -order.price_fen), (EXCHANGE_FEES, order.exchange_fee_fen)]
    if order.broker_org_id is not None:
        legs.append((org_account("broker", order.broker_org_id), order.broker_fee_fen))
    legs.append((org_account("seller", order.holder_org_id), order.seller_net_fen))
    return _post(session, order, "settlement", legs, at)


def post_refund(session: Session, order: ExchangeOrder, *, at: datetime) -> list[ClearingEntry]:
    """Escrow returns the price to the buyer."""
    price = order.price_fen
    return _post(
        session, order, "refund", [(ESCROW, -price), (org_account("buyer", order.buyer_org_id), price)], at
    )


def post_clawback(session: Session, order: ExchangeOrder, *, at: datetime) -> list[ClearingEntry]:
    """Reverse a settlement to refund the buyer: each party returns exactly what it received."""
    legs = [(EXCHANGE_FEES, -order.exchange_fee_fen)]
    if order.broker_org_id is not None:
        legs.append((org_account("broker", order.broker_org_id), -order.broker_fee_fen))
    legs.append((org_account("seller", order.holder_org_id), -order.seller_net_fen))
    legs.append((org_account("buyer", order.buyer_org_id), order.price_fen))
    return _post(session, order, "refund", legs, at)


def entries_of(session: Session, order_id: uuid.UUID) -> list[ClearingEntry]:
    """The clearing postings of one order, in order."""
    stmt = select(ClearingEntry).where(ClearingEntry.order_id == order_id).order_by(col(ClearingEntry.id))
    return list(session.exec(stmt))


def balances(session: Session) -> dict[str, int]:
    """Every clearing account's balance in fen (they sum to zero)."""
    totals: dict[str, int] = defaultdict(int)
    for account, amount in session.exec(select(ClearingEntry.account, ClearingEntry.amount_fen)):
        totals[account] += amount
    return dict(totals)
