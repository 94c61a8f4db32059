"""Tables of the data exchange: products, rights, listings, plans, orders, contracts, clearing, disputes.

Money is integer fen (分) throughout. Cross-package references (users, grants) are plain UUID columns
without a ForeignKey; references inside the catalog (organizations) keep theirs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from catalog.models import UTCDateTime, utcnow


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _ts_opt(**kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kw)


# --- vocabularies -------------------------------------------------------------------------------


class SellerRole(StrEnum):
    """Who sells: the data holder itself, or an agent acting under a recorded authorization."""

    HOLDER = "holder"  # 数据持有方
    BROKER = "broker"  # 数据经纪人
    MERCHANT = "merchant"  # 数据商


class DeliveryMode(StrEnum):
    """How a product reaches its buyer."""

    FILE = "file"  # 文件下载
    API = "api"  # 数据接口
    SANDBOX = "sandbox"  # 沙箱查询 (可用不可见)


class ProductStatus(StrEnum):
    """挂牌审核: draft -> submitted -> listed | rejected; listed -> delisted."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    LISTED = "listed"
    REJECTED = "rejected"
    DELISTED = "delisted"


class AssessmentKind(StrEnum):
    """What a third-party service provider assessed."""

    COMPLIANCE = "compliance"  # 合规评估
    QUALITY = "quality"  # 质量评估
    ANONYMIZATION = "anonymization"  # 匿名化处理证明 (attestation)
    VALUATION = "valuation"  # 资产评估


class Conclusion(StrEnum):
    """An assessment's conclusion."""

    PASS = "pass"
    CONDITIONAL = "conditional"
    FAIL = "fail"


class Right(StrEnum):
    """三权分置: the three data rights a holder may register."""

    HOLDING = "holding"  # 数据资源持有权
    PROCESSING = "processing"  # 数据加工使用权
    OPERATING = "operating"  # 数据产品经营权


class RightsState(StrEnum):
    """Where a rights registration stands; the certificate carries it."""

    PENDING = "pending"  # applied, not yet certified by the operator
    REGISTERED = "registered"
    OBJECTED = "objected"  # a third party's objection is open
    CANCELLED = "cancelled"  # 注销 by the holder
    REVOKED = "revoked"  # 撤销 by the operator


class RightsEventKind(StrEnum):
    """Life events of a registration: 首次登记, 许可, 转让, 变更, 注销, 撤销, 异议."""

    APPLY = "apply"
    REGISTER = "register"
    LICENSE = "license"
    TRANSFER = "transfer"
    CHANGE = "change"
    CANCEL = "cancel"
    REVOKE = "revoke"
    OBJECTION = "objection"
    OBJECTION_UPHELD = "objection_upheld"
    OBJECTION_DISMISSED = "objection_dismissed"


class PlanKind(StrEnum):
    """Price plans."""

    FREE = "free"
    ONE_TIME = "one_time"  # N downloads within a period
    SUBSCRIPTION = "subscription"  # a period, updates included
    METERED = "metered"  # a quota of data API calls or sandbox queries


class OrderStatus(StrEnum):
    """Life of an order."""

    PENDING_CONTRACT = "pending_contract"  # both sides must accept the contract
    PENDING_PAYMENT = "pending_payment"
    ACTIVE = "active"  # paid, entitlement open
    RECEIVED = "received"  # buyer confirmed receipt; settled
    CANCELLED = "cancelled"  # before payment
    REFUNDED = "refunded"  # paid, cancelled before delivery, money returned
    REVOKED = "revoked"  # entitlement revoked by seller or operator
    EXPIRED = "expired"


class DisputeState(StrEnum):
    """Life of a dispute."""

    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"


class DisputeOutcome(StrEnum):
    """How the operator resolved a dispute."""

    NO_ACTION = "no_action"
    REFUND = "refund"  # buyer gets the price back, entitlement revoked
    REVOKE = "revoke"  # entitlement revoked, no refund


# Accounts of the clearing ledger; an organization's account is "<kind>:<org uuid>".
ESCROW = "escrow"  # 交易机构清算账户 (money held between payment and settlement)
EXCHANGE_FEES = "exchange"  # 交易机构佣金


# --- tables -------------------------------------------------------------------------------------


class BrokerAuthorization(SQLModel, table=True):
    """A holder's recorded authorization of a broker or data merchant: who, which data, until when."""

    __tablename__ = "exchange_authorization"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    holder_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    agent_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    agent_role: str = Field(default=SellerRole.BROKER.value, max_length=16)
    dataset_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    scope: str = Field(default="", sa_type=sa.Text)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_to: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = _ts_opt()
    revoke_reason: str = Field(default="", max_length=1000)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()


class DataProduct(SQLModel, table=True):
    """A data product (数据产品) with its specification (产品说明书) and listing state."""

    __tablename__ = "data_product"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    category: str = Field(default="", max_length=64, index=True)
    seller_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    holder_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    seller_role: str = Field(default=SellerRole.HOLDER.value, max_length=16)
    authorization_id: uuid.UUID | None = Field(default=None, foreign_key="exchange_authorization.id")
    dataset_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    delivery_modes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    spec: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # The seller's declaration, part of the review.
    contains_personal_info: bool = Field(default=False)
    contains_sensitive_personal_info: bool = Field(default=False)
    contains_important_data: bool = Field(default=False)
    anonymization_method: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default=ProductStatus.DRAFT.value, max_length=16, index=True)
    review_checklist: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    review_reasons: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    reviewed_by: uuid.UUID | None = Field(default=None)
    reviewed_at: datetime | None = _ts_opt()
    submitted_at: datetime | None = _ts_opt()
    listed_at: datetime | None = _ts_opt()
    delisted_at: datetime | None = _ts_opt()
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Assessment(SQLModel, table=True):
    """A compliance, quality or anonymization report a 第三方专业服务机构 attached to a product."""

    __tablename__ = "product_assessment"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(foreign_key="data_product.id", index=True)
    provider_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=300)
    conclusion: str = Field(max_length=16)
    summary: str = Field(default="", sa_type=sa.Text)
    report_sha256: str = Field(default="", max_length=64)
    report_url: str = Field(default="", max_length=2000)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()


class RightsRegistration(SQLModel, table=True):
    """数据产权登记 of one product; the certificate is re-issued at every life event."""

    __tablename__ = "rights_registration"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str | None = Field(default=None, max_length=40, unique=True)
    product_id: uuid.UUID = Field(foreign_key="data_product.id", index=True)
    holder_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    rights: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    data_sha256: str = Field(max_length=64)
    licenses: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    state: str = Field(default=RightsState.PENDING.value, max_length=16, index=True)
    certificate: str | None = Field(default=None, sa_type=sa.Text)
    certificate_version: int = Field(default=0)
    certified_at: datetime | None = _ts_opt()
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class RightsEvent(SQLModel, table=True):
    """One recorded event in a registration's life."""

    __tablename__ = "rights_event"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    registration_id: uuid.UUID = Field(foreign_key="rights_registration.id", index=True)
    kind: str = Field(max_length=24)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    actor_id: uuid.UUID | None = Field(default=None)
    at: datetime = _ts()


class RightsObjection(SQLModel, table=True):
    """A third party's objection (异议) to a registration, decided by the operator."""

    __tablename__ = "rights_objection"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    registration_id: uuid.UUID = Field(foreign_key="rights_registration.id", index=True)
    objector_id: uuid.UUID | None = Field(default=None)
    objector_name: str = Field(default="", max_length=200)
    reason: str = Field(sa_type=sa.Text)
    state: str = Field(default="open", max_length=16)
    resolution: str = Field(default="", sa_type=sa.Text)
    resolved_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    resolved_at: datetime | None = _ts_opt()


class PricePlan(SQLModel, table=True):
    """A price plan of a product; price in integer fen."""

    __tablename__ = "price_plan"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(foreign_key="data_product.id", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    price_fen: int = Field(default=0)
    period_days: int = Field(default=30)
    download_quota: int | None = Field(default=None)
    query_quota: int | None = Field(default=None)
    active: bool = Field(default=True)
    created_at: datetime = _ts()


class ExchangeOrder(SQLModel, table=True):
    """An order of a plan (or a seller's targeted grant), from contract to settlement."""

    __tablename__ = "exchange_order"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    product_id: uuid.UUID = Field(foreign_key="data_product.id", index=True)
    plan_id: uuid.UUID | None = Field(default=None, foreign_key="price_plan.id")
    buyer_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    buyer_user_id: uuid.UUID = Field(index=True)
    seller_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    holder_org_id: uuid.UUID = Field(foreign_key="organization.id")
    broker_org_id: uuid.UUID | None = Field(default=None)  # the agent who earns the broker commission
    targeted: bool = Field(default=False)
    category: str = Field(default="", max_length=64)
    price_fen: int = Field(default=0)
    exchange_fee_fen: int = Field(default=0)
    broker_fee_fen: int = Field(default=0)
    seller_net_fen: int = Field(default=0)
    scope_of_use: str = Field(default="", sa_type=sa.Text)
    period_days: int = Field(default=30)
    download_quota: int | None = Field(default=None)
    query_quota: int | None = Field(default=None)
    status: str = Field(default=OrderStatus.PENDING_CONTRACT.value, max_length=20, index=True)
    grant_id: uuid.UUID | None = Field(default=None, index=True)
    valid_from: datetime | None = _ts_opt()
    valid_to: datetime | None = _ts_opt()
    payment_ref: str = Field(default="", max_length=100)
    paid_at: datetime | None = _ts_opt(index=True)
    received_at: datetime | None = _ts_opt()
    settled_at: datetime | None = _ts_opt()
    cancelled_at: datetime | None = _ts_opt()
    refunded_at: datetime | None = _ts_opt()
    revoked_at: datetime | None = _ts_opt()
    revoke_reason: str = Field(default="", max_length=1000)
    certificate: str | None = Field(default=None, sa_type=sa.Text)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Contract(SQLModel, table=True):
    """The contract of an order, rendered from the template; both sides accept it."""

    __tablename__ = "exchange_contract"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="exchange_order.id", unique=True)
    template_version: str = Field(max_length=16)
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    text: str = Field(sa_type=sa.Text)
    text_sha256: str = Field(max_length=64)
    buyer_accepted_by: uuid.UUID | None = Field(default=None)
    buyer_accepted_at: datetime | None = _ts_opt()
    seller_accepted_by: uuid.UUID | None = Field(default=None)
    seller_accepted_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()


class ClearingEntry(SQLModel, table=True):
    """One posting of the clearing ledger; the postings of one transfer sum to zero."""

    __tablename__ = "clearing_entry"

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: uuid.UUID = Field(index=True)
    order_id: uuid.UUID = Field(foreign_key="exchange_order.id", index=True)
    kind: str = Field(max_length=16)  # payment | settlement | refund
    account: str = Field(max_length=64, index=True)
    amount_fen: int  # positive: credit to the account, negative: debit
    at: datetime = _ts()


class Dispute(SQLModel, table=True):
    """A dispute over an order: opened, answered by the other side, resolved by the operator."""

    __tablename__ = "exchange_dispute"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="exchange_order.id", index=True)
    opened_by: uuid.UUID | None = Field(default=None)
    opener_side: str = Field(max_length=8)  # buyer | seller
    reason: str = Field(sa_type=sa.Text)
    state: str = Field(default=DisputeState.OPEN.value, max_length=16, index=True)
    answer: str = Field(default="", sa_type=sa.Text)
    answered_by: uuid.UUID | None = Field(default=None)
    answered_at: datetime | None = _ts_opt()
    outcome: str | None = Field(default=None, max_length=16)
    resolution: str = Field(default="", sa_type=sa.Text)
    resolved_by: uuid.UUID | None = Field(default=None)
    resolved_at: datetime | None = _ts_opt()
    created_at: datetime = _ts()
