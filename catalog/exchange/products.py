"""Data products: broker authorizations, products and their specification, assessments, the listing
review (挂牌审核) with its checklist, price plans, and the marketplace catalog.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from catalog import ledger, service
from catalog.errors import NotFound
from catalog.exchange.errors import (
    AuthorizationNotFound,
    InvalidAuthorization,
    InvalidProduct,
    InvalidTransition,
    ListingRefused,
    PlanNotFound,
    ProductNameTaken,
    ProductNotFound,
)
from catalog.exchange.models import (
    Assessment,
    AssessmentKind,
    BrokerAuthorization,
    Conclusion,
    DataProduct,
    DeliveryMode,
    PlanKind,
    PricePlan,
    ProductStatus,
    SellerRole,
)
from catalog.exchange.ports import Gateway
from catalog.models import DataItem, Dataset, Organization, aware, utcnow

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
UNTRADABLE_GRADES = ("core", "important")  # 核心数据 and 重要数据 are never traded
PERSONAL_GRADE = "general_4"  # 一般数据 4级: sensitive personal information
SPEC_REQUIRED = ("data_source", "lawful_origin")


# --- inputs -------------------------------------------------------------------------------------


class ProductSpec(BaseModel):
    """产品说明书: what the product is, where it comes from and how it is delivered."""

    data_source: str = Field(default="", description="数据来源")
    lawful_origin: str = Field(default="", description="合法来源说明")
    content: str = Field(default="", description="内容说明")
    fields: list[dict[str, str]] = Field(
        default_factory=list, description="字段: [{name, type, description}]"
    )
    coverage: str = Field(default="", description="覆盖范围 (地域、时间)")
    update_frequency: str = Field(default="irregular", description="更新频率")
    sample_rows: list[dict[str, Any]] = Field(default_factory=list, max_length=50, description="样例数据")
    usage_restrictions: str = Field(default="", description="使用限制")


class ProductCreate(BaseModel):
    """A new data product (a draft)."""

    name: str
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    category: str = Field(default="", max_length=64)
    seller_role: SellerRole = SellerRole.HOLDER
    holder_org: str | None = Field(default=None, description="name of the holder when a broker sells")
    authorization_id: uuid.UUID | None = None
    dataset_ids: list[uuid.UUID] = Field(min_length=1)
    delivery_modes: list[DeliveryMode] = Field(min_length=1)
    spec: ProductSpec = Field(default_factory=ProductSpec)
    contains_personal_info: bool = False
    contains_sensitive_personal_info: bool = False
    contains_important_data: bool = False
    anonymization_method: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "2-100 lowercase letters, digits, - or _ / 名称须为 2-100 位小写字母、数字、- 或 _"
            )
        return value


class AssessmentCreate(BaseModel):
    """A third-party report attached to a product."""

    kind: AssessmentKind
    title: str = Field(min_length=1, max_length=300)
    conclusion: Conclusion
    summary: str = ""
    report_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")
    report_url: str = Field(default="", max_length=2000)


class PlanCreate(BaseModel):
    """A price plan; price in integer fen (分)."""

    name: str = Field(min_length=1, max_length=200)
    kind: PlanKind
    price_fen: int = Field(default=0, ge=0)
    period_days: int = Field(default=30, ge=1, le=3660)
    download_quota: int | None = Field(default=None, ge=0)
    query_quota: int | None = Field(default=None, ge=0)


# --- helpers ------------------------------------------------------------------------------------


def _record(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    subject: Any,
    org_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one change to the ledger and the audit log, in the caller's transaction."""
    entry = ledger.append(session, actor_id=actor_id, action=action, subject=subject, before=before)
    entry.organization_id = org_id
    object_type = entry.subject_type
    gw.audit(
        session,
        action=action,
        actor_id=actor_id,
        object_type=object_type,
        object_id=str(subject.id),
        detail=detail or {},
    )


def product_datasets(session: Session, product: DataProduct) -> list[Dataset]:
    """The datasets a product delivers from, in the product's order."""
    found = {d.id: d for d in service.get_datasets(session, [uuid.UUID(x) for x in product.dataset_ids])}
    return [found[uuid.UUID(x)] for x in product.dataset_ids if uuid.UUID(x) in found]


def fingerprint(session: Session, product: DataProduct) -> str:
    """SHA-256 over the product's stored files: one line per latest version, sorted."""
    lines = []
    for dataset in product_datasets(session, product):
        resources = service.list_resources(session, dataset)
        for resource_id, version in service.latest_versions(session, resources).items():
            lines.append(f"{dataset.id}/{resource_id}/v{version.version}:{version.sha256}")
    if not lines:
        raise InvalidProduct("the product has no stored files to fingerprint / 产品无可交付文件")
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


def quality_report(session: Session, product: DataProduct) -> list[dict[str, Any]]:
    """The quality report of the product's underlying resources (latest versions)."""
    out = []
    for dataset in product_datasets(session, product):
        resources = service.list_resources(session, dataset)
        versions = service.latest_versions(session, resources)
        for resource in resources:
            version = versions.get(resource.id)
            if version is None:
                continue
            out.append(
                {
                    "dataset": dataset.name,
                    "resource": resource.name,
                    "resource_id": str(resource.id),
                    "version": version.version,
                    "rows": version.row_count,
                    "quality_score": version.quality_score,
                    "quality_status": version.quality_status,
                    "report": version.quality_report,
                }
            )
    return out


# --- broker authorizations ----------------------------------------------------------------------


def authorize_agent(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    holder: Organization,
    agent: Organization,
    dataset_ids: Iterable[uuid.UUID],
    valid_from: datetime,
    valid_to: datetime,
    agent_role: SellerRole = SellerRole.BROKER,
    scope: str = "",
) -> BrokerAuthorization:
    """Record the holder's authorization of a broker or data merchant: who, which data, until when."""
    if agent_role == SellerRole.HOLDER:
        raise InvalidAuthorization("the agent must be a broker or a data merchant / 须为数据经纪人或数据商")
    if agent.org_type not in ("broker", "enterprise"):
        raise InvalidAuthorization(
            f"{agent.name} is not a broker or data merchant / 被授权方不是数据经纪人或数据商"
        )
    if agent.id == holder.id:
        raise InvalidAuthorization("a holder does not authorize itself / 持有方无需授权自身")
    ids = list(dict.fromkeys(dataset_ids))
    if not ids:
        raise InvalidAuthorization("an authorization names at least one dataset / 须指明授权数据")
    for dataset in service.get_datasets(session, ids):
        if dataset.owner_org_id != holder.id:
            raise InvalidAuthorization(
                f"dataset {dataset.name} is not held by {holder.name} / 数据不属于授权方"
            )
    if len(service.get_datasets(session, ids)) != len(ids):
        raise InvalidAuthorization("an authorized dataset does not exist / 授权数据不存在")
    start, end = aware(valid_from), aware(valid_to)
    if end <= start:
        raise InvalidAuthorization("valid_to must be after valid_from / 截止时间须晚于起始时间")
    auth = BrokerAuthorization(
        holder_org_id=holder.id,
        agent_org_id=agent.id,
        agent_role=SellerRole(agent_role).value,
        dataset_ids=[str(i) for i in ids],
        scope=scope,
        valid_from=start,
        valid_to=end,
        created_by=actor_id,
    )
    session.add(auth)
    session.flush()
    _record(
        session, gw, actor_id=actor_id, action="exchange.authorization.create", subject=auth, org_id=holder.id
    )
    session.flush()
    return auth


def require_authorization(session: Session, authorization_id: uuid.UUID) -> BrokerAuthorization:
    """One broker authorization; raises AuthorizationNotFound."""
    found = session.get(BrokerAuthorization, authorization_id)
    if found is None:
        raise AuthorizationNotFound(f"authorization not found: {authorization_id}")
    return found


def revoke_authorization(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    authorization: BrokerAuthorization,
    reason: str,
) -> BrokerAuthorization:
    """The holder withdraws an authorization; products sold under it fail review from now on."""
    if authorization.revoked_at is None:
        before = ledger.snapshot(authorization)
        authorization.revoked_at = utcnow()
        authorization.revoke_reason = reason[:1000]
        session.add(authorization)
        _record(
            session,
            gw,
            actor_id=actor_id,
            action="exchange.authorization.revoke",
            subject=authorization,
            org_id=authorization.holder_org_id,
            before=before,
            detail={"reason": reason},
        )
        session.flush()
    return authorization


def authorization_problem(
    authorization: BrokerAuthorization | None, product: DataProduct, *, now: datetime
) -> str | None:
    """Why an authorization does not cover a product now, or None when it does."""
    if authorization is None:
        return "no authorization recorded / 未登记授权"
    if authorization.revoked_at is not None:
        return "the authorization was revoked / 授权已撤销"
    if (
        authorization.agent_org_id != product.seller_org_id
        or authorization.holder_org_id != product.holder_org_id
    ):
        return "the authorization is for other parties / 授权主体不符"
    if not aware(authorization.valid_from) <= now < aware(authorization.valid_to):
        return "the authorization is not valid now / 授权不在有效期内"
    missing = set(product.dataset_ids) - set(authorization.dataset_ids)
    if missing:
        return "the authorization does not cover every dataset of the product / 授权未覆盖全部数据"
    return None


# --- products -----------------------------------------------------------------------------------


def get_product(session: Session, name_or_id: str | uuid.UUID) -> DataProduct | None:
    """A product by name or id, or None."""
    return service.by_id_or_key(session, DataProduct, name_or_id, "name")


def require_product(session: Session, name_or_id: str | uuid.UUID) -> DataProduct:
    """A product by name or id; raises ProductNotFound."""
    product = get_product(session, name_or_id)
    if product is None:
        raise ProductNotFound(f"数据产品不存在 / product not found: {name_or_id}")
    return product


def create_product(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    seller: Organization,
    data: ProductCreate,
) -> DataProduct:
    """Register a draft product; a broker's product names its holder and the authorization."""
    if session.exec(select(DataProduct).where(DataProduct.name == data.name)).first() is not None:
        raise ProductNameTaken(f"product name already in use: {data.name}")
    datasets = service.get_datasets(session, data.dataset_ids)
    if len(datasets) != len(set(data.dataset_ids)):
        raise InvalidProduct("a dataset of the product does not exist / 数据集不存在")
    if data.seller_role == SellerRole.HOLDER:
        holder = seller
        authorization_id = None
    else:
        if not data.holder_org or data.authorization_id is None:
            raise InvalidAuthorization("a broker names the holder and its authorization / 须指明持有方及授权")
        try:
            holder = service.require_organization(session, data.holder_org)
        except NotFound as exc:
            raise InvalidProduct(str(exc)) from exc
        authorization = require_authorization(session, data.authorization_id)
        if authorization.agent_org_id != seller.id or authorization.holder_org_id != holder.id:
            raise InvalidAuthorization("the authorization is for other parties / 授权主体不符")
        authorization_id = authorization.id
    for dataset in datasets:
        if dataset.owner_org_id != holder.id:
            raise InvalidProduct(f"dataset {dataset.name} is not held by {holder.name} / 数据集不属于持有方")
    product = DataProduct(
        name=data.name,
        title=data.title,
        description=data.description,
        category=data.category,
        seller_org_id=seller.id,
        holder_org_id=holder.id,
        seller_role=SellerRole(data.seller_role).value,
        authorization_id=authorization_id,
        dataset_ids=[str(i) for i in dict.fromkeys(data.dataset_ids)],
        delivery_modes=[DeliveryMode(m).value for m in dict.fromkeys(data.delivery_modes)],
        spec=data.spec.model_dump(mode="json"),
        contains_personal_info=data.contains_personal_info,
        contains_sensitive_personal_info=data.contains_sensitive_personal_info,
        contains_important_data=data.contains_important_data,
        anonymization_method=data.anonymization_method,
        created_by=actor_id,
    )
    session.add(product)
    session.flush()
    _record(
        session, gw, actor_id=actor_id, action="exchange.product.create", subject=product, org_id=seller.id
    )
    session.flush()
    return product


def attach_assessment(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    provider: Organization,
    data: AssessmentCreate,
) -> Assessment:
    """A 第三方专业服务机构 attaches a compliance, quality or anonymization report."""
    if provider.org_type != "service_provider":
        raise InvalidProduct(f"{provider.name} is not a service provider / 不是第三方专业服务机构")
    if product.status in (ProductStatus.DELISTED.value,):
        raise InvalidTransition("the product is delisted / 产品已下架")
    assessment = Assessment(
        product_id=product.id,
        provider_org_id=provider.id,
        kind=AssessmentKind(data.kind).value,
        title=data.title,
        conclusion=Conclusion(data.conclusion).value,
        summary=data.summary,
        report_sha256=data.report_sha256,
        report_url=data.report_url,
        created_by=actor_id,
    )
    session.add(assessment)
    session.flush()
    _record(
        session,
        gw,
        actor_id=actor_id,
        action="exchange.assessment.attach",
        subject=assessment,
        org_id=provider.id,
        detail={"product": product.name, "kind": assessment.kind, "conclusion": assessment.conclusion},
    )
    session.flush()
    return assessment


def assessments_of(session: Session, product: DataProduct) -> list[Assessment]:
    """A product's assessments, oldest first."""
    stmt = select(Assessment).where(Assessment.product_id == product.id).order_by(col(Assessment.created_at))
    return list(session.exec(stmt))


# --- review -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One item of the review checklist."""

    code: str
    ok: bool
    zh: str
    en: str
    blocking_submit: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored with the decision."""
        return {"code": self.code, "ok": self.ok, "zh": self.zh, "en": self.en}


def _sensitive_items(session: Session, dataset_ids: list[uuid.UUID]) -> list[DataItem]:
    stmt = select(DataItem).where(
        col(DataItem.dataset_id).in_(dataset_ids), col(DataItem.sensitive_type).is_not(None)
    )
    return list(session.exec(stmt))


def checklist(session: Session, product: DataProduct, *, now: datetime | None = None) -> list[Check]:
    """The review checklist: grade, personal information, lawful source, authorization, assessments, delivery."""
    moment = aware(now) if now is not None else utcnow()
    datasets = product_datasets(session, product)
    checks: list[Check] = []

    # 1. grade: 核心 and 重要 data never; every grade confirmed.
    untradable = [d.name for d in datasets if d.grade in UNTRADABLE_GRADES]
    unconfirmed = [d.name for d in datasets if d.grade is None or not d.grade_confirmed]
    if untradable or product.contains_important_data:
        names = ", ".join(untradable) or product.name
        checks.append(
            Check(
                "grade",
                False,
                f"核心数据、重要数据不得交易：{names}",
                f"core and important data are never traded: {names}",
                True,
            )
        )
    elif unconfirmed:
        names = ", ".join(unconfirmed)
        checks.append(
            Check("grade", False, f"数据分级未确认：{names}", f"grade not confirmed: {names}", True)
        )
    else:
        checks.append(Check("grade", True, "分级允许交易", "the grades allow trading"))

    # 2. personal information: declared truthfully, anonymized, attested by a third party.
    detected = [d.name for d in datasets if d.grade == PERSONAL_GRADE]
    items = _sensitive_items(session, [d.id for d in datasets])
    declared = product.contains_personal_info or product.contains_sensitive_personal_info
    assessments = assessments_of(session, product)
    attested = any(
        a.kind == AssessmentKind.ANONYMIZATION.value and a.conclusion == Conclusion.PASS.value
        for a in assessments
    )
    if (detected or items) and not declared:
        fields_ = ", ".join(sorted({i.name for i in items})) or ", ".join(detected)
        checks.append(
            Check(
                "personal_info",
                False,
                f"申报与数据不符：检出个人信息（{fields_}）",
                f"declaration contradicts the data: personal information found ({fields_})",
            )
        )
    elif declared and not (product.anonymization_method.strip() and attested):
        checks.append(
            Check(
                "personal_info",
                False,
                "含个人信息：须说明匿名化方法并附第三方匿名化证明",
                "personal information: the anonymization method and a third-party anonymization attestation are required",
            )
        )
    else:
        checks.append(
            Check(
                "personal_info",
                True,
                "个人信息申报与处理符合要求",
                "personal information declared and handled",
            )
        )

    # 3. lawful source stated.
    missing = [k for k in SPEC_REQUIRED if not str(product.spec.get(k, "")).strip()]
    if missing:
        checks.append(
            Check("lawful_source", False, "未说明数据来源及其合法性", f"missing: {', '.join(missing)}")
        )
    else:
        checks.append(
            Check("lawful_source", True, "已说明数据来源及其合法性", "data source and lawful origin stated")
        )

    # 4. broker authorization valid.
    if product.seller_role == SellerRole.HOLDER.value:
        checks.append(Check("authorization", True, "持有方自行挂牌，无需授权", "sold by the holder itself"))
    else:
        auth = (
            session.get(BrokerAuthorization, product.authorization_id) if product.authorization_id else None
        )
        problem = authorization_problem(auth, product, now=moment)
        if problem:
            checks.append(
                Check(
                    "authorization",
                    False,
                    f"经纪授权无效：{problem}",
                    f"broker authorization invalid: {problem}",
                )
            )
        else:
            checks.append(Check("authorization", True, "经纪授权有效", "broker authorization valid"))

    # 5. assessments attached: a passing compliance assessment, none failing.
    failing = [a.title for a in assessments if a.conclusion == Conclusion.FAIL.value]
    compliance = any(
        a.kind == AssessmentKind.COMPLIANCE.value and a.conclusion != Conclusion.FAIL.value
        for a in assessments
    )
    if failing:
        checks.append(
            Check(
                "assessments",
                False,
                f"评估未通过：{', '.join(failing)}",
                f"failed assessments: {', '.join(failing)}",
            )
        )
    elif not compliance:
        checks.append(
            Check(
                "assessments",
                False,
                "须附第三方合规评估报告",
                "a third-party compliance assessment is required",
            )
        )
    else:
        checks.append(Check("assessments", True, "已附第三方评估报告", "assessments attached"))

    # 6. deliverable from our own storage (and, for files and rows, through the access policy).
    stored = [
        d.name for d in datasets if service.latest_versions(session, service.list_resources(session, d))
    ]
    not_stored = [d.name for d in datasets if d.name not in stored]
    direct = {DeliveryMode.FILE.value, DeliveryMode.API.value} & set(product.delivery_modes)
    # The access policy honours grants only on published 有条件开放 entries (see the report to the
    # coordinator); until it honours purchases on other entries, file and API delivery need those.
    unreachable = (
        [d.name for d in datasets if d.status != "published" or d.open_type != "conditional"]
        if direct
        else []
    )
    if not_stored:
        checks.append(
            Check(
                "delivery",
                False,
                f"无已存储的数据文件：{', '.join(not_stored)}",
                f"no stored files: {', '.join(not_stored)}",
            )
        )
    elif unreachable:
        checks.append(
            Check(
                "delivery",
                False,
                f"文件/接口交付须为已发布的有条件开放数据：{', '.join(unreachable)}（或仅沙箱交付）",
                f"file/API delivery needs published conditional entries: {', '.join(unreachable)} (or sandbox only)",
            )
        )
    else:
        checks.append(Check("delivery", True, "可从本平台存储交付", "deliverable from our own storage"))
    return checks


def _transition(
    session: Session,
    gw: Gateway,
    product: DataProduct,
    *,
    to: ProductStatus,
    allowed_from: tuple[ProductStatus, ...],
    actor_id: uuid.UUID | None,
    action: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if product.status not in {s.value for s in allowed_from}:
        raise InvalidTransition(
            f"产品状态为 {product.status}，不能{to.value} / product is {product.status}: cannot move to {to.value}"
        )
    before = ledger.snapshot(product)
    product.status = to.value
    product.updated_at = utcnow()
    session.add(product)
    session.flush()
    _record(
        session,
        gw,
        actor_id=actor_id,
        action=action,
        subject=product,
        org_id=product.seller_org_id,
        before=before,
        detail=detail,
    )
    session.flush()
    return before


def submit_product(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    now: datetime | None = None,
) -> DataProduct:
    """Send a draft (or rejected, or delisted) product to the review queue; grade gates apply at once."""
    checks = checklist(session, product, now=now)
    blocking = [c for c in checks if c.blocking_submit and not c.ok]
    if blocking:
        raise ListingRefused(
            "不得挂牌 / cannot be listed: " + "; ".join(f"{c.zh} / {c.en}" for c in blocking),
            [c.as_dict() for c in blocking],
        )
    product.spec = {**product.spec, "quality_report": quality_report(session, product)}
    product.submitted_at = aware(now) if now else utcnow()
    product.review_checklist = [c.as_dict() for c in checks]
    _transition(
        session,
        gw,
        product,
        to=ProductStatus.SUBMITTED,
        allowed_from=(ProductStatus.DRAFT, ProductStatus.REJECTED, ProductStatus.DELISTED),
        actor_id=actor_id,
        action="exchange.product.submit",
    )
    return product


def review_queue(session: Session) -> list[DataProduct]:
    """Products waiting for review, oldest submission first."""
    stmt = select(DataProduct).where(DataProduct.status == ProductStatus.SUBMITTED.value)
    return list(session.exec(stmt.order_by(col(DataProduct.submitted_at))))


def approve_product(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    now: datetime | None = None,
) -> DataProduct:
    """The operator lists a submitted product; every checklist item must pass."""
    moment = aware(now) if now else utcnow()
    checks = checklist(session, product, now=moment)
    failures = [c for c in checks if not c.ok]
    if failures:
        raise ListingRefused(
            "审核清单未通过 / checklist fails: " + "; ".join(f"{c.zh} / {c.en}" for c in failures),
            [c.as_dict() for c in failures],
        )
    if product.status != ProductStatus.SUBMITTED.value:
        raise InvalidTransition(
            f"product is {product.status}: only submitted products are approved / 仅待审核产品可批准"
        )
    if not active_plans(session, product):
        raise ListingRefused("须至少有一个价格方案 / a product needs at least one price plan")
    product.review_checklist = [c.as_dict() for c in checks]
    product.review_reasons = []
    product.reviewed_by, product.reviewed_at, product.listed_at = actor_id, moment, moment
    _transition(
        session,
        gw,
        product,
        to=ProductStatus.LISTED,
        allowed_from=(ProductStatus.SUBMITTED,),
        actor_id=actor_id,
        action="exchange.product.approve",
        detail={"checklist": product.review_checklist},
    )
    return product


def reject_product(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    reasons: list[str],
    now: datetime | None = None,
) -> DataProduct:
    """The operator rejects a submitted product, with reasons."""
    reasons = [r.strip() for r in reasons if r.strip()]
    if not reasons:
        raise InvalidProduct("a rejection states its reasons / 驳回须说明理由")
    moment = aware(now) if now else utcnow()
    product.review_checklist = [c.as_dict() for c in checklist(session, product, now=moment)]
    product.review_reasons = reasons
    product.reviewed_by, product.reviewed_at = actor_id, moment
    _transition(
        session,
        gw,
        product,
        to=ProductStatus.REJECTED,
        allowed_from=(ProductStatus.SUBMITTED,),
        actor_id=actor_id,
        action="exchange.product.reject",
        detail={"reasons": reasons},
    )
    return product


def delist_product(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, product: DataProduct, reason: str
) -> DataProduct:
    """Take a listed product off the market (seller or operator); existing entitlements run on."""
    product.delisted_at = utcnow()
    _transition(
        session,
        gw,
        product,
        to=ProductStatus.DELISTED,
        allowed_from=(ProductStatus.LISTED,),
        actor_id=actor_id,
        action="exchange.product.delist",
        detail={"reason": reason},
    )
    return product


# --- plans --------------------------------------------------------------------------------------


def add_plan(
    session: Session, gw: Gateway, *, actor_id: uuid.UUID | None, product: DataProduct, data: PlanCreate
) -> PricePlan:
    """Add a price plan; the kind decides which quotas it must have."""
    kind = PlanKind(data.kind)
    if kind == PlanKind.FREE and data.price_fen != 0:
        raise InvalidProduct("a free plan costs nothing / 免费方案价格须为 0")
    if kind != PlanKind.FREE and data.price_fen <= 0:
        raise InvalidProduct("a paid plan has a price / 付费方案须有价格")
    if kind == PlanKind.ONE_TIME and not data.download_quota:
        raise InvalidProduct("a one-time plan sets N downloads / 一次性方案须设下载次数")
    if kind == PlanKind.METERED and not data.query_quota:
        raise InvalidProduct("a metered plan sets a query quota / 计量方案须设调用次数")
    if kind == PlanKind.ONE_TIME and DeliveryMode.FILE.value not in product.delivery_modes:
        raise InvalidProduct("one-time plans deliver files / 一次性方案须支持文件下载")
    if kind == PlanKind.METERED and not {DeliveryMode.API.value, DeliveryMode.SANDBOX.value} & set(
        product.delivery_modes
    ):
        raise InvalidProduct("metered plans deliver API calls or sandbox queries / 计量方案须支持接口或沙箱")
    plan = PricePlan(
        product_id=product.id,
        name=data.name,
        kind=kind.value,
        price_fen=data.price_fen,
        period_days=data.period_days,
        download_quota=data.download_quota if kind != PlanKind.METERED else (data.download_quota or 0),
        query_quota=data.query_quota if kind != PlanKind.ONE_TIME else (data.query_quota or 0),
    )
    session.add(plan)
    session.flush()
    _record(
        session,
        gw,
        actor_id=actor_id,
        action="exchange.plan.create",
        subject=plan,
        org_id=product.seller_org_id,
        detail={"product": product.name, "kind": plan.kind, "price_fen": plan.price_fen},
    )
    session.flush()
    return plan


def active_plans(session: Session, product: DataProduct) -> list[PricePlan]:
    """A product's plans on offer, cheapest first."""
    stmt = select(PricePlan).where(PricePlan.product_id == product.id, col(PricePlan.active).is_(True))
    return list(session.exec(stmt.order_by(col(PricePlan.price_fen), col(PricePlan.created_at))))


def require_plan(session: Session, product: DataProduct, plan_id: uuid.UUID) -> PricePlan:
    """One active plan of the product; raises PlanNotFound."""
    plan = session.get(PricePlan, plan_id)
    if plan is None or plan.product_id != product.id or not plan.active:
        raise PlanNotFound(f"price plan not found: {plan_id}")
    return plan


# --- the marketplace catalog --------------------------------------------------------------------


@dataclass
class CatalogPage:
    """One page of listed products, with facet counts over every match."""

    total: int
    products: list[DataProduct]
    min_price: dict[uuid.UUID, int]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def search_products(
    session: Session,
    *,
    q: str | None = None,
    category: str | None = None,
    seller: uuid.UUID | None = None,
    delivery_mode: str | None = None,
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
    statuses: Iterable[str] = (ProductStatus.LISTED.value,),
    limit: int = 20,
    offset: int = 0,
) -> CatalogPage:
    """Listed products matching text and facets (category, seller, delivery mode, price range).

    Filtering is done in Python over the listed products: a marketplace holds hundreds of products,
    not millions, and the same code then runs on SQLite and PostgreSQL.
    """
    stmt = select(DataProduct).where(col(DataProduct.status).in_(list(statuses)))
    candidates = list(session.exec(stmt.order_by(col(DataProduct.listed_at).desc(), col(DataProduct.name))))
    plans: dict[uuid.UUID, list[PricePlan]] = {}
    if candidates:
        for plan in session.exec(
            select(PricePlan).where(
                col(PricePlan.product_id).in_([p.id for p in candidates]), col(PricePlan.active).is_(True)
            )
        ):
            plans.setdefault(plan.product_id, []).append(plan)
    min_price = {pid: min(p.price_fen for p in ps) for pid, ps in plans.items()}
    needle = (q or "").strip().lower()

    def matches(p: DataProduct, *, skip: str = "") -> bool:
        if needle and needle not in f"{p.name} {p.title} {p.description} {p.spec.get('content', '')}".lower():
            return False
        if category and skip != "category" and p.category != category:
            return False
        if seller and skip != "seller" and p.seller_org_id != seller:
            return False
        if delivery_mode and skip != "delivery_mode" and delivery_mode not in p.delivery_modes:
            return False
        price = min_price.get(p.id)
        if price_min_fen is not None and (price is None or price < price_min_fen):
            return False
        return not (price_max_fen is not None and (price is None or price > price_max_fen))

    hits = [p for p in candidates if matches(p)]
    facets = {
        "category": dict(
            Counter(p.category for p in candidates if p.category and matches(p, skip="category"))
        ),
        "seller": dict(Counter(str(p.seller_org_id) for p in candidates if matches(p, skip="seller"))),
        "delivery_mode": dict(
            Counter(m for p in candidates if matches(p, skip="delivery_mode") for m in p.delivery_modes)
        ),
    }
    return CatalogPage(
        total=len(hits), products=hits[offset : offset + limit], min_price=min_price, facets=facets
    )


def products_of_seller(
    session: Session, seller_org_id: uuid.UUID, *, listed_only: bool = True
) -> list[DataProduct]:
    """A seller's products (listed ones by default), newest first."""
    stmt = select(DataProduct).where(DataProduct.seller_org_id == seller_org_id)
    if listed_only:
        stmt = stmt.where(DataProduct.status == ProductStatus.LISTED.value)
    return list(session.exec(stmt.order_by(col(DataProduct.created_at).desc())))
