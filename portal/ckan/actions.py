"""The CKAN actions: each has a name, a policy check, at most one service call, and a docstring.

Every action takes the request context and the data dict and returns the `result` member of
CKAN's envelope; the router commits once after a write and maps errors (portal.ckan.errors).

Publication rule on this surface: a package is created or kept as a draft (private: true) unless
the dict says `"private": false` explicitly AND the caller may confirm its declared grade and
publish it (an admin of the owning organization, with a grade that allows its open type); then
the grade is confirmed and the package published in the same call. Otherwise `private: false`
is not an error (harvesters send it for every package): the package stays a draft, as the
policy requires. `"private": true` on a published package withdraws it (org admins only).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from fastapi import Request
from sqlmodel import Session, select
from starlette.datastructures import UploadFile

from auth.models import ApiToken, User
from auth.policy import AccessDenied, Action, Actor, authorize, may
from catalog import ledger, service, vocab
from catalog.models import Dataset, Resource
from catalog.schemas import OrganizationCreate, OrganizationUpdate, ResourceCreate
from portal import downloads
from portal.ckan import dicts
from portal.ckan.errors import CkanNotFound, CkanValidationError
from portal.ckan.query import (
    ROWS_MAX,
    Plan,
    facet_fields,
    our_facet,
    parse_query,
    parse_sort,
    run,
)
from portal.errors import NotAuthenticated
from portal.settings import Settings
from storage import Storage

CKAN_VERSION = "2.10.0"


@dataclass
class Ctx:
    """One action call: the request, the caller and what the action may use."""

    session: Session
    settings: Settings
    storage: Storage
    request: Request
    user: User | None
    actor: Actor
    scope: str | None = None  # the API token's scope; None for session tokens and cookies
    files: dict[str, UploadFile] = field(default_factory=dict)
    written_keys: list[str] = field(default_factory=list)  # objects to remove if the commit fails

    @property
    def base_url(self) -> str:
        """The portal's public URL, for download links."""
        return self.settings.portal.base_url


ActionFn = Callable[[Ctx, dict[str, Any]], Any]


@dataclass(frozen=True)
class ActionSpec:
    """A registered action: read actions answer GET too."""

    fn: ActionFn
    read: bool


ACTIONS: dict[str, ActionSpec] = {}


def _action(read: bool) -> Callable[[ActionFn], ActionFn]:
    def register(fn: ActionFn) -> ActionFn:
        ACTIONS[fn.__name__] = ActionSpec(fn, read)
        return fn

    return register


read_action = _action(True)
write_action = _action(False)


# --- parameters ----------------------------------------------------------------------------------


def _required(data: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return value if isinstance(value, str) else str(value)
    raise CkanValidationError({keys[0]: ["Missing value / 缺少参数"]})


def _bool(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise CkanValidationError({key: [f"not a boolean: {value!r} / 须为布尔值"]})


def _int(data: dict[str, Any], key: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    value = data.get(key)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise CkanValidationError({key: ["Invalid integer / 须为整数"]}) from exc
    if number < low:
        raise CkanValidationError({key: [f"Must be at least {low} / 不能小于 {low}"]})
    return min(number, high) if high is not None else number


def _explicit_private(data: dict[str, Any]) -> bool | None:
    if "private" not in data or data["private"] is None:
        return None
    return _bool(data, "private")


def _writer(ctx: Ctx) -> User:
    """The signed-in caller of a write action, whose token may write."""
    if ctx.user is None:
        raise NotAuthenticated("an API token is required for this action / 此操作需要 API 令牌")
    if ctx.scope is not None:
        from auth.api_tokens import scope_allows

        if not scope_allows(ctx.scope, "write"):
            raise AccessDenied("ckan.write", "this API token is read-only / 只读令牌不能写入")
    return ctx.user


def _visible_dataset(ctx: Ctx, ref: str) -> Dataset:
    dataset = service.require_dataset(ctx.session, ref)
    authorize(ctx.actor, Action.DATASET_VIEW, dataset)
    return dataset


def _visible_resource(ctx: Ctx, ref: str) -> tuple[Resource, Dataset]:
    try:
        rid = uuid.UUID(str(ref))
    except ValueError as exc:
        raise CkanNotFound(f"resource not found: {ref} / 资源不存在") from exc
    resource = service.require_resource(ctx.session, rid)
    return resource, _visible_dataset(ctx, str(resource.dataset_id))


def _show(ctx: Ctx, dataset: Dataset) -> dict[str, Any]:
    return dicts.package_dicts(ctx.session, [dataset], base_url=ctx.base_url)[0]


def _resource_out(ctx: Ctx, resource: Resource) -> dict[str, Any]:
    versions = service.latest_versions(ctx.session, [resource])
    return dicts.resource_dict(resource, versions.get(resource.id), base_url=ctx.base_url)


def _may_publish(ctx: Ctx, target: Any) -> bool:
    """Whether the caller may confirm this (prospective) dataset's grade and publish it."""
    if target.grade is None:
        return False
    unconfirmed = SimpleNamespace(**{**vars(target), "grade_confirmed": False})
    confirmed = SimpleNamespace(**{**vars(target), "grade_confirmed": True})
    grade_ok = target.grade_confirmed or may(ctx.actor, Action.GRADE_CONFIRM, unconfirmed)
    return grade_ok and may(ctx.actor, Action.DATASET_PUBLISH, confirmed)


def _target(dataset: Dataset) -> SimpleNamespace:
    return SimpleNamespace(
        id=dataset.id,
        owner_org_id=dataset.owner_org_id,
        status=dataset.status,
        open_type=dataset.open_type,
        grade=dataset.grade,
        grade_confirmed=dataset.grade_confirmed,
    )


# --- read actions ----------------------------------------------------------------------------


@read_action
def status_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Describe this site: the CKAN API version it speaks and its extensions."""
    return {
        "site_title": "dataledger 数据资源一本账",
        "site_description": "provincial public data catalog and exchange",
        "site_url": ctx.base_url,
        "ckan_version": CKAN_VERSION,
        "api_version": 3,
        "locale_default": "zh_Hans_CN",
        "extensions": ["scheming_datasets", "dataledger"],
        "dataledger_version": "0.1.0",
    }


def _search_args(ctx: Ctx, data: dict[str, Any]) -> tuple[Plan, dict[str, Any]]:
    plan = Plan()
    q = data.get("q")
    if isinstance(q, str) and q.strip():
        parse_query(ctx.session, plan, q)
    fqs: list[str] = []
    fq = data.get("fq")
    if isinstance(fq, str):
        fqs.append(fq)
    elif isinstance(fq, list):
        fqs.extend(str(x) for x in fq)
    fq_list = data.get("fq_list")
    if isinstance(fq_list, str):
        import json

        try:
            fq_list = json.loads(fq_list)
        except ValueError:
            fq_list = [fq_list]
    if isinstance(fq_list, list):
        fqs.extend(str(x) for x in fq_list)
    for item in fqs:
        parse_query(ctx.session, plan, item)
    plan.sort = parse_sort(data.get("sort") if isinstance(data.get("sort"), str) else None)
    include = _bool(data, "include_private") or _bool(data, "include_drafts")
    return plan, {"actor": ctx.actor, "include_private": include}


@read_action
def package_search(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Search packages: q, fq (field:value, ranges), sort, rows (at most 1000), start, facet.field."""
    plan, who = _search_args(ctx, data)
    rows = _int(data, "rows", 10, high=ROWS_MAX)
    start = _int(data, "start", 0)
    requested = facet_fields(data.get("facet.field"))
    facet_limit = _int(data, "facet.limit", 50, low=-1)
    facet_limit = 10000 if facet_limit < 0 else max(facet_limit, 1)
    mapped = {name: our_facet(name) for name in requested}
    ours = tuple(dict.fromkeys(f for f in mapped.values() if f))
    found = run(ctx.session, plan, **who, start=start, rows=rows, facets=ours, facet_limit=facet_limit)
    results = dicts.package_dicts(ctx.session, found.datasets, base_url=ctx.base_url)
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict[str, Any]] = {}
    for name, facet in mapped.items():
        counts = found.facets.get(facet, []) if facet else []
        facets[name] = dict(counts)
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": value, "display_name": _display_name(ctx, facet, value), "count": n}
                for value, n in counts
            ],
        }
    return {
        "count": found.count,
        "results": results,
        "facets": facets,
        "search_facets": search_facets,
        "sort": ", ".join(f"{k} {d}" for k, d in plan.sort),
    }


def _display_name(ctx: Ctx, facet: str | None, value: str) -> str:
    if facet == "organization":
        org = service.get_organization_by_name(ctx.session, value)
        return org.title if org else value
    vocab_name = {
        "domain": "domains",
        "industry": "industries",
        "grade": "grades",
        "open_type": "open_types",
        "update_frequency": "frequencies",
        "region": "regions",
    }.get(facet or "")
    if vocab_name:
        term = vocab.get_term(vocab_name, value)
        return term.zh if term else value
    return value


@read_action
def package_list(ctx: Ctx, data: dict[str, Any]) -> list[str]:
    """Names of the packages the caller may see, by name (limit, offset)."""
    limit = _int(data, "limit", 10**9, low=1) if data.get("limit") not in (None, "") else 10**9
    offset = _int(data, "offset", 0)
    plan = Plan(sort=[("name", "asc")])
    include = _bool(data, "include_private") or _bool(data, "include_drafts")
    found = run(
        ctx.session,
        plan,
        actor=ctx.actor,
        include_private=include,
        start=offset,
        rows=limit,
        facets=(),
        facet_limit=1,
    )
    return [d.name for d in found.datasets]


@read_action
def current_package_list_with_resources(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Full packages, most recently changed first (limit, offset or page)."""
    limit = _int(data, "limit", 10, low=1, high=ROWS_MAX)
    offset = _int(data, "offset", 0)
    if data.get("page") not in (None, ""):
        offset = (_int(data, "page", 1, low=1) - 1) * limit
    plan = Plan(sort=[("metadata_modified", "desc")])
    found = run(
        ctx.session,
        plan,
        actor=ctx.actor,
        include_private=False,
        start=offset,
        rows=limit,
        facets=(),
        facet_limit=1,
    )
    return dicts.package_dicts(ctx.session, found.datasets, base_url=ctx.base_url)


@read_action
def package_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """One package by id or name (a package the caller may not see is Not Found)."""
    return _show(ctx, _visible_dataset(ctx, _required(data, "id", "name")))


@read_action
def resource_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """One resource by id; its url downloads the file under the access policy."""
    resource, _dataset = _visible_resource(ctx, _required(data, "id"))
    return _resource_out(ctx, resource)


@read_action
def package_activity_list(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """A package's changes from the ledger, newest first (limit, offset)."""
    dataset = _visible_dataset(ctx, _required(data, "id", "name"))
    limit = _int(data, "limit", 31, low=1, high=1000)
    offset = _int(data, "offset", 0)
    entries = ledger.history(ctx.session, dataset_id=dataset.id, limit=limit, offset=offset)
    kinds = {"dataset.create": "new package", "dataset.withdrawn": "deleted package"}
    return [
        {
            "id": str(e.id),
            "timestamp": dicts.iso(e.at),
            "user_id": str(e.actor_id) if e.actor_id else None,
            "object_id": str(dataset.id),
            "activity_type": kinds.get(e.action, "changed package"),
            "data": {"action": e.action, "subject_type": e.subject_type, "subject_id": str(e.subject_id)},
        }
        for e in entries
    ]


def _org_counts(ctx: Ctx) -> dict[str, int]:
    found = run(
        ctx.session,
        Plan(sort=[("metadata_modified", "desc")]),
        actor=ctx.actor,
        include_private=False,
        start=0,
        rows=0,
        facets=("organization",),
        facet_limit=10000,
    )
    return dict(found.facets.get("organization", []))


@read_action
def organization_list(ctx: Ctx, data: dict[str, Any]) -> list[Any]:
    """Organization names, or dicts with all_fields=true (limit, offset, sort name/title)."""
    orgs = service.list_organizations(ctx.session)
    sort = str(data.get("sort") or "name asc")
    key, _, direction = sort.partition(" ")
    if key in ("title", "display_name"):
        orgs.sort(key=lambda o: o.title)
    if direction.strip().lower() == "desc":
        orgs.reverse()
    offset = _int(data, "offset", 0)
    limit = _int(data, "limit", 1000, low=1)
    orgs = orgs[offset : offset + limit]
    if not _bool(data, "all_fields"):
        return [o.name for o in orgs]
    counts = _org_counts(ctx)
    return [dicts.organization_dict(o, package_count=counts.get(o.name, 0)) for o in orgs]


@read_action
def organization_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """One organization by id or name; include_datasets=true lists the packages the caller may see."""
    org = service.require_organization(ctx.session, _required(data, "id", "name"))
    out = dicts.organization_dict(org, package_count=_org_counts(ctx).get(org.name, 0))
    if _bool(data, "include_datasets"):
        plan = Plan(filters={"organization": [org.name]}, sort=[("name", "asc")])
        found = run(
            ctx.session,
            plan,
            actor=ctx.actor,
            include_private=True,
            start=0,
            rows=1000,
            facets=(),
            facet_limit=1,
        )
        out["packages"] = dicts.package_dicts(ctx.session, found.datasets, base_url=ctx.base_url)
    return out


def _domain_counts(ctx: Ctx) -> dict[str, int]:
    found = run(
        ctx.session,
        Plan(sort=[("metadata_modified", "desc")]),
        actor=ctx.actor,
        include_private=False,
        start=0,
        rows=0,
        facets=("domain",),
        facet_limit=10000,
    )
    return dict(found.facets.get("domain", []))


@read_action
def group_list(ctx: Ctx, data: dict[str, Any]) -> list[Any]:
    """Groups: here the data domains (数据领域) of the ledger; all_fields=true gives dicts."""
    terms = vocab.domains()
    if not _bool(data, "all_fields"):
        return [t.code for t in terms]
    counts = _domain_counts(ctx)
    return [dicts.group_dict(t.code, t.zh, t.en, package_count=counts.get(t.code, 0)) for t in terms]


@read_action
def group_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """One data domain shown as a group; include_datasets=true lists its public packages."""
    code = _required(data, "id", "name")
    term = vocab.get_term("domains", code)
    if term is None:
        raise CkanNotFound(f"group not found: {code} / 数据领域不存在")
    out = dicts.group_dict(term.code, term.zh, term.en, package_count=_domain_counts(ctx).get(term.code, 0))
    if _bool(data, "include_datasets"):
        plan = Plan(filters={"domain": [term.code]}, sort=[("name", "asc")])
        found = run(
            ctx.session,
            plan,
            actor=ctx.actor,
            include_private=False,
            start=0,
            rows=1000,
            facets=(),
            facet_limit=1,
        )
        out["packages"] = dicts.package_dicts(ctx.session, found.datasets, base_url=ctx.base_url)
    return out


@read_action
def tag_list(ctx: Ctx, data: dict[str, Any]) -> list[Any]:
    """Tags of the public packages, by name; `query` keeps those containing it."""
    found = run(
        ctx.session,
        Plan(sort=[("metadata_modified", "desc")]),
        actor=ctx.actor,
        include_private=False,
        start=0,
        rows=0,
        facets=("tags",),
        facet_limit=10000,
    )
    names = sorted(name for name, _n in found.facets.get("tags", []))
    query = str(data.get("query") or data.get("q") or "").strip().lower()
    if query:
        names = [n for n in names if query in n.lower()]
    if _bool(data, "all_fields"):
        return [dicts.tag_dict(n) for n in names]
    return names


@read_action
def license_list(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The licences packages may declare."""
    return [dicts.license_dict(lic) for lic in dicts.LICENSES]


@read_action
def user_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """One user by id or name (e-mail only for the user themself and sysadmins)."""
    from auth.users import require_user

    ref = _required(data, "id", "user_obj")
    try:
        user = require_user(ctx.session, uuid.UUID(ref))
    except ValueError:
        user = require_user(ctx.session, ref)
    mine = ctx.user is not None and (ctx.user.id == user.id or ctx.user.is_sysadmin)
    total = ctx.session.exec(select(Dataset.id).where(Dataset.created_by == user.id)).all()
    out: dict[str, Any] = {
        "id": str(user.id),
        "name": user.name,
        "fullname": user.fullname,
        "display_name": user.fullname or user.name,
        "created": dicts.iso(user.created_at),
        "sysadmin": user.is_sysadmin,
        "state": "active" if user.is_active else "deleted",
        "about": "",
        "image_url": "",
        "number_created_packages": len(total),
    }
    if mine:
        out["email"] = user.email
    return out


@read_action
def help_show(ctx: Ctx, data: dict[str, Any]) -> str:
    """The documentation of an action."""
    name = _required(data, "name")
    spec = ACTIONS.get(name)
    if spec is None:
        raise CkanNotFound(f"action not found: {name} / 没有这个接口")
    return inspect.getdoc(spec.fn) or ""


@read_action
def datastore_search(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Rows of a resource's table (filters, q, fields, sort, limit, offset), under the access policy."""
    import json

    from catalog import dataapi
    from portal.downloads import authorize_file_access

    resource, dataset = _visible_resource(ctx, _required(data, "resource_id", "id"))
    if resource.kind != "file" or resource.latest_version == 0:
        raise CkanNotFound("datastore is not enabled for this resource / 该资源未启用数据接口")
    authorize_file_access(
        ctx.session,
        ctx.request,
        actor=ctx.actor,
        user=ctx.user,
        dataset=dataset,
        action=Action.RESOURCE_QUERY,
        object_id=str(resource.id),
    )
    filters = data.get("filters") or {}
    if isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except ValueError as exc:
            raise CkanValidationError({"filters": ["not a JSON object / 须为 JSON 对象"]}) from exc
    if not isinstance(filters, dict):
        raise CkanValidationError({"filters": ["not a JSON object / 须为 JSON 对象"]})
    query = dataapi.DataQuery(
        filters=filters,
        q=data.get("q") if isinstance(data.get("q"), str) and data.get("q") else None,
        fields=data.get("fields") or None,
        sort=data.get("sort") or [],
        limit=_int(data, "limit", 100, high=dataapi.MAX_LIMIT),
        offset=_int(data, "offset", 0),
        include_total=_bool(data, "include_total", True),
    )
    version = service.require_version(ctx.session, resource)
    path = downloads.local_table(ctx.storage, ctx.settings, version)
    result = dataapi.run_query(path, query)
    return {
        "resource_id": str(resource.id),
        "fields": [f.model_dump() for f in result.fields],
        "records": result.records,
        "total": result.total,
        "limit": result.limit,
        "offset": result.offset,
        "filters": filters,
        "_links": {"start": f"/api/3/action/datastore_search?resource_id={resource.id}"},
    }


# --- write actions ---------------------------------------------------------------------------


def _keep_id(ctx: Ctx, data: dict[str, Any]) -> uuid.UUID | None:
    """The id a package or organization has elsewhere, kept for sysadmins only (as CKAN does)."""
    if not (ctx.user is not None and ctx.user.is_sysadmin and data.get("id")):
        return None
    try:
        return uuid.UUID(str(data["id"]))
    except ValueError as exc:
        raise CkanValidationError({"id": ["not a UUID / id 须为 UUID"]}) from exc


@write_action
def package_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Create a package (a draft unless private=false and the caller may publish it; see module doc)."""
    user = _writer(ctx)
    create = dicts.dataset_create(ctx.session, data)
    org = service.require_organization(ctx.session, create.owner_org)
    authorize(ctx.actor, Action.DATASET_CREATE, org)
    specs = dicts.resource_specs(data.get("resources"))
    prospective = SimpleNamespace(
        id=uuid.uuid4(),
        owner_org_id=org.id,
        status="draft",
        open_type=str(create.open_type),
        grade=str(create.grade) if create.grade else None,
        grade_confirmed=False,
    )
    publish = _explicit_private(data) is False and _may_publish(ctx, prospective)
    keep = _keep_id(ctx, data)
    dataset = service.create_dataset_with_resources(
        ctx.session,
        actor_id=user.id,
        data=create,
        resources=[(rid if keep else None, spec) for rid, spec in specs],
        dataset_id=keep,
        publish=publish,
    )
    return _show(ctx, dataset)


def _update(ctx: Ctx, data: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    user = _writer(ctx)
    dataset = _visible_dataset(ctx, _required(data, "id", "name"))
    authorize(ctx.actor, Action.DATASET_UPDATE, dataset)
    change = dicts.dataset_update(ctx.session, data, dataset=dataset, patch=patch)
    resources = dicts.resource_specs(data["resources"]) if "resources" in data else None
    private = _explicit_private(data)
    publish = private is False and dataset.status != "published" and _may_publish(ctx, _target(dataset))
    withdraw = private is True and dataset.status == "published"
    if withdraw:
        authorize(ctx.actor, Action.DATASET_WITHDRAW, dataset)
    dataset = service.update_dataset_with_resources(
        ctx.session,
        actor_id=user.id,
        dataset=dataset,
        data=change,
        resources=resources,
        publish=publish,
        withdraw=withdraw,
    )
    return _show(ctx, dataset)


@write_action
def package_update(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Replace a package's fields (left-out fields reset; resources replaced when given)."""
    return _update(ctx, data, patch=False)


@write_action
def package_patch(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Change only the given fields of a package."""
    return _update(ctx, data, patch=True)


@write_action
def package_delete(ctx: Ctx, data: dict[str, Any]) -> None:
    """Delete (withdraw) a package; it stays in the ledger and is shown with state "deleted"."""
    user = _writer(ctx)
    dataset = _visible_dataset(ctx, _required(data, "id", "name"))
    authorize(ctx.actor, Action.DATASET_DELETE, dataset)
    service.set_dataset_status(ctx.session, actor_id=user.id, dataset=dataset, status="withdrawn")
    return None


def _upload(ctx: Ctx) -> UploadFile | None:
    upload = ctx.files.get("upload")
    return upload if upload is not None and upload.filename else None


def _check_size(ctx: Ctx, upload: UploadFile) -> None:
    limit = ctx.settings.portal.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        from catalog.errors import FileTooLarge

        raise FileTooLarge(f"file larger than the limit of {limit} bytes / 文件超过大小上限")


def _resource_fields(data: dict[str, Any], base: dict[str, Any] | None = None) -> ResourceCreate:
    merged = {
        **(base or {}),
        **{k: v for k, v in data.items() if k in ("name", "description", "format", "url", "url_type")},
    }
    return dicts.resource_spec(merged)[1]


@write_action
def resource_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Add a resource to a package: a link (url) or a file sent as multipart field `upload`."""
    user = _writer(ctx)
    dataset = _visible_dataset(ctx, _required(data, "package_id"))
    authorize(ctx.actor, Action.DATASET_UPDATE, dataset)
    upload = _upload(ctx)
    if upload is None:
        resource = service.create_resource(
            ctx.session, actor_id=user.id, dataset=dataset, data=_resource_fields(data)
        )
        return _resource_out(ctx, resource)
    _check_size(ctx, upload)
    fields = {"name": upload.filename, **{k: v for k, v in data.items() if v not in (None, "")}}
    version = service.create_resource_with_file(
        ctx.session,
        ctx.storage,
        actor_id=user.id,
        dataset=dataset,
        data=_resource_fields({**fields, "url": ""}),
        filename=upload.filename or "upload",
        stream=upload.file,
        content_type=upload.content_type,
        max_size=ctx.settings.portal.max_upload_bytes,
    )
    ctx.written_keys.append(version.storage_key)
    return _resource_out(ctx, service.require_resource(ctx.session, version.resource_id))


def _change_resource(ctx: Ctx, data: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    user = _writer(ctx)
    resource, dataset = _visible_resource(ctx, _required(data, "id"))
    authorize(ctx.actor, Action.DATASET_UPDATE, dataset)
    base = {"name": resource.name, "description": resource.description, "format": resource.format}
    if resource.kind == "link":
        base["url"] = resource.url
    else:
        base["url_type"] = "upload"
    if not patch:
        base = {"name": resource.name, "url_type": base.get("url_type")}
    upload = _upload(ctx)
    fields = _resource_fields({k: v for k, v in data.items() if not (upload and k == "url")}, base)
    resource = service.update_resource(ctx.session, actor_id=user.id, resource=resource, data=fields)
    if upload is not None:
        _check_size(ctx, upload)
        version = service.upload_resource_file(
            ctx.session,
            ctx.storage,
            actor_id=user.id,
            resource=resource,
            filename=upload.filename or "upload",
            data=upload.file,
            content_type=upload.content_type,
            max_size=ctx.settings.portal.max_upload_bytes,
        )
        ctx.written_keys.append(version.storage_key)
    return _resource_out(ctx, resource)


@write_action
def resource_update(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Replace a resource's fields; a multipart `upload` adds a new version of its file."""
    return _change_resource(ctx, data, patch=False)


@write_action
def resource_patch(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Change only the given fields of a resource; a multipart `upload` adds a new version."""
    return _change_resource(ctx, data, patch=True)


@write_action
def resource_delete(ctx: Ctx, data: dict[str, Any]) -> None:
    """Delete a resource (its file versions stay in the ledger)."""
    user = _writer(ctx)
    resource, dataset = _visible_resource(ctx, _required(data, "id"))
    authorize(ctx.actor, Action.DATASET_UPDATE, dataset)
    service.delete_resource(ctx.session, actor_id=user.id, resource=resource)
    return None


@write_action
def organization_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Create an organization (sysadmins); CKAN keys we do not keep (image_url, ...) are ignored."""
    user = _writer(ctx)
    authorize(ctx.actor, Action.ORG_CREATE)
    name = _required(data, "name")
    fields: dict[str, Any] = {"name": name, "title": str(data.get("title") or name)[:200]}
    for key in ("description", "title_en", "org_type", "credit_code", "region_code", "parent"):
        if data.get(key) not in (None, ""):
            fields[key] = data[key]
    org = service.create_organization_with_id(
        ctx.session, actor_id=user.id, data=OrganizationCreate(**fields), organization_id=_keep_id(ctx, data)
    )
    return dicts.organization_dict(org, package_count=0)


def _change_organization(ctx: Ctx, data: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    user = _writer(ctx)
    org = service.require_organization(ctx.session, _required(data, "id", "name"))
    authorize(ctx.actor, Action.ORG_MANAGE, org)
    editable = ("title", "title_en", "description", "region_code")
    if patch:
        fields = {k: data[k] for k in editable if k in data}
    else:  # update replaces: what is not given is cleared (the title falls back to the name)
        fields = {k: data.get(k) or None for k in editable}
        fields["title"] = fields["title"] or org.name
    org = service.update_organization(
        ctx.session, actor_id=user.id, org=org, data=OrganizationUpdate(**fields)
    )
    return dicts.organization_dict(org, package_count=_org_counts(ctx).get(org.name, 0))


@write_action
def organization_patch(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Change the given fields of an organization (title, title_en, description, region_code)."""
    return _change_organization(ctx, data, patch=True)


@write_action
def organization_update(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Replace an organization's editable fields; those not given are cleared, as in CKAN."""
    return _change_organization(ctx, data, patch=False)


@write_action
def organization_member_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Make a user a member (member, editor or admin) of an organization (org admins, sysadmins)."""
    from auth.users import add_membership, require_user

    user = _writer(ctx)
    org = service.require_organization(ctx.session, _required(data, "id"))
    authorize(ctx.actor, Action.ORG_MANAGE, org)
    ref = _required(data, "username", "user")
    try:
        member = require_user(ctx.session, uuid.UUID(ref))
    except ValueError:
        member = require_user(ctx.session, ref)
    role = _required(data, "role")
    membership = add_membership(
        ctx.session, user_id=member.id, organization_id=org.id, role=role, actor_id=user.id
    )
    return {
        "id": str(membership.id),
        "table_name": "user",
        "table_id": str(member.id),
        "group_id": str(org.id),
        "capacity": membership.role,
        "state": "active",
    }


_UNIT_SECONDS = {"1": 1, "60": 60, "3600": 3600, "86400": 86400, "604800": 604800}


@write_action
def api_token_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Issue an API token for yourself (sysadmins: for anyone); the token is shown only here."""
    from auth.api_tokens import issue_api_token, scope_allows
    from auth.users import require_user

    caller = _writer(ctx)
    ref = _required(data, "user")
    try:
        owner = require_user(ctx.session, uuid.UUID(ref))
    except ValueError:
        owner = require_user(ctx.session, ref)
    if owner.id != caller.id and not caller.is_sysadmin:
        raise AccessDenied("api_token.create", "tokens are issued to yourself / 只能为自己签发令牌")
    scope = str(data.get("scope") or "write")
    if ctx.scope is not None and not scope_allows(ctx.scope, scope):
        raise AccessDenied("api_token.create", "a token cannot issue a broader one / 不能签发更高权限的令牌")
    expires_at = None
    if data.get("expires_in") not in (None, ""):
        amount = _int(data, "expires_in", 0, low=1)
        unit = _UNIT_SECONDS.get(str(data.get("unit") or "86400"))
        if unit is None:
            raise CkanValidationError({"unit": ["one of 1, 60, 3600, 86400, 604800 (seconds)"]})
        from auth.models import utcnow

        expires_at = utcnow() + timedelta(seconds=amount * unit)
    _token, raw = issue_api_token(
        ctx.session,
        user_id=owner.id,
        name=_required(data, "name"),
        scope=scope,
        expires_at=expires_at,
        client_addr=ctx.request.client.host if ctx.request.client else "",
    )
    return {"token": raw}


@write_action
def api_token_revoke(ctx: Ctx, data: dict[str, Any]) -> None:
    """Revoke one of your API tokens, named by the token itself or by its id (jti)."""
    from auth.api_tokens import hash_token, revoke_api_token
    from auth.errors import ApiTokenNotFound

    caller = _writer(ctx)
    token: ApiToken | None = None
    if data.get("token"):
        raw = str(data["token"])
        token = ctx.session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))).first()
    elif data.get("jti"):
        try:
            token = ctx.session.get(ApiToken, uuid.UUID(str(data["jti"])))
        except ValueError:
            token = None
    else:
        raise CkanValidationError({"token": ["Missing value: token or jti / 缺少 token 或 jti"]})
    if token is None or (token.user_id != caller.id and not caller.is_sysadmin):
        raise ApiTokenNotFound(data.get("jti") or "token")
    revoke_api_token(ctx.session, token_id=token.id, user_id=token.user_id)
    return None
