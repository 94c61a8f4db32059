"""The data exchange on /api/v1/exchange: products, review, rights, orders, settlement, sandbox, stats.

Who may do what is decided here on the caller's Actor (the platform role "operator" is the exchange
operator; members of an organization act for it); the rules of the trade live in catalog.exchange.
AuthGateway is where the exchange meets auth: entitlements are auth grants, every change is in the
audit chain, certificates are signed by auth.tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from auth import audit
from auth.grants import consume, create_grant, require_grant, revoke_grant
from auth.policy import AccessDenied, Actor, NotVisible
from auth.settings import AuthSettings
from catalog import service
from catalog.exchange import certificates, orders, products, rights, settlement
from catalog.exchange.errors import CertificateInvalid
from catalog.exchange.models import (
    Assessment,
    DataProduct,
    Dispute,
    ExchangeOrder,
    PricePlan,
    ProductStatus,
    RightsRegistration,
)
from catalog.exchange.ports import Usage
from catalog.exchange.products import AssessmentCreate, PlanCreate, ProductCreate
from catalog.exchange.sandbox import AggregateQuery, AggregateResult
from catalog.exchange.settings import ExchangeSettings
from catalog.exchange.stats import ExchangeStats, exchange_stats
from catalog.models import Organization
from portal.deps import ActorDep, CurrentUser, OptionalUser, SessionDep, SettingsDep, StorageDep
from portal.settings import Settings

router = APIRouter(prefix="/exchange", tags=["exchange"])

WRITERS = ("admin", "editor")


# --- the gateway to auth ------------------------------------------------------------------------


class AuthGateway:
    """catalog.exchange.ports.Gateway backed by auth.grants, auth.audit and auth.tokens."""

    def __init__(self, auth_settings: AuthSettings, *, actor_name: str = "", client_addr: str = "") -> None:
        self.settings = auth_settings
        self.actor_name = actor_name
        self.client_addr = client_addr

    def grant(
        self,
        session: Session,
        *,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
        dataset_ids: Iterable[uuid.UUID],
        source: str,
        source_id: uuid.UUID,
        valid_from: datetime,
        valid_to: datetime,
        download_quota: int | None,
        query_quota: int | None,
        allowed_use: str,
        actor_id: uuid.UUID | None,
    ) -> uuid.UUID:
        """Open a purchase (or targeted) grant."""
        grant = create_grant(
            session,
            user_id=user_id,
            organization_id=organization_id,
            dataset_ids=dataset_ids,
            source=source,
            source_id=source_id,
            valid_from=valid_from,
            valid_to=valid_to,
            download_quota=download_quota,
            query_quota=query_quota,
            allowed_use=allowed_use,
            actor_id=actor_id,
            actor_name=self.actor_name,
        )
        return grant.id

    def revoke(
        self, session: Session, *, grant_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None
    ) -> None:
        """Revoke the grant at once."""
        revoke_grant(session, grant_id=grant_id, actor_id=actor_id, reason=reason, actor_name=self.actor_name)

    def usage(self, session: Session, *, grant_id: uuid.UUID) -> Usage:
        """The grant's state and use."""
        grant = require_grant(session, grant_id)
        return Usage(grant.state, grant.downloads_used, grant.queries_used, grant.valid_to)

    def consume_query(self, session: Session, *, grant_id: uuid.UUID, actor_id: uuid.UUID | None) -> None:
        """Spend one query unit atomically."""
        consume(session, grant_id=grant_id, kind="query", actor_id=actor_id, actor_name=self.actor_name)

    def audit(
        self,
        session: Session,
        *,
        action: str,
        actor_id: uuid.UUID | None,
        object_type: str,
        object_id: str,
        detail: dict[str, Any] | None = None,
        outcome: str = "ok",
    ) -> None:
        """Append to the audit chain."""
        audit.record(
            session,
            action=action,
            actor_id=actor_id,
            actor_name=self.actor_name,
            object_type=object_type[:50],
            object_id=object_id,
            client_addr=self.client_addr,
            outcome=outcome,
            detail=detail,
        )

    def sign(self, payload: dict[str, Any]) -> str:
        """Sign a certificate."""
        from auth.tokens import sign_document

        return sign_document(self.settings, payload)

    def verify(self, token: str) -> dict[str, Any]:
        """Verify a certificate."""
        from auth.tokens import verify_document

        return verify_document(self.settings, token)


def exchange_settings(settings: Settings) -> ExchangeSettings:
    """The exchange's settings (Settings.exchange once portal/settings.py combines them)."""
    found = getattr(settings, "exchange", None)
    return found if isinstance(found, ExchangeSettings) else ExchangeSettings()


def gateway(request: Request, settings: SettingsDep, user: OptionalUser) -> AuthGateway:
    """The gateway for this request, naming the caller in the audit log."""
    addr = request.client.host if request.client else ""
    return AuthGateway(settings.auth, actor_name=user.name if user else "", client_addr=addr)


GatewayDep = Annotated[AuthGateway, Depends(gateway)]


# --- who may ------------------------------------------------------------------------------------


def is_operator(actor: Actor) -> bool:
    """The exchange operator (platform role operator) or a sysadmin."""
    return actor.is_operator or (actor.user_id is not None and actor.is_sysadmin)


def require_operator(actor: Actor, action: str) -> None:
    """Raise AccessDenied unless the caller runs the exchange."""
    if not is_operator(actor):
        raise AccessDenied(action, "only the exchange operator may do this / 仅交易机构运营方可操作")


def require_member(actor: Actor, org_id: uuid.UUID, action: str, roles: tuple[str, ...] = WRITERS) -> None:
    """Raise AccessDenied unless the caller has one of the roles in the organization."""
    if actor.role_in(org_id) not in roles and not (actor.user_id is not None and actor.is_sysadmin):
        raise AccessDenied(action, f"needs the role {'/'.join(roles)} in the organization / 须为该机构成员")


def may_see_product(actor: Actor, product: DataProduct, session: Session) -> bool:
    """Listed and delisted products are public; drafts and submissions only for parties and reviewers."""
    if product.status in (ProductStatus.LISTED.value, ProductStatus.DELISTED.value):
        return True
    if actor.user_id is None:
        return False
    if is_operator(actor) or actor.is_regulator:
        return True
    if actor.is_insider(product.seller_org_id) or actor.is_insider(product.holder_org_id):
        return True
    if product.status == ProductStatus.SUBMITTED.value:  # service providers assess submissions
        orgs = service.organizations_by_id(session, list(actor.org_roles))
        return any(o.org_type == "service_provider" for o in orgs.values())
    return False


def visible_product(name: str, session: SessionDep, actor: ActorDep) -> DataProduct:
    """The product in the path, if the caller may see it (404 otherwise)."""
    product = products.require_product(session, name)
    if not may_see_product(actor, product, session):
        raise NotVisible("exchange.product.view", "not visible")
    return product


VisibleProduct = Annotated[DataProduct, Depends(visible_product)]


def order_side(actor: Actor, order: ExchangeOrder) -> str | None:
    """buyer or seller, as the caller acts on this order (None for neither)."""
    if actor.role_in(order.buyer_org_id) is not None:
        return orders.BUYER
    if actor.role_in(order.seller_org_id) in WRITERS:
        return orders.SELLER
    return None


def visible_order(ref: str, session: SessionDep, actor: ActorDep) -> ExchangeOrder:
    """The order in the path, for its parties, the operator and the regulator (404 otherwise)."""
    order = orders.require_order(session, ref)
    party = any(actor.is_insider(o) for o in (order.buyer_org_id, order.seller_org_id, order.holder_org_id))
    if not (party or is_operator(actor) or actor.is_regulator):
        raise NotVisible("exchange.order.view", "not a party")
    return order


VisibleOrder = Annotated[ExchangeOrder, Depends(visible_order)]


def _org(session: Session, name: str) -> Organization:
    return service.require_organization(session, name)


# --- shapes -------------------------------------------------------------------------------------


class PlanPublic(BaseModel):
    """A price plan (price in fen)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    price_fen: int
    period_days: int
    download_quota: int | None
    query_quota: int | None


class AssessmentPublic(BaseModel):
    """A third-party assessment."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider_org_id: uuid.UUID
    kind: str
    title: str
    conclusion: str
    summary: str
    report_sha256: str
    created_at: datetime


class ProductPublic(BaseModel):
    """A data product with its specification and listing state."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    title: str
    description: str
    category: str
    seller_org_id: uuid.UUID
    holder_org_id: uuid.UUID
    seller_role: str
    authorization_id: uuid.UUID | None
    dataset_ids: list[str]
    delivery_modes: list[str]
    spec: dict[str, Any]
    contains_personal_info: bool
    contains_sensitive_personal_info: bool
    contains_important_data: bool
    anonymization_method: str
    status: str
    review_checklist: list[dict[str, Any]]
    review_reasons: list[str]
    submitted_at: datetime | None
    listed_at: datetime | None


class ProductDetail(ProductPublic):
    """A product with its plans, assessments and rights registrations."""

    plans: list[PlanPublic] = []
    assessments: list[AssessmentPublic] = []
    registrations: list[uuid.UUID] = []


class CatalogOut(BaseModel):
    """A page of the marketplace with facet counts."""

    total: int
    products: list[ProductPublic]
    min_price_fen: dict[str, int]
    facets: dict[str, dict[str, int]]


class ContractPublic(BaseModel):
    """An order's contract."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    template_version: str
    terms: dict[str, Any]
    text: str
    text_sha256: str
    buyer_accepted_at: datetime | None
    seller_accepted_at: datetime | None


class OrderPublic(BaseModel):
    """An order with its amounts in fen, its entitlement and (once settled) its transaction certificate."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    product_id: uuid.UUID
    plan_id: uuid.UUID | None
    buyer_org_id: uuid.UUID
    buyer_user_id: uuid.UUID
    seller_org_id: uuid.UUID
    holder_org_id: uuid.UUID
    broker_org_id: uuid.UUID | None
    targeted: bool
    status: str
    price_fen: int
    exchange_fee_fen: int
    broker_fee_fen: int
    seller_net_fen: int
    scope_of_use: str
    period_days: int
    download_quota: int | None
    query_quota: int | None
    grant_id: uuid.UUID | None
    valid_from: datetime | None
    valid_to: datetime | None
    paid_at: datetime | None
    settled_at: datetime | None
    certificate: str | None
    contract: ContractPublic | None = None


class RegistrationPublic(BaseModel):
    """A rights registration with its certificate and history."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str | None
    product_id: uuid.UUID
    holder_org_id: uuid.UUID
    rights: list[str]
    data_sha256: str
    licenses: list[dict[str, Any]]
    state: str
    certificate: str | None
    certificate_version: int
    events: list[dict[str, Any]] = []
    objections: list[dict[str, Any]] = []


class DisputePublic(BaseModel):
    """A dispute."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    opener_side: str
    reason: str
    state: str
    answer: str
    outcome: str | None
    resolution: str


class VerifyOut(BaseModel):
    """The answer of the certificate check: signature, what it says, and the current status."""

    valid: bool
    kind: str | None = None
    number: str | None = None
    payload: dict[str, Any] | None = None
    current_status: str | None = None
    reason: str = ""


def _order_out(session: Session, order: ExchangeOrder) -> OrderPublic:
    contract = orders.contract_of(session, order)
    out = OrderPublic.model_validate(order)
    out.contract = ContractPublic.model_validate(contract) if contract else None
    return out


def _registration_out(session: Session, registration: RightsRegistration) -> RegistrationPublic:
    out = RegistrationPublic.model_validate(registration)
    out.events = [e.model_dump(mode="json") for e in rights.events_of(session, registration)]
    out.objections = [o.model_dump(mode="json") for o in rights.objections_of(session, registration)]
    return out


def _product_out(session: Session, product: DataProduct) -> ProductDetail:
    out = ProductDetail.model_validate(product)
    out.plans = [PlanPublic.model_validate(p) for p in products.active_plans(session, product)]
    out.assessments = [AssessmentPublic.model_validate(a) for a in products.assessments_of(session, product)]
    out.registrations = [r.id for r in rights.registrations_of(session, product)]
    return out


# --- inputs -------------------------------------------------------------------------------------


class AuthorizationIn(BaseModel):
    """A holder authorizes a broker or data merchant."""

    holder_org: str
    agent_org: str
    agent_role: Literal["broker", "merchant"] = "broker"
    dataset_ids: list[uuid.UUID] = Field(min_length=1)
    valid_from: datetime
    valid_to: datetime
    scope: str = ""


class ProductIn(ProductCreate):
    """A new product, sold by seller_org."""

    seller_org: str


class ReasonIn(BaseModel):
    """A reason for a change."""

    reason: str = Field(default="", max_length=1000)


class ReviewIn(BaseModel):
    """The operator's decision on a submitted product."""

    decision: Literal["approve", "reject"]
    reasons: list[str] = []


class AssessmentIn(AssessmentCreate):
    """An assessment by provider_org."""

    provider_org: str


class RightsIn(BaseModel):
    """A rights registration application."""

    rights: list[Literal["holding", "processing", "operating"]] = Field(min_length=1)
    data_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class LicenseIn(BaseModel):
    """许可."""

    licensee_org: str
    rights: list[Literal["holding", "processing", "operating"]] = Field(min_length=1)
    until: datetime


class TransferIn(BaseModel):
    """转让."""

    to_org: str


class ChangeIn(BaseModel):
    """变更."""

    rights: list[Literal["holding", "processing", "operating"]] | None = None
    refresh_fingerprint: bool = False


class ObjectionIn(BaseModel):
    """异议."""

    reason: str = Field(min_length=1)


class DecideObjectionIn(BaseModel):
    """The operator's decision on an objection."""

    upheld: bool
    resolution: str = ""


class CertificateIn(BaseModel):
    """A certificate to verify."""

    certificate: str = Field(min_length=1, max_length=20_000)


class OrderIn(BaseModel):
    """An order of a plan, for one of the caller's organizations."""

    product: str
    plan_id: uuid.UUID
    buyer_org: str
    scope_of_use: str = ""


class AcceptIn(BaseModel):
    """Accept the contract as buyer or seller."""

    side: Literal["buyer", "seller"]


class PaymentIn(BaseModel):
    """A (simulated) payment into escrow."""

    amount_fen: int = Field(ge=0)
    payment_ref: str = Field(default="", max_length=100)


class TargetedIn(BaseModel):
    """定向授权 of a product to a named buyer."""

    buyer_org: str
    buyer_user: str
    period_days: int = Field(default=30, ge=1, le=3660)
    download_quota: int | None = Field(default=None, ge=0)
    query_quota: int | None = Field(default=None, ge=0)
    scope_of_use: str = ""


class SandboxIn(AggregateQuery):
    """An aggregate query over one resource of the product."""

    resource_id: uuid.UUID


class DisputeIn(BaseModel):
    """Open a dispute."""

    reason: str = Field(min_length=1)


class AnswerIn(BaseModel):
    """Answer a dispute."""

    answer: str = Field(min_length=1)


class ResolveIn(BaseModel):
    """The operator's resolution."""

    outcome: Literal["no_action", "refund", "revoke"]
    resolution: str = Field(min_length=1)


# --- authorizations -----------------------------------------------------------------------------


@router.post("/authorizations", status_code=201)
def create_authorization(
    body: AuthorizationIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> dict[str, Any]:
    """The holder records its authorization of a broker or data merchant (who, which data, until when)."""
    holder, agent = _org(session, body.holder_org), _org(session, body.agent_org)
    require_member(actor, holder.id, "exchange.authorization.create", ("admin",))
    found = products.authorize_agent(
        session,
        gw,
        actor_id=user.id,
        holder=holder,
        agent=agent,
        dataset_ids=body.dataset_ids,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        agent_role=products.SellerRole(body.agent_role),
        scope=body.scope,
    )
    session.commit()
    return found.model_dump(mode="json")


@router.post("/authorizations/{authorization_id}/revoke")
def revoke_authorization(
    authorization_id: uuid.UUID,
    body: ReasonIn,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> dict[str, Any]:
    """The holder withdraws an authorization."""
    found = products.require_authorization(session, authorization_id)
    require_member(actor, found.holder_org_id, "exchange.authorization.revoke", ("admin",))
    products.revoke_authorization(session, gw, actor_id=user.id, authorization=found, reason=body.reason)
    session.commit()
    return found.model_dump(mode="json")


# --- products -----------------------------------------------------------------------------------


@router.get("/products")
def list_products(
    session: SessionDep,
    q: str | None = None,
    category: str | None = None,
    seller: Annotated[str | None, Query(description="seller organization name")] = None,
    delivery_mode: Annotated[str | None, Query(description="file, api or sandbox")] = None,
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CatalogOut:
    """Search the marketplace: listed products with facets (category, seller, delivery mode, price)."""
    seller_id = _org(session, seller).id if seller else None
    page = products.search_products(
        session,
        q=q,
        category=category,
        seller=seller_id,
        delivery_mode=delivery_mode,
        price_min_fen=price_min_fen,
        price_max_fen=price_max_fen,
        limit=limit,
        offset=offset,
    )
    return CatalogOut(
        total=page.total,
        products=[ProductPublic.model_validate(p) for p in page.products],
        min_price_fen={str(k): v for k, v in page.min_price.items()},
        facets=page.facets,
    )


@router.post("/products", status_code=201)
def create_product(
    body: ProductIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> ProductDetail:
    """Register a draft product for the seller organization (holder, broker or data merchant)."""
    seller = _org(session, body.seller_org)
    require_member(actor, seller.id, "exchange.product.create")
    data = ProductCreate.model_validate(body.model_dump(exclude={"seller_org"}))
    product = products.create_product(session, gw, actor_id=user.id, seller=seller, data=data)
    session.commit()
    return _product_out(session, product)


@router.get("/products/{name}")
def read_product(product: VisibleProduct, session: SessionDep) -> ProductDetail:
    """One product: specification, plans, assessments and registrations."""
    return _product_out(session, product)


@router.post("/products/{name}/submit")
def submit_product(
    product: VisibleProduct, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> ProductDetail:
    """Send the product to the operator's review queue."""
    require_member(actor, product.seller_org_id, "exchange.product.submit")
    products.submit_product(session, gw, actor_id=user.id, product=product)
    session.commit()
    return _product_out(session, product)


@router.get("/review-queue")
def review_queue(session: SessionDep, actor: ActorDep, user: CurrentUser) -> list[ProductPublic]:
    """Submitted products with their current checklist (operator)."""
    require_operator(actor, "exchange.review")
    out = []
    for product in products.review_queue(session):
        item = ProductPublic.model_validate(product)
        item.review_checklist = [c.as_dict() for c in products.checklist(session, product)]
        out.append(item)
    return out


@router.post("/products/{name}/review")
def review_product(
    body: ReviewIn,
    product: VisibleProduct,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> ProductDetail:
    """Approve (list) or reject a submitted product (operator); approval needs the whole checklist."""
    require_operator(actor, "exchange.review")
    if body.decision == "approve":
        products.approve_product(session, gw, actor_id=user.id, product=product)
    else:
        products.reject_product(session, gw, actor_id=user.id, product=product, reasons=body.reasons)
    session.commit()
    return _product_out(session, product)


@router.post("/products/{name}/delist")
def delist_product(
    body: ReasonIn,
    product: VisibleProduct,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> ProductDetail:
    """Take a product off the market (its seller's admin or the operator)."""
    if not is_operator(actor):
        require_member(actor, product.seller_org_id, "exchange.product.delist", ("admin",))
    products.delist_product(session, gw, actor_id=user.id, product=product, reason=body.reason)
    session.commit()
    return _product_out(session, product)


@router.post("/products/{name}/assessments", status_code=201)
def attach_assessment(
    body: AssessmentIn,
    product: VisibleProduct,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> AssessmentPublic:
    """A service provider attaches a compliance, quality or anonymization report."""
    provider = _org(session, body.provider_org)
    require_member(actor, provider.id, "exchange.assessment.attach")
    data = AssessmentCreate.model_validate(body.model_dump(exclude={"provider_org"}))
    found: Assessment = products.attach_assessment(
        session, gw, actor_id=user.id, product=product, provider=provider, data=data
    )
    session.commit()
    return AssessmentPublic.model_validate(found)


@router.post("/products/{name}/plans", status_code=201)
def add_plan(
    body: PlanCreate,
    product: VisibleProduct,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> PlanPublic:
    """Add a price plan (the seller)."""
    require_member(actor, product.seller_org_id, "exchange.plan.create")
    plan: PricePlan = products.add_plan(session, gw, actor_id=user.id, product=product, data=body)
    session.commit()
    return PlanPublic.model_validate(plan)


@router.post("/products/{name}/targeted-grants", status_code=201)
def targeted_grant(
    body: TargetedIn,
    product: VisibleProduct,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> OrderPublic:
    """The seller grants the product free to a named buyer (定向授权)."""
    from auth.users import get_membership, require_user

    require_member(actor, product.seller_org_id, "exchange.targeted_grant", ("admin",))
    buyer_org = _org(session, body.buyer_org)
    buyer = require_user(session, body.buyer_user)
    if get_membership(session, user_id=buyer.id, organization_id=buyer_org.id) is None:
        raise AccessDenied(
            "exchange.targeted_grant", "the buyer user is not a member of the buyer organization"
        )
    order = orders.grant_targeted(
        session,
        gw,
        actor_id=user.id,
        product=product,
        buyer_org=buyer_org,
        buyer_user_id=buyer.id,
        period_days=body.period_days,
        download_quota=body.download_quota,
        query_quota=body.query_quota,
        scope_of_use=body.scope_of_use,
        settings=exchange_settings(settings),
    )
    session.commit()
    return _order_out(session, order)


# --- rights -------------------------------------------------------------------------------------


@router.post("/products/{name}/rights", status_code=201)
def apply_rights(
    body: RightsIn,
    product: VisibleProduct,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> RegistrationPublic:
    """The holder applies to register its rights over the product's data (数据产权登记)."""
    require_member(actor, product.holder_org_id, "exchange.rights.apply", ("admin",))
    holder = service.require_organization(session, product.holder_org_id)
    found = rights.apply(
        session,
        gw,
        actor_id=user.id,
        product=product,
        holder=holder,
        rights=list(body.rights),
        data_sha256=body.data_sha256,
    )
    session.commit()
    return _registration_out(session, found)


@router.get("/rights/{ref}")
def read_registration(ref: str, session: SessionDep) -> RegistrationPublic:
    """A registration (by id or certificate number): state, certificate, events, objections (public)."""
    return _registration_out(session, rights.require_registration(session, ref))


def _holder_admin(actor: Actor, registration: RightsRegistration, action: str) -> None:
    require_member(actor, registration.holder_org_id, action, ("admin",))


@router.post("/rights/{ref}/certify")
def certify_rights(
    ref: str, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """The operator registers the rights and issues the signed certificate."""
    require_operator(actor, "exchange.rights.certify")
    found = rights.require_registration(session, ref)
    rights.certify(session, gw, actor_id=user.id, registration=found)
    session.commit()
    return _registration_out(session, found)


@router.post("/rights/{ref}/license")
def license_rights(
    ref: str, body: LicenseIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """许可: the holder licenses registered rights."""
    found = rights.require_registration(session, ref)
    _holder_admin(actor, found, "exchange.rights.license")
    rights.license_rights(
        session,
        gw,
        actor_id=user.id,
        registration=found,
        licensee=_org(session, body.licensee_org),
        rights=list(body.rights),
        until=body.until,
    )
    session.commit()
    return _registration_out(session, found)


@router.post("/rights/{ref}/transfer")
def transfer_rights(
    ref: str, body: TransferIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """转让: the holder transfers the registered rights."""
    found = rights.require_registration(session, ref)
    _holder_admin(actor, found, "exchange.rights.transfer")
    rights.transfer_rights(session, gw, actor_id=user.id, registration=found, to=_org(session, body.to_org))
    session.commit()
    return _registration_out(session, found)


@router.post("/rights/{ref}/change")
def change_rights(
    ref: str, body: ChangeIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """变更: change the registered rights or refresh the data fingerprint."""
    found = rights.require_registration(session, ref)
    _holder_admin(actor, found, "exchange.rights.change")
    rights.change_registration(
        session,
        gw,
        actor_id=user.id,
        registration=found,
        rights=list(body.rights) if body.rights else None,
        refresh_fingerprint=body.refresh_fingerprint,
    )
    session.commit()
    return _registration_out(session, found)


@router.post("/rights/{ref}/cancel")
def cancel_rights(
    ref: str, body: ReasonIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """注销: the holder cancels its registration."""
    found = rights.require_registration(session, ref)
    _holder_admin(actor, found, "exchange.rights.cancel")
    rights.cancel_registration(session, gw, actor_id=user.id, registration=found, reason=body.reason)
    session.commit()
    return _registration_out(session, found)


@router.post("/rights/{ref}/revoke")
def revoke_rights(
    ref: str, body: ReasonIn, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """撤销: the operator revokes a registration."""
    require_operator(actor, "exchange.rights.revoke")
    found = rights.require_registration(session, ref)
    rights.revoke_registration(session, gw, actor_id=user.id, registration=found, reason=body.reason)
    session.commit()
    return _registration_out(session, found)


@router.post("/rights/{ref}/objections", status_code=201)
def object_to_rights(
    ref: str, body: ObjectionIn, session: SessionDep, user: CurrentUser, gw: GatewayDep
) -> RegistrationPublic:
    """异议: any signed-in third party objects to a registration."""
    found = rights.require_registration(session, ref)
    rights.file_objection(
        session, gw, actor_id=user.id, objector_name=user.name, registration=found, reason=body.reason
    )
    session.commit()
    return _registration_out(session, found)


@router.post("/objections/{objection_id}/decide")
def decide_objection(
    objection_id: uuid.UUID,
    body: DecideObjectionIn,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> RegistrationPublic:
    """The operator upholds (revoking the registration) or dismisses an objection."""
    require_operator(actor, "exchange.rights.objection")
    objection = rights.require_objection(session, objection_id)
    rights.decide_objection(
        session, gw, actor_id=user.id, objection=objection, upheld=body.upheld, resolution=body.resolution
    )
    session.commit()
    return _registration_out(session, rights.require_registration(session, objection.registration_id))


# --- certificates -------------------------------------------------------------------------------


@router.get("/certificates/public-key")
def certificate_public_key(settings: SettingsDep) -> dict[str, str | None]:
    """The PEM public key that verifies certificates offline (null when the deployment signs with HS256)."""
    from auth.tokens import public_key_pem

    return {"algorithm": settings.auth.jwt_algorithm, "public_key_pem": public_key_pem(settings.auth)}


def check_certificate(session: Session, gw: AuthGateway, token: str) -> VerifyOut:
    """Verify a certificate and look up the current status of what it certifies."""
    try:
        found = certificates.verify(gw, token)
    except CertificateInvalid as exc:
        return VerifyOut(valid=False, reason=str(exc))
    status: str | None = None
    if found.kind == certificates.RIGHTS:
        registration = rights.get_registration(session, found.number)
        if registration is not None:
            status = registration.state
            if registration.certificate_version != found.payload.get("version"):
                status = f"{status} (superseded by version {registration.certificate_version} / 已有新版证书)"
    else:
        order = orders.get_order(session, found.number)
        status = order.status if order is not None else None
    return VerifyOut(
        valid=True, kind=found.kind, number=found.number, payload=found.payload, current_status=status
    )


@router.post("/certificates/verify")
def verify_certificate(body: CertificateIn, session: SessionDep, gw: GatewayDep) -> VerifyOut:
    """Check a rights certificate or transaction certificate (public): signature and current status."""
    return check_certificate(session, gw, body.certificate)


# --- orders -------------------------------------------------------------------------------------


@router.post("/orders", status_code=201)
def place_order(
    body: OrderIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> OrderPublic:
    """Order a plan for one of the caller's organizations; the contract is drawn up."""
    buyer_org = _org(session, body.buyer_org)
    require_member(actor, buyer_org.id, "exchange.order.create", ("admin", "editor", "member"))
    product = products.require_product(session, body.product)
    plan = products.require_plan(session, product, body.plan_id)
    order = orders.place_order(
        session,
        gw,
        actor_id=user.id,
        product=product,
        plan=plan,
        buyer_org=buyer_org,
        buyer_user_id=user.id,
        settings=exchange_settings(settings),
        scope_of_use=body.scope_of_use,
    )
    session.commit()
    return _order_out(session, order)


@router.get("/orders")
def my_orders(session: SessionDep, actor: ActorDep, user: CurrentUser) -> list[OrderPublic]:
    """Orders of the caller's organizations (as buyer, seller or holder)."""
    seen: dict[uuid.UUID, ExchangeOrder] = {}
    for org_id in actor.org_roles:
        for order in orders.orders_of_org(session, org_id):
            seen[order.id] = order
    return [_order_out(session, o) for o in sorted(seen.values(), key=lambda o: o.created_at, reverse=True)]


@router.get("/orders/{ref}")
def read_order(order: VisibleOrder, session: SessionDep) -> OrderPublic:
    """One order with its contract (its parties, the operator, the regulator)."""
    return _order_out(session, order)


def _side(actor: Actor, order: ExchangeOrder, wanted: str | None = None) -> str:
    side = order_side(actor, order)
    if side is None or (wanted is not None and side != wanted):
        raise AccessDenied("exchange.order", f"only the {wanted or 'buyer or seller'} may do this / 无权操作")
    return side


@router.post("/orders/{ref}/accept")
def accept_contract(
    body: AcceptIn,
    order: VisibleOrder,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> OrderPublic:
    """Accept the contract for one side."""
    if body.side == orders.BUYER:
        require_member(actor, order.buyer_org_id, "exchange.contract.accept", ("admin", "editor", "member"))
    else:
        require_member(actor, order.seller_org_id, "exchange.contract.accept")
    orders.accept_contract(session, gw, actor_id=user.id, order=order, side=body.side)
    session.commit()
    return _order_out(session, order)


@router.post("/orders/{ref}/pay")
def pay_order(
    body: PaymentIn,
    order: VisibleOrder,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> OrderPublic:
    """Record the buyer's payment (simulated settlement) and open the entitlement."""
    _side(actor, order, orders.BUYER)
    orders.record_payment(
        session, gw, actor_id=user.id, order=order, amount_fen=body.amount_fen, payment_ref=body.payment_ref
    )
    session.commit()
    return _order_out(session, order)


@router.post("/orders/{ref}/confirm-receipt")
def confirm_receipt(
    order: VisibleOrder, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> OrderPublic:
    """The buyer confirms receipt: the order settles and the transaction certificate is issued."""
    _side(actor, order, orders.BUYER)
    orders.confirm_receipt(session, gw, actor_id=user.id, order=order)
    session.commit()
    return _order_out(session, order)


@router.post("/orders/{ref}/cancel")
def cancel_order(
    body: ReasonIn,
    order: VisibleOrder,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> OrderPublic:
    """The buyer cancels before payment, or before delivery with a refund."""
    _side(actor, order, orders.BUYER)
    orders.cancel_order(session, gw, actor_id=user.id, order=order, reason=body.reason)
    session.commit()
    return _order_out(session, order)


@router.post("/orders/{ref}/revoke")
def revoke_order(
    body: ReasonIn,
    order: VisibleOrder,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> OrderPublic:
    """The seller or the operator revokes the entitlement, with a reason."""
    if not is_operator(actor):
        _side(actor, order, orders.SELLER)
    orders.revoke_entitlement(session, gw, actor_id=user.id, order=order, reason=body.reason)
    session.commit()
    return _order_out(session, order)


@router.post("/orders/{ref}/sandbox")
def sandbox_query(
    body: SandboxIn,
    order: VisibleOrder,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> AggregateResult:
    """可用不可见: an aggregate query over a table of the product; groups under k rows are withheld."""
    from portal.api_v1.data import table_for

    resource = service.require_resource(session, body.resource_id)
    if user.id != order.buyer_user_id:
        raise AccessDenied("exchange.sandbox.query", "only the ordering user queries / 仅下单用户可查询")
    path = table_for(session, storage, settings, resource)
    result = orders.sandbox_query(
        session,
        gw,
        actor_id=user.id,
        order=order,
        dataset_id=resource.dataset_id,
        table_path=path,
        query=AggregateQuery.model_validate(body.model_dump(exclude={"resource_id"})),
        settings=exchange_settings(settings),
    )
    session.commit()
    return result


@router.get("/orders/{ref}/record")
def order_record(
    order: VisibleOrder, session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> dict[str, Any]:
    """The full record of an order for the operator and the regulator: contract, money, disputes, ledger, use."""
    if not (is_operator(actor) or actor.is_regulator):
        raise AccessDenied("exchange.order.record", "for the operator and the regulator / 仅运营方和监管方")
    record = orders.order_record(session, order)
    if order.grant_id is not None:
        usage = gw.usage(session, grant_id=order.grant_id)
        record["entitlement"] = {
            "grant_id": str(order.grant_id),
            "state": usage.state,
            "downloads_used": usage.downloads_used,
            "queries_used": usage.queries_used,
        }
        events = audit.query(session, object_id=str(order.grant_id), limit=200)
        record["grant_audit"] = [{"id": e.id, "at": e.at.isoformat(), "action": e.action} for e in events]
    return record


@router.post("/orders/{ref}/disputes", status_code=201)
def open_dispute(
    body: DisputeIn,
    order: VisibleOrder,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> DisputePublic:
    """The buyer or the seller opens a dispute."""
    side = _side(actor, order)
    found: Dispute = orders.open_dispute(
        session, gw, actor_id=user.id, order=order, side=side, reason=body.reason
    )
    session.commit()
    return DisputePublic.model_validate(found)


@router.get("/disputes")
def list_open_disputes(session: SessionDep, actor: ActorDep, user: CurrentUser) -> list[DisputePublic]:
    """Open disputes (operator and regulator)."""
    if not (is_operator(actor) or actor.is_regulator):
        raise AccessDenied("exchange.dispute.list", "for the operator and the regulator / 仅运营方和监管方")
    return [DisputePublic.model_validate(d) for d in orders.open_disputes(session)]


@router.post("/disputes/{dispute_id}/answer")
def answer_dispute(
    dispute_id: uuid.UUID,
    body: AnswerIn,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> DisputePublic:
    """The other side answers."""
    dispute = orders.require_dispute(session, dispute_id)
    order = orders.require_order(session, dispute.order_id)
    side = _side(actor, order)
    orders.answer_dispute(session, gw, actor_id=user.id, dispute=dispute, side=side, answer=body.answer)
    session.commit()
    return DisputePublic.model_validate(dispute)


@router.post("/disputes/{dispute_id}/resolve")
def resolve_dispute(
    dispute_id: uuid.UUID,
    body: ResolveIn,
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUser,
    gw: GatewayDep,
) -> DisputePublic:
    """The operator resolves a dispute: no action, revoke, or refund."""
    require_operator(actor, "exchange.dispute.resolve")
    dispute = orders.require_dispute(session, dispute_id)
    orders.resolve_dispute(
        session, gw, actor_id=user.id, dispute=dispute, outcome=body.outcome, resolution=body.resolution
    )
    session.commit()
    return DisputePublic.model_validate(dispute)


@router.post("/expire")
def run_expiry(
    session: SessionDep, actor: ActorDep, user: CurrentUser, gw: GatewayDep
) -> dict[str, list[str]]:
    """Mark orders past their term as expired and settle them (operator; also a periodic job)."""
    require_operator(actor, "exchange.expire")
    expired = orders.expire_orders(session, gw)
    session.commit()
    return {"expired": [o.number for o in expired]}


# --- statistics ---------------------------------------------------------------------------------


@router.get("/stats")
def stats(session: SessionDep, actor: ActorDep, user: CurrentUser) -> dict[str, Any]:
    """Turnover by month and category, top products and sellers, open disputes (operator, regulator)."""
    if not (is_operator(actor) or actor.is_regulator):
        raise AccessDenied("exchange.stats", "for the operator and the regulator / 仅运营方和监管方")
    found: ExchangeStats = exchange_stats(session)
    return {**found.__dict__, "clearing_balances": settlement.balances(session)}
