"""The catalog's services: every surface (API, CKAN, pages, CLI) registers and reads through here."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Iterable
from typing import BinaryIO, TypeVar

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from catalog import grading, ledger, pipeline
from catalog.errors import (
    DatasetNameTaken,
    DatasetNotFound,
    FileTooLarge,
    InvalidState,
    OrganizationNameTaken,
    OrganizationNotFound,
    ResourceNotFound,
)
from catalog.models import DataItem, Dataset, Organization, Resource, ResourceVersion, utcnow
from catalog.schemas import (
    DatasetCreate,
    DatasetUpdate,
    OrganizationCreate,
    OrganizationUpdate,
    ResourceCreate,
)
from catalog.search import index as search_index
from catalog.search.index import SearchDocument
from storage import STAGING_PREFIX, Storage, make_key
from storage.errors import ObjectTooLarge

T = TypeVar("T")

# A file in one of these states keeps its dataset from being published.
BLOCKING_QUALITY = frozenset({"blocked", "unreadable"})


def set_table_schema(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, schema: dict[str, object]
) -> Dataset:
    """Declare the dataset's table schema (validated by quality.schema) and record it in the ledger."""
    from quality.schema import parse_schema

    parsed = parse_schema(schema)
    before = ledger.snapshot(dataset)
    dataset.table_schema = parsed.model_dump(mode="json")
    dataset.updated_at = utcnow()
    session.add(dataset)
    ledger.append(session, actor_id=actor_id, action="dataset.schema", subject=dataset, before=before)
    session.flush()
    return dataset


def get_organization_by_name(session: Session, name: str) -> Organization | None:
    """The organization with this name, or None."""
    return session.exec(select(Organization).where(Organization.name == name)).first()


def require_organization(session: Session, name_or_id: str | uuid.UUID) -> Organization:
    """The organization with this name or id; OrganizationNotFound otherwise."""
    org = by_id_or_key(session, Organization, name_or_id)
    if org is None:
        raise OrganizationNotFound(f"organization not found: {name_or_id}")
    return org


def list_organizations(session: Session, *, org_type: str | None = None) -> list[Organization]:
    """All active organizations, by name."""
    stmt = select(Organization).where(Organization.state == "active")
    if org_type:
        stmt = stmt.where(Organization.org_type == org_type)
    return list(session.exec(stmt.order_by(Organization.name)))


def create_organization(
    session: Session, *, actor_id: uuid.UUID | None, data: OrganizationCreate
) -> Organization:
    """Register an organization and record it in the ledger."""
    if get_organization_by_name(session, data.name) is not None:
        raise OrganizationNameTaken(f"organization name already in use: {data.name}")
    parent_id = require_organization(session, data.parent).id if data.parent else None
    org = Organization.model_validate(data.model_dump(exclude={"parent"}), update={"parent_id": parent_id})
    session.add(org)
    ledger.append(session, actor_id=actor_id, action="organization.create", subject=org)
    session.flush()
    return org


def update_organization(
    session: Session, *, actor_id: uuid.UUID | None, org: Organization, data: OrganizationUpdate
) -> Organization:
    """Change an organization's titles, description or region, recorded in the ledger; its
    datasets' search entries follow a new title (they are found by the organization's name)."""
    before = ledger.snapshot(org)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("title") is None:
        changes.pop("title", None)  # the title can change but not disappear
    for field in ("title_en", "description", "region_code"):  # cleared text is empty, not null
        if field in changes and changes[field] is None:
            changes[field] = ""
    changes = {k: v for k, v in changes.items() if getattr(org, k) != v}
    if not changes:
        return org
    for field, value in changes.items():
        setattr(org, field, value)
    session.add(org)
    ledger.append(session, actor_id=actor_id, action="organization.update", subject=org, before=before)
    session.flush()
    if {"title", "title_en"} & changes.keys():
        for dataset in session.exec(select(Dataset).where(Dataset.owner_org_id == org.id)):
            reindex_dataset(session, dataset)
    return org


def get_dataset_by_name(session: Session, name: str) -> Dataset | None:
    """The dataset with this name, or None."""
    return session.exec(select(Dataset).where(Dataset.name == name)).first()


def require_dataset(session: Session, name_or_id: str | uuid.UUID) -> Dataset:
    """The dataset with this name or id; DatasetNotFound otherwise."""
    dataset = by_id_or_key(session, Dataset, name_or_id)
    if dataset is None:
        raise DatasetNotFound(f"dataset not found: {name_or_id}")
    return dataset


def list_datasets(
    session: Session,
    *,
    owner_org_id: uuid.UUID | None = None,
    statuses: Iterable[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Dataset]]:
    """Datasets, newest change first, with the total count before paging."""
    stmt = select(Dataset)
    if owner_org_id is not None:
        stmt = stmt.where(Dataset.owner_org_id == owner_org_id)
    if statuses is not None:
        stmt = stmt.where(col(Dataset.status).in_(list(statuses)))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Dataset.updated_at).desc()).offset(offset).limit(limit))
    return total, list(rows)


def create_dataset(session: Session, *, actor_id: uuid.UUID | None, data: DatasetCreate) -> Dataset:
    """Register a dataset as a draft and record it in the ledger."""
    if get_dataset_by_name(session, data.name) is not None:
        raise DatasetNameTaken(f"dataset name already in use: {data.name}")
    org = require_organization(session, data.owner_org)
    dataset = Dataset.model_validate(
        data.model_dump(mode="json", exclude={"owner_org"}),
        update={"owner_org_id": org.id, "created_by": actor_id, "status": "draft"},
    )
    session.add(dataset)
    ledger.append(session, actor_id=actor_id, action="dataset.create", subject=dataset)
    session.flush()
    reindex_dataset(session, dataset, new=True)
    return dataset


def update_dataset(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, data: DatasetUpdate
) -> Dataset:
    """Change a dataset's declared fields and record the change in the ledger."""
    before = ledger.snapshot(dataset)
    changes = data.model_dump(mode="json", exclude_unset=True)
    for field, value in changes.items():
        setattr(dataset, field, value)
    dataset.temporal_start = data.temporal_start if "temporal_start" in changes else dataset.temporal_start
    dataset.temporal_end = data.temporal_end if "temporal_end" in changes else dataset.temporal_end
    dataset.updated_at = utcnow()
    session.add(dataset)
    ledger.append(session, actor_id=actor_id, action="dataset.update", subject=dataset, before=before)
    session.flush()
    reindex_dataset(session, dataset)
    return dataset


def confirm_grade(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, grade: str, reason: str = ""
) -> Dataset:
    """Confirm (or override, with a reason) a dataset's grade; the ledger keeps both."""
    before = ledger.snapshot(dataset)
    if dataset.grade is not None and grade != dataset.grade and not reason.strip():
        raise InvalidState("overriding the grade needs a reason / 变更分级须说明理由")
    dataset.grade = grade
    dataset.grade_confirmed = True
    dataset.grade_confirmed_by = actor_id
    dataset.grade_confirmed_at = utcnow()
    dataset.grade_reason = reason.strip()
    dataset.updated_at = dataset.grade_confirmed_at
    session.add(dataset)
    ledger.append(session, actor_id=actor_id, action="dataset.grade_confirm", subject=dataset, before=before)
    session.flush()
    reindex_dataset(session, dataset)
    return dataset


def publish_dataset(session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset) -> Dataset:
    """Publish a dataset: its grade must be confirmed and allow its open type."""
    if dataset.status == "published":
        return dataset
    if not dataset.grade_confirmed or dataset.grade is None:
        raise InvalidState("the grade must be confirmed before publishing / 分级未确认，不能发布")
    if not grading.grade_allows_open_type(dataset.grade, dataset.open_type):
        raise InvalidState(
            f"grade {dataset.grade} does not allow open type {dataset.open_type} / 该分级不允许此开放属性"
        )
    blocked = [
        f"{resource.name} (v{version.version})"
        for resource in list_resources(session, dataset)
        for version in list_versions(session, resource)[:1]
        if version.quality_status in BLOCKING_QUALITY
    ]
    if blocked:
        raise InvalidState(
            "critical quality rules fail in " + ", ".join(blocked) + " / 存在未通过的关键质量规则，不能发布"
        )
    return set_dataset_status(session, actor_id=actor_id, dataset=dataset, status="published")


def set_dataset_status(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, status: str
) -> Dataset:
    """Move a dataset to another status and record it in the ledger."""
    before = ledger.snapshot(dataset)
    dataset.status = status
    dataset.updated_at = utcnow()
    if status == "published" and dataset.published_at is None:
        dataset.published_at = dataset.updated_at
    session.add(dataset)
    ledger.append(session, actor_id=actor_id, action=f"dataset.{status}", subject=dataset, before=before)
    session.flush()
    reindex_dataset(session, dataset)
    return dataset


def list_resources(session: Session, dataset: Dataset) -> list[Resource]:
    """A dataset's active resources in their order."""
    stmt = select(Resource).where(Resource.dataset_id == dataset.id, Resource.state == "active")
    return list(session.exec(stmt.order_by(Resource.position, Resource.created_at)))


def require_resource(session: Session, resource_id: uuid.UUID) -> Resource:
    """The active resource with this id; ResourceNotFound otherwise."""
    resource = session.get(Resource, resource_id)
    if resource is None or resource.state != "active":
        raise ResourceNotFound(f"resource not found: {resource_id}")
    return resource


def create_resource(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, data: ResourceCreate
) -> Resource:
    """Add a resource (a file slot or a link) to a dataset."""
    position = len(list_resources(session, dataset))
    resource = Resource(
        dataset_id=dataset.id,
        name=data.name,
        description=data.description,
        format=data.format.upper(),
        url=data.url,
        kind="link" if data.url else "file",
        position=position,
    )
    session.add(resource)
    ledger.append(session, actor_id=actor_id, action="resource.create", subject=resource, dataset=dataset)
    session.flush()
    reindex_dataset(session, dataset)
    return resource


def list_versions(session: Session, resource: Resource) -> list[ResourceVersion]:
    """Every version of a resource's file, newest first."""
    stmt = select(ResourceVersion).where(ResourceVersion.resource_id == resource.id)
    return list(session.exec(stmt.order_by(col(ResourceVersion.version).desc())))


def require_version(session: Session, resource: Resource, version: int | None = None) -> ResourceVersion:
    """A version of the resource's file (the latest when none is named); ResourceNotFound otherwise."""
    number = version if version is not None else resource.latest_version
    stmt = select(ResourceVersion).where(
        ResourceVersion.resource_id == resource.id, ResourceVersion.version == number
    )
    found = session.exec(stmt).first()
    if found is None or found.state != "active":
        raise ResourceNotFound(f"no file uploaded for resource {resource.id} (version {number})")
    return found


def upload_resource_file(
    session: Session,
    storage: Storage,
    *,
    actor_id: uuid.UUID | None,
    resource: Resource,
    filename: str,
    data: BinaryIO | Iterable[bytes],
    content_type: str | None = None,
    max_size: int | None = None,
) -> ResourceVersion:
    """Stream a file into storage as the resource's next version and record it.

    The bytes go to a staging key first; the version row (and its quality job) is flushed; only then
    is the object moved
    to its final key. A failure at any step removes what was written, a crash leaves at worst a
    staging object (the sweeper's) or an object without metadata (fsck's). The caller commits, and
    removes `version.storage_key` if the commit fails (portal.downloads.commit_or_remove).
    """
    dataset = require_dataset(session, resource.dataset_id)
    number = resource.latest_version + 1
    media_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    final_key = make_key("datasets", str(dataset.id), str(resource.id), f"v{number}")
    staging_key = make_key(STAGING_PREFIX.strip("/"), uuid.uuid4().hex)
    try:
        stored = storage.put(staging_key, data, content_type=media_type, max_size=max_size)
    except ObjectTooLarge as exc:
        raise FileTooLarge(f"file larger than the limit of {max_size} bytes / 文件超过大小上限") from exc
    moved = False
    try:
        version = ResourceVersion(
            resource_id=resource.id,
            version=number,
            storage_key=final_key,
            filename=filename,
            media_type=media_type,
            size=stored.size,
            sha256=stored.sha256,
            created_by=actor_id,
        )
        resource.latest_version = number
        if not resource.format:
            resource.format = filename.rsplit(".", 1)[-1].upper() if "." in filename else ""
        resource.updated_at = utcnow()
        dataset.data_updated_at = resource.updated_at
        session.add_all([version, resource, dataset])
        ledger.append(session, actor_id=actor_id, action="resource.upload", subject=version, dataset=dataset)
        session.flush()
        pipeline.enqueue(session, version)  # every file is checked, whichever surface it came through
        reindex_dataset(session, dataset)
        storage.move(staging_key, final_key)
        moved = True
    except BaseException:
        storage.delete(final_key if moved else staging_key)
        raise
    return version


def count_download(session: Session, dataset: Dataset) -> None:
    """Add one download to a dataset's popularity, atomically."""
    session.execute(
        update(Dataset).where(col(Dataset.id) == dataset.id).values(download_count=Dataset.download_count + 1)
    )


def reindex_dataset(session: Session, dataset: Dataset, *, new: bool = False) -> None:
    """Bring the dataset's search entry up to date, in the same transaction as the change.

    `new` says the dataset was created in this transaction: it has no resources, columns or index
    rows yet, so they are not looked up (three statements fewer on every registration).
    """
    org = session.get(Organization, dataset.owner_org_id)
    resources = [] if new else list_resources(session, dataset)
    columns = (
        []
        if new
        else session.exec(
            select(DataItem.name, DataItem.name_zh, DataItem.name_en).where(DataItem.dataset_id == dataset.id)
        ).all()
    )
    search_index.index_document(
        session,
        SearchDocument(
            dataset_id=dataset.id,
            name=dataset.name,
            title=dataset.title,
            title_en=dataset.title_en,
            notes=dataset.notes,
            tags=list(dataset.tags or []),
            owner_org_id=dataset.owner_org_id,
            organization=org.name if org else None,
            organization_title=org.title if org else "",
            organization_title_en=org.title_en if org else "",
            column_names=[n for row in columns for n in row if n],
            resource_names=[r.name for r in resources],
            formats=[r.format for r in resources if r.format],
            domain=dataset.domain,
            industry=dataset.industry,
            grade=dataset.grade,
            open_type=dataset.open_type,
            update_frequency=dataset.update_frequency,
            region=dataset.spatial,
            status=dataset.status,
            metadata_modified_at=dataset.updated_at,
            popularity=dataset.download_count,
        ),
        new=new,
    )


def by_id_or_key(session: Session, model: type[T], ref: str | uuid.UUID, key: str = "name") -> T | None:
    """The row of model whose id is ref (a UUID or its text), else whose `key` column equals ref."""
    if isinstance(ref, uuid.UUID):
        return session.get(model, ref)
    try:
        return session.get(model, uuid.UUID(str(ref)))
    except ValueError:
        return session.exec(select(model).where(getattr(model, key) == ref)).first()


# --- used by the CKAN surface ---


def get_datasets(session: Session, ids: Iterable[uuid.UUID]) -> list[Dataset]:
    """The datasets with these ids, in the order given (missing ones left out)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {d.id: d for d in session.exec(select(Dataset).where(col(Dataset.id).in_(wanted)))}
    return [found[i] for i in wanted if i in found]


def organizations_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    """Organizations keyed by id, in one query."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {o.id: o for o in session.exec(select(Organization).where(col(Organization.id).in_(wanted)))}


def resources_by_dataset(
    session: Session, dataset_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Resource]]:
    """Active resources of many datasets, in their order, in one query."""
    wanted = list(set(dataset_ids))
    out: dict[uuid.UUID, list[Resource]] = {i: [] for i in wanted}
    if not wanted:
        return out
    stmt = select(Resource).where(col(Resource.dataset_id).in_(wanted), Resource.state == "active")
    for r in session.exec(stmt.order_by(Resource.position, Resource.created_at)):
        out[r.dataset_id].append(r)
    return out


def latest_versions(session: Session, resources: Iterable[Resource]) -> dict[uuid.UUID, ResourceVersion]:
    """The latest active version of each resource that has a file, keyed by resource id."""
    pairs = {(r.id, r.latest_version) for r in resources if r.latest_version > 0}
    if not pairs:
        return {}
    stmt = select(ResourceVersion).where(
        col(ResourceVersion.resource_id).in_([p[0] for p in pairs]), ResourceVersion.state == "active"
    )
    return {v.resource_id: v for v in session.exec(stmt) if (v.resource_id, v.version) in pairs}


def count_facets_of(
    session: Session, *, dataset_ids: Iterable[uuid.UUID], facets: Iterable[str], limit: int = 50
) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over an explicit set of datasets, most frequent first."""
    from catalog.search.index import SearchFacet

    wanted, names = list(set(dataset_ids)), list(dict.fromkeys(facets))
    out: dict[str, list[tuple[str, int]]] = {f: [] for f in names}
    if not wanted or not names:
        return out
    f = SearchFacet.__table__
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = (
            select(f.c.facet, f.c.value, func.count())
            .where(f.c.facet.in_(names), f.c.dataset_id.in_(chunk))
            .group_by(f.c.facet, f.c.value)
        )
        for facet, value, n in session.execute(stmt):
            counts[facet][value] = counts[facet].get(value, 0) + int(n)
    for name in names:
        out[name] = sorted(counts[name].items(), key=lambda vc: (-vc[1], vc[0]))[:limit]
    return out


def create_organization_with_id(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    data: OrganizationCreate,
    organization_id: uuid.UUID | None,
) -> Organization:
    """Register an organization, keeping the id it has elsewhere (harvested catalogs) when free."""
    if organization_id is None or session.get(Organization, organization_id) is not None:
        return create_organization(session, actor_id=actor_id, data=data)
    if get_organization_by_name(session, data.name) is not None:
        raise OrganizationNameTaken(f"organization name already in use: {data.name}")
    parent_id = require_organization(session, data.parent).id if data.parent else None
    org = Organization.model_validate(
        data.model_dump(exclude={"parent"}), update={"parent_id": parent_id, "id": organization_id}
    )
    session.add(org)
    ledger.append(session, actor_id=actor_id, action="organization.create", subject=org)
    session.flush()
    return org


ResourceSpec = tuple[uuid.UUID | None, ResourceCreate]
"""A resource to create or keep: its id (None for a new one, or an id to keep) and its fields."""


def _add_resource(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, spec: ResourceSpec, position: int
) -> Resource:
    rid, data = spec
    resource = Resource(
        dataset_id=dataset.id,
        name=data.name,
        description=data.description,
        format=data.format.upper(),
        url=data.url,
        kind="link" if data.url else "file",
        position=position,
    )
    if rid is not None and session.get(Resource, rid) is None:
        resource.id = rid
    session.add(resource)
    ledger.append(session, actor_id=actor_id, action="resource.create", subject=resource, dataset=dataset)
    return resource


def _confirm_and_publish(session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset) -> Dataset:
    if dataset.grade is not None and not dataset.grade_confirmed:
        confirm_grade(session, actor_id=actor_id, dataset=dataset, grade=dataset.grade)
    return publish_dataset(session, actor_id=actor_id, dataset=dataset)


def create_dataset_with_resources(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    data: DatasetCreate,
    resources: Iterable[ResourceSpec] = (),
    dataset_id: uuid.UUID | None = None,
    publish: bool = False,
) -> Dataset:
    """Register a dataset with its link/file resources in one go (a harvested or CKAN-created package).

    `dataset_id` keeps the id the package has elsewhere when it is free; `publish` confirms the
    declared grade and publishes (the caller has checked the policy).
    """
    if get_dataset_by_name(session, data.name) is not None:
        raise DatasetNameTaken(f"dataset name already in use: {data.name}")
    org = require_organization(session, data.owner_org)
    update_fields: dict[str, object] = {"owner_org_id": org.id, "created_by": actor_id, "status": "draft"}
    if dataset_id is not None and session.get(Dataset, dataset_id) is None:
        update_fields["id"] = dataset_id
    dataset = Dataset.model_validate(
        data.model_dump(mode="json", exclude={"owner_org"}), update=update_fields
    )
    dataset.temporal_start, dataset.temporal_end = data.temporal_start, data.temporal_end
    session.add(dataset)
    ledger.append(session, actor_id=actor_id, action="dataset.create", subject=dataset)
    session.flush()
    for position, spec in enumerate(resources):
        _add_resource(session, actor_id=actor_id, dataset=dataset, spec=spec, position=position)
    session.flush()
    reindex_dataset(session, dataset)
    if publish:
        _confirm_and_publish(session, actor_id=actor_id, dataset=dataset)
    return dataset


def update_dataset_with_resources(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    dataset: Dataset,
    data: DatasetUpdate,
    resources: Iterable[ResourceSpec] | None = None,
    publish: bool = False,
    withdraw: bool = False,
) -> Dataset:
    """Change a dataset and, when `resources` is given, make its resource list exactly that list.

    Listed resources with a known id are updated in place (their files kept), others are created,
    and active resources left out are deleted; `publish`/`withdraw` change its status afterwards.
    """
    update_dataset(session, actor_id=actor_id, dataset=dataset, data=data)
    if resources is not None:
        existing = {r.id: r for r in list_resources(session, dataset)}
        kept: set[uuid.UUID] = set()
        for position, (rid, spec) in enumerate(resources):
            current = existing.get(rid) if rid is not None else None
            if current is None:
                _add_resource(
                    session, actor_id=actor_id, dataset=dataset, spec=(rid, spec), position=position
                )
                continue
            kept.add(current.id)
            _change_resource(session, actor_id=actor_id, dataset=dataset, resource=current, data=spec)
            current.position = position
        for rid, resource in existing.items():
            if rid not in kept:
                _remove_resource(session, actor_id=actor_id, dataset=dataset, resource=resource)
        session.flush()
        reindex_dataset(session, dataset)
    if publish and dataset.status != "published":
        _confirm_and_publish(session, actor_id=actor_id, dataset=dataset)
    elif withdraw and dataset.status == "published":
        set_dataset_status(session, actor_id=actor_id, dataset=dataset, status="withdrawn")
    return dataset


def _change_resource(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    dataset: Dataset,
    resource: Resource,
    data: ResourceCreate,
) -> None:
    before = ledger.snapshot(resource)
    resource.name, resource.description = data.name, data.description
    resource.format = data.format.upper() or resource.format
    if resource.kind == "link" or data.url:
        resource.url = data.url
        resource.kind = "link" if data.url else resource.kind
    resource.updated_at = utcnow()
    session.add(resource)
    if before != ledger.snapshot(resource):
        ledger.append(
            session,
            actor_id=actor_id,
            action="resource.update",
            subject=resource,
            before=before,
            dataset=dataset,
        )


def _remove_resource(
    session: Session, *, actor_id: uuid.UUID | None, dataset: Dataset, resource: Resource
) -> None:
    before = ledger.snapshot(resource)
    resource.state = "deleted"
    resource.updated_at = utcnow()
    session.add(resource)
    ledger.append(
        session, actor_id=actor_id, action="resource.delete", subject=resource, before=before, dataset=dataset
    )


def update_resource(
    session: Session, *, actor_id: uuid.UUID | None, resource: Resource, data: ResourceCreate
) -> Resource:
    """Change a resource's name, description, format and link (its uploaded files are kept)."""
    dataset = require_dataset(session, resource.dataset_id)
    _change_resource(session, actor_id=actor_id, dataset=dataset, resource=resource, data=data)
    session.flush()
    reindex_dataset(session, dataset)
    return resource


def delete_resource(session: Session, *, actor_id: uuid.UUID | None, resource: Resource) -> Resource:
    """Mark a resource deleted (its file versions stay in the ledger)."""
    dataset = require_dataset(session, resource.dataset_id)
    _remove_resource(session, actor_id=actor_id, dataset=dataset, resource=resource)
    session.flush()
    reindex_dataset(session, dataset)
    return resource


def create_resource_with_file(
    session: Session,
    storage: Storage,
    *,
    actor_id: uuid.UUID | None,
    dataset: Dataset,
    data: ResourceCreate,
    filename: str,
    stream: BinaryIO | Iterable[bytes],
    content_type: str | None = None,
    max_size: int | None = None,
) -> ResourceVersion:
    """Add a file resource to a dataset and stream its first version into storage."""
    resource = create_resource(
        session, actor_id=actor_id, dataset=dataset, data=data.model_copy(update={"url": ""})
    )
    return upload_resource_file(
        session,
        storage,
        actor_id=actor_id,
        resource=resource,
        filename=filename,
        data=stream,
        content_type=content_type,
        max_size=max_size,
    )
