"""The dataset page: metadata, resources, preview, quality report, API snippet, and the action that
fits the viewer (download / apply for access / not open); downloads, applications and feedback."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session, col, select

from auth import applications
from auth.policy import Action, decide, effective_open_type
from catalog import feedback as fb
from catalog import service
from catalog.models import DataItem, Dataset, Organization, Resource, ResourceVersion
from portal import downloads
from portal.deps import CurrentUser, SessionDep, SettingsDep, StorageDep, VisibleDataset
from portal.errors import NotAuthenticated
from portal.pages.charts import bar_chart
from portal.pages.forms import CheckedForm, text
from portal.pages.rendering import Page, PageContext, PageRoute, bilingual, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

COMMITMENT_ZH = (
    "本人/本单位承诺：仅在申请用途范围内使用数据；不向第三方提供；不尝试重新识别个人；"
    "采取必要的安全保护措施；按期报送数据利用情况和应用成果。"
)
COMMITMENT_EN = (
    "I/we use the data only for the stated purpose, pass it to no third party, make no attempt to "
    "re-identify persons, protect it adequately, and report its use and outcomes when due."
)


def answer_days(settings: Any) -> int:
    """Days an organization has to answer feedback (settings.portal.feedback_answer_days if set)."""
    return int(getattr(settings.portal, "feedback_answer_days", fb.DEFAULT_ANSWER_DAYS))


def jsonld_script(data: dict[str, Any]) -> Markup:
    """A JSON-LD <script> that no value can break out of (<, >, & are \\u-escaped)."""
    body = json.dumps(data, ensure_ascii=False, default=str)
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup('<script type="application/ld+json">') + Markup(body) + Markup("</script>")


def _jsonld(
    dataset: Dataset,
    org: Organization | None,
    resources: list[Resource],
    versions: dict[uuid.UUID, ResourceVersion],
    base_url: str,
) -> Markup:
    try:
        from portal.dcat import schema_org_jsonld
    except ImportError:  # pragma: no cover - the DCAT package is built alongside
        data: dict[str, Any] = {"@context": "https://schema.org/", "@type": "Dataset", "name": dataset.title}
    else:
        data = schema_org_jsonld(
            dataset, organization=org, resources=resources, versions=versions, base_url=base_url
        )
    return jsonld_script(data)


def quality_view(version: ResourceVersion, lang: str) -> dict[str, Any] | None:
    """What the page shows of a version's quality report: score, dimension chart, failing rules."""
    report = version.quality_report or {}
    score = report.get("score") or {}
    checks = report.get("checks") or {}
    if not score and not checks:
        return None
    dims = [
        (
            (d.get("label_en") if lang == "en" else d.get("label_zh")) or d.get("key", ""),
            float(d.get("score") or 0),
        )
        for d in score.get("dimensions", [])
    ]
    failing = []
    for r in checks.get("results", []):
        if r.get("success"):
            continue
        failing.append(
            {
                "id": r.get("id", ""),
                "severity": r.get("severity", ""),
                "column": r.get("column") or "",
                "description": bilingual(r.get("description") or "", lang),
                "unexpected": r.get("unexpected_count") or 0,
                "elements": r.get("element_count") or 0,
                "percent": r.get("unexpected_percent"),
                "examples": [str(x) for x in (r.get("examples") or [])[:5]],
                "error": r.get("error"),
            }
        )
    failing.sort(key=lambda f: (f["severity"] != "critical", -f["unexpected"]))
    return {
        "overall": score.get("overall"),
        "rating": score.get("rating_en") if lang == "en" else score.get("rating"),
        "chart": bar_chart(dims, max_value=100.0, fmt="{:.0f}", warn_below=60.0, label_width=120),
        "failing": failing,
        "checked": len(checks.get("results", [])),
        "rows": checks.get("row_count"),
        "missing_columns": checks.get("missing_columns") or [],
        "extra_columns": checks.get("extra_columns") or [],
    }


def viewer_action(page: PageContext, dataset: Dataset) -> dict[str, Any]:
    """Which action fits this viewer: download, apply, sign in to apply, or not open (with why)."""
    download = decide(page.actor, Action.RESOURCE_DOWNLOAD, dataset)
    if download.allowed:
        return {"kind": "download", "reason": download.reason}
    kind = effective_open_type(dataset)
    if page.may(Action.APPLICATION_CREATE, dataset):
        return {"kind": "apply", "reason": download.reason}
    if kind == "conditional" and page.user is None:
        return {"kind": "login", "reason": download.reason}
    if kind == "conditional":
        return {"kind": "pending", "reason": download.reason}
    return {"kind": "closed", "reason": download.reason}


def _preview(
    page: PageContext,
    session: Session,
    storage: Any,
    settings: Any,
    dataset: Dataset,
    resource: Resource,
    version: ResourceVersion | None,
) -> Any:
    if version is None or not version.normalized_key or not page.may(Action.RESOURCE_PREVIEW, dataset):
        return None
    from catalog import dataapi

    try:
        path = downloads.local_table(storage, settings, version)
        result = dataapi.preview(path, 10)
    except Exception:  # a preview is a courtesy; the page must render without it
        return None
    downloads.authorize_file_access(
        session,
        page.request,
        actor=page.actor,
        user=page.user,
        dataset=dataset,
        action=Action.RESOURCE_PREVIEW,
        object_id=str(resource.id),
        count=False,
    )
    session.commit()
    return result


@router.get("/dataset/{name:slug}", response_class=HTMLResponse)
def dataset_page(
    page: Page, dataset: VisibleDataset, session: SessionDep, storage: StorageDep, settings: SettingsDep
) -> HTMLResponse:
    """Everything about one dataset, and what this viewer may do with it."""
    org = session.get(Organization, dataset.owner_org_id)
    resources = service.list_resources(session, dataset)
    versions = service.latest_versions(session, resources)
    items = list(
        session.exec(select(DataItem).where(DataItem.dataset_id == dataset.id).order_by(DataItem.position))
    )
    quality = []
    for r in resources:
        v = versions.get(r.id)
        if v is not None:
            view = quality_view(v, page.lang)
            quality.append({"resource": r, "version": v, "view": view})
    first = next((r for r in resources if r.id in versions), None)
    preview = (
        _preview(page, session, storage, settings, dataset, first, versions.get(first.id)) if first else None
    )
    _total, reports = fb.list_feedback(session, dataset_id=dataset.id, limit=20)
    reports = [f for f in reports if f.kind in (fb.FeedbackKind.ERROR.value, fb.FeedbackKind.COMPLAINT.value)]
    showcase = fb.list_showcase(session, dataset_id=dataset.id, limit=6)
    base_url = settings.portal.base_url.rstrip("/")
    return render(
        page,
        "dataset.html",
        {
            "d": dataset,
            "org": org,
            "resources": resources,
            "versions": versions,
            "items": items,
            "quality": quality,
            "preview": preview,
            "preview_resource": first,
            "action": viewer_action(page, dataset),
            "effective_open": effective_open_type(dataset),
            "can_edit": page.may(Action.DATASET_UPDATE, dataset),
            "can_answer": page.may(Action.APPLICATION_REVIEW, dataset),
            "reports": reports,
            "showcase": showcase,
            "base_url": base_url,
            "jsonld": _jsonld(dataset, org, resources, versions, base_url),
            "now": datetime.now(UTC),
        },
    )


@router.api_route("/dataset/{name:slug}/resource/{resource_id}/download", methods=["GET", "HEAD"])
def download_page(
    name: str,
    resource_id: uuid.UUID,
    page: Page,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    version: int | None = None,
) -> Response:
    """Download a resource's file through the one download path (policy, quota, audit)."""
    resource = service.require_resource(session, resource_id)
    dataset = service.require_dataset(session, name)
    if resource.dataset_id != dataset.id:
        from catalog.errors import ResourceNotFound

        raise ResourceNotFound(f"resource not found: {resource_id}")
    return downloads.download(
        page.request,
        session,
        storage,
        settings,
        actor=page.actor,
        user=page.user,
        resource_id=resource.id,
        version=version,
    )


@router.get("/dataset/{name:slug}/apply", response_class=HTMLResponse)
def apply_form(page: Page, dataset: VisibleDataset, user: CurrentUser) -> HTMLResponse:
    """The application form for a 有条件开放 dataset."""
    from auth.policy import authorize

    authorize(page.actor, Action.APPLICATION_CREATE, dataset)
    today = datetime.now(UTC).date()
    return render(
        page,
        "apply.html",
        {
            "d": dataset,
            "errors": {},
            "values": {"from": today.isoformat(), "to": (today + timedelta(days=180)).isoformat()},
            "commitment": page.t(COMMITMENT_ZH, COMMITMENT_EN),
        },
    )


@router.post("/dataset/{name:slug}/apply", response_class=HTMLResponse)
def apply(
    page: Page, dataset: VisibleDataset, user: CurrentUser, form: CheckedForm, session: SessionDep
) -> Response:
    """Submit an application; it goes to the formal check, then the owning agency."""
    values = {k: text(form, k) for k in ("purpose", "scenario", "from", "to")}
    errors: dict[str, tuple[str, str]] = {}
    dates: dict[str, datetime] = {}
    for key in ("from", "to"):
        try:
            dates[key] = datetime.fromisoformat(values[key]).replace(tzinfo=UTC)
        except ValueError:
            errors[key] = ("日期格式应为 YYYY-MM-DD", "Dates are written YYYY-MM-DD")
    if not values["purpose"]:
        errors["purpose"] = ("请填写用途", "State the purpose")
    signed = form.get("commitment") == "yes"
    if not signed:
        errors["commitment"] = ("须签署数据安全承诺书", "The data security commitment must be signed")
    commitment = page.t(COMMITMENT_ZH, COMMITMENT_EN)
    if not errors:
        try:
            app = applications.submit(
                session,
                applicant=page.actor,
                datasets=[dataset],
                purpose=values["purpose"],
                scenario=values["scenario"],
                requested_from=dates["from"],
                requested_to=dates["to"],
                security_commitment_signed=True,
                commitment_text=commitment,
                applicant_org_id=next(iter(page.actor.org_roles), None),
            )
        except applications.InvalidApplication as exc:
            errors[""] = (bilingual(str(exc), "zh"), bilingual(str(exc), "en"))
        else:
            session.commit()
            return redirect(f"/workspace/applications/{app.id}")
    return render(
        page,
        "apply.html",
        {"d": dataset, "errors": errors, "values": values, "commitment": commitment},
        status=422,
    )


@router.post("/dataset/{name:slug}/feedback")
def post_feedback(
    page: Page, dataset: VisibleDataset, form: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """File an error report (纠错) or complaint (投诉) on the dataset; its agency answers."""
    if page.user is None:
        raise NotAuthenticated("sign in to report / 请先登录")
    kind = text(form, "kind")
    if kind not in (fb.FeedbackKind.ERROR.value, fb.FeedbackKind.COMPLAINT.value):
        kind = fb.FeedbackKind.ERROR.value
    fb.submit_feedback(
        session,
        kind=kind,
        title=text(form, "title"),
        body=text(form, "body"),
        author_id=page.user.id,
        author_name=page.user.fullname or page.user.name,
        dataset_id=dataset.id,
        organization_id=dataset.owner_org_id,
        answer_days=answer_days(settings),
    )
    session.commit()
    return redirect(f"/dataset/{dataset.name}#feedback")


def recent_versions(session: Session, resource_ids: list[uuid.UUID]) -> list[ResourceVersion]:
    """Every version of these resources, newest first, in one query."""
    if not resource_ids:
        return []
    stmt = select(ResourceVersion).where(col(ResourceVersion.resource_id).in_(resource_ids))
    return list(session.exec(stmt.order_by(col(ResourceVersion.created_at).desc())))
