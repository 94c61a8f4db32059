"""CKAN's dictionaries: our ledger shown with CKAN's field names, and CKAN packages read into ours.

Our own fields (grade, open_type, domain, ...) are top-level keys, the way ckanext-scheming shows
custom fields. CKAN core fields that have no column of ours (author, author_email, url, version,
and a maintainer_email that is not an e-mail address) are kept in `Dataset.extras` under their
CKAN names and shown back top-level, so a package round-trips; other extras are shown as
`extras: [{key, value}]`, sorted by key like CKAN.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from catalog import service
from catalog.errors import OrganizationNotFound
from catalog.models import Dataset, Organization, Resource, ResourceVersion
from catalog.schemas import DatasetCreate, DatasetUpdate, ResourceCreate
from portal.ckan.errors import CkanValidationError

# CKAN core fields kept in Dataset.extras because no column holds them.
CORE_IN_EXTRAS = ("author", "author_email", "url", "version", "maintainer_email")
# Our declared fields, shown and accepted top-level.
OUR_FIELDS = (
    "title_en",
    "grade",
    "open_type",
    "share_type",
    "domain",
    "industry",
    "update_frequency",
    "spatial",
    "temporal_start",
    "temporal_end",
    "source_system",
    "record_count",
)
# Read-only fields of ours, shown top-level.
OUR_COMPUTED = ("quality_score", "resource_code", "grade_confirmed", "status")
# Keys CKAN computes or that describe another portal; read and ignored on input.
IGNORED_INPUT = frozenset(
    {
        "metadata_created",
        "metadata_modified",
        "num_resources",
        "num_tags",
        "license_title",
        "license_url",
        "isopen",
        "revision_id",
        "creator_user_id",
        "relationships_as_object",
        "relationships_as_subject",
        "organization",
        "state",
        "type",
        "tracking_summary",
        "private",
        "groups",
        "quality_score",
        "resource_code",
        "grade_confirmed",
        "status",
        "id",
        "resources",
        "tags",
        "extras",
        "owner_org",
        "name",
        "title",
        "notes",
        "license_id",
        "maintainer",
        "__extras",
        "__junk",
    }
)

LICENSES: list[dict[str, Any]] = [
    {
        "id": "cc-by",
        "title": "Creative Commons Attribution",
        "url": "http://www.opendefinition.org/licenses/cc-by",
    },
    {
        "id": "cc-by-sa",
        "title": "Creative Commons Attribution Share-Alike",
        "url": "http://www.opendefinition.org/licenses/cc-by-sa",
    },
    {
        "id": "cc-zero",
        "title": "Creative Commons CCZero",
        "url": "http://www.opendefinition.org/licenses/cc-zero",
    },
    {
        "id": "cc-nc",
        "title": "Creative Commons Non-Commercial (Any)",
        "url": "http://creativecommons.org/licenses/by-nc/2.0/",
    },
    {
        "id": "odc-by",
        "title": "Open Data Commons Attribution License",
        "url": "http://www.opendefinition.org/licenses/odc-by",
    },
    {
        "id": "odc-odbl",
        "title": "Open Data Commons Open Database License (ODbL)",
        "url": "http://www.opendefinition.org/licenses/odc-odbl",
    },
    {
        "id": "odc-pddl",
        "title": "Open Data Commons Public Domain Dedication and License (PDDL)",
        "url": "http://www.opendefinition.org/licenses/odc-pddl",
    },
    {"id": "other-at", "title": "Other (Attribution)", "url": ""},
    {"id": "other-closed", "title": "Other (Not Open)", "url": ""},
    {"id": "other-nc", "title": "Other (Non-Commercial)", "url": ""},
    {"id": "other-open", "title": "Other (Open)", "url": ""},
    {"id": "other-pd", "title": "Other (Public Domain)", "url": ""},
    {"id": "notspecified", "title": "License not specified", "url": ""},
    {"id": "gov-open-cn", "title": "政府数据开放许可 / Government open data licence (CN)", "url": ""},
]
_LICENSE_BY_ID = {lic["id"]: lic for lic in LICENSES}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_NS = uuid.UUID("6f1c2b0e-5a77-4f0b-9d7e-0c9a1d1e4a11")


def iso(value: datetime | None) -> str | None:
    """A timestamp as CKAN writes it: UTC, ISO 8601, no zone suffix."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def license_title(license_id: str) -> str:
    """The title of a licence id (the id itself when unknown)."""
    lic = _LICENSE_BY_ID.get(license_id)
    return lic["title"] if lic else license_id


def license_dict(lic: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of license_list."""
    return {
        "id": lic["id"],
        "title": lic["title"],
        "url": lic["url"],
        "status": "active",
        "maintainer": "",
        "family": "",
        "od_conformance": "not reviewed",
        "osd_conformance": "not reviewed",
        "domain_content": False,
        "domain_data": True,
        "domain_software": False,
        "is_generic": lic["id"].startswith("other") or lic["id"] == "notspecified",
    }


def tag_dict(name: str) -> dict[str, Any]:
    """A tag as CKAN shows it; its id is derived from its name (tags have no table here)."""
    return {
        "id": str(uuid.uuid5(_TAG_NS, name)),
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def organization_dict(org: Organization, *, package_count: int | None = None) -> dict[str, Any]:
    """An organization as CKAN shows it, with our fields beside CKAN's."""
    out: dict[str, Any] = {
        "id": str(org.id),
        "name": org.name,
        "title": org.title,
        "display_name": org.title,
        "description": org.description,
        "type": "organization",
        "is_organization": True,
        "state": "active" if org.state == "active" else "deleted",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": iso(org.created_at),
        "title_en": org.title_en,
        "org_type": org.org_type,
        "region_code": org.region_code,
        "credit_code": org.credit_code,
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def download_url(base_url: str, resource: Resource) -> str:
    """The absolute URL through which a resource's file is downloaded (under the policy)."""
    return f"{base_url.rstrip('/')}/api/v1/resources/{resource.id}/download"


def resource_dict(resource: Resource, version: ResourceVersion | None, *, base_url: str) -> dict[str, Any]:
    """A resource as CKAN shows it."""
    uploaded = resource.kind == "file"
    url = resource.url
    if uploaded:
        url = download_url(base_url, resource) if version is not None else ""
    return {
        "id": str(resource.id),
        "package_id": str(resource.dataset_id),
        "name": resource.name,
        "description": resource.description,
        "format": resource.format,
        "url": url,
        "url_type": "upload" if uploaded else None,
        "size": version.size if version else None,
        "hash": f"sha256:{version.sha256}" if version else "",
        "mimetype": version.media_type if version else None,
        "mimetype_inner": None,
        "created": iso(resource.created_at),
        "last_modified": iso(version.created_at) if version else None,
        "metadata_modified": iso(resource.updated_at),
        "position": resource.position,
        "state": resource.state,
        "resource_type": None,
        "datastore_active": False,
        "version": resource.latest_version,
    }


def _state(status: str) -> str:
    return {"published": "active", "withdrawn": "deleted"}.get(status, "draft")


def package_dict(
    dataset: Dataset,
    org: Organization | None,
    resources: list[Resource],
    versions: Mapping[uuid.UUID, ResourceVersion],
    *,
    base_url: str,
) -> dict[str, Any]:
    """A dataset as CKAN shows a package, with our own fields top-level."""
    extras = dict(dataset.extras or {})
    core = {k: extras.pop(k, None) for k in CORE_IN_EXTRAS}
    tags = list(dataset.tags or [])
    res = [resource_dict(r, versions.get(r.id), base_url=base_url) for r in resources]
    out: dict[str, Any] = {
        "id": str(dataset.id),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "state": _state(dataset.status),
        "private": dataset.status != "published",
        "owner_org": str(dataset.owner_org_id),
        "organization": organization_dict(org) if org else None,
        "license_id": dataset.license_id or None,
        "license_title": license_title(dataset.license_id) if dataset.license_id else None,
        "license_url": (_LICENSE_BY_ID.get(dataset.license_id) or {}).get("url") or None,
        "author": core["author"] or "",
        "author_email": core["author_email"] or "",
        "maintainer": dataset.contact_name,
        "maintainer_email": dataset.contact_email or core["maintainer_email"] or "",
        "url": core["url"] or "",
        "version": core["version"] or "",
        "metadata_created": iso(dataset.created_at),
        "metadata_modified": iso(dataset.updated_at),
        "creator_user_id": str(dataset.created_by) if dataset.created_by else None,
        "resources": res,
        "num_resources": len(res),
        "tags": [tag_dict(t) for t in tags],
        "num_tags": len(tags),
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
        "groups": [],
        "isopen": dataset.status == "published" and dataset.open_type == "unconditional",
    }
    for field in OUR_FIELDS:
        value = getattr(dataset, field)
        out[field] = value.isoformat() if isinstance(value, date) else value
    for field in OUR_COMPUTED:
        out[field] = getattr(dataset, field)
    out["download_count"] = dataset.download_count
    if dataset.domain:
        from catalog import vocab

        term = vocab.get_term("domains", dataset.domain)
        if term is not None:
            out["groups"] = [group_dict(term.code, term.zh, term.en)]
    return out


def group_dict(code: str, zh: str, en: str, *, package_count: int | None = None) -> dict[str, Any]:
    """A data domain (数据领域) shown as a CKAN group."""
    out: dict[str, Any] = {
        "id": code,
        "name": code,
        "title": zh,
        "display_name": zh,
        "title_en": en,
        "description": en,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def package_dicts(session: Session, datasets: Iterable[Dataset], *, base_url: str) -> list[dict[str, Any]]:
    """Many package dicts with a fixed number of queries (search results, package lists)."""
    rows = list(datasets)
    orgs = service.organizations_by_id(session, (d.owner_org_id for d in rows))
    resources = service.resources_by_dataset(session, (d.id for d in rows))
    versions = service.latest_versions(session, (r for rs in resources.values() for r in rs))
    return [
        package_dict(d, orgs.get(d.owner_org_id), resources.get(d.id, []), versions, base_url=base_url)
        for d in rows
    ]


# --- reading CKAN packages ------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, list):
        raise CkanValidationError({"tags": ["tags must be a list / 标签须为列表"]})
    names: list[str] = []
    for tag in value:
        name = tag.get("name", "") if isinstance(tag, Mapping) else _text(tag)
        if name.strip():
            names.append(name.strip())
    return names


def _extras(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if not isinstance(value, list):
        raise CkanValidationError({"extras": ["extras must be a list of {key, value} / 扩展字段格式错误"]})
    out: dict[str, Any] = {}
    for item in value:
        if not isinstance(item, Mapping) or "key" not in item:
            raise CkanValidationError({"extras": ["each extra needs a key / 扩展字段缺少 key"]})
        if item.get("deleted"):
            continue
        out[str(item["key"])] = item.get("value")
    return out


def _owner_org(session: Session, data: Mapping[str, Any]) -> str | None:
    """The name of the owning organization: owner_org (id or name), else the embedded organization."""
    candidates = [data.get("owner_org")]
    org = data.get("organization")
    if isinstance(org, Mapping):
        candidates += [org.get("id"), org.get("name")]
    elif isinstance(org, str):
        candidates.append(org)
    for ref in candidates:
        if ref in (None, ""):
            continue
        try:
            return service.require_organization(session, str(ref)).name
        except OrganizationNotFound:
            continue
    return None


def _domain(data: Mapping[str, Any]) -> str | None:
    """Our domain from the first CKAN group that names one of our domains."""
    from catalog import vocab

    for group in data.get("groups") or []:
        name = group.get("name") if isinstance(group, Mapping) else group
        if isinstance(name, str) and vocab.get_term("domains", name) is not None:
            return name
    return None


def _split_email(fields: dict[str, Any], extras: dict[str, Any], raw: Any) -> None:
    email = _text(raw).strip()
    if not email:
        fields["contact_email"] = None
    elif _EMAIL.match(email):
        fields["contact_email"] = email
    else:
        fields["contact_email"] = None
        extras["maintainer_email"] = email


def package_fields(
    session: Session, data: Mapping[str, Any], *, base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Our dataset fields from a CKAN package dict; `base` supplies values the dict leaves out."""
    fields: dict[str, Any] = dict(base or {})
    extras: dict[str, Any] = dict(fields.pop("extras", {}) or {})
    if "extras" in data:
        kept = {k: v for k, v in extras.items() if k in CORE_IN_EXTRAS}
        extras = {**kept, **_extras(data.get("extras"))}
    for key in ("name", "title", "notes", "license_id"):
        if key in data and data[key] is not None:
            fields[key] = _text(data[key])
    if "maintainer" in data:
        fields["contact_name"] = _text(data["maintainer"])[:100]
    if "maintainer_email" in data:
        extras.pop("maintainer_email", None)
        _split_email(fields, extras, data["maintainer_email"])
    for key in ("author", "author_email", "url", "version"):
        if key in data:
            value = _text(data[key])
            if value:
                extras[key] = value
            else:
                extras.pop(key, None)
    if "tags" in data:
        fields["tags"] = _tags(data["tags"])
    for key in OUR_FIELDS:
        if key in data:
            value = data[key]
            fields[key] = (
                None if value == "" and key in ("grade", "temporal_start", "temporal_end") else value
            )
    if "domain" not in data and (domain := _domain(data)) is not None:
        fields["domain"] = domain
    for key, value in data.items():
        if key in IGNORED_INPUT or key in OUR_FIELDS or key in CORE_IN_EXTRAS or key in fields:
            continue
        if isinstance(value, (str, int, float, bool)) and not key.startswith("_"):
            extras[key] = value  # unknown scalars are kept; nested values from other portals are not
    fields["extras"] = extras
    if not fields.get("title"):
        fields["title"] = fields.get("name", "")
    return fields


def dataset_create(session: Session, data: Mapping[str, Any]) -> DatasetCreate:
    """A DatasetCreate from a CKAN package dict (ValidationError, field by field, when it is not one)."""
    fields = package_fields(session, data)
    owner = _owner_org(session, data)
    problems: dict[str, list[str]] = {}
    if not fields.get("name"):
        problems["name"] = ["Missing value / 缺少名称"]
    if owner is None:
        problems["owner_org"] = [
            "Missing value or organization does not exist / 所属机构不存在"
            if data.get("owner_org") or data.get("organization")
            else "Missing value / 缺少所属机构"
        ]
    if problems:
        raise CkanValidationError(problems)
    return DatasetCreate(**fields, owner_org=owner)


_UPDATABLE = set(DatasetUpdate.model_fields)


def current_fields(dataset: Dataset) -> dict[str, Any]:
    """A dataset's declared fields, as package_patch starts from them."""
    out = {k: getattr(dataset, k) for k in _UPDATABLE if hasattr(dataset, k)}
    out["name"] = dataset.name
    out["extras"] = dict(dataset.extras or {})
    return out


def dataset_update(
    session: Session, data: Mapping[str, Any], *, dataset: Dataset, patch: bool
) -> DatasetUpdate:
    """A DatasetUpdate from a package dict: a patch keeps what is left out, an update resets it."""
    base = current_fields(dataset) if patch else {"extras": {}}
    if not patch:
        # package_update replaces the package: fields left out go back to their defaults.
        defaults = DatasetCreate.model_fields
        for key in _UPDATABLE:
            if key in defaults and key != "extras":
                field = defaults[key]
                base[key] = field.get_default(call_default_factory=True)
        base["title"] = dataset.title
    fields = package_fields(session, data, base=base)
    if "name" in data and data["name"] and data["name"] != dataset.name:
        raise CkanValidationError({"name": ["renaming a package is not supported / 不支持修改名称"]})
    fields.pop("name", None)
    fields.pop("grade", None)  # the grade changes through grade confirmation only
    return DatasetUpdate(**{k: v for k, v in fields.items() if k in _UPDATABLE})


def resource_spec(data: Mapping[str, Any], *, index: int = 0) -> tuple[uuid.UUID | None, ResourceCreate]:
    """A resource's id (when it carries a valid one) and fields from a CKAN resource dict."""
    if not isinstance(data, Mapping):
        raise CkanValidationError({"resources": [f"resource {index} is not an object / 资源格式错误"]})
    rid = None
    if data.get("id"):
        try:
            rid = uuid.UUID(str(data["id"]))
        except ValueError:
            rid = None
    url = _text(data.get("url")).strip()
    if data.get("url_type") == "upload":
        url = ""  # an uploaded file: its URL is ours to make, the file is kept
    name = (
        _text(data.get("name")).strip() or (url.rstrip("/").rsplit("/", 1)[-1] if url else "") or "resource"
    )
    fmt = _text(data.get("format")).strip()
    return rid, ResourceCreate(
        name=name[:300], description=_text(data.get("description")), format=fmt[:32], url=url
    )


def resource_specs(value: Any) -> list[tuple[uuid.UUID | None, ResourceCreate]]:
    """Resource specs from a package dict's `resources` list."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise CkanValidationError({"resources": ["resources must be a list / 资源须为列表"]})
    return [resource_spec(r, index=i) for i, r in enumerate(value)]
