"""Pages of the data exchange (数据交易): the marketplace, product and seller pages, certificate check and
statistics, and every step of the trade as forms: the seller's workspace (products, specification,
declaration, plans, submission, review outcome, delisting), broker authorizations, assessments by
service providers, the operator's review queue, rights registration and its life events, orders
(contract, payment, receipt, cancellation, disputes), entitlements with download, data API and
sandbox forms, and the transaction certificate.

Every rule lives in catalog.exchange; who may do what is decided with the same helpers as the API
(portal.api_v1.exchange), so a page and an API call can never disagree.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData, UploadFile

from auth import audit
from auth.grants import GrantUnusable
from auth.policy import AccessDenied, Action, NotVisible
from catalog import dataapi, service, vocab
from catalog.errors import CatalogError
from catalog.exchange import orders, products, rights
from catalog.exchange.errors import (
    InvalidProduct,
    ListingRefused,
    PlanNotFound,
    ProductNameTaken,
    SandboxRefused,
)
from catalog.exchange.models import (
    AssessmentKind,
    BrokerAuthorization,
    Conclusion,
    DataProduct,
    DeliveryMode,
    DisputeOutcome,
    ExchangeOrder,
    OrderStatus,
    PlanKind,
    Right,
    RightsObjection,
    RightsRegistration,
    RightsState,
    SellerRole,
)
from catalog.exchange.products import AssessmentCreate, PlanCreate, ProductCreate, ProductSpec
from catalog.exchange.sandbox import AggregateQuery
from catalog.exchange.stats import exchange_stats
from catalog.models import Dataset, Organization, aware
from portal import downloads
from portal.api_v1.exchange import (
    WRITERS,
    AuthGateway,
    check_certificate,
    exchange_settings,
    gateway,
    is_operator,
    may_see_product,
    order_side,
    require_member,
    require_operator,
    visible_order,
)
from portal.deps import CurrentUser, SessionDep, SettingsDep, StorageDep
from portal.errors import status_for
from portal.pages.forms import CheckedForm, FieldErrors, field_errors, text
from portal.pages.rendering import LOCAL_TZ, Page, PageContext, PageRoute, bilingual, redirect, render
from portal.settings import Settings

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PAGE_SIZE = 20
BUYER_ROLES = ("admin", "editor", "member")
SAMPLE_ROWS_MAX = 50
# Errors a form step can run into: shown on the page it came from, with the status the API would use.
STEP_ERRORS = (CatalogError, GrantUnusable, dataapi.InvalidQuery)

# zh, en labels of the exchange's codes (statuses, kinds, roles), for people.
LABELS: dict[str, tuple[str, str]] = {
    # product status
    "draft": ("草稿", "Draft"),
    "submitted": ("待审核", "Submitted"),
    "listed": ("已挂牌", "Listed"),
    "rejected": ("已驳回", "Rejected"),
    "delisted": ("已下架", "Delisted"),
    # seller roles
    "holder": ("数据持有方", "Data holder"),
    "broker": ("数据经纪人", "Data broker"),
    "merchant": ("数据商", "Data merchant"),
    # delivery
    "file": ("文件下载", "File download"),
    "api": ("数据接口", "Data API"),
    "sandbox": ("沙箱查询（可用不可见）", "Sandbox (usable, not visible)"),
    # plans
    "free": ("免费", "Free"),
    "one_time": ("一次性（限次下载）", "One-time (N downloads)"),
    "subscription": ("订阅", "Subscription"),
    "metered": ("计量（限次调用）", "Metered (N queries)"),
    "targeted": ("定向授权", "Targeted grant"),
    # assessments
    "compliance": ("合规评估", "Compliance"),
    "quality": ("质量评估", "Quality"),
    "anonymization": ("匿名化处理证明", "Anonymization attestation"),
    "valuation": ("资产评估", "Valuation"),
    "pass": ("通过", "Pass"),
    "conditional": ("有条件通过", "Conditional"),
    "fail": ("不通过", "Fail"),
    # rights
    "holding": ("数据资源持有权", "Holding right"),
    "processing": ("数据加工使用权", "Processing right"),
    "operating": ("数据产品经营权", "Operating right"),
    "pending": ("待登记", "Pending"),
    "registered": ("已登记", "Registered"),
    "objected": ("异议处理中", "Under objection"),
    "cancelled": ("已注销 / 已取消", "Cancelled"),
    "revoked": ("已撤销", "Revoked"),
    "apply": ("登记申请", "Application"),
    "register": ("登记发证", "Registered"),
    "license": ("许可", "Licence"),
    "transfer": ("转让", "Transfer"),
    "change": ("变更", "Change"),
    "cancel": ("注销", "Cancellation"),
    "revoke": ("撤销", "Revocation"),
    "objection": ("异议", "Objection"),
    "objection_upheld": ("异议成立", "Objection upheld"),
    "objection_dismissed": ("异议驳回", "Objection dismissed"),
    "open": ("待处理", "Open"),
    "upheld": ("成立", "Upheld"),
    "dismissed": ("驳回", "Dismissed"),
    # orders
    "pending_contract": ("待签合同", "Awaiting the contract"),
    "pending_payment": ("待付款", "Awaiting payment"),
    "active": ("履约中（已付款）", "Active (paid)"),
    "received": ("已确认收货并结算", "Received and settled"),
    "refunded": ("已退款", "Refunded"),
    "expired": ("已到期", "Expired"),
    "suspended": ("已暂停", "Suspended"),
    # disputes
    "answered": ("已答复", "Answered"),
    "resolved": ("已裁决", "Resolved"),
    "no_action": ("不予处理", "No action"),
    "refund": ("退款并终止授权", "Refund and revoke"),
    "buyer": ("买方", "Buyer"),
    "seller": ("卖方", "Seller"),
    # clearing
    "payment": ("付款", "Payment"),
    "settlement": ("结算", "Settlement"),
}


def yuan(fen: int | None) -> str:
    """Integer fen as ¥ yuan with two decimals."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def fen_of(raw: str) -> int | None:
    """Yuan typed by a person (e.g. 999.99, ¥1,000) as integer fen; None when it is not an amount."""
    cleaned = raw.replace("¥", "").replace(",", "").replace("，", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def _labeler(page: PageContext) -> Any:
    def label(code: str | None) -> str:
        if code is None:
            return "—"
        zh_en = LABELS.get(code)
        return page.t(*zh_en) if zh_en else code

    return label


def _show(page: PageContext, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """Render an exchange page with the shared helpers (labels, money)."""
    base = {"yuan": yuan, "label": _labeler(page), "is_operator": is_operator(page.actor)}
    return render(page, template, {**base, **context}, status=status)


def _gw(page: PageContext, settings: Settings) -> AuthGateway:
    return gateway(page.request, settings, page.user)


def _problem(page: PageContext, exc: Exception) -> tuple[str, int]:
    """A domain error as a message in the page's language, and its status."""
    return bilingual(str(exc), page.lang), status_for(exc)


def _values(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    """The start of a day a person names, in the portal's time zone."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def _end_of(day: date) -> datetime:
    """The end of a day a person names as 'until': the next midnight."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=LOCAL_TZ)


def _my_orgs(session: Session, page: PageContext, roles: tuple[str, ...] = WRITERS) -> list[Organization]:
    """The caller's organizations where they have one of the roles."""
    ids = [org_id for org_id, role in page.actor.org_roles.items() if role in roles]
    if not ids:
        return []
    found = service.organizations_by_id(session, ids)
    return sorted(found.values(), key=lambda o: o.name)


def _orgs_by_id(session: Session, ids: Any) -> dict[uuid.UUID, Organization]:
    return service.organizations_by_id(session, [i for i in ids if i is not None])


def _visible_product(session: Session, page: PageContext, name: str) -> DataProduct:
    product = products.require_product(session, name)
    if not may_see_product(page.actor, product, session):
        raise NotVisible("exchange.product.view", "not visible")
    return product


def _party(page: PageContext, product: DataProduct) -> bool:
    """A writer of the seller or the holder of the product (or a sysadmin)."""
    if page.actor.user_id is not None and page.actor.is_sysadmin:
        return True
    return any(page.actor.role_in(o) in WRITERS for o in (product.seller_org_id, product.holder_org_id))


# --- the marketplace ------------------------------------------------------------------------------


@router.get("/exchange", response_class=HTMLResponse)
def marketplace(
    page: Page,
    session: SessionDep,
    q: str | None = None,
    category: str | None = None,
    seller: str | None = None,
    delivery_mode: str | None = None,
    price_min: Annotated[int | None, Query(description="yuan")] = None,
    price_max: Annotated[int | None, Query(description="yuan")] = None,
    p: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The marketplace: listed products with search and facets."""
    seller_org = service.get_organization_by_name(session, seller) if seller else None
    found = products.search_products(
        session,
        q=q,
        category=category,
        seller=seller_org.id if seller_org else None,
        delivery_mode=delivery_mode,
        price_min_fen=price_min * 100 if price_min is not None else None,
        price_max_fen=price_max * 100 if price_max is not None else None,
        limit=PAGE_SIZE,
        offset=(p - 1) * PAGE_SIZE,
    )
    orgs = service.organizations_by_id(
        session,
        {prod.seller_org_id for prod in found.products} | {uuid.UUID(s) for s in found.facets["seller"]},
    )
    return _show(
        page,
        "exchange/catalog.html",
        {"found": found, "orgs": orgs, "q": q or "", "page_no": p, "page_size": PAGE_SIZE},
    )


def _product_view(
    page: PageContext,
    session: SessionDep,
    product: DataProduct,
    *,
    error: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    orgs = _orgs_by_id(session, [product.seller_org_id, product.holder_org_id])
    assessments = products.assessments_of(session, product)
    providers = _orgs_by_id(session, [a.provider_org_id for a in assessments])
    buyer_orgs = [
        o
        for o in _my_orgs(session, page, BUYER_ROLES)
        if o.id not in (product.seller_org_id, product.holder_org_id)
    ]
    return _show(
        page,
        "exchange/product.html",
        {
            "product": product,
            "seller": orgs.get(product.seller_org_id),
            "holder": orgs.get(product.holder_org_id),
            "plans": products.active_plans(session, product),
            "assessments": assessments,
            "providers": providers,
            "registrations": rights.registrations_of(session, product),
            "datasets": products.product_datasets(session, product),
            "buyer_orgs": buyer_orgs,
            "is_party": _party(page, product),
            "error": error,
            "values": values or {},
        },
        status=status,
    )


@router.get("/exchange/products/{name}", response_class=HTMLResponse)
def product_page(page: Page, session: SessionDep, name: str) -> HTMLResponse:
    """One product: its specification, plans, assessments, rights certificate, seller, and the order form."""
    return _product_view(page, session, _visible_product(session, page, name))


@router.get("/exchange/sellers/{org_name}", response_class=HTMLResponse)
def seller_page(page: Page, session: SessionDep, org_name: str) -> HTMLResponse:
    """A seller's page: who it is and its listed products."""
    org = service.require_organization(session, org_name)
    listed = products.products_of_seller(session, org.id)
    return _show(page, "exchange/seller.html", {"org": org, "listed": listed})


@router.get("/exchange/verify", response_class=HTMLResponse)
def verify_page(
    page: Page,
    session: SessionDep,
    settings: SettingsDep,
    certificate: Annotated[str | None, Query(max_length=20_000)] = None,
) -> HTMLResponse:
    """Public check of a rights certificate or transaction certificate: signature and current status."""
    from auth.tokens import public_key_pem

    result = None
    if certificate and certificate.strip():
        result = check_certificate(session, _gw(page, settings), certificate)
    return _show(
        page,
        "exchange/verify.html",
        {"result": result, "certificate": certificate or "", "public_key": public_key_pem(settings.auth)},
    )


@router.get("/exchange/stats", response_class=HTMLResponse)
def stats_page(page: Page, session: SessionDep) -> HTMLResponse:
    """Turnover by month and category, top products and sellers, open disputes (operator, regulator)."""
    if not (is_operator(page.actor) or page.actor.is_regulator):
        raise AccessDenied("exchange.stats", "for the operator and the regulator / 仅运营方和监管方")
    return _show(
        page,
        "exchange/stats.html",
        {"stats": exchange_stats(session), "disputes": orders.open_disputes(session)},
    )


# --- the seller's workspace -------------------------------------------------------------------------


def _authorizations_for_agent(
    session: Session, agent_ids: list[uuid.UUID], *, usable_only: bool = True
) -> list[BrokerAuthorization]:
    if not agent_ids:
        return []
    stmt = select(BrokerAuthorization).where(col(BrokerAuthorization.agent_org_id).in_(agent_ids))
    found = list(session.exec(stmt.order_by(col(BrokerAuthorization.created_at).desc())))
    if not usable_only:
        return found
    now = datetime.now(UTC)
    return [a for a in found if a.revoked_at is None and aware(a.valid_from) <= now < aware(a.valid_to)]


@router.get("/exchange/seller", response_class=HTMLResponse)
def seller_workspace(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """卖方工作台: the products of the caller's organizations (as seller or holder) and what waits on them."""
    orgs = _my_orgs(session, page)
    ids = [o.id for o in orgs]
    mine: list[DataProduct] = []
    waiting: list[ExchangeOrder] = []
    to_answer: list[Any] = []
    if ids:
        mine = list(
            session.exec(
                select(DataProduct)
                .where(col(DataProduct.seller_org_id).in_(ids) | col(DataProduct.holder_org_id).in_(ids))
                .order_by(col(DataProduct.updated_at).desc())
            )
        )
        seller_orders = list(
            session.exec(
                select(ExchangeOrder)
                .where(col(ExchangeOrder.seller_org_id).in_(ids))
                .order_by(col(ExchangeOrder.created_at).desc())
                .limit(200)
            )
        )
        waiting = [o for o in seller_orders if o.status == OrderStatus.PENDING_CONTRACT.value]
        by_id = {o.id: o for o in seller_orders}
        to_answer = [
            d
            for d in orders.open_disputes(session)
            if d.order_id in by_id and d.opener_side == orders.BUYER and d.state == "open"
        ]
    return _show(
        page,
        "exchange/seller_workspace.html",
        {
            "orgs": orgs,
            "org_by_id": {o.id: o for o in orgs} | _orgs_by_id(session, {p.holder_org_id for p in mine}),
            "mine": mine,
            "waiting": waiting,
            "to_answer": to_answer,
            "product_by_id": {p.id: p for p in mine},
            "authorizations": _authorizations_for_agent(session, ids),
        },
    )


def _dataset_choices(session: Session, page: PageContext) -> list[tuple[Dataset, Organization | None]]:
    """Datasets the caller may build a product from: their organizations' own, and authorized ones."""
    ids = [o.id for o in _my_orgs(session, page)]
    if not ids:
        return []
    own = list(
        session.exec(
            select(Dataset)
            .where(col(Dataset.owner_org_id).in_(ids))
            .order_by(col(Dataset.updated_at).desc())
            .limit(500)
        )
    )
    authorized = {uuid.UUID(d) for a in _authorizations_for_agent(session, ids) for d in a.dataset_ids} - {
        d.id for d in own
    }
    found = own + service.get_datasets(session, authorized)
    owners = _orgs_by_id(session, {d.owner_org_id for d in found})
    return [(d, owners.get(d.owner_org_id)) for d in found]


def _product_form_context(
    session: Session, page: PageContext, values: dict[str, Any], errors: FieldErrors
) -> dict[str, Any]:
    ids = [o.id for o in _my_orgs(session, page)]
    auths = _authorizations_for_agent(session, ids)
    return {
        "values": values,
        "errors": errors,
        "orgs": _my_orgs(session, page),
        "datasets": _dataset_choices(session, page),
        "authorizations": auths,
        "auth_orgs": _orgs_by_id(session, {a.holder_org_id for a in auths} | {a.agent_org_id for a in auths}),
        "frequencies": vocab.frequencies(),
        "roles": [r.value for r in SellerRole],
        "modes": [m.value for m in DeliveryMode],
    }


PRODUCT_TEXT_FIELDS = (
    "seller_org", "name", "title", "description", "category", "seller_role", "authorization_id",
    "data_source", "lawful_origin", "content", "fields", "coverage", "update_frequency", "sample_rows",
    "usage_restrictions", "anonymization_method",
)  # fmt: skip
DECLARATIONS = ("contains_personal_info", "contains_sensitive_personal_info", "contains_important_data")


def _parse_fields(raw: str) -> list[dict[str, str]]:
    """One field a line: 名称 | 类型 | 说明."""
    out = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if not parts[0]:
            raise ValueError(line)
        out.append(
            {
                "name": parts[0],
                "type": parts[1] if len(parts) > 1 else "",
                "description": " | ".join(parts[2:]),
            }
        )
    return out


def _parse_sample(raw: str) -> list[dict[str, str]]:
    """Sample rows as CSV with a header line."""
    if not raw.strip():
        return []
    reader = csv.DictReader(io.StringIO(raw.strip()))
    rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    if not reader.fieldnames:
        raise ValueError("no header")
    return rows


@router.get("/exchange/seller/new", response_class=HTMLResponse)
def new_product_form(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """The form of a new data product with its specification and declaration."""
    values: dict[str, Any] = {
        "seller_role": "holder",
        "update_frequency": "monthly",
        "delivery_modes": ["file"],
        "dataset_ids": [],
    }
    return _show(page, "exchange/product_form.html", _product_form_context(session, page, values, {}))


@router.post("/exchange/seller/new", response_class=HTMLResponse)
def create_product(
    page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Register a draft product; each invalid field gets its own message in both languages."""
    values: dict[str, Any] = {k: text(form, k) for k in PRODUCT_TEXT_FIELDS}
    values["dataset_ids"] = _values(form, "dataset_ids")
    values["delivery_modes"] = _values(form, "delivery_modes")
    for key in DECLARATIONS:
        values[key] = text(form, key) in ("on", "true", "1", "yes")
    errors: FieldErrors = {}
    try:
        fields = _parse_fields(values["fields"])
    except ValueError:
        fields = []
        errors["fields"] = ("每行一个字段：名称 | 类型 | 说明", "One field a line: name | type | description")
    try:
        sample = _parse_sample(values["sample_rows"])
    except (ValueError, csv.Error):
        sample = []
        errors["sample_rows"] = ("样例数据须为带表头的 CSV", "Sample rows must be CSV with a header line")
    if len(sample) > SAMPLE_ROWS_MAX:
        errors["sample_rows"] = (
            f"样例数据最多 {SAMPLE_ROWS_MAX} 行",
            f"At most {SAMPLE_ROWS_MAX} sample rows",
        )
    seller = service.get_organization_by_name(session, values["seller_org"])
    if seller is None or page.actor.role_in(seller.id) not in WRITERS:
        errors["seller_org"] = ("请选择您所在的卖方机构", "Choose the selling organization you belong to")
    holder_org = None
    authorization_id = None
    if values["seller_role"] and values["seller_role"] != SellerRole.HOLDER.value:
        auth = (
            session.get(BrokerAuthorization, _uuid(values["authorization_id"]))
            if _uuid(values["authorization_id"])
            else None
        )
        if auth is None:
            errors["authorization_id"] = (
                "经纪人或数据商须选择持有方的授权",
                "A broker or data merchant chooses the holder's authorization",
            )
        else:
            holder = session.get(Organization, auth.holder_org_id)
            holder_org = holder.name if holder else None
            authorization_id = auth.id
    data = None
    try:
        data = ProductCreate.model_validate(
            {
                "name": values["name"],
                "title": values["title"],
                "description": values["description"],
                "category": values["category"],
                "seller_role": values["seller_role"] or SellerRole.HOLDER.value,
                "holder_org": holder_org,
                "authorization_id": authorization_id,
                "dataset_ids": values["dataset_ids"],
                "delivery_modes": values["delivery_modes"],
                "spec": ProductSpec(
                    data_source=values["data_source"],
                    lawful_origin=values["lawful_origin"],
                    content=values["content"],
                    fields=fields,
                    coverage=values["coverage"],
                    update_frequency=values["update_frequency"] or "irregular",
                    sample_rows=sample[:SAMPLE_ROWS_MAX],
                    usage_restrictions=values["usage_restrictions"],
                ),
                **{k: values[k] for k in DECLARATIONS},
                "anonymization_method": values["anonymization_method"],
            }
        )
    except ValidationError as exc:
        for key, message in field_errors(exc).items():
            errors.setdefault(key, message)
    if data is not None and not errors and seller is not None:
        try:
            product = products.create_product(
                session, _gw(page, settings), actor_id=user.id, seller=seller, data=data
            )
        except CatalogError as exc:
            session.rollback()
            message = bilingual(str(exc), "zh"), bilingual(str(exc), "en")
            errors["name" if isinstance(exc, ProductNameTaken) else ""] = message
        else:
            session.commit()
            return redirect(f"/exchange/seller/products/{product.name}")
    ctx = _product_form_context(session, page, values, errors)
    return _show(page, "exchange/product_form.html", ctx, status=422)


def _manage_view(
    page: PageContext,
    session: Session,
    product: DataProduct,
    *,
    error: str = "",
    failures: list[dict[str, Any]] | None = None,
    plan_values: dict[str, Any] | None = None,
    plan_errors: FieldErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    orgs = _orgs_by_id(session, [product.seller_org_id, product.holder_org_id])
    assessments = products.assessments_of(session, product)
    return _show(
        page,
        "exchange/manage.html",
        {
            "product": product,
            "seller": orgs.get(product.seller_org_id),
            "holder": orgs.get(product.holder_org_id),
            "datasets": products.product_datasets(session, product),
            "plans": products.active_plans(session, product),
            "assessments": assessments,
            "providers": _orgs_by_id(session, [a.provider_org_id for a in assessments]),
            "checks": [c.as_dict() for c in products.checklist(session, product)],
            "registrations": rights.registrations_of(session, product),
            "can_sell": page.actor.role_in(product.seller_org_id) in WRITERS,
            "can_delist": page.actor.role_in(product.seller_org_id) == "admin" or is_operator(page.actor),
            "can_register": page.actor.role_in(product.holder_org_id) == "admin",
            "plan_kinds": [k.value for k in PlanKind],
            "right_codes": [r.value for r in Right],
            "error": error,
            "failures": failures or [],
            "plan_values": plan_values or {"kind": "subscription", "period_days": "30"},
            "plan_errors": plan_errors or {},
        },
        status=status,
    )


def _managed(session: Session, page: PageContext, name: str) -> DataProduct:
    product = products.require_product(session, name)
    if not (_party(page, product) or is_operator(page.actor)):
        raise NotVisible("exchange.product.manage", "not a party")
    return product


@router.get("/exchange/seller/products/{name}", response_class=HTMLResponse)
def manage_product(page: Page, name: str, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """One product for its seller and holder: checklist, review outcome, plans, submission, rights."""
    return _manage_view(page, session, _managed(session, page, name))


def _optional_int(raw: str) -> int | str | None:
    return None if not raw else (int(raw) if raw.isdigit() else raw)


@router.post("/exchange/seller/products/{name}/plans", response_class=HTMLResponse)
def add_plan(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Add a price plan (price typed in yuan)."""
    product = _managed(session, page, name)
    require_member(page.actor, product.seller_org_id, "exchange.plan.create")
    values = {
        k: text(form, k) for k in ("name", "kind", "price", "period_days", "download_quota", "query_quota")
    }
    errors: FieldErrors = {}
    price = fen_of(values["price"] or "0")
    if price is None:
        errors["price"] = (
            "价格须为不小于 0 的金额（元，最多两位小数）",
            "Price: an amount in yuan, 0 or more",
        )
    try:
        data = PlanCreate.model_validate(
            {
                "name": values["name"],
                "kind": values["kind"],
                "price_fen": price or 0,
                "period_days": values["period_days"] or 30,
                "download_quota": _optional_int(values["download_quota"]),
                "query_quota": _optional_int(values["query_quota"]),
            }
        )
    except ValidationError as exc:
        errors.update(
            {k: v for k, v in field_errors(exc).items() if k != "price_fen" or "price" not in errors}
        )
        if "price_fen" in errors:
            errors["price"] = errors.pop("price_fen")
    if errors:
        return _manage_view(page, session, product, plan_values=values, plan_errors=errors, status=422)
    try:
        products.add_plan(session, _gw(page, settings), actor_id=user.id, product=product, data=data)
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _manage_view(page, session, product, error=message, plan_values=values, status=status)
    session.commit()
    return redirect(f"/exchange/seller/products/{product.name}#plans")


@router.post("/exchange/seller/products/{name}/submit", response_class=HTMLResponse)
def submit_product(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Send the product to the operator's review queue."""
    product = _managed(session, page, name)
    require_member(page.actor, product.seller_org_id, "exchange.product.submit")
    try:
        products.submit_product(session, _gw(page, settings), actor_id=user.id, product=product)
    except ListingRefused as exc:
        session.rollback()
        return _manage_view(
            page,
            session,
            products.require_product(session, name),
            error=page.t("不得提交挂牌：", "Cannot be submitted: "),
            failures=exc.failures,
            status=status_for(exc),
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _manage_view(
            page, session, products.require_product(session, name), error=message, status=status
        )
    session.commit()
    return redirect(f"/exchange/seller/products/{product.name}")


@router.post("/exchange/seller/products/{name}/delist", response_class=HTMLResponse)
def delist_product(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Take the product off the market (the seller's admin or the operator), with a reason."""
    product = _managed(session, page, name)
    if not is_operator(page.actor):
        require_member(page.actor, product.seller_org_id, "exchange.product.delist", ("admin",))
    try:
        products.delist_product(
            session, _gw(page, settings), actor_id=user.id, product=product, reason=text(form, "reason")
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _manage_view(
            page, session, products.require_product(session, name), error=message, status=status
        )
    session.commit()
    return redirect(f"/exchange/seller/products/{product.name}")


@router.post("/exchange/seller/products/{name}/rights", response_class=HTMLResponse)
def apply_rights(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """The holder applies to register its rights over the product's data (数据产权登记)."""
    product = _managed(session, page, name)
    require_member(page.actor, product.holder_org_id, "exchange.rights.apply", ("admin",))
    holder = service.require_organization(session, product.holder_org_id)
    wanted = [r for r in _values(form, "rights") if r in {x.value for x in Right}]
    try:
        registration = rights.apply(
            session, _gw(page, settings), actor_id=user.id, product=product, holder=holder, rights=wanted
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _manage_view(
            page, session, products.require_product(session, name), error=message, status=status
        )
    session.commit()
    return redirect(f"/exchange/rights/{registration.id}")


# --- broker authorizations (the holder agency) ----------------------------------------------------


def _authorizations_view(
    page: PageContext,
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    holders = _my_orgs(session, page, ("admin",))
    mine = [o.id for o in _my_orgs(session, page, BUYER_ROLES)]
    granted: list[BrokerAuthorization] = []
    if mine:
        granted = list(
            session.exec(
                select(BrokerAuthorization)
                .where(
                    col(BrokerAuthorization.holder_org_id).in_(mine)
                    | col(BrokerAuthorization.agent_org_id).in_(mine)
                )
                .order_by(col(BrokerAuthorization.created_at).desc())
            )
        )
    datasets: list[Dataset] = []
    if holders:
        datasets = list(
            session.exec(
                select(Dataset)
                .where(col(Dataset.owner_org_id).in_([o.id for o in holders]))
                .order_by(col(Dataset.name))
                .limit(500)
            )
        )
    agents = [o for o in service.list_organizations(session) if o.org_type in ("broker", "enterprise")]
    orgs = _orgs_by_id(session, {a.holder_org_id for a in granted} | {a.agent_org_id for a in granted})
    names = {
        str(d.id): d
        for d in service.get_datasets(session, {uuid.UUID(i) for a in granted for i in a.dataset_ids})
    }
    today = datetime.now(UTC).date()
    return _show(
        page,
        "exchange/authorizations.html",
        {
            "holders": holders,
            "admin_of": {o.id for o in holders},
            "agents": agents,
            "datasets": datasets,
            "granted": granted,
            "orgs": orgs,
            "dataset_by_str": names,
            "now": datetime.now(UTC),
            "aware": aware,
            "values": values
            or {
                "valid_from": today.isoformat(),
                "valid_to": (today + timedelta(days=365)).isoformat(),
                "agent_role": "broker",
                "dataset_ids": [],
            },
            "errors": errors or {},
        },
        status=status,
    )


@router.get("/exchange/authorizations", response_class=HTMLResponse)
def authorizations_page(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """经纪授权: the holder agency grants and revokes brokers' and data merchants' authorizations."""
    return _authorizations_view(page, session)


@router.post("/exchange/authorizations", response_class=HTMLResponse)
def grant_authorization(
    page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Record the holder's authorization: who, which data, until when."""
    values: dict[str, Any] = {
        k: text(form, k) for k in ("holder_org", "agent_org", "agent_role", "valid_from", "valid_to", "scope")
    }
    values["dataset_ids"] = _values(form, "dataset_ids")
    errors: FieldErrors = {}
    holder = service.get_organization_by_name(session, values["holder_org"])
    if holder is None or page.actor.role_in(holder.id) != "admin":
        errors["holder_org"] = ("请选择您管理的持有方机构", "Choose a holder organization you administer")
    agent = service.get_organization_by_name(session, values["agent_org"])
    if agent is None:
        errors["agent_org"] = ("请选择被授权方", "Choose the authorized party")
    start, end = _date(values["valid_from"]), _date(values["valid_to"])
    if start is None:
        errors["valid_from"] = ("请填写起始日期", "Enter the start date")
    if end is None:
        errors["valid_to"] = ("请填写截止日期", "Enter the end date")
    ids = [u for u in (_uuid(v) for v in values["dataset_ids"]) if u is not None]
    if not ids:
        errors["dataset_ids"] = ("请至少选择一个授权数据集", "Choose at least one dataset")
    role = values["agent_role"] if values["agent_role"] in ("broker", "merchant") else "broker"
    if not errors:
        assert holder is not None and agent is not None and start is not None and end is not None
        try:
            products.authorize_agent(
                session,
                _gw(page, settings),
                actor_id=user.id,
                holder=holder,
                agent=agent,
                dataset_ids=ids,
                valid_from=_start_of(start),
                valid_to=_end_of(end),
                agent_role=SellerRole(role),
                scope=values["scope"],
            )
        except STEP_ERRORS as exc:
            session.rollback()
            errors[""] = (bilingual(str(exc), "zh"), bilingual(str(exc), "en"))
        else:
            session.commit()
            return redirect("/exchange/authorizations")
    return _authorizations_view(page, session, values=values, errors=errors, status=422)


@router.post("/exchange/authorizations/{authorization_id}/revoke")
def revoke_authorization(
    page: Page,
    authorization_id: uuid.UUID,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The holder withdraws an authorization, with a reason."""
    found = products.require_authorization(session, authorization_id)
    require_member(page.actor, found.holder_org_id, "exchange.authorization.revoke", ("admin",))
    products.revoke_authorization(
        session, _gw(page, settings), actor_id=user.id, authorization=found, reason=text(form, "reason")
    )
    session.commit()
    return redirect("/exchange/authorizations")


# --- assessments (third-party service providers) ----------------------------------------------------


def _provider_orgs(session: Session, page: PageContext) -> list[Organization]:
    return [o for o in _my_orgs(session, page) if o.org_type == "service_provider"]


@router.get("/exchange/assessments", response_class=HTMLResponse)
def assessments_page(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """The products waiting for review, for a service provider to assess."""
    providers = _provider_orgs(session, page)
    queue = products.review_queue(session) if providers else []
    return _show(
        page,
        "exchange/assessments.html",
        {
            "providers": providers,
            "queue": queue,
            "orgs": _orgs_by_id(session, {p.seller_org_id for p in queue}),
        },
    )


def _assess_view(
    page: PageContext,
    session: Session,
    product: DataProduct,
    *,
    values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    assessments = products.assessments_of(session, product)
    return _show(
        page,
        "exchange/assess.html",
        {
            "product": product,
            "providers": _provider_orgs(session, page),
            "assessments": assessments,
            "provider_by_id": _orgs_by_id(session, [a.provider_org_id for a in assessments]),
            "kinds": [k.value for k in AssessmentKind],
            "conclusions": [c.value for c in Conclusion],
            "datasets": products.product_datasets(session, product),
            "values": values or {"kind": "compliance", "conclusion": "pass"},
            "errors": errors or {},
        },
        status=status,
    )


@router.get("/exchange/products/{name}/assess", response_class=HTMLResponse)
def assess_form(page: Page, name: str, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """The form where a service provider attaches its report to a product."""
    product = _visible_product(session, page, name)
    return _assess_view(page, session, product)


@router.post("/exchange/products/{name}/assess", response_class=HTMLResponse)
async def attach_assessment(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Attach a compliance, quality, anonymization or valuation report; an uploaded file is fingerprinted."""
    product = _visible_product(session, page, name)
    values = {
        k: text(form, k)
        for k in ("provider_org", "kind", "title", "conclusion", "summary", "report_sha256", "report_url")
    }
    errors: FieldErrors = {}
    provider = service.get_organization_by_name(session, values["provider_org"])
    if provider is None or page.actor.role_in(provider.id) not in WRITERS:
        errors["provider_org"] = ("请选择您所在的服务机构", "Choose the service provider you belong to")
    upload = form.get("report_file")
    if isinstance(upload, UploadFile) and upload.filename:
        digest = hashlib.sha256()
        while chunk := await upload.read(1 << 20):
            digest.update(chunk)
        values["report_sha256"] = digest.hexdigest()
    values["report_sha256"] = values["report_sha256"].lower()
    data = None
    try:
        data = AssessmentCreate.model_validate({k: v for k, v in values.items() if k != "provider_org"})
    except ValidationError as exc:
        errors.update(field_errors(exc))
    if not errors and data is not None and provider is not None:
        try:
            products.attach_assessment(
                session, _gw(page, settings), actor_id=user.id, product=product, provider=provider, data=data
            )
        except STEP_ERRORS as exc:
            session.rollback()
            errors[""] = (bilingual(str(exc), "zh"), bilingual(str(exc), "en"))
        else:
            session.commit()
            return redirect(f"/exchange/products/{product.name}/assess")
    product = products.require_product(session, name)
    return _assess_view(page, session, product, values=values, errors=errors, status=422)


# --- the operator ---------------------------------------------------------------------------------------


@router.get("/exchange/operator", response_class=HTMLResponse)
def operator_page(page: Page, user: CurrentUser, session: SessionDep, expired: str = "") -> HTMLResponse:
    """运营审核: the review queue with its checklist, rights to certify, objections, disputes, expiry."""
    require_operator(page.actor, "exchange.review")
    queue = products.review_queue(session)
    pending = list(
        session.exec(
            select(RightsRegistration)
            .where(RightsRegistration.state == RightsState.PENDING.value)
            .order_by(col(RightsRegistration.created_at))
        )
    )
    objections = list(
        session.exec(
            select(RightsObjection)
            .where(RightsObjection.state == "open")
            .order_by(col(RightsObjection.created_at))
        )
    )
    disputes = orders.open_disputes(session)
    order_by_id = {
        o.id: o
        for o in session.exec(
            select(ExchangeOrder).where(
                col(ExchangeOrder.id).in_([d.order_id for d in disputes] or [uuid.uuid4()])
            )
        )
    }
    product_ids = {r.product_id for r in pending} | {o.product_id for o in order_by_id.values()}
    product_by_id = {p.id: p for p in queue}
    product_by_id |= {
        p.id: p
        for p in session.exec(
            select(DataProduct).where(col(DataProduct.id).in_(list(product_ids) or [uuid.uuid4()]))
        )
    }
    return _show(
        page,
        "exchange/operator.html",
        {
            "queue": [(p, [c.as_dict() for c in products.checklist(session, p)]) for p in queue],
            "orgs": _orgs_by_id(
                session, {p.seller_org_id for p in queue} | {r.holder_org_id for r in pending}
            ),
            "pending": pending,
            "objections": objections,
            "disputes": disputes,
            "order_by_id": order_by_id,
            "product_by_id": product_by_id,
            "expired": [x for x in expired.split(",") if x] if expired else None,
        },
    )


def _review_view(
    page: PageContext,
    session: Session,
    product: DataProduct,
    *,
    error: str = "",
    failures: list[dict[str, Any]] | None = None,
    reasons: str = "",
    status: int = 200,
) -> HTMLResponse:
    orgs = _orgs_by_id(session, [product.seller_org_id, product.holder_org_id])
    assessments = products.assessments_of(session, product)
    return _show(
        page,
        "exchange/review.html",
        {
            "product": product,
            "seller": orgs.get(product.seller_org_id),
            "holder": orgs.get(product.holder_org_id),
            "checks": [c.as_dict() for c in products.checklist(session, product)],
            "datasets": products.product_datasets(session, product),
            "plans": products.active_plans(session, product),
            "assessments": assessments,
            "providers": _orgs_by_id(session, [a.provider_org_id for a in assessments]),
            "error": error,
            "failures": failures or [],
            "reasons": reasons,
        },
        status=status,
    )


@router.get("/exchange/operator/review/{name}", response_class=HTMLResponse)
def review_page(page: Page, name: str, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """One submitted product with the checklist (each item pass/fail with its reason) and the decision."""
    require_operator(page.actor, "exchange.review")
    return _review_view(page, session, products.require_product(session, name))


@router.post("/exchange/operator/review/{name}", response_class=HTMLResponse)
def review_product(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Approve (list) or reject with reasons (one reason a line)."""
    require_operator(page.actor, "exchange.review")
    product = products.require_product(session, name)
    raw = text(form, "reasons")
    try:
        if text(form, "decision") == "approve":
            products.approve_product(session, _gw(page, settings), actor_id=user.id, product=product)
        else:
            reasons = [line.strip() for line in raw.splitlines() if line.strip()]
            products.reject_product(
                session, _gw(page, settings), actor_id=user.id, product=product, reasons=reasons
            )
    except ListingRefused as exc:
        session.rollback()
        return _review_view(
            page,
            session,
            products.require_product(session, name),
            error=page.t("不能批准挂牌：", "Cannot be approved: ")
            + ("" if exc.failures else bilingual(str(exc), page.lang)),
            failures=exc.failures,
            reasons=raw,
            status=status_for(exc),
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _review_view(
            page, session, products.require_product(session, name), error=message, reasons=raw, status=status
        )
    session.commit()
    return redirect("/exchange/operator")


@router.post("/exchange/operator/expire")
def run_expiry(
    page: Page, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Mark orders past their term as expired and settle them."""
    require_operator(page.actor, "exchange.expire")
    expired = orders.expire_orders(session, _gw(page, settings))
    session.commit()
    return redirect("/exchange/operator?expired=" + (",".join(o.number for o in expired) or "-") + "#expiry")


# --- rights registration -----------------------------------------------------------------------------


def _rights_view(
    page: PageContext,
    session: Session,
    registration: RightsRegistration,
    *,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    product = session.get(DataProduct, registration.product_id)
    holder_admin = page.actor.role_in(registration.holder_org_id) == "admin"
    objections = rights.objections_of(session, registration)
    return _show(
        page,
        "exchange/rights.html",
        {
            "reg": registration,
            "product": product,
            "holder": session.get(Organization, registration.holder_org_id),
            "events": rights.events_of(session, registration),
            "objections": objections,
            "orgs": [o for o in service.list_organizations(session) if o.id != registration.holder_org_id]
            if holder_admin
            else [],
            "holder_admin": holder_admin,
            "live": registration.state in rights.LIVE,
            "can_object": page.user is not None and not page.actor.is_insider(registration.holder_org_id),
            "right_codes": [r.value for r in Right],
            "default_until": (datetime.now(UTC).date() + timedelta(days=365)).isoformat(),
            "error": error,
        },
        status=status,
    )


@router.get("/exchange/rights/{ref}", response_class=HTMLResponse)
def rights_page(page: Page, ref: str, session: SessionDep) -> HTMLResponse:
    """A rights registration: state, certificate, history, objections, and the steps the viewer may take."""
    return _rights_view(page, session, rights.require_registration(session, ref))


@router.get("/exchange/rights/{ref}/certificate.jws")
def rights_certificate_file(ref: str, page: Page, session: SessionDep) -> Response:
    """The signed rights certificate (数据产权登记证书) as a file, to keep and verify offline."""
    registration = rights.require_registration(session, ref)
    if not registration.certificate:
        raise NotVisible("exchange.rights.certificate", "no certificate issued yet")
    return _certificate_file(registration.certificate, f"rights-{registration.number}.jws")


def _certificate_file(token: str, filename: str) -> Response:
    return Response(
        token,
        media_type="application/jose; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


RIGHTS_STEPS = ("certify", "license", "transfer", "change", "cancel", "revoke", "objection")


@router.post("/exchange/rights/{ref}/{step}", response_class=HTMLResponse)
def rights_step(
    page: Page,
    ref: str,
    step: str,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One life event of a registration: certify, license, transfer, change, cancel, revoke, object."""
    if step not in RIGHTS_STEPS:
        raise NotVisible("exchange.rights", f"unknown step {step}")
    registration = rights.require_registration(session, ref)
    gw = _gw(page, settings)
    holder_only = ("license", "transfer", "change", "cancel")
    if step in ("certify", "revoke"):
        require_operator(page.actor, f"exchange.rights.{step}")
    elif step in holder_only:
        require_member(page.actor, registration.holder_org_id, f"exchange.rights.{step}", ("admin",))
    chosen = [r for r in _values(form, "rights") if r in {x.value for x in Right}]
    try:
        if step == "certify":
            rights.certify(session, gw, actor_id=user.id, registration=registration)
        elif step == "license":
            until = _date(text(form, "until"))
            if until is None:
                raise InvalidProduct("请填写许可截止日期 / enter the date the licence ends")
            rights.license_rights(
                session,
                gw,
                actor_id=user.id,
                registration=registration,
                licensee=service.require_organization(session, text(form, "licensee_org")),
                rights=chosen,
                until=_end_of(until),
            )
        elif step == "transfer":
            rights.transfer_rights(
                session,
                gw,
                actor_id=user.id,
                registration=registration,
                to=service.require_organization(session, text(form, "to_org")),
            )
        elif step == "change":
            rights.change_registration(
                session,
                gw,
                actor_id=user.id,
                registration=registration,
                rights=chosen or None,
                refresh_fingerprint=text(form, "refresh_fingerprint") == "on",
            )
        elif step == "cancel":
            rights.cancel_registration(
                session, gw, actor_id=user.id, registration=registration, reason=text(form, "reason")
            )
        elif step == "revoke":
            rights.revoke_registration(
                session, gw, actor_id=user.id, registration=registration, reason=text(form, "reason")
            )
        else:
            rights.file_objection(
                session,
                gw,
                actor_id=user.id,
                objector_name=user.fullname or user.name,
                registration=registration,
                reason=text(form, "reason"),
            )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _rights_view(
            page, session, rights.require_registration(session, ref), error=message, status=status
        )
    session.commit()
    return redirect(f"/exchange/rights/{registration.id}")


@router.post("/exchange/objections/{objection_id}/decide", response_class=HTMLResponse)
def decide_objection(
    page: Page,
    objection_id: uuid.UUID,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The operator upholds (revoking the registration) or dismisses an objection."""
    require_operator(page.actor, "exchange.rights.objection")
    objection = rights.require_objection(session, objection_id)
    try:
        rights.decide_objection(
            session,
            _gw(page, settings),
            actor_id=user.id,
            objection=objection,
            upheld=text(form, "decision") == "upheld",
            resolution=text(form, "resolution"),
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        registration = rights.require_registration(session, objection.registration_id)
        return _rights_view(page, session, registration, error=message, status=status)
    session.commit()
    return redirect(f"/exchange/rights/{objection.registration_id}")


# --- orders ---------------------------------------------------------------------------------------------


@router.post("/exchange/products/{name}/order", response_class=HTMLResponse)
def place_order(
    page: Page, name: str, user: CurrentUser, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Order the chosen plan for one of the caller's organizations; the contract is drawn up."""
    product = _visible_product(session, page, name)
    values = {k: text(form, k) for k in ("plan_id", "buyer_org", "scope_of_use")}
    try:
        buyer_org = service.require_organization(session, values["buyer_org"] or "-")
        require_member(page.actor, buyer_org.id, "exchange.order.create", BUYER_ROLES)
        plan_id = _uuid(values["plan_id"])
        if plan_id is None:
            raise PlanNotFound("请选择价格方案 / choose a price plan")
        order = orders.place_order(
            session,
            _gw(page, settings),
            actor_id=user.id,
            product=product,
            plan=products.require_plan(session, product, plan_id),
            buyer_org=buyer_org,
            buyer_user_id=user.id,
            settings=exchange_settings(settings),
            scope_of_use=values["scope_of_use"],
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        product = products.require_product(session, name)
        return _product_view(page, session, product, error=message, status=max(status, 400), values=values)
    session.commit()
    return redirect(f"/exchange/orders/{order.number}")


@router.get("/exchange/orders", response_class=HTMLResponse)
def orders_page(page: Page, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """我的订单: the orders and entitlements of the caller's organizations, as buyer or seller."""
    seen: dict[uuid.UUID, ExchangeOrder] = {}
    for org_id in page.actor.org_roles:
        for order in orders.orders_of_org(session, org_id):
            seen[order.id] = order
    found = sorted(seen.values(), key=lambda o: o.created_at, reverse=True)
    mine = set(page.actor.org_roles)
    bought = [o for o in found if o.buyer_org_id in mine]
    sold = [o for o in found if o.buyer_org_id not in mine]
    product_by_id = {
        p.id: p
        for p in session.exec(
            select(DataProduct).where(
                col(DataProduct.id).in_([o.product_id for o in found] or [uuid.uuid4()])
            )
        )
    }
    orgs = _orgs_by_id(session, {o.buyer_org_id for o in found} | {o.seller_org_id for o in found})
    return _show(
        page,
        "exchange/orders.html",
        {
            "bought": bought,
            "sold": sold,
            "product_by_id": product_by_id,
            "orgs": orgs,
            "entitled": [o for o in bought if o.status in orders.IN_FORCE and o.buyer_user_id == user.id],
        },
    )


def _deliverables(
    session: Session, storage: Any, settings: Settings, product: DataProduct
) -> list[dict[str, Any]]:
    """The product's resources with a stored version, with their table columns when they have a table."""
    out = []
    for dataset in products.product_datasets(session, product):
        resources = service.list_resources(session, dataset)
        versions = service.latest_versions(session, resources)
        for resource in resources:
            version = versions.get(resource.id)
            if version is None:
                continue
            columns: list[Any] = []
            if version.normalized_key:
                from portal.api_v1.data import table_for

                try:
                    columns = [
                        c
                        for c in dataapi.table_columns(table_for(session, storage, settings, resource))
                        if c.scalar
                    ]
                except Exception:  # a table that cannot be read offers no sandbox form; downloads still work
                    columns = []
            out.append({"dataset": dataset, "resource": resource, "version": version, "columns": columns})
    return out


def _order_view(
    page: PageContext,
    session: Session,
    storage: Any,
    settings: Settings,
    order: ExchangeOrder,
    *,
    error: str = "",
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    product = session.get(DataProduct, order.product_id)
    assert product is not None
    side = order_side(page.actor, order)
    contract = orders.contract_of(session, order)
    is_buyer_user = page.user is not None and page.user.id == order.buyer_user_id
    in_force = order.status in orders.IN_FORCE
    usage = None
    if order.grant_id is not None and (
        side is not None or is_operator(page.actor) or page.actor.is_regulator
    ):
        usage = _gw(page, settings).usage(session, grant_id=order.grant_id)
    deliverables = _deliverables(session, storage, settings, product) if in_force and is_buyer_user else []
    disputes = orders.disputes_of(session, order)
    return _show(
        page,
        "exchange/order.html",
        {
            "order": order,
            "product": product,
            "contract": contract,
            "orgs": _orgs_by_id(session, [order.buyer_org_id, order.seller_org_id, order.holder_org_id]),
            "side": side,
            "can_accept_buyer": contract is not None
            and contract.buyer_accepted_at is None
            and page.actor.role_in(order.buyer_org_id) in BUYER_ROLES
            and order.status == OrderStatus.PENDING_CONTRACT.value,
            "can_accept_seller": contract is not None
            and contract.seller_accepted_at is None
            and page.actor.role_in(order.seller_org_id) in WRITERS
            and order.status == OrderStatus.PENDING_CONTRACT.value,
            "is_buyer_user": is_buyer_user,
            "in_force": in_force,
            "usage": usage,
            "deliverables": deliverables,
            "modes": set(product.delivery_modes),
            "disputes": disputes,
            "open_dispute": any(d.state != "resolved" for d in disputes),
            "can_dispute": side is not None
            and order.status
            in (
                OrderStatus.ACTIVE.value,
                OrderStatus.RECEIVED.value,
                OrderStatus.EXPIRED.value,
                OrderStatus.REVOKED.value,
            ),
            "ops": ["count", "sum", "avg", "min", "max"],
            "price_yuan": f"{order.price_fen // 100}.{order.price_fen % 100:02d}",
            "error": error,
            "data_result": None,
            "sandbox_result": None,
            "form": {},
            **extra,
        },
        status=status,
    )


@router.get("/exchange/orders/{ref}", response_class=HTMLResponse)
def order_page(
    page: Page, ref: str, user: CurrentUser, session: SessionDep, storage: StorageDep, settings: SettingsDep
) -> HTMLResponse:
    """One order: contract, payment, entitlement and delivery, receipt, disputes, certificate."""
    order = visible_order(ref, session, page.actor)
    return _order_view(page, session, storage, settings, order)


@router.post("/exchange/orders/{ref}/data", response_class=HTMLResponse)
def order_data_query(
    page: Page,
    ref: str,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> Response:
    """数据接口: query rows of a resource under the entitlement (same policy, quota and audit as the API)."""
    from portal.api_v1.data import build_query, parse_filters, table_for

    order = visible_order(ref, session, page.actor)
    product = session.get(DataProduct, order.product_id)
    assert product is not None
    values = {k: text(form, k) for k in ("resource_id", "fields", "q", "filters", "limit")}
    try:
        if user.id != order.buyer_user_id or order.status not in orders.IN_FORCE:
            raise AccessDenied(
                "exchange.data", "only the ordering user, while the order is in force / 仅下单用户"
            )
        resource = _resource_of(session, product, values["resource_id"])
        dataset = service.require_dataset(session, resource.dataset_id)
        limit = int(values["limit"]) if values["limit"].isdigit() else 20
        query = build_query(
            filters=parse_filters(values["filters"]),
            q=values["q"] or None,
            fields=dataapi.split_list(values["fields"]) or None,
            limit=min(limit, 100),
        )
        downloads.authorize_file_access(
            session,
            page.request,
            actor=page.actor,
            user=user,
            dataset=dataset,
            action=Action.RESOURCE_QUERY,
            object_id=str(resource.id),
        )
        result = dataapi.run_query(table_for(session, storage, settings, resource), query)
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _order_view(page, session, storage, settings, order, error=message, status=status, form=values)
    session.commit()
    return _order_view(page, session, storage, settings, order, data_result=result, form=values)


@router.post("/exchange/orders/{ref}/sandbox", response_class=HTMLResponse)
def order_sandbox_query(
    page: Page,
    ref: str,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> Response:
    """沙箱查询: aggregates over chosen group-by fields; groups under k rows are withheld, not shown."""
    from portal.api_v1.data import table_for

    order = visible_order(ref, session, page.actor)
    product = session.get(DataProduct, order.product_id)
    assert product is not None
    group_by = _values(form, "group_by")
    measures = []
    for i in range(1, 4):
        op, field = text(form, f"op_{i}"), text(form, f"field_{i}")
        if op:
            measures.append({"op": op, "field": field or None})
    values: dict[str, Any] = {"resource_id": text(form, "resource_id"), "group_by": group_by}
    values |= {f"op_{i}": text(form, f"op_{i}") for i in range(1, 4)}
    values |= {f"field_{i}": text(form, f"field_{i}") for i in range(1, 4)}
    try:
        if user.id != order.buyer_user_id:
            raise AccessDenied("exchange.sandbox.query", "only the ordering user queries / 仅下单用户可查询")
        resource = _resource_of(session, product, values["resource_id"])
        try:
            query = AggregateQuery.model_validate({"measures": measures, "group_by": group_by})
        except ValidationError as exc:
            raise SandboxRefused(
                "请至少选择一个统计量（最多 5 个分组字段） / choose at least one measure (at most 5 group-by fields)"
            ) from exc
        result = orders.sandbox_query(
            session,
            _gw(page, settings),
            actor_id=user.id,
            order=order,
            dataset_id=resource.dataset_id,
            table_path=table_for(session, storage, settings, resource),
            query=query,
            settings=exchange_settings(settings),
        )
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _order_view(page, session, storage, settings, order, error=message, status=status, form=values)
    session.commit()
    return _order_view(page, session, storage, settings, order, sandbox_result=result, form=values)


ORDER_STEPS = ("accept", "pay", "receive", "cancel", "dispute", "revoke")


@router.post("/exchange/orders/{ref}/{step}", response_class=HTMLResponse)
def order_step(
    page: Page,
    ref: str,
    step: str,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> Response:
    """One step of an order: accept the contract, pay, confirm receipt, cancel, dispute, revoke."""
    if step not in ORDER_STEPS:
        raise NotVisible("exchange.order", f"unknown step {step}")
    order = visible_order(ref, session, page.actor)
    gw = _gw(page, settings)
    side = order_side(page.actor, order)
    try:
        if step == "accept":
            wanted = text(form, "side")
            if wanted == orders.BUYER:
                require_member(page.actor, order.buyer_org_id, "exchange.contract.accept", BUYER_ROLES)
            else:
                wanted = orders.SELLER
                require_member(page.actor, order.seller_org_id, "exchange.contract.accept")
            orders.accept_contract(session, gw, actor_id=user.id, order=order, side=wanted)
        elif step == "revoke":
            if not is_operator(page.actor) and side != orders.SELLER:
                raise AccessDenied(
                    "exchange.order.revoke", "only the seller or the operator / 仅卖方或运营方"
                )
            orders.revoke_entitlement(session, gw, actor_id=user.id, order=order, reason=text(form, "reason"))
        elif step == "dispute":
            if side is None:
                raise AccessDenied("exchange.dispute.open", "only the buyer or the seller / 仅买卖双方")
            orders.open_dispute(
                session, gw, actor_id=user.id, order=order, side=side, reason=text(form, "reason")
            )
        else:
            if side != orders.BUYER:
                raise AccessDenied(f"exchange.order.{step}", "only the buyer may do this / 仅买方可操作")
            if step == "pay":
                amount = fen_of(text(form, "amount"))
                if amount is None:
                    raise InvalidProduct("请填写付款金额（元） / enter the amount paid in yuan")
                orders.record_payment(
                    session,
                    gw,
                    actor_id=user.id,
                    order=order,
                    amount_fen=amount,
                    payment_ref=text(form, "payment_ref"),
                )
            elif step == "receive":
                orders.confirm_receipt(session, gw, actor_id=user.id, order=order)
            else:
                orders.cancel_order(session, gw, actor_id=user.id, order=order, reason=text(form, "reason"))
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        order = orders.require_order(session, ref)
        return _order_view(page, session, storage, settings, order, error=message, status=status)
    session.commit()
    return redirect(f"/exchange/orders/{order.number}")


def _resource_of(session: Session, product: DataProduct, raw: str) -> Any:
    from catalog.errors import ResourceNotFound
    from catalog.models import Resource

    rid = _uuid(raw)
    resource = session.get(Resource, rid) if rid else None
    if resource is None or str(resource.dataset_id) not in product.dataset_ids:
        raise ResourceNotFound(f"该资源不属于本产品 / the resource is not part of this product: {raw}")
    return resource


@router.get("/exchange/orders/{ref}/certificate", response_class=HTMLResponse)
def transaction_certificate_page(
    page: Page, ref: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """交易凭证: what the signed transaction certificate states, its check, and the file to keep."""
    order = visible_order(ref, session, page.actor)
    if not order.certificate:
        raise NotVisible("exchange.order.certificate", "not settled yet / 尚未结算")
    checked = check_certificate(session, _gw(page, settings), order.certificate)
    return _show(
        page,
        "exchange/certificate.html",
        {"order": order, "checked": checked, "payload": checked.payload or {}},
    )


@router.get("/exchange/orders/{ref}/certificate.jws")
def transaction_certificate_file(ref: str, page: Page, user: CurrentUser, session: SessionDep) -> Response:
    """The signed transaction certificate as a file."""
    order = visible_order(ref, session, page.actor)
    if not order.certificate:
        raise NotVisible("exchange.order.certificate", "not settled yet / 尚未结算")
    return _certificate_file(order.certificate, f"transaction-{order.number}.jws")


# --- disputes -----------------------------------------------------------------------------------------


def _dispute_view(
    page: PageContext,
    session: Session,
    settings: Settings,
    dispute_id: uuid.UUID,
    *,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    dispute = orders.require_dispute(session, dispute_id)
    order = visible_order(str(dispute.order_id), session, page.actor)
    side = order_side(page.actor, order)
    overseer = is_operator(page.actor) or page.actor.is_regulator
    record = None
    if overseer:
        record = orders.order_record(session, order)
        if order.grant_id is not None:
            usage = _gw(page, settings).usage(session, grant_id=order.grant_id)
            record["entitlement"] = usage
            record["grant_audit"] = audit.query(session, object_id=str(order.grant_id), limit=200)
    return _show(
        page,
        "exchange/dispute.html",
        {
            "dispute": dispute,
            "order": order,
            "product": session.get(DataProduct, order.product_id),
            "contract": orders.contract_of(session, order),
            "orgs": _orgs_by_id(session, [order.buyer_org_id, order.seller_org_id]),
            "can_answer": side is not None and side != dispute.opener_side and dispute.state == "open",
            "can_resolve": is_operator(page.actor) and dispute.state != "resolved",
            "record": record,
            "outcomes": [o.value for o in DisputeOutcome],
            "error": error,
        },
        status=status,
    )


@router.get("/exchange/disputes/{dispute_id}", response_class=HTMLResponse)
def dispute_page(
    page: Page, dispute_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """A dispute: grounds and answer; for the operator the full record of the order and the decision."""
    return _dispute_view(page, session, settings, dispute_id)


@router.post("/exchange/disputes/{dispute_id}/{step}", response_class=HTMLResponse)
def dispute_step(
    page: Page,
    dispute_id: uuid.UUID,
    step: str,
    user: CurrentUser,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The other side answers; the operator resolves (no action, revoke, or refund)."""
    dispute = orders.require_dispute(session, dispute_id)
    order = visible_order(str(dispute.order_id), session, page.actor)
    gw = _gw(page, settings)
    try:
        if step == "answer":
            side = order_side(page.actor, order)
            if side is None:
                raise AccessDenied("exchange.dispute.answer", "only the buyer or the seller / 仅买卖双方")
            answer = text(form, "answer")
            if not answer:
                raise InvalidProduct("请填写答复 / enter the answer")
            orders.answer_dispute(session, gw, actor_id=user.id, dispute=dispute, side=side, answer=answer)
        elif step == "resolve":
            require_operator(page.actor, "exchange.dispute.resolve")
            outcome = text(form, "outcome")
            resolution = text(form, "resolution")
            if outcome not in {o.value for o in DisputeOutcome} or not resolution:
                raise InvalidProduct("请选择裁决结果并说明理由 / choose an outcome and state the resolution")
            orders.resolve_dispute(
                session, gw, actor_id=user.id, dispute=dispute, outcome=outcome, resolution=resolution
            )
        else:
            raise NotVisible("exchange.dispute", f"unknown step {step}")
    except STEP_ERRORS as exc:
        session.rollback()
        message, status = _problem(page, exc)
        return _dispute_view(page, session, settings, dispute_id, error=message, status=status)
    session.commit()
    return redirect(f"/exchange/disputes/{dispute_id}")
