"""Signed certificates: 数据产权登记证书 and 交易凭证, verifiable offline with the exchange's public key.

A certificate is a compact JWS over a JSON payload (signed by the Gateway, i.e. auth.tokens). With
RS256 keys configured anyone holding the public key can verify it offline; the verification page
additionally shows the registration's or order's current status, since a certificate is a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from catalog.exchange.errors import CertificateInvalid
from catalog.exchange.models import DataProduct, ExchangeOrder, RightsRegistration
from catalog.exchange.ports import Gateway
from catalog.models import Organization

RIGHTS = "dataledger.rights-certificate"
TRANSACTION = "dataledger.transaction-certificate"
ISSUER = "dataledger exchange / 大数据交易中心"


@dataclass(frozen=True, slots=True)
class Verified:
    """A certificate whose signature verified, with its payload."""

    kind: str
    number: str
    payload: dict[str, Any]


def rights_payload(
    registration: RightsRegistration,
    *,
    product: DataProduct,
    holder: Organization,
    issued_at: datetime,
) -> dict[str, Any]:
    """What a rights certificate states."""
    return {
        "typ": RIGHTS,
        "iss": ISSUER,
        "no": registration.number,
        "version": registration.certificate_version,
        "status": registration.state,
        "product": {"id": str(product.id), "name": product.name, "title": product.title},
        "holder": {
            "id": str(holder.id),
            "name": holder.name,
            "title": holder.title,
            "credit_code": holder.credit_code,
        },
        "rights": sorted(registration.rights),
        "licenses": registration.licenses,
        "data_sha256": registration.data_sha256,
        "issued_at": issued_at.isoformat(),
    }


def transaction_payload(
    order: ExchangeOrder,
    *,
    product: DataProduct,
    buyer: Organization,
    seller: Organization,
    contract_sha256: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """What a transaction certificate states."""
    return {
        "typ": TRANSACTION,
        "iss": ISSUER,
        "no": order.number,
        "product": {"id": str(product.id), "name": product.name, "title": product.title},
        "buyer": {"id": str(buyer.id), "name": buyer.name, "title": buyer.title},
        "seller": {"id": str(seller.id), "name": seller.name, "title": seller.title},
        "price_fen": order.price_fen,
        "split": {
            "exchange_fen": order.exchange_fee_fen,
            "broker_fen": order.broker_fee_fen,
            "seller_fen": order.seller_net_fen,
        },
        "contract_sha256": contract_sha256,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "settled_at": issued_at.isoformat(),
        "issued_at": issued_at.isoformat(),
    }


def verify(gateway: Gateway, token: str) -> Verified:
    """Verify any exchange certificate; raises CertificateInvalid when it was forged or altered."""
    try:
        payload = gateway.verify(token.strip())
    except Exception as exc:  # the gateway raises its own (auth) error types
        raise CertificateInvalid(f"证书验签失败 / certificate does not verify: {exc}") from exc
    kind = payload.get("typ")
    if kind not in (RIGHTS, TRANSACTION) or not payload.get("no"):
        raise CertificateInvalid("不是本交易中心的证书 / not an exchange certificate")
    return Verified(kind=str(kind), number=str(payload["no"]), payload=payload)
